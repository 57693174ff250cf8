// lelock: the lock built on client-go's tools/leaderelection with a coordination.k8s.io
// Lease (resourcelock.LeaseLock) and ReleaseOnCancel, as the published Kubernetes lock
// CLIs are. Leader election holds a lock only while its process lives and renews, so
// acquire and release as separate commands become one holder process:
//
//	lelock hold --id ID [timings]        prints "acquired" on stdout once it leads (that
//	                                     line is acquire returning), keeps renewing until
//	                                     SIGTERM or SIGINT, then releases (ReleaseOnCancel
//	                                     writes an empty holder) and exits 0: the exit is
//	                                     release returning
//	lelock run --id ID [timings] -- CMD  leads, runs CMD, releases; exits with CMD's status
//
// Timings: --lease (LeaseDuration), --renew (RenewDeadline), --retry (RetryPeriod); the
// library's documented defaults are 15s, 10s, 2s.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"carrier-lock/bench/peers/internal/kube"
)

func main() {
	var f kube.Flags
	var lease, renew, retry time.Duration
	action, argv := kube.Parse(&f, func(fs *flag.FlagSet) {
		fs.DurationVar(&lease, "lease", 15*time.Second, "LeaseDuration")
		fs.DurationVar(&renew, "renew", 10*time.Second, "RenewDeadline")
		fs.DurationVar(&retry, "retry", 2*time.Second, "RetryPeriod")
	})
	if action != "hold" && action != "run" {
		kube.Die("unknown action %q", action)
	}
	cs := kube.Client(f.Kubeconfig)
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: f.Name, Namespace: f.Namespace},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: f.ID},
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	status := 0
	if action == "hold" {
		// run forwards signals to CMD itself; hold ends on the first one.
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		go func() { <-sigs; cancel() }()
	}
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   lease,
		RenewDeadline:   renew,
		RetryPeriod:     retry,
		ReleaseOnCancel: true,
		Name:            f.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {
				if action == "hold" {
					fmt.Println("acquired")
					return
				}
				status = kube.RunCmd(argv)
				cancel()
			},
			OnStoppedLeading: func() {},
		},
	})
	os.Exit(status)
}

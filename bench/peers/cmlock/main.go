// cmlock: the lock a user would write with client-go in an afternoon. The ConfigMap's
// data.holder names the holder; taking is a create (fails when the object exists) or an
// update conditional on the resourceVersion read; freeing is an update to holder "" under
// the same condition. A waiter polls every --poll (default 2 s).
//
//	cmlock acquire --id ID [--poll 2s]   returns 0 once ID holds the lock
//	cmlock release --id ID               frees it if ID holds it
//	cmlock run --id ID -- CMD...         acquire, CMD, release; exits with CMD's status
package main

import (
	"context"
	"flag"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"carrier-lock/bench/peers/internal/kube"
)

func acquire(ctx context.Context, cs *kubernetes.Clientset, f *kube.Flags, poll time.Duration) {
	cms := cs.CoreV1().ConfigMaps(f.Namespace)
	for {
		cm, err := cms.Get(ctx, f.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = cms.Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: f.Name},
				Data:       map[string]string{"holder": f.ID},
			}, metav1.CreateOptions{})
			if err == nil {
				return
			}
			if !apierrors.IsAlreadyExists(err) {
				kube.Die("create: %v", err)
			}
			continue // someone created it first: read again
		case err != nil:
			kube.Die("get: %v", err)
		}
		if h := cm.Data["holder"]; h == "" || h == f.ID {
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data["holder"] = f.ID
			// The update carries the resourceVersion read: a 409 means someone else won.
			if _, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err == nil {
				return
			}
			if !apierrors.IsConflict(err) {
				kube.Die("update: %v", err)
			}
			continue
		}
		time.Sleep(poll)
	}
}

func release(ctx context.Context, cs *kubernetes.Clientset, f *kube.Flags) {
	cms := cs.CoreV1().ConfigMaps(f.Namespace)
	for {
		cm, err := cms.Get(ctx, f.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			kube.Die("get: %v", err)
		}
		if cm.Data["holder"] != f.ID {
			kube.Die("held by %q, not %q", cm.Data["holder"], f.ID)
		}
		cm.Data["holder"] = ""
		if _, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			kube.Die("update: %v", err)
		}
	}
}

func main() {
	var f kube.Flags
	var poll time.Duration
	action, argv := kube.Parse(&f, func(fs *flag.FlagSet) {
		fs.DurationVar(&poll, "poll", 2*time.Second, "how often a waiter reads the lock")
	})
	ctx := context.Background()
	cs := kube.Client(f.Kubeconfig)
	switch action {
	case "acquire":
		acquire(ctx, cs, &f, poll)
	case "release":
		release(ctx, cs, &f)
	case "run":
		acquire(ctx, cs, &f, poll)
		st := kube.RunCmd(argv)
		release(ctx, cs, &f)
		os.Exit(st)
	default:
		kube.Die("unknown action %q", action)
	}
}

// Package kube holds what both peers share: the client from a kubeconfig, the flags of
// the benchmark's lock interface, and running a command while the lock is held.
package kube

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Flags are the options every peer takes, named as carrier-lock's.
type Flags struct {
	Kubeconfig string
	Namespace  string
	Name       string
	ID         string
}

// Parse reads ACTION [flags] [-- CMD...] from os.Args; returns the action and CMD.
func Parse(f *Flags, extra func(*flag.FlagSet)) (string, []string) {
	if len(os.Args) < 2 {
		Die("usage: %s ACTION [flags] [-- CMD...]", os.Args[0])
	}
	action := os.Args[1]
	fs := flag.NewFlagSet(action, flag.ExitOnError)
	fs.StringVar(&f.Kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	fs.StringVar(&f.Namespace, "namespace", "default", "namespace of the lock")
	fs.StringVar(&f.Name, "name", "bench-lock", "name of the lock object")
	fs.StringVar(&f.ID, "id", "", "holder identity (required)")
	if extra != nil {
		extra(fs)
	}
	_ = fs.Parse(os.Args[2:])
	if f.ID == "" {
		Die("--id is required")
	}
	return action, fs.Args()
}

// Client builds a clientset from the kubeconfig as kubectl does (client-go's defaults:
// QPS 5, burst 10, protobuf off).
func Client(kubeconfig string) *kubernetes.Clientset {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		Die("kubeconfig: %v", err)
	}
	cfg.UserAgent = "bench-peer"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		Die("client: %v", err)
	}
	return cs
}

// RunCmd runs argv with signals forwarded and returns its exit status.
func RunCmd(argv []string) int {
	if len(argv) == 0 {
		Die("run: no command after --")
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := c.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "run: %v\n", err)
		return 127
	}
	go func() {
		for s := range sigs {
			_ = c.Process.Signal(s)
		}
	}()
	if err := c.Wait(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 1
	}
	return 0
}

// Die prints one line and exits 1.
func Die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, os.Args[0]+": "+format+"\n", a...)
	os.Exit(1)
}

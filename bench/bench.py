#!/usr/bin/env python3
"""Benchmarks of carrier-lock on a local cluster of its own (tests/cluster/up.sh).

  python3 bench/bench.py [HANDOFFS]

Reports medians, not single runs:
  - handoff latency: a waiter blocked in acquire, the holder releases; time from the
    release's exit to the waiter's exit (includes the waiter's GET + PUT after the
    watch event);
  - the same with a naive poller (acquire --max-wait-time 0 every 1 s), for the ratio;
  - API requests a waiter costs per minute, from the server's apiserver_request_total,
    for the watch and for the 1 s poller;
  - peak RSS and wall time of one acquire/release, and the binary's size.
"""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import cluster_down, cluster_up  # noqa: E402

BIN = os.environ.get("CARRIER_LOCK_BIN", str(REPO / "carrier-lock"))


def cl(kc, *args):
    return subprocess.run([BIN, *args, "--kubeconfig", kc], capture_output=True, text=True)


def counts(cluster):
    out = cluster.kubectl("get", "--raw", "/metrics").stdout
    return sum(float(l.rsplit(" ", 1)[1]) for l in out.splitlines()
               if l.startswith("apiserver_request_total{") and 'resource="configmaps"' in l)


def handoff_watch(kc, name, n):
    lat = []
    for i in range(n):
        assert cl(kc, "acquire", "--name", name, "--pid", "1").returncode == 0
        w = subprocess.Popen([BIN, "acquire", "--kubeconfig", kc, "--name", name, "--pid", "2",
                              "--max-wait-time", "60s"], stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        assert cl(kc, "release", "--name", name, "--pid", "1").returncode == 0
        t0 = time.monotonic()
        w.wait()
        lat.append(time.monotonic() - t0)
        assert cl(kc, "release", "--name", name, "--pid", "2").returncode == 0
    return lat


def handoff_poll(kc, name, n):
    """The naive alternative: try every second."""
    lat = []
    for i in range(n):
        assert cl(kc, "acquire", "--name", name, "--pid", "1").returncode == 0
        script = (f'until "{BIN}" acquire --kubeconfig "{kc}" --name {name} --pid 2 '
                  '--max-wait-time 0 2>/dev/null; do sleep 1; done')
        w = subprocess.Popen(["sh", "-c", script])
        time.sleep(0.3 + (i % 10) / 10)     # release at varied phases of the poll
        assert cl(kc, "release", "--name", name, "--pid", "1").returncode == 0
        t0 = time.monotonic()
        w.wait()
        lat.append(time.monotonic() - t0)
        assert cl(kc, "release", "--name", name, "--pid", "2").returncode == 0
    return lat


def waiter_cost(cluster, kc, name, seconds, poll):
    assert cl(kc, "acquire", "--name", name, "--pid", "1").returncode == 0
    before = counts(cluster)
    if poll:
        script = (f'end=$(($(date +%s) + {seconds})); while [ $(date +%s) -lt $end ]; do '
                  f'"{BIN}" acquire --kubeconfig "{kc}" --name {name} --pid 2 '
                  '--max-wait-time 0 2>/dev/null; sleep 1; done')
        subprocess.run(["sh", "-c", script])
    else:
        subprocess.run([BIN, "acquire", "--kubeconfig", kc, "--name", name, "--pid", "2",
                        "--max-wait-time", f"{seconds}s"], stderr=subprocess.DEVNULL)
    time.sleep(1)
    n = counts(cluster) - before
    assert cl(kc, "release", "--name", name, "--pid", "1").returncode == 0
    return n * 60 / seconds


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    d = pathlib.Path(tempfile.mkdtemp(prefix="cl-bench.")) / "c"
    cluster = cluster_up(d)
    try:
        kc = cluster.kubeconfig()
        w = handoff_watch(kc, "bench-watch", n)
        p = handoff_poll(kc, "bench-poll", max(10, n // 3))
        cw = waiter_cost(cluster, kc, "bench-cost", 60, poll=False)
        cp = waiter_cost(cluster, kc, "bench-cost", 20, poll=True)
        times, rss, krss = [], [], []
        for i in range(20):
            for action in ("acquire", "release"):
                t = time.monotonic()
                r = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, action, "--kubeconfig",
                                    kc, "--name", "bench-rss", "--pid", "9"],
                                   capture_output=True, text=True)
                times.append(time.monotonic() - t)
                rss.append(int(r.stderr.split()[-1]))
            r = subprocess.run(["/usr/bin/time", "-f", "%M", cluster.env["KUBECTL_BIN"],
                                "--kubeconfig", kc, "get", "configmap", "bench-rss"],
                               capture_output=True, text=True)
            krss.append(int(r.stderr.split()[-1]))
        print(f"handoff latency, watch  (n={len(w)}): median {statistics.median(w)*1000:.1f} ms, "
              f"p90 {sorted(w)[int(len(w)*0.9)-1]*1000:.1f} ms")
        print(f"handoff latency, 1s poll (n={len(p)}): median {statistics.median(p)*1000:.1f} ms, "
              f"p90 {sorted(p)[int(len(p)*0.9)-1]*1000:.1f} ms")
        print(f"ratio poll/watch (median latency): {statistics.median(p)/statistics.median(w):.1f}x")
        print(f"API requests per waiting minute: watch {cw:.1f}, 1s poll {cp:.1f} "
              f"(ratio {cp/max(cw, 0.1):.0f}x)")
        print(f"one action (acquire or release), wall: median {statistics.median(times)*1000:.1f} ms")
        print(f"peak RSS of one action: median {statistics.median(rss)} KiB, max {max(rss)} KiB; "
              f"kubectl get configmap: median {statistics.median(krss)} KiB "
              f"(ratio {statistics.median(krss)/statistics.median(rss):.0f}x)")
        print(f"binary: {os.path.getsize(BIN)} bytes, static")
    finally:
        cluster_down(d)


if __name__ == "__main__":
    main()

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
  - peak RSS and wall time of one acquire/release, and the binary's size;
  - contention: 20 clients each taking the lock 5 times (acquire, a 10 ms critical
    section, release, as separate processes): wall time, API requests and conflicts
    (409) per acquisition from apiserver_request_total (configmaps and leases), for this
    binary and, when CARRIER_LOCK_OLD_BIN names one, for an older one in the same run;
  - handoff latency with 50 waiters queued (release's exit to the next waiter's exit).
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
OLD_BIN = os.environ.get("CARRIER_LOCK_OLD_BIN")


def cl(kc, *args):
    return subprocess.run([BIN, *args, "--kubeconfig", kc], capture_output=True, text=True)


def ours(line):
    """A request carrier-lock makes: on configmaps, or on leases but for GET and PUT, which
    kube-apiserver itself makes every 10 s on its identity Lease in kube-system (the
    metric has no namespace label). A waiter's renewal is a PUT, every --queue-ttl/2
    (2m30s by default): none within these benchmarks' waits."""
    if not line.startswith("apiserver_request_total{"):
        return False
    if 'resource="configmaps"' in line:
        return True
    return 'resource="leases"' in line and 'verb="GET"' not in line and \
        'verb="PUT"' not in line


def counts(cluster):
    out = cluster.kubectl("get", "--raw", "/metrics").stdout
    return sum(float(l.rsplit(" ", 1)[1]) for l in out.splitlines() if ours(l))


def request_counts(cluster):
    """apiserver_request_total of our requests (ours()): (all, 409s, by verb)."""
    out = cluster.kubectl("get", "--raw", "/metrics").stdout
    total, conflicts, verbs = 0.0, 0.0, {}
    for l in out.splitlines():
        if not ours(l):
            continue
        v = float(l.rsplit(" ", 1)[1])
        total += v
        if 'code="409"' in l:
            conflicts += v
        verb = l.split('verb="', 1)[1].split('"', 1)[0]
        res = "leases" if 'resource="leases"' in l else "configmaps"
        verbs[(res, verb)] = verbs.get((res, verb), 0) + v
    return total, conflicts, verbs


def contention(cluster, kc, binary, name, clients=20, rounds=5):
    """clients shells, each: rounds x (acquire, 10 ms inside, release). Returns wall
    seconds, requests and 409s per acquisition, requests by verb; checks no overlap."""
    log = pathlib.Path(tempfile.mkdtemp(prefix="cl-bench-log.")) / "log"
    log.touch()
    script = (f'for i in $(seq {rounds}); do "{binary}" acquire --kubeconfig "{kc}" '
              f'--name {name} --print-token > "$T" 2>/dev/null || exit 1; '
              f'echo "enter $(cat "$T")" >> "{log}"; sleep 0.01; echo leave >> "{log}"; '
              f'"{binary}" release --kubeconfig "{kc}" --name {name} 2>/dev/null || exit 1; '
              'done')
    before = request_counts(cluster)
    t0 = time.monotonic()
    ps = [subprocess.Popen(["sh", "-c", script], env=dict(os.environ, T=f"{log}.{i}"))
          for i in range(clients)]
    assert all(p.wait() == 0 for p in ps)
    took = time.monotonic() - t0
    time.sleep(1)       # watches are counted when they end
    after = request_counts(cluster)
    inside, last = False, 0
    for line in log.read_text().splitlines():
        if line.startswith("enter"):
            assert not inside, "two holders at once"
            tok = int(line.split()[1])
            assert tok > last, f"token {tok} after {last}"
            inside, last = True, tok
        else:
            inside = False
    n = clients * rounds
    verbs = {k: (after[2][k] - before[2].get(k, 0)) / n for k in after[2]
             if after[2][k] - before[2].get(k, 0) > 0}
    return took, (after[0] - before[0]) / n, (after[1] - before[1]) / n, verbs


def handoff_queue(kc, name, n):
    """n waiters queued in order; each handoff: the holder's release exits, the first
    waiter's acquire exits. Returns the latencies."""
    assert cl(kc, "acquire", "--name", name, "--pid", "1", "--host", "h0").returncode == 0
    ws = []
    for i in range(n):
        ws.append(subprocess.Popen([BIN, "acquire", "--kubeconfig", kc, "--name", name,
                                    "--pid", str(100 + i), "--host", "h0",
                                    "--max-wait-time", "5m"], stderr=subprocess.DEVNULL))
        time.sleep(0.05)
    time.sleep(1)
    lat, holder, left = [], 1, dict(enumerate(ws))
    while left:
        assert cl(kc, "release", "--name", name, "--pid", str(holder), "--host",
                  "h0").returncode == 0
        t0 = time.monotonic()
        # Whoever was first in line (the order the Leases were made in, not Popen's).
        done = None
        while done is None:
            done = next((i for i, w in left.items() if w.poll() is not None), None)
            if done is None:
                time.sleep(0.0005)
        lat.append(time.monotonic() - t0)
        assert left.pop(done).returncode == 0
        holder = 100 + done
    assert cl(kc, "release", "--name", name, "--pid", str(holder), "--host",
              "h0").returncode == 0
    return lat


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
        q = handoff_queue(kc, "bench-queue", 50)
        runs = {"new": [], "old": []}
        for i in range(3):
            runs["new"].append(contention(cluster, kc, BIN, f"bench-c-new-{i}"))
            if OLD_BIN:
                runs["old"].append(contention(cluster, kc, OLD_BIN, f"bench-c-old-{i}"))
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
        print(f"handoff latency, 50 waiters queued (n={len(q)}): median "
              f"{statistics.median(q)*1000:.1f} ms, p90 {sorted(q)[int(len(q)*0.9)-1]*1000:.1f} ms")
        for which, rs in runs.items():
            if not rs:
                continue
            wall = statistics.median(r[0] for r in rs)
            req = statistics.median(r[1] for r in rs)
            c409 = statistics.median(r[2] for r in rs)
            print(f"contention, {which} ({BIN if which == 'new' else OLD_BIN}), 20 clients x 5, "
                  f"median of {len(rs)} runs: {wall:.2f} s, {req:.2f} requests and "
                  f"{c409:.2f} conflicts (409) per acquisition (acquire + release)")
            verbs = rs[len(rs) // 2][3]
            print("  per acquisition by verb: " + ", ".join(
                f"{res} {verb} {v:.2f}" for (res, verb), v in sorted(verbs.items())))
        if runs["old"]:
            print(f"contention ratio old/new (median wall): "
                  f"{statistics.median(r[0] for r in runs['old']) / statistics.median(r[0] for r in runs['new']):.1f}x")
    finally:
        cluster_down(d)


if __name__ == "__main__":
    main()

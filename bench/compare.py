#!/usr/bin/env python3
"""carrier-lock side by side with the locks users would otherwise write (issue 14), on one
local cluster, in one run, interleaved (ours, peer, ours, peer) so that a noisy machine
hits both alike. Run by `./build.sh bench [--quick]`; writes docs/BENCHMARKS.md and
docs/bench-latency-load.png.

  python3 bench/compare.py [--quick] [--cluster-dir DIR] [--scenarios 1,2,...] [--out MD]

Needs ./carrier-lock, bench/peers built into build/peers (build.sh bench does both), the
test cluster's binaries, /usr/bin/time (Debian `time`: peak RSS; CPU time comes from
wait4(2)) and gnuplot (Debian `gnuplot-nox`) for the plot.
Scenarios (bench/README.md has the definitions):
  1 footprint  2 uncontended  3 handoff  4 waiting load  5 contention  6 the plot
  7 the profile of one acquire (bench/anatomy.py)
--quick is a smoke run (small N, short windows) that checks the harness works; its
numbers mean nothing.
"""
import argparse
import json
import os
import pathlib
import platform
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no bench/__pycache__ in the tree
HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import metrics as metrics_mod  # noqa: E402
import anatomy  # noqa: E402
import report  # noqa: E402
import tools as T  # noqa: E402

# Sized for about 12 minutes on 2 cores; the slow pollers set the pace.
FULL = dict(rss_runs=5, pairs=50, handoff_ns=[1, 10, 50], handoffs=12,
            baseline_s=8, wait_clients=50, wait_ours_s=120, wait_peer_s=15,
            steady_after_s=15, cont_clients=50, cont_takes=10, cont_cap_s=25,
            cont_cap_ours_s=90, split_clients=20, split_takes=5, split_rounds=3,
            split_cap_s=60)
QUICK = dict(rss_runs=1, pairs=2, handoff_ns=[2], handoffs=2,
             baseline_s=2, wait_clients=4, wait_ours_s=6, wait_peer_s=4,
             steady_after_s=3, cont_clients=4, cont_takes=2, cont_cap_s=8,
             cont_cap_ours_s=8, split_clients=3, split_takes=2, split_rounds=1,
             split_cap_s=20)


RUN_KEY = "carrier-lock-run"     # scenario 2's extra row: acquire + release in one process


def log(msg):
    print(f"bench: {time.strftime('%H:%M:%S')} {msg}", flush=True)


class LoadSampler(threading.Thread):
    """The machine's 1-minute load average every 5 s, for the report."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.stop = [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self.stop.wait(5)

    def mark(self):
        return len(self.samples)

    def since(self, mark):
        s = self.samples[mark:] or self.samples[-1:]
        return dict(min=min(s), max=max(s), median=sorted(s)[len(s) // 2]) if s else {}


class Bench:
    def __init__(self, args, p):
        self.args, self.p = args, p
        self.results = {"quick": args.quick, "params": p, "scenarios": {}}
        self.load = LoadSampler()

    # -- setup ---------------------------------------------------------------------------
    def setup(self, cdir):
        env_file = pathlib.Path(cdir) / "env"
        cenv = {}
        for line in env_file.read_text().splitlines():
            w = shlex.split(line, comments=True)
            if len(w) == 2 and w[0] == "export":
                k, v = w[1].split("=", 1)
                cenv[k] = v
        self.cdir = cdir
        kc = cenv["KUBECONFIG"]
        home = REPO / "build" / "bench" / "home"     # kubectl's discovery cache lives here
        home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, KUBECONFIG=kc, KUBECTL=cenv["KUBECTL_BIN"], HOME=str(home))
        self.env = env
        self.kubectl = cenv["KUBECTL_BIN"]
        peers = REPO / "build" / "peers"
        self.ours = T.CarrierLock(env, self.args.bin, kc)
        self.peers = [T.Kubectl(env, str(HERE / "peers" / "kubectl-lock.sh"), self.kubectl),
                      T.CmLock(env, str(peers / "cmlock"), kc, self.kubectl),
                      T.LeaderElection(env, str(peers / "lelock"), kc, self.kubectl, False),
                      T.LeaderElection(env, str(peers / "lelock"), kc, self.kubectl, True)]
        self.m = metrics_mod.Metrics(cdir, cenv["CLUSTER_SERVER"],
                                     os.path.join(cdir, "kube-apiserver.pid"))
        self.results["started"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        self.results["machine"] = machine()
        self.results["versions"] = versions(self)
        self.results["tools"] = {t.key: t.label for t in [self.ours, *self.peers]}
        self.results["tools"][RUN_KEY] = "carrier-lock run -- true (one process)"
        self.results["order"] = [self.ours.key, RUN_KEY, *(t.key for t in self.peers)]

    def save(self):
        if self.args.report_only:
            return
        out = pathlib.Path(self.args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.results, indent=1))
        report.write(self.results, self.args.out, self.args.png, self.args.command)

    def scenario(self, num, key, fn):
        if str(num) not in self.args.scenarios.split(","):
            return
        log(f"scenario {num}: {key}")
        mark, t0 = self.load.mark(), time.monotonic()
        try:
            r = fn()
        except Exception as e:      # the next scenarios still run; the report says so
            log(f"scenario {num} failed: {e!r}")
            self.results.setdefault("failed", {})[key] = repr(e)
            self.failed = True
            self.sweep()
            return
        r["seconds"] = round(time.monotonic() - t0, 1)
        r["load"] = self.load.since(mark)
        self.results["scenarios"][key] = r
        self.save()
        log(f"scenario {num} done in {r['seconds']} s")

    def sweep(self):
        """Deletes the freed locks a scenario left (ConfigMaps and Leases of the
        namespace `default`, which only the benchmark uses) in one call."""
        subprocess.run([self.kubectl, "delete", "configmaps,leases", "--all", "-n", "default",
                        "--wait=false"], env=self.env, capture_output=True)

    def uniq(self, prefix):
        self._n = getattr(self, "_n", 0) + 1
        return f"b{self._n}-{prefix}"

    # -- 1 footprint ---------------------------------------------------------------------
    def peak_rss(self, t, argv, in_process=False):
        """Peak RSS in KiB of ARGV run under GNU time (the child of a small process: a
        child forked from this Python would count Python's pages until its exec). For a
        leader-election holder: until "acquired", then SIGTERM to it, which releases."""
        out = tempfile.NamedTemporaryFile(prefix="cl-bench-rss.", delete=False).name
        p = T.Proc(["/usr/bin/time", "-f", "%M", "-o", out, *argv], self.env, line=in_process)
        if in_process:
            if not p.wait_line():
                raise RuntimeError(f"{t.key}: no \"acquired\" under time")
            kids = open(f"/proc/{p.popen.pid}/task/{p.popen.pid}/children").read().split()
            os.kill(int(kids[0]), signal.SIGTERM)
        if p.wait() != 0:
            raise RuntimeError(f"{t.key}: {argv[1]} under time exited {p.status}")
        kib = int(open(out).read().split()[-1])
        os.unlink(out)
        return kib

    def footprint(self):
        sizes = {"carrier-lock": os.path.getsize(self.args.bin),
                 "kubectl": os.path.getsize(self.kubectl),
                 "cm": os.path.getsize(self.peers[1].bin),
                 "le-default": os.path.getsize(self.peers[2].bin)}
        sizes["le-tuned"] = sizes["le-default"]
        rss = {}
        for _ in range(self.p["rss_runs"]):
            for t in [self.ours, *self.peers]:
                name = self.uniq("rss")
                r = rss.setdefault(t.key, {"query": [], "acquire": [], "release": []})
                if t.in_process:    # one process from acquire to release
                    r["acquire"].append(self.peak_rss(t, t.acquire_argv(name, "rss"), True))
                else:
                    r["acquire"].append(self.peak_rss(t, t.acquire_argv(name, "rss")))
                    if hasattr(t, "query_argv"):
                        r["query"].append(self.peak_rss(t, t.query_argv(name)))
                    r["release"].append(self.peak_rss(t, t.release_argv(name, "rss")))
        self.sweep()
        return {"sizes": sizes, "rss_kib": rss}

    # -- 2 uncontended -------------------------------------------------------------------
    def pair(self, t):
        name = self.uniq("pair")
        held, p, t_acq = t.acquire(name, "solo")
        rel = t.release(held)
        if t.in_process:
            wall, cpu = rel.t_end - p.t0, rel.cpu
        else:
            wall, cpu = (p.t_end - p.t0) + (rel.t_end - rel.t0), p.cpu + rel.cpu
        return wall, cpu

    def run_pair(self):
        """carrier-lock run -- true: acquire and release in one process, as leader
        election's holder is (CPU includes true's)."""
        p = T.Proc(self.ours.run_argv(self.uniq("runpair"), "solo", ["true"]), self.env)
        if p.wait() != 0:
            raise RuntimeError(f"carrier-lock run -- true exited {p.status}")
        return p.t_end - p.t0, p.cpu

    def uncontended(self):
        res = {t.key: {"wall": [], "cpu": []} for t in [self.ours, *self.peers]}
        res[RUN_KEY] = {"wall": [], "cpu": []}
        for _ in range(self.p["pairs"]):
            for i, peer in enumerate(self.peers):
                for t in (self.ours, peer):
                    w, c = self.pair(t)
                    res[t.key]["wall"].append(w)
                    res[t.key]["cpu"].append(c)
                if i == 1:
                    w, c = self.run_pair()
                    res[RUN_KEY]["wall"].append(w)
                    res[RUN_KEY]["cpu"].append(c)
        self.sweep()
        return res

    # -- 3 handoff -----------------------------------------------------------------------
    def handoff_block(self, t, n, count):
        """N waiters, COUNT handoffs. Returns the latencies, the block's window (all its
        requests) and the server's requests/s while the N only waited (between handoffs:
        from just after the replacement waiter started to the next release)."""
        name = self.uniq(f"h{n}")
        held, _, _ = t.acquire(name, "h0")
        w = T.Waiters(t, name)
        lat, cycle, wait_req, wait_s = [], [], 0.0, 0.0
        try:
            for i in range(n):
                w.add(f"w{i}")
                if i < n - 1:
                    # Waiters arrive over 2 s, as they would: started in the same
                    # millisecond, pollers without jitter (cmlock's 2 s sleep) would poll
                    # in lockstep for ever and act as one.
                    time.sleep(2.0 / n)
            # Every waiter started and waiting (50 Go or kubectl processes take seconds to
            # start on 2 busy cores; the first quiet windows are left out of the rate too).
            time.sleep(1 + 0.1 * n)
            a = self.m.sample()
            for h in range(count):
                # The replacement waiter (started at the end of the last round) joins
                # first: its start is the cost of a new waiter, not of waiting.
                time.sleep(0.15)
                s0 = self.m.sample()
                time.sleep(random.uniform(0.05, 0.45))  # a random phase of any poll
                s1 = self.m.sample()
                quiet = self.m.window(s0, s1)
                if h >= 2 or count <= 2:
                    wait_req += quiet.requests
                    wait_s += quiet.seconds
                t_rel = time.monotonic()
                rel = t.release(held)
                held, t_acq = w.next(timeout=120)
                lat.append(t_acq - rel.t_end)
                cycle.append(t_acq - t_rel)
                w.add(f"r{h}")                          # N waiters again
            win = self.m.window(a, self.m.sample())
        finally:
            w.stop()
            try:
                t.release(held)
            except RuntimeError:
                pass
            t.cleanup(name)
        return lat, cycle, win, wait_req, wait_s

    def handoff(self):
        res = {}
        for n in self.p["handoff_ns"]:
            # ours, kubectl, cm, ours, le-default, le-tuned: each peer next to ours.
            seq = [self.ours, self.peers[0], self.peers[1], self.ours, self.peers[2],
                   self.peers[3]]
            for t in seq:
                lat, cycle, win, wq, ws = self.handoff_block(t, n, self.p["handoffs"])
                r = res.setdefault(t.key, {}).setdefault(
                    str(n), {"lat": [], "cycle": [], "requests": 0.0, "seconds": 0.0,
                             "wait_requests": 0.0, "wait_seconds": 0.0})
                r["lat"] += lat
                r["cycle"] += cycle
                r["requests"] += win.requests
                r["seconds"] += win.seconds
                r["wait_requests"] += wq
                r["wait_seconds"] += ws
                log(f"  handoff {t.key} N={n}: median "
                    f"{sorted(lat)[len(lat) // 2] * 1000:.1f} ms (from the release's start "
                    f"{sorted(cycle)[len(cycle) // 2] * 1000:.1f} ms), "
                    f"{wq / ws:.1f} req/s waiting, {win.requests / len(lat):.1f} req/handoff")
        return res

    # -- 4 waiting load ------------------------------------------------------------------
    def wait_block(self, t, seconds):
        n, steady = self.p["wait_clients"], min(self.p["steady_after_s"], seconds / 2)
        name = self.uniq("wait")
        held, _, _ = t.acquire(name, "holder")
        w = T.Waiters(t, name)
        try:
            a = self.m.sample()
            for i in range(n):
                w.add(f"w{i}")
            time.sleep(max(0, steady - (time.monotonic() - a.t)))
            mid = self.m.sample()
            time.sleep(max(0, seconds - (time.monotonic() - a.t)))
            b = self.m.sample()
            if not w.got.empty():
                raise RuntimeError(f"{t.key}: a waiter took a held lock")
        finally:
            w.stop()
            t.release(held)
            t.cleanup(name)
        whole, tail = self.m.window(a, b), self.m.window(mid, b)
        return {"clients": n, "seconds": whole.seconds,
                "per_client_min": whole.requests / n / (whole.seconds / 60),
                "steady_per_client_min": tail.requests / n / (tail.seconds / 60),
                "steady_seconds": tail.seconds,
                "verbs": whole.verbs_text(), "server_cpu_s": whole.cpu,
                "server_cpu_per_min": whole.cpu / (whole.seconds / 60)}

    def waiting(self):
        res = {self.ours.key: self.wait_block(self.ours, self.p["wait_ours_s"])}
        log(f"  waiting {self.ours.key}: {res[self.ours.key]['per_client_min']:.2f} req/client/min")
        for peer in self.peers:
            res[peer.key] = self.wait_block(peer, self.p["wait_peer_s"])
            log(f"  waiting {peer.key}: {res[peer.key]['per_client_min']:.2f} req/client/min")
        return res

    # -- 5 contention --------------------------------------------------------------------
    @staticmethod
    def wait_capped(procs, deadline):
        """Waits for procs until deadline (time.monotonic()); those still running then are
        sent SIGTERM, then SIGKILL after 30 s. Returns (capped, time the wait ended)."""
        capped = False
        for p in procs:
            try:
                p.popen.wait(timeout=max(0.01, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                capped = True
                break
        t_end = time.monotonic()
        if capped:
            for p in procs:
                p.kill(signal.SIGTERM)
            for p in procs:
                try:
                    p.popen.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill(signal.SIGKILL)
                    p.popen.wait()
        return capped, t_end

    def contention_block(self, t):
        c, k = self.p["cont_clients"], self.p["cont_takes"]
        # carrier-lock's block runs to the end; the pollers' are cut short (rate, projected).
        cap = self.p["cont_cap_ours_s"] if t is self.ours else self.p["cont_cap_s"]
        name = self.uniq("cont")
        logdir = pathlib.Path(tempfile.mkdtemp(prefix="cl-bench-cont."))
        procs = []
        a = self.m.sample()
        for i in range(c):
            one = " ".join(shlex.quote(x) for x in t.run_argv(name, f"c{i}", ["true"]))
            script = (f"i=0; while [ $i -lt {k} ]; do {one} || exit 1; echo x >> "
                      f"{logdir}/c{i}; i=$((i + 1)); done")
            procs.append(T.Proc(["sh", "-c", script], self.env))
        capped, t_end = self.wait_capped(procs, a.t + cap)
        win = self.m.window(a, self.m.sample())
        done = sum(len(f.read_text().split()) for f in logdir.glob("c*"))
        failed = sum(1 for p in procs if p.popen.returncode not in (0, None) and not capped)
        t.cleanup(name)
        secs = t_end - a.t
        return {"clients": c, "takes": k, "done": done, "capped": capped, "failed": failed,
                "seconds": secs, "rate": done / secs if secs else 0,
                "projected_s": c * k / (done / secs) if done else None,
                "conflicts_per": win.conflicts / done if done else None,
                "requests_per": win.requests / done if done else None,
                "verbs": win.verbs_text()}

    def contention(self):
        """kubectl, cm, carrier-lock, le-default, le-tuned: carrier-lock's one block (500
        handoffs take it a minute) in the middle."""
        res = {}
        for t in (self.peers[0], self.peers[1], self.ours, self.peers[2], self.peers[3]):
            r = self.contention_block(t)
            if t is self.ours:
                res.setdefault(t.key, []).append(r)
            else:
                res[t.key] = r
            log(f"  contention {t.key}: {r['rate']:.2f}/s, {r['done']} done")
        return res

    # -- 8 contention as issue 12 measured it --------------------------------------------
    def split_block(self, t):
        """C clients each take the lock K times around a 10 ms critical section, acquire
        and release as separate processes (a CI job's two steps); leader election, whose
        lock lives only as long as its process, with `lelock run -- sleep 0.01`. Every
        client starts at once. Time to the last release, and per acquisition: 409s and
        requests from /metrics."""
        c, k = self.p["split_clients"], self.p["split_takes"]
        name = self.uniq("split")
        logdir = pathlib.Path(tempfile.mkdtemp(prefix="cl-bench-split."))
        procs = []
        a = self.m.sample()
        for i in range(c):
            if t.in_process:
                body = shlex.join(t.run_argv(name, f"s{i}", ["sleep", "0.01"]))
            else:
                body = (f"{shlex.join(t.acquire_argv(name, f's{i}'))} >/dev/null && "
                        f"sleep 0.01 && {shlex.join(t.release_argv(name, f's{i}'))}")
            script = (f"i=0; while [ $i -lt {k} ]; do {body} || exit 1; echo x >> "
                      f"{logdir}/s{i}; i=$((i + 1)); done")
            procs.append(T.Proc(["sh", "-c", script], self.env))
        capped, t_end = self.wait_capped(procs, a.t + self.p["split_cap_s"])
        win = self.m.window(a, self.m.sample())
        done = sum(len(f.read_text().split()) for f in logdir.glob("s*"))
        failed = sum(1 for p in procs if p.popen.returncode != 0 and not capped)
        t.cleanup(name)
        secs = t_end - a.t
        return {"clients": c, "takes": k, "done": done, "capped": capped, "failed": failed,
                "seconds": secs, "conflicts_per": win.conflicts / done if done else None,
                "requests_per": win.requests / done if done else None,
                "verbs": win.verbs_text()}

    def split(self):
        """carrier-lock and tuned leader election, block by block (ours, le, ours, le...)."""
        res = {}
        le = self.peers[3]
        for _ in range(self.p["split_rounds"]):
            for t in (self.ours, le):
                r = self.split_block(t)
                res.setdefault(t.key, []).append(r)
                log(f"  split contention {t.key}: {r['seconds']:.1f} s, {r['done']} done, "
                    f"{r['requests_per'] or 0:.1f} req and {r['conflicts_per'] or 0:.2f} "
                    "409 per acquisition")
        return res

    def run(self):
        self.load.start()
        self.scenario(0, "baseline", lambda: {"window": vars_of(
            self.m.measure_baseline(self.p["baseline_s"]))})
        self.scenario(1, "footprint", self.footprint)
        self.scenario(2, "uncontended", self.uncontended)
        self.scenario(3, "handoff", self.handoff)
        self.scenario(4, "waiting", self.waiting)
        self.scenario(5, "contention", self.contention)
        self.scenario(8, "split", self.split)
        self.scenario(7, "profile", lambda: anatomy.run(
            self.env, self.args.bin, self.args.unstripped, self.cdir, self.args.quick))
        self.load.stop.set()
        self.results["load_all"] = self.load.since(0)
        self.save()
        if getattr(self, "failed", False):
            sys.exit("bench: some scenarios failed (see above and the report)")


def vars_of(w):
    return {"seconds": w.seconds, "by_verb": w.by_verb, "cpu": w.cpu}


def machine():
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = open("/proc/meminfo").readline().split()[1]
    return {"cpu": model, "cores": os.cpu_count(), "mem_gib": round(int(mem) / 2**20, 1),
            "kernel": platform.release(), "load_at_start": os.getloadavg()}


def versions(b):
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, env=b.env,
                                  timeout=30).stdout.strip()
        except OSError:
            return "?"
    gomod = (HERE / "peers" / "go.mod").read_text()
    cg = next((l.split()[1] for l in gomod.splitlines() if l.strip().startswith("k8s.io/client-go")), "?")
    return {"carrier-lock": out([b.args.bin, "--version"]).splitlines()[0:1],
            "kubectl": [kube_pin()],
            # Built from modules, the binaries report v0.0.0-master: the pin is the version.
            "server": [kube_pin()],
            "client-go": cg, "go": out(["go", "version"])}


def kube_pin():
    mod = (REPO / "tests/cluster/go/kube/go.mod").read_text()
    v = next((l.split()[2] for l in mod.splitlines() if l.startswith("require k8s.io/kubernetes")), "?")
    return f"{v} (tests/cluster/go/kube/go.mod)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: small N, short windows")
    ap.add_argument("--cluster-dir", help="use this running cluster (up.sh DIR) instead of a new one")
    ap.add_argument("--unstripped", default=str(REPO / "build" / "bench" / "carrier-lock.unstripped"),
                    help="the same build with symbols, for perf (scenario 7)")
    ap.add_argument("--scenarios", default="0,1,2,3,4,5,7,8",
                    help="which to run (0 is the idle baseline the others subtract)")
    ap.add_argument("--bin", default=os.environ.get("CARRIER_LOCK_BIN", str(REPO / "carrier-lock")))
    ap.add_argument("--out", default=None)
    ap.add_argument("--png", default=None)
    ap.add_argument("--json", default=None, help="results (default build/bench/results.json)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a parameter of FULL/QUICK (e.g. handoff_ns=1,50 handoffs=3)")
    ap.add_argument("--report-only", action="store_true",
                    help="write the Markdown and plot again from --json, running nothing")
    args = ap.parse_args()
    if args.json is None:
        args.json = str(REPO / "build" / "bench" / ("results-quick.json" if args.quick
                                                    else "results.json"))
    # A smoke run never overwrites the committed figures.
    if args.out is None:
        args.out = str(REPO / ("build/bench/BENCHMARKS.md" if args.quick else "docs/BENCHMARKS.md"))
    if args.png is None:
        args.png = str(REPO / ("build/bench/bench-latency-load.png" if args.quick
                               else "docs/bench-latency-load.png"))
    args.command = "./build.sh bench" + (" --quick" if args.quick else "")
    params = dict(QUICK if args.quick else FULL)
    for kv in args.set:
        k, v = kv.split("=", 1)
        if k not in params:
            sys.exit(f"bench: --set {k}: no such parameter ({', '.join(params)})")
        params[k] = [int(x) for x in v.split(",")] if isinstance(params[k], list) else int(v)
    b = Bench(args, params)
    if args.report_only:
        res = json.loads(pathlib.Path(args.json).read_text())
        report.write(res, args.out, args.png, args.command)
        log(f"wrote {args.out} from {args.json}")
        return
    if args.cluster_dir:
        b.setup(args.cluster_dir)
        b.run()
        return
    d = pathlib.Path(tempfile.mkdtemp(prefix="cl-bench.")) / "c"
    r = subprocess.run([str(REPO / "tests/cluster/up.sh"), str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: up.sh failed:\n{r.stdout}{r.stderr}")
    try:
        b.setup(str(d))
        b.run()
    finally:
        subprocess.run([str(REPO / "tests/cluster/down.sh"), str(d)], capture_output=True)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()

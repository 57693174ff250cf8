#!/usr/bin/env python3
"""Soak: carrier-lock at scale, on a cluster of its own, with faults, checked from a log.

  ./build.sh soak [--quick] [flags]        (or: python3 tests/soak/soak.py ...)
  python3 tests/soak/soak.py --check LOG   (re-check the log of an earlier run)

CONTENDERS clients loop on one lock until HANDOFFS critical sections have been entered
(or for DURATION seconds). Half are `carrier-lock run -- bash section.sh` clients, half
are shell scripts doing `acquire --print-token; section; release` (shell_client.sh); in
each half, every other client uses a lease (--ttl). The critical section appends
"enter/leave TOKEN PID TIME SID" lines to one shared log (section.sh).

Faults, spread evenly over the run:
  - SIGKILL of a holder inside its section: the process group of a run client, carrier-lock
    alone (its command must die with it), the process group of a shell client; each with
    and without a lease. The soak writes "killed ..." to the log right after the kill: a
    killed section ends there, and any later line of it (its command outlived the kill)
    while another holder has entered is an overlap.
  - kube-apiserver restarts (the cluster's restart-apiserver.sh);
  - etcd compactions to the current revision (etcd's v3 JSON gateway), so that watches
    and the API server's watch cache must cope with "too old resource version".
Recovery: leased holders expire (waiters take over after the ttl); for the others the soak
runs `carrier-lock cleanup` every 2 s; a lock held by one token for 60 s is force-released
as a last resort. Each path is counted.

The checker reads the log: no "enter" while another section is inside, no line of an
ended section after a later "enter", tokens strictly increasing in entry order. It prints
the figures (and writes them to WORKDIR/figures.json) and exits 1 on any violation, 2 when
the soak itself could not do what was asked (too few handoffs, faults not delivered).
"""
import argparse
import base64
import bisect
import collections
import hashlib
import json
import math
import os
import pathlib
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
UP = REPO / "tests" / "cluster" / "up.sh"
DOWN = REPO / "tests" / "cluster" / "down.sh"
SECTION = HERE / "section.sh"
SHELL_CLIENT = HERE / "shell_client.sh"

LOCK = "soak"
KINDS = ("run-group", "run-alone", "shell-group")
KIND_TEXT = {
    "run-group": "run client, whole process group",
    "run-alone": "run client, carrier-lock alone",
    "shell-group": "shell client, whole process group",
}
LONG_HOLD = 8           # seconds a victim's section lasts (longer than any recovery)
LONG_HOLD_LEASED_SHELL = 2  # a shell holds a lease it does not renew: stay inside the ttl
CLEANUP_EVERY = 2.0
FORCE_AFTER = 60.0


def say(msg):
    print(f"soak: {msg}", flush=True)


# ---------------------------------------------------------------------------------------
# The checker: a pure function of the log.
# ---------------------------------------------------------------------------------------

class Section:
    __slots__ = ("sid", "token", "pid", "t_enter", "line", "end", "end_kind", "t_end")

    def __init__(self, sid, token, pid, t, line):
        self.sid, self.token, self.pid, self.t_enter, self.line = sid, token, pid, t, line
        self.end = None          # line index of its end (leave, term, killed, exit)
        self.end_kind = None
        self.t_end = None


def pct(values, p):
    """The p-th percentile (nearest rank) of values, or None."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def check(lines):
    """Checks the soak log. Returns a dict of figures, with 'overlaps' and
    'token_order_violations' as lists of (line index, message)."""
    sections = {}            # sid -> Section
    inside = set()           # sids inside now
    enters = []              # line indexes of every enter, in order
    enter_sids = []
    overlap_pairs = {}       # (earlier sid, later sid) -> (line index, message)
    order = []
    malformed = []
    latencies = []           # clean handoffs: leave -> next enter, seconds
    recoveries = {}          # killed sid -> seconds from the kill to the next enter
    pending_kills = []       # killed sids whose recovery is not measured yet
    events = collections.Counter()
    ends = collections.Counter()
    last_end = None          # ("leave", t) of the last section end, if it was clean
    max_token = 0
    max_token_line = None
    tokens = []
    late_writes = 0          # lines of an ended section with nobody entered since (harmless)
    kills_after_leave = 0

    def overlap(a, b, i, msg):
        if (a, b) not in overlap_pairs:
            overlap_pairs[(a, b)] = (i, msg)

    for i, raw in enumerate(lines):
        f = raw.split()
        if not f:
            continue
        what = f[0]
        try:
            if what == "enter":
                token, pid, t, sid = int(f[1]), f[2], float(f[3]), f[4]
                for other in sorted(inside):
                    o = sections[other]
                    overlap(other, sid, i, f"{sid} (token {token}, pid {pid}) entered while "
                            f"{other} (token {o.token}, pid {o.pid}, entered at line "
                            f"{o.line + 1}) was inside")
                if token <= max_token:
                    order.append((i, f"token {token} entered after token {max_token} "
                                  f"(line {max_token_line + 1})"))
                else:
                    max_token, max_token_line = token, i
                tokens.append(token)
                if last_end is not None and not inside:
                    latencies.append(t - last_end)
                for k in pending_kills:
                    recoveries[k] = t - sections[k].t_end
                pending_kills = []
                last_end = None
                if sid in sections:
                    malformed.append((i, f"second enter of {sid}"))
                sections[sid] = Section(sid, token, pid, t, i)
                inside.add(sid)
                enters.append(i)
                enter_sids.append(sid)
            elif what in ("busy", "leave", "term"):
                token, pid, t, sid = int(f[1]), f[2], float(f[3]), f[4]
                s = sections.get(sid)
                if s is None or s.token != token:
                    malformed.append((i, f"{what} of {sid} token {token} without its enter"))
                    continue
                if sid in inside:
                    if what != "busy":
                        inside.discard(sid)
                        s.end, s.end_kind, s.t_end = i, what, t
                        ends[what] += 1
                        last_end = t if what == "leave" and not inside else None
                    continue
                # A line of a section that had ended (killed, or its client exited):
                # its process still ran. Every section entered since overlapped it.
                k = bisect.bisect_right(enters, s.end)
                later = enter_sids[k:]
                if not later:
                    late_writes += 1
                for other in later:
                    overlap(sid, other, i, f"{sid} (token {token}, pid {pid}) wrote '{what}' "
                            f"after its end at line {s.end + 1} ({s.end_kind}), and "
                            f"{other} (token {sections[other].token}) had entered since, at "
                            f"line {sections[other].line + 1}")
            elif what in ("killed", "exit"):
                t, sid = float(f[3]), f[4]
                s = sections.get(sid)
                if what == "killed":
                    events["killed " + f[5]] += 1
                if s is None:
                    continue         # a client that exited (or was killed) before entering
                if sid in inside:
                    inside.discard(sid)
                    s.end, s.end_kind, s.t_end = i, what, t
                    ends[what] += 1
                    last_end = None
                    if what == "killed":
                        pending_kills.append(sid)
                elif what == "killed":
                    kills_after_leave += 1
            else:
                events[what] += 1     # restart, restarted, compact, cleanup, force, ...
        except (IndexError, ValueError):
            malformed.append((i, "malformed line"))

    gaps = 0
    if tokens:
        s = sorted(set(tokens))
        gaps = (s[-1] - s[0] + 1) - len(s)
    return {
        "handoffs": len(enters),
        # (line index, earlier section, later section, message), in log order
        "overlaps": sorted((i, a, b, msg) for (a, b), (i, msg) in overlap_pairs.items()),
        "token_order_violations": order,
        "malformed": malformed,
        "latencies": latencies,
        "recoveries": recoveries,
        "ends": dict(ends),
        "events": dict(events),
        "token_first": tokens[0] if tokens else None,
        "token_last": max_token,
        "token_gaps": gaps,
        "late_writes": late_writes,
        "kills_after_leave": kills_after_leave,
        "still_inside": sorted(inside),
        "sections": sections,
    }


# Logs the checker must judge right: (name, overlaps, token order violations, lines).
SELF_TEST = [
    ("two clean handoffs", 0, 0, """
enter 1 10 1.000 a.1
leave 1 10 1.010 a.1
enter 2 11 1.020 b.1
leave 2 11 1.030 b.1"""),
    ("an enter while another is inside", 1, 0, """
enter 1 10 1.000 a.1
enter 2 11 1.005 b.1
leave 1 10 1.010 a.1
leave 2 11 1.030 b.1"""),
    ("killed inside, quiet after, next enters", 0, 0, """
enter 1 10 1.000 a.1
busy 1 10 1.050 a.1
killed 1 10 1.100 a.1 run-group
exit - - 1.101 a.1 -9
enter 2 11 4.000 b.1
leave 2 11 4.010 b.1"""),
    ("killed, but its command goes on after the next enter", 1, 0, """
enter 1 10 1.000 a.1
killed 1 10 1.100 a.1 run-alone
exit - - 1.101 a.1 -9
busy 1 10 1.150 a.1
enter 2 11 4.000 b.1
busy 1 10 4.050 a.1
leave 2 11 4.010 b.1
leave 1 10 9.000 a.1"""),
    ("killed, one more write before anyone entered", 0, 0, """
enter 1 10 1.000 a.1
killed 1 10 1.100 a.1 run-group
leave 1 10 1.1001 a.1
enter 2 11 4.000 b.1
leave 2 11 4.010 b.1"""),
    ("a client that exited without leave, then a term", 0, 0, """
enter 1 10 1.000 a.1
term 1 10 1.004 a.1
enter 2 11 2.000 b.1
exit - - 2.500 b.1 5
enter 3 12 5.000 c.1
leave 3 12 5.010 c.1"""),
    ("a token reused and one going back", 0, 2, """
enter 5 10 1.000 a.1
leave 5 10 1.010 a.1
enter 5 11 1.020 b.1
leave 5 11 1.030 b.1
enter 4 12 1.040 c.1
leave 4 12 1.050 c.1"""),
]


def self_test():
    """Runs the checker over SELF_TEST. Returns the list of failures (empty: all right)."""
    bad = []
    for name, overlaps, order, text in SELF_TEST:
        res = check(text.strip().splitlines())
        got = (len(res["overlaps"]), len(res["token_order_violations"]), len(res["malformed"]))
        if got != (overlaps, order, 0):
            bad.append(f"{name}: {got[0]} overlaps, {got[1]} order violations, {got[2]} "
                       f"malformed lines; expected {overlaps}, {order}, 0")
    return bad


def context(lines, i, before=12, after=12):
    lo, hi = max(0, i - before), min(len(lines), i + after + 1)
    return "\n".join(f"{'>' if j == i else ' '}{j + 1:7d}  {lines[j]}" for j in range(lo, hi))


# ---------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------

def read_env(path):
    env = {}
    for line in pathlib.Path(path).read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            k, v = words[1].split("=", 1)
            env[k] = v
    return env


class Log:
    """The shared log: whole lines appended with O_APPEND, one write each."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, *fields):
        os.write(self.fd, (" ".join(str(x) for x in fields) + "\n").encode())


def now():
    return f"{time.time():.6f}"


class Monitor(threading.Thread):
    """Tails the log: which sections are inside, how many have entered."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.entries = 0
        self.state = {}          # sid -> ("in"|"out", token, pid)
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self):
        buf = b""
        with open(self.path, "rb") as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    if self.stop.is_set():
                        return
                    time.sleep(0.01)
                    continue
                buf += chunk
                *done, buf = buf.split(b"\n")
                with self.lock:
                    for line in done:
                        w = line.decode(errors="replace").split()
                        if len(w) < 5:
                            continue
                        if w[0] == "enter":
                            self.entries += 1
                            self.state[w[4]] = ("in", w[1], w[2])
                        elif w[0] in ("leave", "term", "killed", "exit") and w[4] in self.state:
                            self.state[w[4]] = ("out",) + self.state[w[4]][1:]

    def get(self, sid):
        with self.lock:
            return self.state.get(sid)


class Client:
    def __init__(self, soak, n, kind, ttl):
        self.soak, self.n, self.kind, self.ttl = soak, n, kind, ttl
        self.name = f"{'r' if kind == 'run' else 's'}{n:02d}{'t' if ttl else ''}"
        self.lock = threading.Lock()      # held to start, reap or signal self.proc
        self.proc = None
        self.sid = None
        self.iterations = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.errfile = soak.work / f"stderr.{self.name}"

    def command(self):
        s = self.soak
        if self.kind == "run":
            cmd = [s.bin, "run", "--kubeconfig", s.kubeconfig, "--name", LOCK,
                   "--max-wait-time", s.args.max_wait]
            if self.ttl:
                cmd += ["--ttl", s.args.ttl]
            return cmd + ["--", "bash", str(SECTION)]
        return ["bash", str(SHELL_CLIENT)]

    def loop(self):
        s = self.soak
        cmd = self.command()
        rng = random.Random(f"{s.args.seed}-{self.name}")
        env = dict(s.env, SOAK_TTL=s.args.ttl if self.ttl else "",
                   SOAK_TOKFILE=str(s.work / f"token.{self.name}"))
        while True:
            self.iterations += 1
            sid = f"{self.name}.{self.iterations}"
            hold = s.claim(self, sid)
            env.update(SOAK_SID=sid, SOAK_HOLD=str(hold),
                       SOAK_NAP=f"{rng.uniform(0.002, 0.008):.4f}")
            with open(self.errfile, "w+b") as err:
                with self.lock:
                    if s.stopping.is_set():
                        return
                    self.sid = sid
                    self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                                 stdout=subprocess.DEVNULL, stderr=err,
                                                 start_new_session=True)
                    pid = self.proc.pid
                    s.pgids.add(pid)
                # Wait without reaping: the PID (and process group) stays ours until we
                # reap under the lock, so the killer never signals a recycled PID.
                while True:
                    try:
                        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
                        break
                    except InterruptedError:
                        continue
                with self.lock:
                    rc = self.proc.wait()
                    self.proc = None
                t = time.time()
                s.log.write("exit", "-", "-", f"{t:.6f}", sid, rc)
                err.seek(0)
                s.client_done(self, rc, err.read().decode(errors="replace"), t)

    def signal(self, sig, group):
        """Signals the current process (group) under the lock. Returns the PID or None."""
        with self.lock:
            if self.proc is None:
                return None
            try:
                (os.killpg if group else os.kill)(self.proc.pid, sig)
            except ProcessLookupError:
                return None
            return self.proc.pid


# Exits that say nothing is wrong: done, killed by the soak (-9), stopped at the end (143,
# -15), and for run the lock lost (5: it could not renew within the ttl, during a restart).
EXPECTED_EXITS = {"run": {0, -9, 143, -15, 5}, "shell": {0, -9, 143, -15}}
EXPIRED = re.compile(r"of host \S+ pid (\d+) expired")
CLEANED = re.compile(r"cleaned up lock \S+ held by host \S+ pid (\d+)")
FORCED = re.compile(r"force-released lock \S+ held by host \S+ pid (\d+)")


def normalise(line):
    line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \+0000 UTC", "TIME", line)
    line = re.sub(r"\d[\w.:]*", "N", line)
    return line.strip()


def proc_start(pid):
    """Start time of a live, non-zombie process (field 22 of /proc/PID/stat), or None."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = stat.rsplit(")", 1)[1].split()
    return None if rest[0] in ("Z", "X") else rest[19]


class Soak:
    def __init__(self, args):
        self.args = args
        self.work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="carrier-lock-soak."))
        self.work.mkdir(parents=True, exist_ok=True)
        if any(self.work.iterdir()):
            raise SystemExit(f"soak: {self.work} is not empty (the log of another run?)")
        self.cluster_dir = self.work / "cluster"
        self.log_path = self.work / "log"
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.request = None           # a kill looking for its victim: dict
        self.kills = []               # landed kills: dicts
        self.missed = collections.Counter()
        self.recovery_events = []     # (time, path, pid)
        self.exits = {"run": collections.Counter(), "shell": collections.Counter()}
        self.stderr_lines = collections.Counter()
        self.anomalies = []           # (time, sid, exit status, stderr) of other exits
        self.restarts = 0
        self.restart_secs = []
        self.compactions = 0
        self.compaction_errors = collections.Counter()
        self.cleanup_runs = 0
        self.live_samples = []
        self.survivors = []
        self.failures = []            # the soak could not do something asked of it
        self.soak_id = os.urandom(8).hex()
        self.pgids = set()            # every client's process group (its first PID)

    # --- setup ---------------------------------------------------------------------------

    def prepare_binary(self):
        src = os.environ.get("CARRIER_LOCK_BIN")
        if not src:
            src = REPO / "carrier-lock"
            newest = max(p.stat().st_mtime for p in [REPO / "build.sh", *REPO.glob("src/*.[ch]")])
            if not src.exists() or src.stat().st_mtime < newest:
                say("building ./carrier-lock (./build.sh)")
                subprocess.run([str(REPO / "build.sh")], check=True)
        # A copy: the build tree may be rebuilt under a long run.
        self.bin = str(self.work / "carrier-lock")
        shutil.copy2(src, self.bin)
        self.bin_sha = hashlib.sha256(pathlib.Path(self.bin).read_bytes()).hexdigest()
        self.bin_version = subprocess.run([self.bin, "--version"], capture_output=True,
                                          text=True).stdout.strip()
        say(f"binary {src} ({self.bin_version}, sha256 {self.bin_sha[:16]})")

    def start_cluster(self):
        said = False
        while True:
            r = subprocess.run(["pgrep", "-f", "tests/cluster/build.sh"], capture_output=True,
                               text=True)
            if not r.stdout.split():
                break
            if not said:
                say("waiting for a cluster build in progress (tests/cluster/build.sh) to end")
                said = True
            time.sleep(5)
        say(f"starting a cluster in {self.cluster_dir}")
        r = subprocess.run([str(UP), str(self.cluster_dir)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"up.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        self.cenv = read_env(self.cluster_dir / "env")
        self.kubeconfig = str(self.cluster_dir / "admin.kubeconfig")
        self.etcd = self.cenv["CLUSTER_ETCD_URL"]

    def stop_cluster(self):
        if self.cluster_dir.exists():
            subprocess.run([str(DOWN), str(self.cluster_dir)])

    # --- helpers -------------------------------------------------------------------------

    def cl(self, *args, timeout=60):
        return subprocess.run([self.bin, *args, "--kubeconfig", self.kubeconfig, "--name", LOCK,
                               "--request-timeout", "5s"], capture_output=True, text=True,
                              timeout=timeout)

    def etcd_post(self, path, body):
        req = urllib.request.Request(self.etcd + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"{}")

    def etcd_compactions(self):
        """Compactions etcd has done (ours, and any of kube-apiserver's own every 5 min
        that found something left to compact), from its metrics."""
        with urllib.request.urlopen(self.etcd + "/metrics", timeout=10) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count"):
                    return int(float(line.split()[1]))
        return None

    def progress(self):
        p = 0.0
        if self.args.handoffs:
            p = self.monitor.entries / self.args.handoffs
        if self.args.duration:
            p = max(p, (time.monotonic() - self.t0) / self.args.duration)
        return p

    # --- clients -------------------------------------------------------------------------

    def claim(self, client, sid):
        """A client about to start: if a kill waits for a victim of its kind, it is one.
        Returns how long its section is to last (0: short)."""
        with self.lock:
            r = self.request
            if r is None or r["client"] is not None:
                return 0
            kind = r["kind"].split("-")[0]
            if kind != client.kind or r["ttl"] != client.ttl:
                return 0
            r["client"], r["sid"], r["iteration"] = client, sid, client.iterations
        if client.kind == "shell" and client.ttl:
            return LONG_HOLD_LEASED_SHELL
        return LONG_HOLD

    def client_done(self, client, rc, err, t):
        with self.lock:
            self.exits[client.kind][rc] += 1
            if rc not in EXPECTED_EXITS[client.kind]:
                self.anomalies.append((t, client.sid, rc, err.strip()))
            for line in err.splitlines():
                self.stderr_lines[normalise(line)] += 1
                m = EXPIRED.search(line)
                if m:
                    self.recovery_events.append((t, "ttl", int(m.group(1))))

    # --- faults --------------------------------------------------------------------------

    def kill(self, kind, ttl):
        """One SIGKILL of a holder inside a long section. Returns True when it landed."""
        req = {"kind": kind, "ttl": ttl, "client": None, "sid": None}
        with self.lock:
            self.request = req
        try:
            deadline = time.monotonic() + 300
            while req["client"] is None:
                if self.stopping.is_set() or time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
            c, sid = req["client"], req["sid"]
            with self.lock:
                self.request = None
            # Wait for it to enter (it waits for the lock like everyone else).
            while True:
                st = self.monitor.get(sid)
                if st is not None:
                    break
                if (c.iterations != req["iteration"] or self.stopping.is_set() or
                        time.monotonic() > deadline):
                    return False        # its client ended without entering (lost, 143...)
                time.sleep(0.01)
            if st[0] != "in":
                return False
            time.sleep(random.uniform(0.1, 0.4))
            st = self.monitor.get(sid)
            if st[0] != "in":
                return False
            token, cmd_pid = st[1], int(st[2])
            cmd_start = proc_start(cmd_pid)
            with c.lock:
                if c.sid != sid or c.proc is None:
                    return False
                owner = c.proc.pid
                try:
                    if kind.endswith("group"):
                        os.killpg(owner, signal.SIGKILL)
                    else:
                        os.kill(owner, signal.SIGKILL)
                except ProcessLookupError:
                    return False
                t = time.time()
                self.log.write("killed", token, cmd_pid, f"{t:.6f}", sid,
                               kind + ("-ttl" if ttl else ""))
            self.kills.append({"kind": kind, "ttl": ttl, "sid": sid, "owner": owner,
                               "t": t, "token": int(token)})
            if kind == "run-alone":
                # The command must die with carrier-lock; note it if it did not.
                time.sleep(1.0)
                if cmd_start is not None and proc_start(cmd_pid) == cmd_start:
                    self.survivors.append(sid)
                    say(f"{sid}: command pid {cmd_pid} still runs 1 s after carrier-lock's "
                        "SIGKILL")
            return True
        finally:
            with self.lock:
                if self.request is req:
                    self.request = None

    def restart(self):
        self.log.write("restart", "-", "-", now(), "-")
        t = time.monotonic()
        r = subprocess.run([str(self.cluster_dir / "restart-apiserver.sh")], capture_output=True,
                           text=True, timeout=300)
        with open(self.work / "restarts.txt", "a") as f:
            f.write(f"{now()} restart-apiserver.sh exited {r.returncode} after "
                    f"{time.monotonic() - t:.1f} s\n{r.stdout}{r.stderr}\n")
        if r.returncode != 0:
            self.failures.append(f"restart-apiserver.sh failed: {r.stderr[-500:]}")
            subprocess.run([str(self.cluster_dir / "start-apiserver.sh")], timeout=300)
        self.restart_secs.append(time.monotonic() - t)
        self.log.write("restarted", "-", "-", now(), "-")
        self.restarts += 1

    def faults(self):
        """Kills and restarts, in one thread, at evenly spread points of the run."""
        plan = []
        n = self.args.kills
        total = n * len(KINDS)
        for i in range(n):
            for j, kind in enumerate(KINDS):
                plan.append((i * len(KINDS) + j, "kill", kind, i % 2 == 0))
        plan = [((k + 0.5) / total, what, kind, ttl) for k, what, kind, ttl in plan]
        plan += [((r + 0.5) / self.args.restarts, "restart", None, None)
                 for r in range(self.args.restarts)]
        plan.sort(key=lambda x: x[0])
        for at, what, kind, ttl in plan:
            while self.progress() < at:
                if self.stopping.is_set():
                    return
                time.sleep(0.2)
            if what == "restart":
                say(f"restarting kube-apiserver ({self.monitor.entries} handoffs)")
                self.restart()
            else:
                for attempt in range(5):
                    if self.kill(kind, ttl):
                        break
                    self.missed[kind] += 1
                    if self.stopping.is_set():
                        return
                else:
                    self.failures.append(f"no {kind} kill landed in 5 attempts")

    def compactor(self):
        while not self.stopping.wait(self.args.compact_every):
            try:
                rev = self.etcd_post("/v3/kv/range", {"key": base64.b64encode(b"soak").decode()})
                rev = int(rev["header"]["revision"])
                r = self.etcd_post("/v3/kv/compaction", {"revision": str(rev)})
                if "header" in r:
                    self.compactions += 1
                    self.log.write("compact", "-", "-", now(), "-", rev)
                else:
                    self.compaction_errors[r.get("message", str(r))] += 1
            except Exception as e:   # noqa: BLE001 - counted, the soak goes on
                self.compaction_errors[type(e).__name__] += 1

    def cleaner(self):
        """cleanup every CLEANUP_EVERY s for holders without a lease; force-release a
        lock one token has held for FORCE_AFTER s."""
        held_token, since = None, 0.0
        while not self.stopping.wait(CLEANUP_EVERY):
            try:
                q = self.cl("query", timeout=30)
                if q.returncode != 0:
                    continue
                rec = json.loads(q.stdout or "{}")
                if not rec:
                    held_token = None
                    continue
                if rec.get("token") != held_token:
                    held_token, since = rec.get("token"), time.monotonic()
                if time.monotonic() - since > FORCE_AFTER:
                    r = self.cl("force-release", timeout=30)
                    m = FORCED.search(r.stderr)
                    if m:
                        self.log.write("force", "-", "-", now(), "-", m.group(1))
                        with self.lock:
                            self.recovery_events.append((time.time(), "force", int(m.group(1))))
                        say(f"force-released token {held_token}, held for {FORCE_AFTER:.0f}s")
                    continue
                if "ttl" in rec:
                    continue         # a lease: expiry is its recovery
                r = self.cl("cleanup", timeout=30)
                self.cleanup_runs += 1
                m = CLEANED.search(r.stderr)
                if m:
                    self.log.write("cleanup", "-", "-", now(), "-", m.group(1))
                    with self.lock:
                        self.recovery_events.append((time.time(), "cleanup", int(m.group(1))))
            except (subprocess.TimeoutExpired, ValueError):
                continue

    # --- the run -------------------------------------------------------------------------

    def run(self):
        a = self.args
        self.prepare_binary()
        self.start_cluster()
        self.log_path.touch()
        self.log = Log(self.log_path)
        self.env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        self.env.update(SOAK_ID=self.soak_id, SOAK_LOG=str(self.log_path), SOAK_CL=self.bin,
                        SOAK_KUBECONFIG=self.kubeconfig, SOAK_NAME=LOCK,
                        SOAK_MAX_WAIT=a.max_wait)
        self.monitor = Monitor(self.log_path)
        self.monitor.start()
        n_run = (a.contenders + 1) // 2
        self.clients = [Client(self, i, "run", i % 2 == 1) for i in range(n_run)]
        self.clients += [Client(self, i, "shell", i % 2 == 1)
                         for i in range(a.contenders - n_run)]
        self.compactions_before = self.etcd_compactions()
        goal = (f"{a.handoffs} handoffs" if a.handoffs else "") + \
               (" or " if a.handoffs and a.duration else "") + \
               (f"{a.duration} s" if a.duration else "")
        say(f"{a.contenders} contenders ({n_run} run, {a.contenders - n_run} shell; half of "
            f"each with --ttl {a.ttl}), until {goal}; {a.kills} kills of each of "
            f"{len(KINDS)} kinds, {a.restarts} API server restarts, a compaction every "
            f"{a.compact_every:g} s; log {self.log_path}")
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        for c in self.clients:
            c.thread.start()
        helpers = [threading.Thread(target=f, daemon=True)
                   for f in (self.faults, self.compactor, self.cleaner)]
        for h in helpers:
            h.start()
        last_say = 0.0
        timed_out = False
        while True:
            time.sleep(1)
            el = time.monotonic() - self.t0
            self.live_samples.append(sum(1 for c in self.clients if c.proc is not None))
            if el - last_say >= 15:
                last_say = el
                say(f"{el:5.0f}s: {self.monitor.entries} handoffs "
                    f"({self.monitor.entries / el:.1f}/s), {len(self.kills)} kills, "
                    f"{self.restarts} restarts, {self.compactions} compactions")
            if self.progress() >= 1 and not helpers[0].is_alive():
                break
            if el > a.timeout:
                timed_out = True
                self.failures.append(f"gave up after {a.timeout} s (--timeout)")
                break
        self.wall = time.monotonic() - self.t0
        self.stop_clients()
        self.compactions_after = self.etcd_compactions()
        return timed_out

    def stop_clients(self):
        self.stopping.set()
        for c in self.clients:
            c.signal(signal.SIGTERM, True)
        deadline = time.monotonic() + 60
        for c in self.clients:
            c.thread.join(max(0.1, deadline - time.monotonic()))
        for c in self.clients:
            c.signal(signal.SIGKILL, True)
            c.thread.join(10)
        self.monitor.stop.set()
        self.monitor.join(10)

    def sweep(self):
        """SIGKILLs any process left in one of the clients' process groups that carries
        this soak's SOAK_ID (a command that outlived its carrier-lock), nothing else."""
        mark = f"SOAK_ID={self.soak_id}".encode()
        for p in pathlib.Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                pgrp = int((p / "stat").read_text().rsplit(")", 1)[1].split()[2])
                if pgrp in self.pgids and mark in (p / "environ").read_bytes().split(b"\0"):
                    os.kill(int(p.name), signal.SIGKILL)
            except (OSError, ValueError, IndexError):
                pass


# ---------------------------------------------------------------------------------------
# Figures.
# ---------------------------------------------------------------------------------------

def ms(x):
    return "-" if x is None else f"{x * 1000:.0f} ms"


def report(soak, res, lines):
    a = soak.args
    kills = collections.Counter((k["kind"], k["ttl"]) for k in soak.kills)
    # Which path freed each killed holder's lock: the first event naming its owner PID
    # after the kill (PIDs are reused over a long run, hence "after").
    events = sorted(soak.recovery_events)
    paths = collections.Counter()
    rec_by_path = collections.defaultdict(list)
    for k in soak.kills:
        path = next((p for t, p, pid in events if pid == k["owner"] and t >= k["t"] - 0.5),
                    "none")
        k["path"] = path
        paths[path] += 1
        if k["sid"] in res["recoveries"]:
            rec_by_path[path].append(res["recoveries"][k["sid"]])
    # Every waiter that sees a lease run out says so: count each expired owner once.
    all_paths = collections.Counter()
    seen = {}
    for t, p, pid in events:
        if p == "ttl":
            if t - seen.get(pid, -1e9) > 60:
                all_paths["ttl"] += 1
            seen[pid] = t
    all_paths["cleanup"] = sum(1 for _, p, _ in events if p == "cleanup")
    all_paths["force"] = sum(1 for _, p, _ in events if p == "force")
    lat = res["latencies"]
    n_run = sum(1 for c in soak.clients if c.kind == "run")
    n_shell = len(soak.clients) - n_run
    live = soak.live_samples or [0]
    comp_total = None
    if soak.compactions_before is not None and soak.compactions_after is not None:
        comp_total = soak.compactions_after - soak.compactions_before
    fig = {
        "binary": soak.bin_version, "binary_sha256": soak.bin_sha,
        "handoffs": res["handoffs"],
        "contenders": len(soak.clients), "run_clients": n_run, "shell_clients": n_shell,
        "live_clients_min": min(live), "live_clients_median": statistics.median(live),
        "kills": {f"{kind}{'-ttl' if ttl else ''}": kills[(kind, ttl)]
                  for kind in KINDS for ttl in (True, False)},
        "kills_missed": dict(soak.missed),
        "kill_recovery_paths": dict(paths),
        "kill_recovery_ms": {p: [round(v * 1000) for v in sorted(vs)]
                             for p, vs in rec_by_path.items()},
        "recoveries_all": {"ttl_expiry_owners": all_paths["ttl"],
                           "cleanup": all_paths["cleanup"], "force_release": all_paths["force"]},
        "cleanup_runs": soak.cleanup_runs,
        "commands_outliving_carrier_lock": soak.survivors,
        "api_server_restarts": soak.restarts,
        "api_server_restart_s": [round(x, 1) for x in soak.restart_secs],
        "compactions_by_soak": soak.compactions,
        "compactions_total_etcd": comp_total,
        "compaction_errors": dict(soak.compaction_errors),
        "overlaps": len(res["overlaps"]),
        "token_order_violations": len(res["token_order_violations"]),
        "malformed_lines": len(res["malformed"]),
        "tokens": [res["token_first"], res["token_last"]], "token_gaps": res["token_gaps"],
        "section_ends": res["ends"],
        "handoff_latency_ms": {"n": len(lat), "median": round(pct(lat, 50) * 1000, 1) if lat else None,
                               "p90": round(pct(lat, 90) * 1000, 1) if lat else None,
                               "p99": round(pct(lat, 99) * 1000, 1) if lat else None,
                               "max": round(max(lat) * 1000, 1) if lat else None},
        "exits": {k: {str(rc): n for rc, n in sorted(v.items())} for k, v in soak.exits.items()},
        "unexpected_exits": [[sid, rc, err.splitlines()[-1] if err else ""]
                             for _, sid, rc, err in soak.anomalies],
        "wall_s": round(soak.wall, 1),
        "handoffs_per_s": round(res["handoffs"] / soak.wall, 2) if soak.wall else None,
        "failures": soak.failures,
        "machine": f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}",
        "params": {"handoffs": a.handoffs, "contenders": a.contenders, "duration": a.duration,
                   "kills_per_kind": a.kills, "restarts": a.restarts,
                   "compact_every": a.compact_every, "ttl": a.ttl, "seed": a.seed},
    }
    (soak.work / "figures.json").write_text(json.dumps(fig, indent=1) + "\n")
    (soak.work / "anomalies.txt").write_text("".join(
        f"{t:.6f} {sid} exit {rc}\n{err}\n\n" for t, sid, rc, err in soak.anomalies))
    (soak.work / "stderr-lines.txt").write_text("".join(
        f"{n:8d}  {line}\n" for line, n in soak.stderr_lines.most_common()))

    p = print
    p("")
    p("==================== soak figures ====================")
    p(f"binary            {soak.bin_version} (sha256 {soak.bin_sha[:16]})")
    p(f"handoffs          {res['handoffs']} (tokens {res['token_first']}..{res['token_last']}, "
      f"{res['token_gaps']} handed out but never entered)")
    p(f"contenders        {len(soak.clients)}: {n_run} run, {n_shell} shell (half of each "
      f"--ttl {a.ttl}); live at once: median {statistics.median(live):g}, min {min(live)}")
    p("kills (SIGKILL of a holder inside its section):")
    for kind in KINDS:
        p(f"  {KIND_TEXT[kind]:36s} {kills[(kind, True)]:3d} with --ttl, "
          f"{kills[(kind, False)]:3d} without")
    p(f"  missed attempts (victim left or lost the lock first): {sum(soak.missed.values())}")
    p(f"  commands still running 1 s after carrier-lock's SIGKILL: {len(soak.survivors)}")
    p("recovery of the killed holders' locks: " + ", ".join(
        f"{path} {n} (median {ms(statistics.median(rec_by_path[path])) if rec_by_path[path] else '-'})"
        for path, n in sorted(paths.items())))
    p(f"  all recoveries: lease expiries taken over {all_paths['ttl']}, cleanup freed "
      f"{all_paths['cleanup']} (of {soak.cleanup_runs} cleanup runs), force-release "
      f"{all_paths['force']}")
    p(f"API server restarts {soak.restarts} (each {', '.join(f'{x:.1f}' for x in soak.restart_secs)} s)")
    p(f"etcd compactions  {soak.compactions} to the current revision (etcd counts {comp_total})"
      f"{'; errors ' + str(dict(soak.compaction_errors)) if soak.compaction_errors else ''}")
    p(f"section ends      {res['ends']}")
    p(f"client exits      run {dict(sorted(soak.exits['run'].items()))}, "
      f"shell {dict(sorted(soak.exits['shell'].items()))}")
    # An API server restart explains a failed call within a minute of it.
    down = [float(l.split()[3]) for l in lines if l.startswith("restart ")]
    up = [float(l.split()[3]) for l in lines if l.startswith("restarted ")]
    windows = list(zip(down, up + [float("inf")] * (len(down) - len(up))))
    for t, sid, rc, err in soak.anomalies[:5]:
        near = any(t0 <= t <= t1 + 60 for t0, t1 in windows)
        p(f"  {sid} exited {rc}{' (API server restart before it)' if near else ''}: "
          f"{err.splitlines()[-1] if err else '(nothing on stderr)'}")
    if len(soak.anomalies) > 5:
        p(f"  ... {len(soak.anomalies) - 5} more in anomalies.txt")
    if lat:
        p(f"handoff latency   median {ms(pct(lat, 50))}, p90 {ms(pct(lat, 90))}, "
          f"p99 {ms(pct(lat, 99))}, max {ms(max(lat))} (leave -> next enter, {len(lat)} "
          "clean handoffs)")
    p(f"wall time         {soak.wall:.0f} s ({fig['handoffs_per_s']} handoffs/s)")
    p(f"OVERLAPS          {len(res['overlaps'])}")
    p(f"TOKEN ORDER       {len(res['token_order_violations'])} violations")
    if res["malformed"]:
        p(f"malformed lines   {len(res['malformed'])}")
    p(f"work dir          {soak.work} (log, figures.json, stderr-lines.txt)")
    show_violations(res, lines)
    return fig


def show_violations(res, lines):
    """The log around the first overlap of each section involved (up to 5 of them), the
    first token order violations and malformed lines."""
    firsts = {}
    for i, a, _, msg in res["overlaps"]:
        firsts.setdefault(a, (i, msg))
    if res["overlaps"]:
        print(f"\n{len(res['overlaps'])} overlapping entries; sections that were still inside: "
              + ", ".join(sorted(firsts)))
    shown = [("overlap", i, msg) for i, msg in sorted(firsts.values())[:5]]
    shown += [("token order violation", i, msg) for i, msg in res["token_order_violations"][:5]]
    shown += [("malformed line", i, msg) for i, msg in res["malformed"][:5]]
    for what, i, msg in shown:
        print(f"\n{what} at line {i + 1}: {msg}")
        print(context(lines, i))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--quick", action="store_true",
                    help="about a minute: 25 contenders for 60 s, 2 kills of each kind, "
                         "1 restart, a compaction every 10 s (flags given still win)")
    ap.add_argument("--handoffs", type=int, help="stop after this many critical sections "
                    "(0: no count; $SOAK_HANDOFFS, default 15000)")
    ap.add_argument("--contenders", type=int, help="clients at once ($SOAK_CONTENDERS, "
                    "default 30)")
    ap.add_argument("--duration", type=float, help="stop after this many seconds, or at "
                    "HANDOFFS if that comes first ($SOAK_DURATION, default 0: no limit)")
    ap.add_argument("--kills", type=int, help="kills of each kind ($SOAK_KILLS, default 15)")
    ap.add_argument("--restarts", type=int, help="API server restarts ($SOAK_RESTARTS, "
                    "default 8)")
    ap.add_argument("--compact-every", type=float, help="seconds between the soak's etcd "
                    "compactions ($SOAK_COMPACT_EVERY, default 20)")
    ap.add_argument("--ttl", help="lease of the --ttl clients ($SOAK_TTL, default 3s)")
    ap.add_argument("--max-wait", help="clients' --max-wait-time (default 15m)")
    ap.add_argument("--timeout", type=float, help="give up (exit 2) after this many seconds "
                    "($SOAK_TIMEOUT, default 3600)")
    ap.add_argument("--seed", help="($SOAK_SEED, default 1)")
    ap.add_argument("--workdir", help="where the log and figures go (default: a new "
                    "directory under $TMPDIR or /tmp; kept)")
    ap.add_argument("--check", metavar="LOG", help="only check the log of an earlier run")
    ap.add_argument("--self-test", action="store_true",
                    help="only run the checker over its test logs (it always does first)")
    a = ap.parse_args()
    full = {"handoffs": 15000, "contenders": 30, "duration": 0.0, "kills": 15, "restarts": 8,
            "compact_every": 20.0, "ttl": "3s", "max_wait": "15m", "timeout": 3600.0, "seed": "1"}
    quick = dict(full, handoffs=0, contenders=25, duration=60, kills=2, restarts=1,
                 compact_every=10)
    for k, v in (quick if a.quick else full).items():
        if getattr(a, k) is None:
            e = os.environ.get(f"SOAK_{k.upper()}")
            setattr(a, k, type(v)(e) if e is not None else v)
    bad = self_test()
    if bad or a.self_test:
        print("\n".join(f"checker self-test FAILED: {b}" for b in bad) or
              f"checker self-test: {len(SELF_TEST)} logs judged right")
        return 1 if bad else 0
    if a.check:
        lines = pathlib.Path(a.check).read_text().splitlines()
        res = check(lines)
        print(f"{res['handoffs']} handoffs, {len(res['overlaps'])} overlaps, "
              f"{len(res['token_order_violations'])} token order violations, "
              f"{len(res['malformed'])} malformed lines")
        show_violations(res, lines)
        return 1 if res["overlaps"] or res["token_order_violations"] else 0
    if not a.handoffs and not a.duration:
        ap.error("--handoffs 0 needs --duration")
    random.seed(a.seed)

    soak = Soak(a)

    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    interrupted = False
    try:
        soak.run()
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: stopping clients and the cluster")
        if hasattr(soak, "clients"):
            soak.wall = time.monotonic() - soak.t0
            soak.stop_clients()
    finally:
        soak.sweep()
        soak.stop_cluster()
    if interrupted or not hasattr(soak, "log"):
        return 130
    lines = soak.log_path.read_text().splitlines()
    res = check(lines)
    if not hasattr(soak, "compactions_after"):
        soak.compactions_after = None
    report(soak, res, lines)
    if res["overlaps"] or res["token_order_violations"] or res["malformed"]:
        print("soak: FAILED: the lock let two holders in, or tokens went backwards")
        return 1
    if a.handoffs and res["handoffs"] < a.handoffs and not a.duration:
        soak.failures.append(f"only {res['handoffs']} of {a.handoffs} handoffs")
    landed = collections.Counter(k["kind"] for k in soak.kills)
    for kind in KINDS:
        if landed[kind] < a.kills:
            soak.failures.append(f"{landed[kind]} of {a.kills} {kind} kills landed")
    if soak.restarts < a.restarts:
        soak.failures.append(f"{soak.restarts} of {a.restarts} API server restarts")
    if soak.failures:
        print("soak: INCOMPLETE: " + "; ".join(soak.failures))
        return 2
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

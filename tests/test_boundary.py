"""The process boundary, against the real local cluster: carrier-lock's own death,
signals it inherits or is sent, closed descriptors, hostile record text, fencing tokens
across a deleted ConfigMap, and bounded read-only calls (issue 8, defects 1 to 5 and 9).
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import pytest

from lockutil import BIN, Lock, run, wait_for, alive, token_kubeconfig, empty_root

pytestmark = pytest.mark.usefixtures("cluster")






def start_run(lock, script, tmp_path, extra=(), preexec_fn=None):
    """run -- sh -c SCRIPT; SCRIPT's shell writes its PID to tmp_path/cmd.pid first."""
    pidfile = tmp_path / "cmd.pid"
    full = f'echo $$ > "{pidfile}"; {script}'
    p = subprocess.Popen([BIN, *lock.args("run", *extra), "--", "sh", "-c", full],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=preexec_fn)
    wait_for(lambda: pidfile.is_file() and pidfile.read_text().strip(), what="the command")
    return p, int(pidfile.read_text())


# 1. A command must not outlive the carrier-lock that holds the lock for it.

def test_sigkilled_run_takes_its_command_with_it_before_the_ttl_hands_over(cluster, tmp_path):
    lock = Lock(cluster)
    tick = tmp_path / "tick"
    holder, cmd = start_run(lock, f'while :; do date +%s%N >> "{tick}"; sleep 0.05; done',
                            tmp_path, extra=("--ttl", "2s"))
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    wait_for(lambda: not alive(cmd), timeout=5, what="the command to die with run")
    # The next holder enters only after the ttl, when the old command is long gone.
    r = subprocess.run([BIN, *lock.args("run", "--ttl", "2s"), "--", "sh", "-c",
                        "date +%s%N"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    entered = int(r.stdout.strip())
    last_tick = int(tick.read_text().split()[-1])
    assert last_tick < entered, "the old command ran on after the next holder entered"


def test_sigkilled_run_without_ttl_leaves_nothing_running_for_cleanup(cluster, tmp_path):
    lock = Lock(cluster)
    holder, cmd = start_run(lock, "sleep 60", tmp_path)
    rec = wait_for(lambda: lock.query().get("cmd-pid"), what="the record to name the command")
    assert rec == str(cmd)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    wait_for(lambda: not alive(cmd), timeout=5, what="the command to die with run")
    r = lock.do("cleanup")
    assert r.returncode == 0 and "cleaned up" in r.stderr, r.stderr
    assert lock.query() == {}


def test_cleanup_leaves_a_lock_whose_command_still_runs(cluster):
    """A record whose run process is gone but whose command (cmd-pid) still runs: in
    use. (PR_SET_PDEATHSIG does not survive exec of a set-user-ID program.)"""
    lock = Lock(cluster)
    gone = subprocess.Popen(["true"])
    gone.wait()
    cmd = subprocess.Popen(["sleep", "60"])
    try:
        start = pathlib.Path(f"/proc/{cmd.pid}/stat").read_text()
        start = start[start.rindex(")") + 2:].split()[19]
        me = socket.gethostname()
        lock.put_holder(json.dumps({"host": me, "pid": str(gone.pid),
                                    "start-time": "2026-01-01 00:00:00.000000000 +0000 UTC",
                                    "token": 5, "cmd-pid": str(cmd.pid),
                                    "cmd-start": start}))
        r = lock.do("cleanup")
        assert r.returncode == 0 and "still runs; left alone" in r.stderr, r.stderr
        assert lock.query()["cmd-pid"] == str(cmd.pid)
    finally:
        cmd.kill()
        cmd.wait()
    r = lock.do("cleanup")
    assert r.returncode == 0 and "cleaned up" in r.stderr, r.stderr


@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM,
                                 signal.SIGPIPE])
def test_run_forwards_signals_it_used_to_die_of(cluster, tmp_path, sig):
    lock = Lock(cluster)
    got = tmp_path / "got"
    name = signal.Signals(sig).name[3:]
    holder, _ = start_run(lock, f'trap \'echo {name} > "{got}"; exit 0\' {name}; '
                          'while :; do sleep 0.05; done', tmp_path)
    holder.send_signal(sig)
    out, err = holder.communicate(timeout=30)
    assert holder.returncode == 0, err
    assert got.read_text().strip() == name
    assert lock.query() == {}, "released after the command ended"


# 2. Signals ignored on entry stay ignored (nohup).

def ignore_hup():
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_run_under_nohup_keeps_its_command_through_sighup(cluster, tmp_path):
    lock = Lock(cluster)
    flag = tmp_path / "alive"
    holder, _ = start_run(lock, f'sleep 1; touch "{flag}"', tmp_path, preexec_fn=ignore_hup)
    holder.send_signal(signal.SIGHUP)
    out, err = holder.communicate(timeout=30)
    assert holder.returncode == 0, err
    assert flag.exists(), "the command was killed by a SIGHUP that nohup ignores"
    assert lock.query() == {}


def test_waiting_acquire_under_nohup_keeps_waiting_through_sighup(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1).returncode == 0
    waiter = subprocess.Popen([BIN, *lock.args("acquire", pid=os.getpid())],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=ignore_hup)
    time.sleep(1)
    waiter.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert waiter.poll() is None, "a SIGHUP ignored on entry ended the waiter"
    assert lock.do("force-release").returncode == 0
    out, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err
    assert lock.query()["pid"] == str(os.getpid())


def test_sighup_still_ends_a_waiter_that_does_not_ignore_it(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1).returncode == 0
    waiter = subprocess.Popen([BIN, *lock.args("acquire", pid=os.getpid())],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    waiter.send_signal(signal.SIGHUP)
    waiter.communicate(timeout=30)
    assert waiter.returncode == 128 + signal.SIGHUP
    assert lock.query()["pid"] == "1", "the lock is as it was"


# 3. Closed standard descriptors.

def sh(cmd, timeout=60):
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=timeout)


def test_query_with_stdout_closed_reports_it_cannot_write(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1).returncode == 0
    args = " ".join(f"'{a}'" for a in lock.args("query"))
    r = sh(f"'{BIN}' {args} >&-")
    assert r.returncode == 1, r.stderr
    assert "cannot write the record to stdout" in r.stderr, r.stderr
    assert lock.query()["pid"] == "1"


def test_acquire_with_stderr_closed_succeeds_every_time(cluster):
    lock = Lock(cluster)
    acq = " ".join(f"'{a}'" for a in lock.args("acquire", "-v", pid=4242))
    rel = " ".join(f"'{a}'" for a in lock.args("release", "-v", pid=4242))
    for i in range(15):
        r = sh(f"'{BIN}' {acq} 2>&-")
        assert r.returncode == 0, (i, r.returncode)
        assert lock.query()["pid"] == "4242"
        r = sh(f"'{BIN}' {rel} 2>&-")
        assert r.returncode == 0, (i, r.returncode)
        assert lock.query() == {}


def test_print_token_to_a_closed_stdout_gives_the_lock_back(cluster):
    lock = Lock(cluster)
    args = " ".join(f"'{a}'" for a in lock.args("acquire", "--print-token", pid=4243))
    r = sh(f"'{BIN}' {args} >&-")
    assert r.returncode == 1, r.stderr
    assert "cannot write the fencing token" in r.stderr and "giving the lock back" in r.stderr
    assert lock.query() == {}, "exit 1 said not acquired: the lock must be free"


def test_closed_descriptors_in_an_empty_root(cluster, tmp_path):
    """No /dev/null to open in a FROM scratch image: descriptors are held all the same."""
    if os.geteuid() != 0 or BIN.endswith("asan/carrier-lock"):
        pytest.skip("needs root for chroot, and the static binary")
    root = empty_root(BIN, cluster.kubeconfig(), tmp_path)
    lock = Lock(cluster)
    base = f"chroot '{root}' /carrier-lock --kubeconfig /kubeconfig --name {lock.name}"
    r = sh(f"{base} acquire --pid 9 -v <&- 2>&-")
    assert r.returncode == 0
    r = sh(f"{base} query <&- >&- 2>&-")
    assert r.returncode == 1
    assert lock.query()["pid"] == "9"
    r = sh(f"{base} release --pid 9 <&- >&- 2>&-")
    assert r.returncode == 0
    assert lock.query() == {}


def test_run_command_sees_a_closed_stdout_as_closed(cluster, tmp_path):
    lock = Lock(cluster)
    args = " ".join(f"'{a}'" for a in lock.args("run"))
    out = tmp_path / "err"
    r = sh(f"'{BIN}' {args} -- sh -c 'echo x || echo write-failed >&2' >&- 2>'{out}'")
    assert r.returncode == 0
    assert "write-failed" in out.read_text()
    assert lock.query() == {}


# 4. Record text never reaches a log raw.

FORGED = "ci-1\ncarrier-lock: acquired lock default/x (host evil pid 1, token 9)\x1b[2J"


@pytest.mark.parametrize("action", ["acquire", "release", "force-release", "cleanup"])
def test_hostile_record_text_is_sanitised(cluster, action):
    lock = Lock(cluster)
    lock.put_holder(json.dumps({"host": FORGED, "pid": "77",
                                "start-time": "2026 \x1b]0;owned\x07 \u009b31m",
                                "token": 5}))
    extra = ("--max-wait-time", "0") if action == "acquire" else ()
    r = lock.do(action, *extra, "-v")
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr and "\u009b" not in r.stderr
    for line in r.stderr.splitlines():
        assert line.startswith("carrier-lock: "), repr(line)
        assert not line.startswith("carrier-lock: acquired"), repr(line)
    assert "ci-1?carrier-lock: acquired" in r.stderr or action == "cleanup", r.stderr


def test_query_escapes_c1_and_del_in_the_record(cluster):
    lock = Lock(cluster)
    lock.put_holder(json.dumps({"host": "h", "pid": "77", "start-time": "a\u009b\u007fb"},
                               ensure_ascii=False))
    r = lock.do("query")
    assert r.returncode == 0, r.stderr
    assert "\u009b" not in r.stdout and "\x7f" not in r.stdout, repr(r.stdout)
    assert json.loads(r.stdout)["start-time"] == "a\u009b\u007fb"


# 5. Fencing tokens strictly increase, also across a deleted ConfigMap.

def test_tokens_increase_across_a_deleted_configmap(cluster):
    lock = Lock(cluster)
    seen = []
    for round in range(3):
        for _ in range(2):
            r = lock.do("acquire", "--print-token", pid=os.getpid())
            assert r.returncode == 0, r.stderr
            seen.append(int(r.stdout))
            assert lock.do("release", pid=os.getpid()).returncode == 0
        d = cluster.kubectl("delete", "configmap", lock.name)
        assert d.returncode == 0, d.stderr
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen


def test_tokens_go_on_after_a_hand_edited_counter_is_reset(cluster):
    lock = Lock(cluster)
    r = lock.do("acquire", "--print-token", pid=os.getpid())
    first = int(r.stdout)
    assert lock.do("release", pid=os.getpid()).returncode == 0
    cm = lock.configmap()
    cm["data"] = {"fence": "garbage"}
    assert cluster.kubectl("replace", "-f", "-", input=json.dumps(cm)).returncode == 0
    r = lock.do("force-release")
    assert r.returncode == 0 and "go on from" in r.stderr, r.stderr
    r = lock.do("acquire", "--print-token", pid=os.getpid())
    assert r.returncode == 0 and int(r.stdout) > first, (r.stdout, first)


# 9. --request-timeout bounds query and cleanup as a whole.

@pytest.fixture
def black_hole(tmp_path):
    """A server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield token_kubeconfig(tmp_path / "black-hole.kubeconfig",
                           f"http://127.0.0.1:{srv.getsockname()[1]}")
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


@pytest.mark.parametrize("action", ["query", "cleanup"])
def test_request_timeout_bounds_the_whole_read_only_call(black_hole, action):
    t0 = time.monotonic()
    r = run(action, "--kubeconfig", black_hole, "--request-timeout", "1s")
    took = time.monotonic() - t0
    assert r.returncode == 1, r.stderr
    assert "timed out" in r.stderr, r.stderr
    # Six tries of 1 s with back-off took about 8 s; the bound is 1 s plus start-up.
    assert took < 3.5, took


# A resourceVersion too long to keep is refused, never cut (issue 9, item 8).

@pytest.fixture
def long_rv_server(tmp_path):
    """Answers every GET with the lock's ConfigMap, held, at a 100-digit resourceVersion."""
    import http.server

    rv = "7" * 100
    record = json.dumps({"host": "h", "pid": "1",
                         "start-time": "2026-01-01 00:00:00.000000000 +0000 UTC"})

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            cm = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "carrier-lock", "namespace": "default",
                               "resourceVersion": rv},
                  "data": {"holder": record, "fence": "1"}}
            if "fieldSelector" in self.path:
                cm = {"apiVersion": "v1", "kind": "ConfigMapList",
                      "metadata": {"resourceVersion": rv}, "items": [cm]}
            body = json.dumps(cm).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield token_kubeconfig(tmp_path / "long-rv.kubeconfig",
                           f"http://127.0.0.1:{srv.server_address[1]}")
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("action", [("query",), ("acquire", "--max-wait-time", "0")])
def test_a_resource_version_too_long_to_keep_is_refused(long_rv_server, action):
    r = run(*action, "--kubeconfig", long_rv_server, "--request-timeout", "2s")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "resourceVersion of 1 to 63 bytes" in r.stderr, r.stderr


def test_a_signal_forwarded_before_the_commands_exec_still_reaches_it(cluster):
    """SIGTERM that arrives while run starts its command: forwarded to a child that has
    not exec'd yet, it must end it (not be caught by the child's copy of run and lost)."""
    for i in range(25):
        lock = Lock(cluster)
        p = subprocess.Popen([BIN, *lock.args("run"), "--", "sleep", "60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while True:
            q = run("query", "--kubeconfig", cluster.kubeconfig(), "--name", lock.name)
            if q.stdout.strip() not in ("", "{}") or p.poll() is not None:
                break
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise AssertionError(f"try {i}: the SIGTERM was lost; run's command ran on")
        assert p.returncode == 128 + signal.SIGTERM, (i, p.returncode, err)
        assert lock.query() == {}

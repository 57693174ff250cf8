"""A misbehaving API server: what a real kube-apiserver will not do.

tests/hostile/hostile_server.py (plain http and TLS with a CA made here) plays each fault;
both the static binary and the ASan/UBSan build run query and acquire against it. Every
run must end by itself within its bound, exit 1 (3 where a stalled watch outlasts
--max-wait-time), say on stderr in one line what failed and at which server, print nothing
on stdout, and never crash or trip a sanitizer.

Timing: --request-timeout bounds each API call; failed calls are retried with jittered
backoff (README: "Transient failures ... are retried"), so a failing query may take
TRIES * timeout + the backoffs. The bound below is exactly that plus slack for a shared
2-core machine, not "timeout plus slack".

To keep the file fast, all runs start at once in a module fixture (they mostly sleep:
timeouts and backoff); each test then checks its own run.
"""
import base64
import json
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from lockutil import BIN, REPO, Lock

HOSTILE = REPO / "tests" / "hostile" / "hostile_server.py"
ASAN_BIN = REPO / "build" / "asan" / "carrier-lock"
BINARIES = {"static": BIN, "asan": str(ASAN_BIN)}

TIMEOUT_S = 2                 # --request-timeout of every run
TRIES = 6                     # first try + 5 retries, as carrier-lock makes them
BACKOFF_MAX_S = sum(1.5 * min(0.25 * 2 ** n, 10) for n in range(TRIES - 1))
SLACK_S = 20                  # shared, loaded 2-core machine; ASan is slower
FAIL_BOUND_S = TRIES * TIMEOUT_S + BACKOFF_MAX_S + SLACK_S
WAIT_S = 4                    # --max-wait-time of the stalled-watch waiter (> TIMEOUT_S)
HARD_KILL_S = 90              # a run still alive then counts as hung

SANITIZER_WORDS = ("AddressSanitizer", "runtime error", "LeakSanitizer",
                   "UndefinedBehaviorSanitizer")

# mode -> what the one error line must say (besides the server, verb and resource)
FAILURES = {
    "truncated-body": "closed before the end of the response body",
    "truncated-head": "closed in the middle of the response head",
    "garbage-status": "bad status line",
    "oversize-head": "head exceeds",
    "oversize-body": "body exceeds",
    "endless-chunk": "body exceeds",
    "silent": "timed out",
    "reset-mid-response": "reset",
    "drip": "timed out",     # slowloris proper: one byte every 0.5 s, never a full head
}
TRANSPORTS = ("http", "https")
ACTIONS = {"query": [], "acquire": ["--max-wait-time", "2s"]}


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and a server certificate for IP 127.0.0.1 that it signed."""
    d = tmp_path_factory.mktemp("hostile-pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.crt", "-subj", "/CN=hostile-test-ca", "-days", "2", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                           "keyUsage=digitalSignature,keyEncipherment\n"
                           "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext", cwd=d)
    return d


def kubeconfig(path, server, ca=None):
    ca_line = ""
    if ca is not None:
        ca_line = ("    certificate-authority-data: " +
                   base64.b64encode(pathlib.Path(ca).read_bytes()).decode() + "\n")
    path.write_text("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
                    f"    server: {server}\n{ca_line}  name: hostile\ncontexts:\n"
                    "- context:\n    cluster: hostile\n    user: nobody\n"
                    "    namespace: default\n  name: hostile\n"
                    "current-context: hostile\nusers:\n- name: nobody\n  user: {}\n")
    return str(path)


class DripServer:
    """Slowloris proper: after the request, a status line and then one byte of a header
    field every 0.5 s, for ever. Every read succeeds, so only a bound on the whole call
    (not on each read) ends it."""

    def __init__(self, tls_ctx=None):
        self.tls_ctx = tls_ctx
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(30)
            if self.tls_ctx is not None:
                conn = self.tls_ctx.wrap_socket(conn, server_side=True)
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            while not self.stop.is_set():
                conn.sendall(b"a")
                time.sleep(0.5)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()


class Servers:
    """One hostile server per (mode, transport[, exists]), started lazily, stopped at the end."""

    def __init__(self, pki, dir):
        self.pki, self.dir = pki, dir
        self.procs, self.drips, self.urls = [], [], {}

    def url(self, mode, transport, exists=False):
        key = (mode, transport, exists)
        if key in self.urls:
            return self.urls[key]
        if mode == "drip":
            ctx = None
            if transport == "https":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.pki / "server.crt", self.pki / "server.key")
            drip = DripServer(ctx)
            self.drips.append(drip)
            port = drip.port
        else:
            port_file = self.dir / f"port-{mode}-{transport}-{int(exists)}"
            cmd = [sys.executable, str(HOSTILE), "--mode", mode, "--port-file", str(port_file)]
            if transport == "https":
                cmd += ["--tls-cert", str(self.pki / "server.crt"),
                        "--tls-key", str(self.pki / "server.key")]
            if exists:
                cmd.append("--exists")
            proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
            self.procs.append(proc)
            end = time.monotonic() + 15
            while not port_file.exists():
                assert proc.poll() is None, f"hostile_server {mode} exited {proc.returncode}"
                assert time.monotonic() < end, f"hostile_server {mode} did not start"
                time.sleep(0.02)
            port = int(port_file.read_text())
        self.urls[key] = f"{transport}://127.0.0.1:{port}"
        return self.urls[key]

    def kubeconfig(self, mode, transport, exists=False):
        url = self.url(mode, transport, exists)
        path = self.dir / f"kc-{mode}-{transport}-{int(exists)}"
        ca = self.pki / "ca.crt" if transport == "https" else None
        return kubeconfig(path, url, ca), url

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for d in self.drips:
            d.close()


class Run:
    """One carrier-lock process, started now; its end time is taken by a thread."""

    def __init__(self, binary, args, hard_kill=HARD_KILL_S):
        env = dict(os.environ)
        env.pop("KUBECONFIG", None)
        self.args = args
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([binary, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.hung = False
        self.done = threading.Event()
        threading.Thread(target=self._wait, args=(hard_kill,), daemon=True).start()

    def _wait(self, hard_kill):
        try:
            self.out, self.err = self.proc.communicate(timeout=hard_kill)
        except subprocess.TimeoutExpired:
            self.hung = True
            self.proc.kill()
            self.out, self.err = self.proc.communicate()
        self.took = time.monotonic() - self.t0
        self.rc = self.proc.returncode
        self.done.set()

    def result(self):
        assert self.done.wait(HARD_KILL_S + 30), "the waiting thread never finished"
        return self


def available(binary):
    if not os.access(BINARIES[binary], os.X_OK):
        pytest.skip(f"{BINARIES[binary]} not built (./build.sh asan)")
    return BINARIES[binary]


@pytest.fixture(scope="module")
def real_lock(cluster):
    """A lock held on the real cluster while the hostile runs happen."""
    lock = Lock(cluster)
    r = lock.do("acquire", "--max-wait-time", "0", pid=4711)
    assert r.returncode == 0, r.stderr
    return lock, lock.configmap()["metadata"]["resourceVersion"]


@pytest.fixture(scope="module")
def runs(real_lock, pki, tmp_path_factory):
    """Every hostile run, all started at once; {(mode, transport, binary, action): Run}."""
    servers = Servers(pki, tmp_path_factory.mktemp("hostile"))
    started = {}
    try:
        for binary in BINARIES:
            if not os.access(BINARIES[binary], os.X_OK):
                continue
            for transport in TRANSPORTS:
                for mode in FAILURES:
                    kc, url = servers.kubeconfig(mode, transport)
                    for action, extra in ACTIONS.items():
                        started[(mode, transport, binary, action)] = (url, Run(
                            BINARIES[binary], [action, "--kubeconfig", kc, "--request-timeout",
                                               f"{TIMEOUT_S}s", *extra]))
                kc, url = servers.kubeconfig("stalled-watch", transport, exists=True)
                for action, extra in (("query", []),
                                      ("acquire", ["--max-wait-time", f"{WAIT_S}s"])):
                    started[("stalled-watch", transport, binary, action)] = (url, Run(
                        BINARIES[binary], [action, "--kubeconfig", kc, "--request-timeout",
                                           f"{TIMEOUT_S}s", *extra]))
        yield started
        for _, run in started.values():
            run.result()
    finally:
        for _, run in started.values():
            if run.proc.poll() is None:
                run.proc.kill()
        servers.close()


def no_sanitizer_report(r):
    for word in SANITIZER_WORDS:
        assert word not in r.err, f"sanitizer report:\n{r.err}"


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("binary", list(BINARIES))
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", list(FAILURES))
def test_hostile_server_fails_cleanly(runs, mode, transport, binary, action):
    available(binary)
    url, run = runs[(mode, transport, binary, action)]
    r = run.result()
    assert not r.hung, f"still running after {HARD_KILL_S}s:\n{r.err[-2000:]}"
    assert r.rc >= 0, f"killed by signal {-r.rc}:\n{r.err[-3000:]}"
    no_sanitizer_report(r)
    assert r.rc == 1, f"exit {r.rc}:\n{r.err[-2000:]}"
    assert r.out == "", "nothing on stdout when the call failed"
    assert r.took < FAIL_BOUND_S, f"took {r.took:.1f}s (bound {FAIL_BOUND_S:.1f}s)"
    lines = r.err.splitlines()
    assert len(lines) == 1, f"one error line, not {len(lines)}:\n{r.err[-3000:]}"
    line = lines[0]
    assert line.startswith("carrier-lock: ")
    assert url in line, f"the line must name the server {url}: {line}"
    assert FAILURES[mode] in line, f"expected {FAILURES[mode]!r} in: {line}"
    assert "GET" in line and "configmaps" in line, f"verb and resource: {line}"


@pytest.mark.parametrize("binary", list(BINARIES))
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stalled_watch_waiter_ends_by_its_deadline(runs, transport, binary):
    # The lock is held (by host "elsewhere"); the watch sends one event and then nothing,
    # for longer than --request-timeout and --max-wait-time. The waiter must give up at
    # its deadline (exit 3) or fail (exit 1), never hang on the silent watch.
    available(binary)
    _, run = runs[("stalled-watch", transport, binary, "acquire")]
    r = run.result()
    assert not r.hung, f"hung on a stalled watch:\n{r.err[-2000:]}"
    assert r.rc >= 0, r.err[-3000:]
    no_sanitizer_report(r)
    assert r.rc in (1, 3), f"exit {r.rc}:\n{r.err[-2000:]}"
    if r.rc == 3:
        assert r.took >= WAIT_S - 0.1, f"gave up after {r.took:.2f}s, before its deadline"
        assert "elsewhere" in r.err and "timed out" in r.err, r.err
    assert r.took < WAIT_S + SLACK_S, f"took {r.took:.1f}s for --max-wait-time {WAIT_S}s"
    assert r.out == ""


@pytest.mark.parametrize("binary", list(BINARIES))
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stalled_watch_server_answers_query(runs, transport, binary):
    # The same server answers a plain GET correctly: query prints its record, exit 0.
    available(binary)
    _, run = runs[("stalled-watch", transport, binary, "query")]
    r = run.result()
    assert r.rc == 0, r.err
    no_sanitizer_report(r)
    rec = json.loads(r.out)
    assert (rec["host"], rec["pid"]) == ("elsewhere", "1")


@pytest.mark.parametrize("binary", ["static", "asan"])
def test_endless_conflicts_end_by_the_deadline(pki, tmp_path, binary):
    # stalled-watch without --exists: GET says 404, every POST/PUT says 409 Conflict.
    # acquire --max-wait-time 2s must stop by its deadline (exit 3 or 1), and back off.
    servers = Servers(pki, tmp_path)
    try:
        kc, url = servers.kubeconfig("stalled-watch", "http")
        run = Run(available(binary), ["acquire", "-v", "--kubeconfig", kc,
                                      "--request-timeout", f"{TIMEOUT_S}s",
                                      "--max-wait-time", "2s"], hard_kill=15).result()
    finally:
        servers.close()
    assert run.rc >= 0 and not run.hung, f"still looping after 15s ({run.took:.1f}s)"
    assert run.rc in (1, 3)
    posts = run.err.count("POST ")
    assert posts < 200, f"{posts} creates in {run.took:.1f}s: no backoff"


def test_real_cluster_lock_untouched_by_hostile_runs(real_lock, runs):
    lock, rv = real_lock
    for _, run in runs.values():
        run.result()
    assert lock.configmap()["metadata"]["resourceVersion"] == rv
    assert lock.query()["pid"] == "4711"
    assert lock.do("release", pid=4711).returncode == 0

"""Real-server faults against a real kube-apiserver: taken away at start, restarted during a
wait, stopped during acquire and release; 409 races; refused certificates; RBAC.

The API server is stopped and restarted here, so this module runs on a cluster of its own
(up.sh in a module fixture), never the session's shared one.
"""
import base64
import json
import os
import re
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import cluster_down, cluster_up
from lockutil import BIN, Lock, run, wait_for


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    dir = tempfile.mkdtemp(prefix="carrier-lock-faults.")
    os.rmdir(dir)  # up.sh wants DIR empty or absent
    c = cluster_up(dir)
    try:
        yield c
    finally:
        cluster_down(dir)


def script(cluster, name, timeout=60):
    # kube-apiserver waits out open watches on SIGTERM: 5 s, not up.sh's 15, then SIGKILL.
    env = dict(os.environ, CLUSTER_STOP_GRACE="5")
    r = subprocess.run([str(cluster.dir / name)], capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert r.returncode == 0, f"{name}: {r.stdout}{r.stderr}"


@pytest.fixture
def server_down(own):
    """Stops the API server for the test; starts it again afterwards, whatever happened."""
    script(own, "stop-apiserver.sh")
    try:
        yield own
    finally:
        script(own, "start-apiserver.sh", timeout=120)


def assert_consistent(lock, owners):
    """The lock is free or held by one of owners (pids): never a half-written state."""
    cm = lock.configmap()
    if cm is None:
        return None
    data = cm.get("data") or {}
    assert set(data) <= {"holder", "fence"}, data
    assert re.fullmatch(r"\d+", data.get("fence", "")), f"fence: {data}"
    q = lock.query()
    if "holder" not in data:
        assert q == {}, q
        return None
    assert json.loads(data["holder"]) == q
    assert q["pid"] in owners, q
    assert q["token"] <= int(data["fence"]), data
    return q


def test_unreachable_at_start_exits_1_naming_the_server(server_down):
    c = server_down
    t0 = time.monotonic()
    r = Lock(c).do("query", timeout=120)
    took = time.monotonic() - t0
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    assert took < 35, f"took {took:.1f}s to give up"
    assert took > 1, f"gave up after {took:.2f}s: no retries for a refused connection?"
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert c.server in lines[0] and "refused" in lines[0].lower(), lines[0]


REQUEST_LINE = re.compile(r"^carrier-lock: (GET|PUT|POST|DELETE|PATCH) https?://", re.M)


@pytest.fixture(scope="module")
def restart_during_wait(own):
    """Holder holds, a waiter (-v, --max-wait-time 2m) waits, the API server restarts, the
    lock stays held 3 s more, then is released. Returns what the waiter did."""
    lock = Lock(own)
    assert lock.do("acquire", pid=41).returncode == 0
    waiter = subprocess.Popen([BIN, *lock.args("acquire", "-v", "--max-wait-time", "2m",
                                               pid=42)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    res = {"lock": lock}
    try:
        time.sleep(1.5)
        res["waiting_before"] = waiter.poll() is None
        script(own, "restart-apiserver.sh", timeout=120)
        time.sleep(3.0)
        res["waiting_after"] = waiter.poll() is None
        res["holder_after_restart"] = lock.query().get("pid")
        assert lock.do("release", pid=41).returncode == 0
        t0 = time.monotonic()
        _, res["err"] = waiter.communicate(timeout=60)
        res["woke_after"] = time.monotonic() - t0
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    res["rc"] = waiter.returncode
    res["holder_at_end"] = lock.query().get("pid")
    return res


def test_restart_during_wait_waiter_still_gets_the_lock(restart_during_wait):
    r = restart_during_wait
    assert r["waiting_before"], "the waiter must wait while the lock is held"
    assert r["waiting_after"], "a restarted API server is no reason to give up:\n" + r["err"]
    assert r["holder_after_restart"] == "41", "the restart changed nothing in the lock"
    assert r["rc"] == 0, r["err"][-3000:]
    assert r["woke_after"] < 15, f"the waiter took {r['woke_after']:.1f}s after the release"
    assert r["holder_at_end"] == "42"
    assert r["lock"].do("release", pid=42).returncode == 0


def test_restart_during_wait_does_not_hammer_the_server(restart_during_wait):
    # About 4.5 s of waiting across the restart: a few reconnects with backoff, not a loop.
    requests = len(REQUEST_LINE.findall(restart_during_wait["err"]))
    assert requests < 30, f"{requests} requests while waiting across a restart"


def test_a_waiter_on_a_lock_older_than_the_watch_window_watches_once(own):
    # A lock held for hours on a busy cluster: its resourceVersion is older than what the
    # API server's watch cache keeps (here: a restart, after which the cache starts at
    # the current revision). A watch from the GET's version would be answered 410, then
    # need a list and a second watch (a second TLS handshake); the waiter asks for the
    # lock's state first instead, and opens one watch in all.
    lock = Lock(own)
    assert lock.do("acquire", pid=61).returncode == 0
    script(own, "restart-apiserver.sh", timeout=120)
    waiter = subprocess.Popen([BIN, *lock.args("acquire", "-v", "--max-wait-time", "60s",
                                               pid=62)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def queued():
            r = own.kubectl("get", "leases", "-n", lock.namespace, "-o", "name",
                            "-l", f"carrier-lock.io/lock={lock.name}")
            return r.returncode == 0 and r.stdout.strip()
        wait_for(queued, what="the waiter's place in the queue")
        time.sleep(1.0)  # its watch is open
        assert lock.do("release", pid=61).returncode == 0
        _, err = waiter.communicate(timeout=60)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    assert waiter.returncode == 0, err[-3000:]
    assert lock.query().get("pid") == "62"
    watches = re.findall(r"^carrier-lock: GET \S+watch=1\S*: (\d+)", err, re.M)
    assert watches == ["200"], err
    assert "event ERROR" not in err, err
    lists = re.findall(r"^carrier-lock: GET \S+/configmaps\?fieldSelector=", err, re.M)
    assert lists == [], err
    assert lock.do("release", pid=62).returncode == 0


def test_stopped_during_acquire_and_release_then_started(own):
    # Owners cycle acquire/release on one lock while the API server stops and starts.
    # Every call completes (0) or fails cleanly (1); the lock stays free or held by an
    # owner whose record is whole; fencing tokens never go backwards.
    lock = Lock(own)
    results, tokens, stop = [], [], threading.Event()

    def cycle(pid):
        while not stop.is_set():
            a = lock.do("acquire", "--print-token", "--max-wait-time", "20s",
                        "--request-timeout", "5s", pid=pid, timeout=120)
            results.append(("acquire", pid, a.returncode, a.stderr))
            if a.returncode == 0:
                tokens.append(int(a.stdout))
            r = lock.do("release", "--request-timeout", "5s", pid=pid, timeout=120)
            results.append(("release", pid, r.returncode, r.stderr))

    threads = [threading.Thread(target=cycle, args=(pid,)) for pid in (51, 52)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        script(own, "stop-apiserver.sh")
        time.sleep(1.0)
        down = len(results)
        script(own, "start-apiserver.sh", timeout=120)
        time.sleep(2.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a carrier-lock call never ended"
    assert down > 0 and len(results) > down, "no calls before or after the outage"
    for action, pid, rc, err in results:
        assert rc in (0, 1, 3, 4) and rc >= 0, (action, pid, rc, err)
        if rc == 1:
            # A call that retried through an outage says each distinct failure once, as it
            # happened (closed, then refused, ...): every line names the server, and none
            # is the one before it said again.
            lines = err.splitlines()
            assert lines and all(own.server in l for l in lines), err
            assert all(a != b for a, b in zip(lines, lines[1:])), err
        assert "Sanitizer" not in err and "runtime error" not in err, err
    assert all(a <= b for a, b in zip(tokens, tokens[1:])), f"tokens went backwards: {tokens}"
    assert_consistent(lock, {"51", "52"})
    for pid in (51, 52):
        assert lock.do("release", pid=pid).returncode in (0, 4)
    assert lock.query() == {}
    # Whatever happened, the fence still grows: the next acquisition is past every token.
    r = lock.do("acquire", "--print-token", pid=53)
    assert r.returncode == 0 and int(r.stdout) > max(tokens, default=0), (r.stdout, tokens)


def test_acquire_and_release_issued_while_down_settle_after_start(own):
    held, free = Lock(own), Lock(own)
    assert held.do("acquire", pid=61).returncode == 0
    assert free.do("query").stdout == "{}\n"
    script(own, "stop-apiserver.sh")
    try:
        acq = subprocess.Popen([BIN, *free.args("acquire", "--max-wait-time", "60s", pid=62)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        rel = subprocess.Popen([BIN, *held.args("release", pid=61)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
    finally:
        script(own, "start-apiserver.sh", timeout=120)
    _, aerr = acq.communicate(timeout=90)
    _, rerr = rel.communicate(timeout=90)
    # acquire may still wait: it retries as long as --max-wait-time allows, so it gets it.
    assert acq.returncode == 0, aerr
    assert free.query()["pid"] == "62"
    # release retries a few times only: it completes, or fails cleanly leaving the lock held.
    assert rel.returncode in (0, 1), rerr
    after = assert_consistent(held, {"61"})
    if rel.returncode == 0:
        assert after is None, "release said 0 but the lock is still held"
    else:
        assert own.server in rerr, rerr
        assert held.do("release", pid=61).returncode == 0
    assert held.query() == {}


def gate(fifo):
    """Opens fifo for writing: every process blocked opening it for reading goes at once."""
    fd = os.open(fifo, os.O_WRONLY)
    os.close(fd)


@pytest.mark.parametrize("start", ["absent", "released"])
def test_409_race_ten_clients_exactly_one_wins(own, tmp_path, start):
    lock = Lock(own)
    if start == "released":
        assert lock.do("acquire", pid=70).returncode == 0
        assert lock.do("release", pid=70).returncode == 0
        assert lock.configmap() is not None
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    procs = []
    for i in range(10):
        args = lock.args("acquire", "--max-wait-time", "0", pid=7100 + i)
        procs.append(subprocess.Popen(["sh", "-c", ': < "$0"; exec "$@"', str(fifo), BIN,
                                       *args], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    time.sleep(1.0)  # all ten block in open(fifo) by now
    t0 = time.monotonic()
    gate(fifo)
    out = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # one was late to the gate: open it again
            gate(fifo)
            _, err = p.communicate(timeout=30)
        out.append((p.returncode, err))
    took = time.monotonic() - t0
    codes = sorted(rc for rc, _ in out)
    assert codes == [0] + [3] * 9, out
    assert took < 20, f"ten immediate acquires took {took:.1f}s"
    winner = [i for i, (rc, _) in enumerate(out) if rc == 0][0]
    assert lock.query()["pid"] == str(7100 + winner)
    for rc, err in out:
        if rc == 3:
            assert f"pid {7100 + winner}" in err, err


# --- refused credentials ------------------------------------------------------------------

CA_CONF = """[ ca ]
default_ca = c
[ c ]
database = {d}/index.txt
serial = {d}/serial
new_certs_dir = {d}
certificate = {pki}/ca.crt
private_key = {pki}/ca.key
default_md = sha256
policy = p
unique_subject = no
x509_extensions = ext
[ p ]
commonName = supplied
organizationName = optional
[ ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
"""


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def with_client_cert(cluster, path, crt, key):
    """admin.kubeconfig with another client certificate and key (the cluster CA kept)."""
    kc = open(cluster.kubeconfig("admin")).read()
    b64 = lambda p: base64.b64encode(open(p, "rb").read()).decode()
    kc = re.sub(r"client-certificate-data: \S+", "client-certificate-data: " + b64(crt), kc)
    kc = re.sub(r"client-key-data: \S+", "client-key-data: " + b64(key), kc)
    path.write_text(kc)
    return str(path)


@pytest.fixture(scope="module")
def certs(own, tmp_path_factory):
    """Client certificates the server must refuse: {name: kubeconfig path}."""
    d = tmp_path_factory.mktemp("client-certs")
    (d / "index.txt").write_text("")
    (d / "serial").write_text("1000\n")
    (d / "ca.cnf").write_text(CA_CONF.format(d=d, pki=own.dir / "pki"))
    out = {}
    # Signed by the cluster's own CA, outside their validity (OpenSSL 3.0's x509 -req has
    # no -not_before/-not_after; `openssl ca` takes -startdate/-enddate).
    for name, start, end in (("expired", "20200101000000Z", "20200102000000Z"),
                             ("not-yet-valid", "20990101000000Z", "20991231000000Z")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", "-subj", f"/O=system:masters/CN={name}-admin", cwd=d)
        openssl("ca", "-batch", "-notext", "-config", "ca.cnf", "-in", f"{name}.csr",
                "-out", f"{name}.crt", "-startdate", start, "-enddate", end, cwd=d)
        dates = openssl("x509", "-in", f"{name}.crt", "-noout", "-dates", cwd=d)
        assert (start[:4] in dates), dates
        out[name] = with_client_cert(own, d / f"{name}.kubeconfig", d / f"{name}.crt",
                                     d / f"{name}.key")
    # Valid, but from a CA the server does not know (claiming system:masters all the same).
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key",
            "-out", "other-ca.crt", "-subj", "/CN=other-ca", "-days", "2", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "intruder.key",
            "-out", "intruder.csr", "-subj", "/O=system:masters/CN=intruder", cwd=d)
    (d / "cext").write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", "intruder.csr", "-CA", "other-ca.crt",
            "-CAkey", "other-ca.key", "-CAcreateserial", "-out", "intruder.crt",
            "-days", "2", "-extfile", "cext", cwd=d)
    out["other-ca"] = with_client_cert(own, d / "intruder.kubeconfig", d / "intruder.crt",
                                       d / "intruder.key")
    # A kubeconfig whose CA is not the server's.
    kc = open(own.kubeconfig("admin")).read()
    wrong = base64.b64encode(open(d / "other-ca.crt", "rb").read()).decode()
    path = d / "wrong-ca.kubeconfig"
    path.write_text(re.sub(r"certificate-authority-data: \S+",
                           "certificate-authority-data: " + wrong, kc))
    out["wrong-ca"] = str(path)
    return out


TLS_ALERT = re.compile(r"BR_ALERT_\w+|alert|BR_ERR_\w+")


@pytest.mark.parametrize("which", ["other-ca", "expired", "not-yet-valid"])
def test_refused_client_certificate(own, certs, which):
    name = Lock(own).name
    before = own.kubectl("get", "configmap", name, "--ignore-not-found", "-o", "name")
    r = run("acquire", "--kubeconfig", certs[which], "--name", name, "--max-wait-time", "0")
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    first = r.stderr.splitlines()[0]
    assert own.server in first, first
    assert "401 Unauthorized" in first or TLS_ALERT.search(first), first
    assert len(r.stderr.splitlines()) <= 2, r.stderr
    after = own.kubectl("get", "configmap", name, "--ignore-not-found", "-o", "name")
    assert before.stdout == after.stdout == "", "a refused user created nothing"


def test_refused_client_certificate_is_one_line(own, certs):
    r = run("query", "--kubeconfig", certs["other-ca"])
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) == 1, r.stderr


def test_wrong_ca_is_refused_naming_the_server(own, certs):
    r = run("query", "--kubeconfig", certs["wrong-ca"])
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert own.server in lines[0] and "BR_ERR_X509" in lines[0], lines[0]


@pytest.mark.parametrize("action", ["query", "acquire", "release", "force-release", "cleanup"])
def test_403_names_verb_resource_and_namespace_in_one_line(own, action):
    lock = Lock(own, kubeconfig="limited")
    extra = ["--max-wait-time", "0"] if action == "acquire" else []
    r = lock.do(action, "-n", "default", *extra)
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert "403" in line and own.server in line, line
    assert re.search(r"\b(get|list) configmaps/" + re.escape(lock.name) + r" in namespace default\b",
                     line), line


def test_run_holder_rides_out_an_api_server_restart_quietly(own):
    """A `run` holder with a ttl longer than the outage keeps the lock across a restart,
    re-watches without a 410 loop, and releases at the end with its command's status."""
    lock = Lock(own)
    holder = subprocess.Popen([BIN, *lock.args("run", "-v", "--ttl", "30s"), "--",
                               "sleep", "12"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        script(own, "restart-apiserver.sh", timeout=120)
        _, err = holder.communicate(timeout=90)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert holder.returncode == 0, err
    requests = len(REQUEST_LINE.findall(err))
    assert requests <= 25, f"{requests} requests:\n{err}"
    assert lock.query() == {}

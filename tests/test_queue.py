"""The waiters' queue (issue 12): first come, first served, on the real cluster.

- 20 waiters that arrive in a known order are served in that order, with growing tokens;
- a SIGKILLed waiter is skipped: after its queue ttl (its Lease expired), or, handed the
  lock before that, once its unconfirmed grant expires;
- a waiter that times out, or is stopped by SIGTERM/SIGINT, leaves the queue at once;
- a release by a client that knows no queue (free lock, waiters queued) lets only the
  first in line take it;
- cleanup removes the places of this host's dead waiters;
- the progress line says the place in line.
"""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from lockutil import BIN, Lock, alive, wait_for

pytestmark = pytest.mark.usefixtures("cluster")

LABEL = "carrier-lock.io/lock"
re_lease_delete = re.compile(r"DELETE \S+/leases/\S+: (200|404)")


def leases(lock):
    """The lock's waiters' Leases as kubectl sees them, first in line first."""
    r = lock.cluster.kubectl("get", "leases", "-n", lock.namespace, "-l",
                             f"{LABEL}={lock.name}", "-o", "json")
    assert r.returncode == 0, r.stderr
    items = json.loads(r.stdout)["items"]
    # The place in line: the creation's revision, kept in an annotation once renewed.
    return sorted(items, key=lambda l: int(l["metadata"].get("annotations", {}).get(
        "carrier-lock.io/ticket", l["metadata"]["resourceVersion"])))


def holders(lock):
    return [l["spec"]["holderIdentity"] for l in leases(lock)]


def start_waiter(lock, tmp_path, tag, *extra, log=None, cmd=None):
    """A queued waiter: `run` (appending "TAG TOKEN" to log) or `acquire`, -v to a file;
    returns (Popen, stderr path) once it has joined the queue."""
    err = tmp_path / f"{tag}.err"
    if cmd is None:
        cmd = ["run", *lock.args("run", "-v", "--max-wait-time", "90s", *extra)[1:], "--",
               "sh", "-c", f'echo "{tag} $CARRIER_LOCK_TOKEN" >> {log}']
    with open(err, "w") as f:
        p = subprocess.Popen([BIN, *cmd], stdout=subprocess.PIPE, stderr=f, text=True,
                             start_new_session=True)
    wait_for(lambda: "joined the queue" in err.read_text() or p.poll() is not None,
             what=f"waiter {tag} to join the queue")
    assert p.poll() is None, err.read_text()
    return p, err


def served(log):
    return [l.split() for l in log.read_text().splitlines()] if log.exists() else []


def test_twenty_waiters_are_served_in_arrival_order(cluster, tmp_path):
    lock = Lock(cluster)
    log = tmp_path / "log"
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    ws = [start_waiter(lock, tmp_path, f"w{i:02d}", log=log) for i in range(20)]
    assert len(leases(lock)) == 20
    assert lock.do("release", pid=1, host="h0").returncode == 0
    for p, err in ws:
        assert p.wait(timeout=60) == 0, err.read_text()
    got = served(log)
    assert [t for t, _ in got] == [f"w{i:02d}" for i in range(20)], got
    tokens = [int(k) for _, k in got]
    assert tokens == sorted(tokens) and len(set(tokens)) == 20, tokens
    assert leases(lock) == []
    assert lock.query() == {}


def test_sigkilled_waiter_is_skipped_after_its_ttl(cluster, tmp_path):
    lock = Lock(cluster)
    log = tmp_path / "log"
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    a = start_waiter(lock, tmp_path, "a", "--queue-ttl", "2s", log=log)
    b = start_waiter(lock, tmp_path, "b", "--queue-ttl", "2s", log=log)
    c = start_waiter(lock, tmp_path, "c", "--queue-ttl", "2s", log=log)
    os.killpg(b[0].pid, signal.SIGKILL)
    b[0].wait()
    # b's place is not renewed: it expires by the server's clock (2 s + 2 s of rounding),
    # while a and c renew theirs every second.
    time.sleep(6)
    assert lock.do("release", pid=1, host="h0").returncode == 0
    for p, err in (a, c):
        assert p.wait(timeout=30) == 0, err.read_text()
    assert [t for t, _ in served(log)] == ["a", "c"], served(log)
    assert leases(lock) == [], "b's expired Lease is removed by the release that skipped it"


def test_sigkilled_waiter_handed_the_lock_is_skipped_when_its_grant_expires(cluster,
                                                                            tmp_path):
    lock = Lock(cluster)
    log = tmp_path / "log"
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    b = start_waiter(lock, tmp_path, "b", log=log)
    c = start_waiter(lock, tmp_path, "c", log=log)
    os.killpg(b[0].pid, signal.SIGKILL)
    b[0].wait()
    # b's place is still live (15 minutes): the release hands b the lock.
    t0 = time.monotonic()
    assert lock.do("release", pid=1, host="h0").returncode == 0
    rec = lock.query()
    assert rec["pid"] == str(b[0].pid) and rec["ttl"] == "10s" and "queue" in rec, rec
    assert c[0].wait(timeout=60) == 0, c[1].read_text()
    took = time.monotonic() - t0
    assert [t for t, _ in served(log)] == ["c"], served(log)
    assert "expired: not taken up by the waiter it was handed to" in c[1].read_text()
    assert took >= 10, "c took over before b's grant could expire"
    assert leases(lock) == [], "b's place goes when c takes over its grant"


def test_the_release_that_hands_the_lock_on_removes_the_waiters_place(cluster, tmp_path):
    """A handoff's critical path is the grant, the watch event and the waiter's confirming
    write: the waiter's Lease is deleted by the release that handed it the lock, after
    the grant, and the waiter makes no request for it."""
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    w, err = start_waiter(lock, tmp_path, "w", cmd=lock.args(
        "acquire", "-v", "--max-wait-time", "60s", pid=2, host="h1"))
    assert len(leases(lock)) == 1
    r = lock.do("release", "-v", pid=1, host="h0")
    assert r.returncode == 0, r.stderr
    assert re_lease_delete.search(r.stderr), r.stderr
    assert leases(lock) == [], "the release removed the place it handed the lock to"
    assert w.wait(timeout=30) == 0, err.read_text()
    assert not re_lease_delete.search(err.read_text()), err.read_text()
    assert lock.query()["pid"] == "2"
    assert lock.do("release", pid=2, host="h1").returncode == 0


def test_waiters_with_owner_keys_started_by_one_process_are_handed_the_lock(cluster,
                                                                            tmp_path):
    """Waiters that share the process that started them (a CI runner's, or one script
    starting several) but have owner keys of their own are different holders: each
    release hands the lock on, in order, and never takes a waiter for the holder."""
    lock = Lock(cluster)
    assert lock.do("acquire", "--owner", "job-0").returncode == 0
    ws = [start_waiter(lock, tmp_path, f"job-{i}", cmd=lock.args(
        "acquire", "-v", "--owner", f"job-{i}", "--max-wait-time", "60s")) for i in (1, 2)]
    for i, (w, err) in enumerate(ws):
        r = lock.do("release", "-v", "--owner", f"job-{i}")
        assert r.returncode == 0, r.stderr
        assert "handed to" in r.stderr, r.stderr
        assert w.wait(timeout=30) == 0, err.read_text()
        assert lock.query()["owner"] == f"job-{i + 1}"
    assert lock.do("release", "--owner", "job-2").returncode == 0
    assert leases(lock) == []


def test_a_release_never_hands_the_lock_to_the_holders_own_place(cluster):
    """A holder that came through the queue deletes its Lease after taking the lock up;
    a release reads the queue from the API server's cache, which can still show it. A
    Lease with the holder's own identity is never handed the lock: the lock is freed."""
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    holder = lock.configmap()["data"]["holder"]
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    stale = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": f"{lock.name}-stale", "namespace": lock.namespace,
                          "labels": {LABEL: lock.name},
                          "annotations": {"carrier-lock.io/lock": lock.name,
                                          "carrier-lock.io/record": holder}},
             "spec": {"holderIdentity": "h0 1", "leaseDurationSeconds": 300,
                      "renewTime": now}}
    r = cluster.kubectl("create", "-f", "-", input=json.dumps(stale))
    assert r.returncode == 0, r.stderr
    assert len(leases(lock)) == 1
    assert lock.do("release", pid=1, host="h0").returncode == 0
    assert lock.query() == {}, "handed to the holder's own, stale, place in line"


@pytest.mark.parametrize("how", ["timeout", signal.SIGTERM, signal.SIGINT],
                         ids=["timeout", "SIGTERM", "SIGINT"])
def test_a_waiter_that_gives_up_leaves_the_queue_at_once(cluster, tmp_path, how):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    wait = "2s" if how == "timeout" else "60s"
    p, err = start_waiter(lock, tmp_path, "w", cmd=lock.args(
        "acquire", "-v", "--max-wait-time", wait, pid=2))
    other, _ = start_waiter(lock, tmp_path, "o", cmd=lock.args(
        "acquire", "-v", "--max-wait-time", "60s", pid=3))
    assert holders(lock) == [f"{os.uname().nodename} 2", f"{os.uname().nodename} 3"]
    if how != "timeout":
        p.send_signal(how)
    code = p.wait(timeout=30)
    assert code == (3 if how == "timeout" else 128 + how), err.read_text()
    # Gone as the waiter exits, not after a ttl.
    assert holders(lock) == [f"{os.uname().nodename} 3"], err.read_text()
    assert lock.do("release", pid=1, host="h0").returncode == 0
    assert other.wait(timeout=30) == 0
    assert lock.query()["pid"] == "3"
    assert lock.do("release", pid=3).returncode == 0


def test_a_release_that_knows_no_queue_lets_only_the_first_take_it(cluster, tmp_path):
    """An older carrier-lock (or the original tool) frees the lock without handing it on:
    the waiters see it free, and only the first in line takes it."""
    lock = Lock(cluster)
    log = tmp_path / "log"
    lock.put_holder('{"host":"old-client","pid":"77","start-time":"2021-11-11 11:35:06.5 '
                    '+0000 UTC"}', fence="40")
    ws = [start_waiter(lock, tmp_path, f"w{i}", log=log) for i in range(3)]
    cm = lock.configmap()
    cm["data"].pop("holder")
    r = cluster.kubectl("replace", "-f", "-", input=json.dumps(cm))
    assert r.returncode == 0, r.stderr
    for p, err in ws:
        assert p.wait(timeout=60) == 0, err.read_text()
    assert [t for t, _ in served(log)] == ["w0", "w1", "w2"], served(log)
    assert [int(k) for _, k in served(log)] == [41, 42, 43]


def test_cleanup_removes_the_places_of_dead_waiters_of_this_host(cluster, tmp_path):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert not alive(dead.pid)
    # A waiter that says it is a process that is gone (--pid), beside a live one.
    p, err = start_waiter(lock, tmp_path, "d", cmd=lock.args(
        "acquire", "-v", "--max-wait-time", "60s", pid=dead.pid))
    q, _ = start_waiter(lock, tmp_path, "l", cmd=lock.args(
        "acquire", "-v", "--max-wait-time", "60s", pid=os.getpid()))
    other = lock.do("cleanup", pid=2, host="another-host")
    assert other.returncode == 0 and len(leases(lock)) == 2, other.stderr
    r = lock.do("cleanup", pid=2)
    assert r.returncode == 0, r.stderr
    assert f"removed the place in its queue of pid {dead.pid}" in r.stderr, r.stderr
    assert holders(lock) == [f"{os.uname().nodename} {os.getpid()}"]
    for w in (p, q):
        w.send_signal(signal.SIGTERM)
        w.wait(timeout=30)
    assert leases(lock) == []


def test_progress_line_gives_the_place_in_line(cluster, tmp_path):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    ws = [start_waiter(lock, tmp_path, f"w{i}", cmd=lock.args(
        "acquire", "-v", "--max-wait-time", "2m", pid=10 + i)) for i in range(3)]
    time.sleep(31)
    for p, _ in ws:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    lines = [[l for l in err.read_text().splitlines() if "in line" in l] for _, err in ws]
    for i, said in enumerate(lines):
        assert len(said) == 2, said
        assert "in line, waiting" in said[0] and "of 2m0s" in said[0], said[0]
        nth = ["1st", "2nd", "3rd"][i]
        assert f"; {nth} in line, waiting 3" in said[1] and "of 2m0s" in said[1], said[1]


def list_lines(lock, *extra, kubeconfig=None):
    r = lock.do("list", *extra) if kubeconfig is None else \
        lock.do("list", "--kubeconfig", lock.cluster.kubeconfig(kubeconfig), *extra)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.splitlines()]


def test_list_agrees_with_kubectl(cluster, tmp_path):
    lock = Lock(cluster)
    free = Lock(cluster)
    other = Lock(cluster, namespace="locks")
    assert lock.do("acquire", "--ttl", "1m", "--reason", "nightly perf", pid=1,
                   host="h0").returncode == 0
    assert free.do("acquire", pid=1, host="h0").returncode == 0
    assert free.do("release", pid=1, host="h0").returncode == 0
    assert other.do("acquire", "-n", "locks", pid=1, host="h0").returncode == 0
    ws = [start_waiter(lock, tmp_path, f"w{i}", cmd=lock.args(
        "acquire", "-v", "--max-wait-time", "60s", "--reason", f"job {i}", pid=10 + i))
        for i in range(2)]
    mine = {l["name"]: l for l in list_lines(lock)}
    cm = lock.configmap()
    assert mine[lock.name]["holder"] == json.loads(cm["data"]["holder"])
    assert mine[lock.name]["holder"]["reason"] == "nightly perf"
    assert mine[lock.name]["holder"]["ttl"] == "1m0s"
    assert "held-for" in mine[lock.name]
    got = [(q["position"], q["host"], q["pid"], q["lease"], q.get("reason"))
           for q in mine[lock.name]["queue"]]
    want = [(i + 1, *l["spec"]["holderIdentity"].split(), l["metadata"]["name"], f"job {i}")
            for i, l in enumerate(leases(lock))]
    assert got == want, (got, want)
    assert mine[free.name]["holder"] is None and mine[free.name]["queue"] == []
    assert other.name not in mine, "list shows only its namespace"
    everywhere = {(l["namespace"], l["name"]) for l in list_lines(lock, "-A")}
    assert {("default", lock.name), ("default", free.name), ("locks", other.name)} <= \
        everywhere
    # Every lock kubectl shows is listed (kube-root-ca.crt and the like are not locks).
    r = cluster.kubectl("get", "configmaps", "-n", "default", "-o", "json")
    names = {c["metadata"]["name"] for c in json.loads(r.stdout)["items"]
             if {"holder", "fence"} & set(c.get("data", {}))}
    assert set(mine) == names
    for p, _ in ws:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    assert other.do("release", "-n", "locks", pid=1, host="h0").returncode == 0


def test_list_on_a_terminal_is_a_sanitised_table(cluster):
    import pty
    lock = Lock(cluster)
    lock.put_holder('{"host":"h\\u001b[31m","pid":"5","start-time":"2021-11-11 11:35:06.5 '
                    '+0000 UTC","token":9,"reason":"evil\\u009b2J"}', fence="9")
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, *lock.args("list")], stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=30)
    os.close(master)
    assert p.returncode == 0, p.stderr.read()
    text = out.decode()
    assert "\x1b" not in text and "\u009b" not in text, repr(text)
    lines = text.splitlines()
    assert lines[0].split() == ["NAME", "HOLDER", "HELD", "TOKEN", "TTL", "REASON"]
    row = next(l for l in lines if l.startswith(lock.name))
    assert "h?[31m pid 5" in row and "evil?" in row and "2J" in row, row
    # Aligned: every row's HOLDER column starts where the header's does.
    col = lines[0].index("HOLDER")
    assert row[col:].startswith("h?[31m"), row


def test_list_needs_only_the_role_in_its_namespace(cluster):
    lock = Lock(cluster, kubeconfig="limited")
    assert lock.do("acquire", pid=1, host="h0").returncode == 0
    names = [l["name"] for l in list_lines(lock, kubeconfig="limited")]
    assert lock.name in names
    r = lock.do("list", "-A")
    assert r.returncode == 1 and "403" in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert lock.do("release", pid=1, host="h0").returncode == 0


OLD_BIN = os.environ.get("CARRIER_LOCK_OLD_BIN")


@pytest.mark.skipif(not OLD_BIN, reason="CARRIER_LOCK_OLD_BIN names no carrier-lock from "
                    "before the queue")
def test_old_and_new_clients_still_exclude_each_other(cluster, tmp_path):
    """carrier-lock from before the queue races with queued waiters: they never overlap
    and tokens still grow (old clients get no fairness: not checked)."""
    import threading
    lock = Lock(cluster)
    log = tmp_path / "log"
    log.touch()
    body = ('echo "enter $CARRIER_LOCK_TOKEN" >> "$LOG"; sleep 0.02; '
            'echo "leave $CARRIER_LOCK_TOKEN" >> "$LOG"')
    env = dict(os.environ, LOG=str(log))
    env.pop("KUBECONFIG", None)
    errors = []

    def client(binary):
        for _ in range(6):
            r = subprocess.run([binary, *lock.args("run", "--max-wait-time", "2m"), "--",
                                "sh", "-c", body], capture_output=True, text=True, env=env)
            if r.returncode != 0:
                errors.append((binary, r.returncode, r.stderr[-400:]))

    ts = [threading.Thread(target=client, args=(OLD_BIN if i % 2 else BIN,))
          for i in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=300)
    assert not errors, errors[:2]
    inside, last, enters = None, 0, 0
    for line in log.read_text().splitlines():
        what, token = line.split()
        if what == "enter":
            assert inside is None, f"token {token} entered while {inside} was inside"
            assert int(token) > last, f"token {token} after {last}"
            inside, last, enters = token, int(token), enters + 1
        else:
            assert inside == token
            inside = None
    assert enters == 60
    assert leases(lock) == []

"""`run -- CMD`, TTL leases and fencing tokens, against the real local cluster."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from lockutil import BIN, Lock, wait_for

pytestmark = pytest.mark.usefixtures("cluster")


def start_run(lock, *cmd, extra=(), **kw):
    return subprocess.Popen([BIN, *lock.args("run", *extra), "--", *cmd],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)




@pytest.mark.parametrize("script,code", [
    ("exit 0", 0),
    ("exit 7", 7),
    ("kill -TERM $$", 128 + signal.SIGTERM),
    ("kill -KILL $$", 128 + signal.SIGKILL),
])
def test_run_exits_with_the_commands_status_and_releases(cluster, script, code):
    lock = Lock(cluster)
    r = subprocess.run([BIN, *lock.args("run"), "--", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == code, r.stderr
    assert lock.query() == {}, "run must release when the command ends"


def test_run_reads_nothing_between_taking_the_lock_and_starting_the_command(cluster):
    """The command starts as soon as the lock is taken: run watches from the version its
    own write gave, instead of reading the lock again with a list (which kube-apiserver
    answers only once its cache has caught up: up to 100 ms)."""
    lock = Lock(cluster)
    r = subprocess.run([BIN, *lock.args("run", "-v"), "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    took = next(i for i, l in enumerate(lines) if "acquired lock" in l)
    started = next(i for i, l in enumerate(lines) if "started true as pid" in l)
    reads = [l for l in lines[took:started]
             if re.search(r": GET \S+/configmaps\?fieldSelector", l)]
    assert reads == [], reads
    assert lock.query() == {}


def test_run_missing_command_is_127_and_releases(cluster):
    lock = Lock(cluster)
    r = subprocess.run([BIN, *lock.args("run"), "--", "no-such-command-xyz"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 127 and "no-such-command-xyz" in r.stderr
    assert lock.query() == {}


def test_run_holds_the_lock_as_its_own_process_and_exports_the_token(cluster):
    lock = Lock(cluster)
    script = ('echo "$CARRIER_LOCK_NAME $CARRIER_LOCK_NAMESPACE $CARRIER_LOCK_TOKEN $PPID"; '
              f'"{BIN}" query --kubeconfig "$1" --name "$CARRIER_LOCK_NAME"')
    r = subprocess.run([BIN, *lock.args("run"), "--", "sh", "-c", script, "sh",
                        cluster.kubeconfig()], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    env_line, record = r.stdout.splitlines()
    name, ns, token, ppid = env_line.split()
    rec = json.loads(record)
    assert (name, ns) == (lock.name, "default")
    assert rec["token"] == int(token)
    assert rec["pid"] == ppid, "the owner is carrier-lock run itself, the child's parent"


def test_run_waits_like_acquire(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=11).returncode == 0
    r = subprocess.run([BIN, *lock.args("run", "--max-wait-time", "1s"), "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3
    assert lock.query()["pid"] == "11"


def test_run_forwards_signals_to_a_child_that_traps_them(cluster, tmp_path):
    lock = Lock(cluster)
    mark = tmp_path / "got"
    script = f'trap \'echo $1 > "{mark}"; exit 3\' TERM INT HUP; while :; do sleep 0.1; done'
    for sig, name in ((signal.SIGTERM, "TERM"), (signal.SIGINT, "INT"), (signal.SIGHUP, "HUP")):
        p = start_run(lock, "sh", "-c", script.replace("$1", name))
        wait_for(lambda: lock.query() != {}, what="run to take the lock")
        time.sleep(0.3)
        p.send_signal(sig)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 3, err
        assert mark.read_text().strip() == name
        assert lock.query() == {}, "released after the child ended"


def test_force_release_stops_the_holders_child(cluster, tmp_path):
    lock = Lock(cluster)
    p = start_run(lock, "sleep", "60", extra=("--kill-grace", "2s"))
    rec = wait_for(lambda: lock.query(), what="run to take the lock")
    child = int(subprocess.run(["pgrep", "-P", rec["pid"]], capture_output=True,
                               text=True).stdout.split()[0])
    t0 = time.monotonic()
    assert lock.do("force-release").returncode == 0
    _, err = p.communicate(timeout=30)
    assert p.returncode == 5, err
    assert time.monotonic() - t0 < 5
    assert "released by someone else" in err
    assert not os.path.exists(f"/proc/{child}"), "the child must be stopped"


def test_child_that_ignores_term_is_killed_after_grace(cluster):
    lock = Lock(cluster)
    p = start_run(lock, "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done",
                  extra=("--kill-grace", "1s"))
    wait_for(lambda: lock.query(), what="run to take the lock")
    time.sleep(0.3)
    t0 = time.monotonic()
    assert lock.do("force-release").returncode == 0
    _, err = p.communicate(timeout=30)
    assert p.returncode == 5 and "killing it" in err, err
    assert 0.9 < time.monotonic() - t0 < 10


def test_ttl_lock_of_a_paused_holder_is_taken_over_after_the_ttl(cluster):
    lock = Lock(cluster)
    holder = start_run(lock, "sleep", "60", extra=("--ttl", "2s", "--kill-grace", "1s"))
    wait_for(lambda: lock.query(), what="run to take the lock")
    time.sleep(2.5)
    assert lock.query().get("renewals", 0) >= 1, "run renews its lease"
    before = lock.query()
    holder.send_signal(signal.SIGSTOP)
    t0 = time.monotonic()
    r = lock.do("acquire", "--max-wait-time", "30s", pid=4321)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert "expired" in r.stderr
    assert 1.5 < took < 10, took
    after = lock.query()
    assert after["pid"] == "4321" and after["token"] > before["token"]
    holder.send_signal(signal.SIGCONT)
    _, err = holder.communicate(timeout=30)
    assert holder.returncode == 5, err
    assert lock.query()["pid"] == "4321", "the old holder must not free the new one's lock"


def test_without_ttl_a_paused_holder_keeps_the_lock(cluster):
    lock = Lock(cluster)
    holder = start_run(lock, "sleep", "60")
    wait_for(lambda: lock.query(), what="run to take the lock")
    holder.send_signal(signal.SIGSTOP)
    try:
        r = lock.do("acquire", "--max-wait-time", "3s", pid=4322)
        assert r.returncode == 3
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.send_signal(signal.SIGTERM)
        holder.communicate(timeout=30)


def test_sigkilled_run_holder_is_taken_over_after_ttl_and_cleanup_sees_it_dead(cluster):
    lock = Lock(cluster)
    holder = start_run(lock, "sleep", "60", extra=("--ttl", "2s"), start_new_session=True)
    rec = wait_for(lambda: lock.query(), what="run to take the lock")
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    r = lock.do("cleanup")
    assert r.returncode == 0 and "cleaned up" in r.stderr, r.stderr
    assert lock.query() == {}
    # Again, now taken over by a waiter after the ttl instead.
    holder = start_run(lock, "sleep", "60", extra=("--ttl", "2s"), start_new_session=True)
    wait_for(lambda: lock.query(), what="run to take the lock")
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    r = lock.do("acquire", "--max-wait-time", "30s", "--print-token", pid=77)
    assert r.returncode == 0 and int(r.stdout) > rec["token"]


def test_acquire_with_ttl_is_renewed_by_the_holder(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", "--ttl", "3s", pid=91).returncode == 0
    first = lock.configmap()["metadata"]["resourceVersion"]
    assert lock.query()["ttl"] == "3s"
    started = lock.query()["start-time"]
    assert lock.do("acquire", "--ttl", "3s", pid=91).returncode == 0
    assert lock.configmap()["metadata"]["resourceVersion"] != first
    again = lock.query()
    assert again["start-time"] == started and again["renewals"] == 1


def test_token_grows_across_1000_handoffs_and_never_repeats(cluster):
    lock = Lock(cluster)
    # Two owners alternate; each acquire prints its token. One shell loop, so the cost
    # is the binary's, not Python's.
    script = (f'for i in $(seq 500); do for p in 1 2; do '
              f'"{BIN}" acquire --kubeconfig "$1" --name "$2" --pid $p --print-token 2>/dev/null || exit 9; '
              f'"{BIN}" release --kubeconfig "$1" --name "$2" --pid $p 2>/dev/null || exit 8; '
              'done; done')
    r = subprocess.run(["sh", "-c", script, "sh", cluster.kubeconfig(), lock.name],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    tokens = [int(t) for t in r.stdout.split()]
    assert len(tokens) == 1000
    assert all(b > a for a, b in zip(tokens, tokens[1:])), "tokens must strictly grow"
    assert len(set(tokens)) == 1000
    assert lock.do("force-release").returncode == 0
    r = lock.do("acquire", "--print-token", pid=3)
    assert int(r.stdout) == tokens[-1] + 1


def test_waiters_cost_the_server_next_to_nothing(cluster):
    """Five waiters for 20 s: counted by the API server itself (apiserver_request_total)."""
    lock = Lock(cluster)
    assert lock.do("acquire", pid=5000).returncode == 0

    def counts():
        r = cluster.kubectl("get", "--raw", "/metrics")
        total = 0
        for line in r.stdout.splitlines():
            # Long requests (watches) are counted when they end; the waiters have ended.
            if line.startswith("apiserver_request_total{") and \
                    ('resource="configmaps"' in line or 'resource="leases"' in line):
                total += float(line.rsplit(" ", 1)[1])
        return total

    before = counts()
    waiters = [subprocess.Popen([BIN, *lock.args("acquire", "--max-wait-time", "20s",
                                                 pid=5001 + i)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(5)]
    for w in waiters:
        w.communicate(timeout=60)
        assert w.returncode == 3
    after = counts()
    # Each waiter: one GET, its place in the queue (a Lease created), one watch, one GET
    # at the deadline, its place deleted and one GET to see that no release handed it the
    # lock meanwhile: 6. Polling every second would be ~100 requests.
    per_waiter = (after - before) / 5
    print(f"requests per waiter over 20 s: {per_waiter:.1f}")
    assert per_waiter <= 7, per_waiter


def test_renewals_keep_labels_and_annotations(cluster):
    lock = Lock(cluster)
    holder = start_run(lock, "sleep", "60", extra=("--ttl", "2s"))
    try:
        wait_for(lambda: lock.query(), what="run to take the lock")
        assert cluster.kubectl("label", "configmap", lock.name, "team=perf").returncode == 0
        before = lock.query().get("renewals", 0)
        wait_for(lambda: lock.query().get("renewals", 0) >= before + 2, what="two renewals")
        assert lock.configmap()["metadata"].get("labels") == {"team": "perf"}
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.communicate(timeout=30)

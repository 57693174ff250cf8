"""Ownership the way CI runs steps, against the real local cluster (issue 10, items 1-3):
exec-safe and subshell-safe release, never a sibling; an owner key and a keeper that hold
the lock across steps run in shells of their own; holder details (reason, CI context).
"""
import json
import os
import signal
import subprocess
import time

import pytest

from lockutil import BIN, Lock, wait_for, alive

pytestmark = pytest.mark.usefixtures("cluster")

CI_VARS = ("BUILD_TAG", "BUILD_URL", "JOB_NAME", "BUILD_NUMBER", "JENKINS_URL",
           "GITLAB_CI", "CI_JOB_ID", "CI_JOB_URL", "CI_PROJECT_PATH",
           "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB", "GITHUB_SERVER_URL",
           "GITHUB_REPOSITORY")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in CI_VARS and k != "KUBECONFIG"}
    env.update(extra)
    return env


def bash(script, env=None, timeout=120):
    """bash -c SCRIPT with $CL the binary and $A the common flags of the lock."""
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          timeout=timeout, env=env or clean_env())


def flags(lock):
    return f"--kubeconfig '{lock.cluster.kubeconfig()}' --name {lock.name}"






# 1. Exec-safe and subshell-safe; never a sibling.

def test_release_exec_by_bash_as_its_last_command_is_the_owners(cluster):
    lock = Lock(cluster)
    # bash runs the last command of -c in its own place: release's parent is not the
    # shell that acquired, release itself is.
    r = bash(f"'{BIN}' acquire {flags(lock)} && '{BIN}' release {flags(lock)}")
    assert r.returncode == 0, r.stderr
    assert lock.query() == {}


def test_release_from_a_subshell_of_the_owner_is_the_owners(cluster):
    lock = Lock(cluster)
    r = bash(f"'{BIN}' acquire {flags(lock)}; ( ( '{BIN}' release {flags(lock)} ); true ); "
             "true")
    assert r.returncode == 0, r.stderr
    assert lock.query() == {}


def test_a_sibling_of_the_owner_is_not_the_owner(cluster):
    lock = Lock(cluster)
    r = bash(f"( '{BIN}' acquire {flags(lock)}; true ); "
             f"( '{BIN}' release {flags(lock)}; echo rc=$? ); true")
    assert "rc=4" in r.stdout, (r.stdout, r.stderr)
    assert lock.query()["host"], "the sibling's release left the lock held"


def test_an_unrelated_process_of_the_same_host_is_not_the_owner(cluster):
    lock = Lock(cluster)
    holder = subprocess.Popen(["bash", "-c", f"'{BIN}' acquire {flags(lock)}; sleep 30"],
                              env=clean_env())
    try:
        wait_for(lambda: lock.query().get("pid") == str(holder.pid), what="the holder")
        r = bash(f"'{BIN}' release {flags(lock)}")
        assert r.returncode == 4, r.stderr
        assert lock.query()["pid"] == str(holder.pid)
    finally:
        holder.kill()
        holder.wait()


def test_a_reused_pid_in_the_ancestry_is_not_the_owner(cluster):
    """Our parent's PID, but a start time from another process: not us."""
    lock = Lock(cluster)
    me = os.getpid()
    lock.put_holder(json.dumps({"host": os.uname().nodename, "pid": str(me),
                                "start-time": "2026-01-01 00:00:00.000000000 +0000 UTC",
                                "token": 5, "proc-start": "1"}))
    r = lock.do("release")
    assert r.returncode == 4, r.stderr


# 2. An owner that outlives a step: --owner and --keep.

def step(script, env):
    """One CI step: a fresh non-interactive shell of its own, as runners start them."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          capture_output=True, text=True, timeout=120, env=env)


def test_keeper_holds_the_lock_across_steps_and_the_later_release_frees_it(cluster):
    lock = Lock(cluster)
    env = clean_env(GITHUB_RUN_ID="991", GITHUB_RUN_ATTEMPT="1", GITHUB_JOB="perf",
                    GITHUB_REPOSITORY="org/repo", GITHUB_SERVER_URL="https://github.example")
    r = step(f"'{BIN}' acquire {flags(lock)} --ttl 3s --keep --reason 'nightly perf'", env)
    assert r.returncode == 0, r.stderr
    rec = lock.query()
    keeper = int(rec["pid"])
    assert rec["keeper"] is True and rec["owner"] == "github:org/repo/991/1/perf"
    assert rec["ci-url"] == "https://github.example/org/repo/actions/runs/991"
    assert rec["reason"] == "nightly perf"
    assert alive(keeper)
    # The step's shell is gone; the lease is renewed beyond its ttl, and cleanup keeps it.
    time.sleep(4.5)
    assert lock.query()["renewals"] >= 2
    r = lock.do("cleanup")
    assert r.returncode == 0 and "left alone" in r.stderr, r.stderr
    # A later step's release, in the same job, matches by the job's own key.
    r = step(f"'{BIN}' release {flags(lock)}", env)
    assert r.returncode == 0, r.stderr
    assert lock.query() == {}
    wait_for(lambda: not alive(keeper), timeout=10, what="the keeper to end")


def test_keeper_of_another_job_is_not_released_by_this_one(cluster):
    lock = Lock(cluster)
    r = step(f"'{BIN}' acquire {flags(lock)} --ttl 3s --keep --owner job-a", clean_env())
    assert r.returncode == 0, r.stderr
    keeper = int(lock.query()["pid"])
    try:
        r = step(f"'{BIN}' release {flags(lock)} --owner job-b", clean_env())
        assert r.returncode == 4, r.stderr
        r = step(f"'{BIN}' release {flags(lock)}", clean_env())
        assert r.returncode == 4 and "no owner key" in r.stderr, r.stderr
        assert lock.query()["owner"] == "job-a"
    finally:
        step(f"'{BIN}' release {flags(lock)} --owner job-a", clean_env())
    wait_for(lambda: not alive(keeper), timeout=10, what="the keeper to end")


def test_an_aborted_job_frees_the_lock_within_its_ttl(cluster):
    """The CI kills the job's processes (SIGKILL, no chance to release): the keeper dies
    with them, and the next job gets the lock once the lease runs out."""
    lock = Lock(cluster)
    r = step(f"'{BIN}' acquire {flags(lock)} --ttl 2s --keep --owner job-a", clean_env())
    assert r.returncode == 0, r.stderr
    keeper = int(lock.query()["pid"])
    os.kill(keeper, signal.SIGKILL)
    t0 = time.monotonic()
    r = step(f"'{BIN}' acquire {flags(lock)} --max-wait-time 30s --owner job-b", clean_env())
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert lock.query()["owner"] == "job-b"
    assert took < 15, took


def test_sigterm_to_the_keeper_releases_at_once(cluster):
    lock = Lock(cluster)
    r = step(f"'{BIN}' acquire {flags(lock)} --ttl 1m --keep --owner job-a", clean_env())
    assert r.returncode == 0, r.stderr
    keeper = int(lock.query()["pid"])
    os.kill(keeper, signal.SIGTERM)
    wait_for(lambda: lock.query() == {}, timeout=10, what="the keeper's release")
    wait_for(lambda: not alive(keeper), timeout=10, what="the keeper to end")


def test_cleanup_frees_a_dead_keepers_lock_and_never_a_live_one(cluster):
    lock = Lock(cluster)
    r = step(f"'{BIN}' acquire {flags(lock)} --ttl 1m --keep --owner job-a", clean_env())
    keeper = int(lock.query()["pid"])
    r = lock.do("cleanup")
    assert r.returncode == 0 and "left alone" in r.stderr, r.stderr
    os.kill(keeper, signal.SIGKILL)
    wait_for(lambda: not alive(keeper), timeout=10, what="the keeper to die")
    r = lock.do("cleanup")
    assert r.returncode == 0 and "cleaned up" in r.stderr, r.stderr


def test_owner_without_keeper_is_never_freed_by_cleanup(cluster):
    """The recorded PID is one step's shell, gone while later steps run."""
    lock = Lock(cluster)
    r = step(f"'{BIN}' acquire {flags(lock)} --owner job-a", clean_env())
    assert r.returncode == 0, r.stderr
    r = lock.do("cleanup")
    assert r.returncode == 0 and "left alone" in r.stderr, r.stderr
    assert lock.query()["owner"] == "job-a"
    r = step(f"'{BIN}' release {flags(lock)} --owner job-a", clean_env())
    assert r.returncode == 0, r.stderr


def test_keeper_lets_go_of_the_steps_output(cluster):
    """A runner waits for the step's output to close: the keeper must not hold it."""
    lock = Lock(cluster)
    p = subprocess.Popen(["bash", "-c", f"'{BIN}' acquire {flags(lock)} --ttl 1m --keep "
                          "--owner job-a"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=clean_env())
    out, err = p.communicate(timeout=30)    # returns only when every writer closed
    assert p.returncode == 0, err
    assert step(f"'{BIN}' release {flags(lock)} --owner job-a", clean_env()).returncode == 0


@pytest.mark.parametrize("args,word", [
    (["--keep"], "--keep"),
    (["--keep", "--ttl", "1m", "--pid", "5"], "--pid"),
    (["--owner", "a\tb"], "--owner"),
    (["--reason", "x" * 600], "--reason"),
])
def test_bad_keep_owner_reason_are_usage_errors(cluster, args, word):
    lock = Lock(cluster)
    r = subprocess.run([BIN, *lock.args("acquire"), *args], capture_output=True, text=True,
                       env=clean_env(), timeout=30)
    assert r.returncode == 2 and word in r.stderr, r.stderr
    assert lock.configmap() is None


def test_keep_outside_ci_without_owner_is_refused(cluster):
    lock = Lock(cluster)
    r = subprocess.run([BIN, *lock.args("acquire", "--ttl", "1m", "--keep")],
                       capture_output=True, text=True, env=clean_env(), timeout=30)
    assert r.returncode == 2 and "--owner" in r.stderr, r.stderr
    assert lock.configmap() is None


# 3. Holder details.

def test_holder_details_are_stored_and_shown_to_waiters(cluster):
    lock = Lock(cluster)
    env = clean_env(BUILD_TAG="jenkins-perf-42", BUILD_URL="https://ci.example/job/perf/42/",
                    JOB_NAME="perf", BUILD_NUMBER="42")
    r = subprocess.run([BIN, *lock.args("acquire", "--reason", "etcd soak", pid=1)],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    rec = lock.query()
    assert list(rec)[:3] == ["host", "pid", "start-time"]
    assert rec["reason"] == "etcd soak" and rec["ci-url"] == "https://ci.example/job/perf/42/"
    assert rec["ci-job"] == "perf #42"
    assert "owner" not in rec, "an owner key only when asked (--owner, --keep)"
    r = lock.do("acquire", "--max-wait-time", "0", pid=2)
    assert r.returncode == 3
    assert "reason: etcd soak" in r.stderr and "https://ci.example/job/perf/42/" in r.stderr
    r = lock.do("release", pid=1)
    assert r.returncode == 0 and "etcd soak" in r.stderr, r.stderr


def test_ci_values_with_control_characters_are_not_stored(cluster):
    lock = Lock(cluster)
    env = clean_env(BUILD_TAG="t", BUILD_URL="https://ci/\x1b[2J", JOB_NAME="j",
                    BUILD_NUMBER="1")
    r = subprocess.run([BIN, *lock.args("acquire", pid=1)], capture_output=True, text=True,
                       env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    rec = lock.query()
    assert "ci-url" not in rec and rec["ci-job"] == "j #1"


def test_old_records_without_the_new_keys_work_as_before(cluster):
    lock = Lock(cluster)
    lock.put_holder(json.dumps({"host": "stgiks-dal10-perf4-client-03", "pid": "43552",
                                "start-time": "2021-11-11 11:35:06.500703278 +0000 UTC "
                                              "m=+30.321635200"}))
    assert lock.query()["pid"] == "43552"
    r = lock.do("release", pid=43552, host="stgiks-dal10-perf4-client-03")
    assert r.returncode == 0, r.stderr
    assert lock.query() == {}


# 4. Expiry a short waiter can judge: the server's own two clocks.

def test_try_once_waiter_takes_over_a_crashed_holders_expired_lease(cluster):
    lock = Lock(cluster)
    r = lock.do("acquire", "--ttl", "2s", pid=1)      # acquire --ttl, never renewed
    assert r.returncode == 0, r.stderr
    time.sleep(4.5)                                    # ttl + the 2 s of whole seconds
    r = lock.do("acquire", "--max-wait-time", "0", "--print-token", pid=2)
    assert r.returncode == 0, r.stderr
    assert "expired" in r.stderr and lock.query()["pid"] == "2"


def test_a_waiter_shorter_than_the_ttl_takes_over_a_lease_that_ran_out_before_it_came(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", "--ttl", "3s", pid=1).returncode == 0
    time.sleep(5.5)
    # A 1 s waiter could never see the same version for the 3 s ttl by its own clock.
    r = lock.do("acquire", "--max-wait-time", "1s", pid=2)
    assert r.returncode == 0, r.stderr


def test_try_once_waiters_never_take_a_lease_that_is_being_renewed(cluster):
    lock = Lock(cluster)
    holder = subprocess.Popen([BIN, *lock.args("run", "--ttl", "2s"), "--", "sleep", "7"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: lock.query().get("pid") == str(holder.pid), what="the holder")
        t0 = time.monotonic()
        while time.monotonic() - t0 < 6:
            r = lock.do("acquire", "--max-wait-time", "0", pid=2)
            assert r.returncode == 3, r.stderr
            time.sleep(0.3)
        out, err = holder.communicate(timeout=30)
        assert holder.returncode == 0, err
    finally:
        if holder.poll() is None:
            holder.kill()


def test_a_second_keep_of_the_same_job_takes_over_and_the_first_keeper_ends(cluster):
    lock = Lock(cluster)
    r = step(f"'{BIN}' acquire {flags(lock)} --ttl 3s --keep --owner job-a", clean_env())
    assert r.returncode == 0, r.stderr
    first = int(lock.query()["pid"])
    r = step(f"'{BIN}' acquire {flags(lock)} --ttl 3s --keep --owner job-a", clean_env())
    assert r.returncode == 0, r.stderr
    second = int(lock.query()["pid"])
    assert second != first
    wait_for(lambda: not alive(first), timeout=10, what="the first keeper to end")
    time.sleep(2)
    assert lock.query()["pid"] == str(second), "only the second keeper renews"
    assert step(f"'{BIN}' release {flags(lock)} --owner job-a", clean_env()).returncode == 0
    wait_for(lambda: not alive(second), timeout=10, what="the second keeper to end")

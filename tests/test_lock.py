"""The five actions, exit codes and stored records, against the real local cluster."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from lockutil import BIN, Lock, run, unique_name

pytestmark = pytest.mark.usefixtures("cluster")

ME = os.uname().nodename


def test_query_free_lock_prints_empty_object(cluster):
    lock = Lock(cluster)
    r = lock.do("query")
    assert (r.returncode, r.stdout) == (0, "{}\n")
    assert lock.configmap() is None, "query must not create the ConfigMap"


def test_acquire_creates_record_that_kubectl_reads_back(cluster):
    lock = Lock(cluster)
    r = lock.do("acquire", "--max-wait-time", "0", pid=4242)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "", "acquire prints nothing on stdout without --print-token"
    q = lock.query()
    assert q["host"] == ME and q["pid"] == "4242"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} \+0000 UTC", q["start-time"])
    assert list(q)[:3] == ["host", "pid", "start-time"]
    cm = lock.configmap()
    assert json.loads(cm["data"]["holder"]) == q
    assert cm["data"]["fence"] == str(q["token"])


def test_original_flag_form_works(cluster):
    lock = Lock(cluster)
    kc = cluster.kubeconfig()
    base = ["--kubeconfig", kc, "--name", lock.name, "--pid", "777"]
    assert run(*base, "--max-wait-time", "120m", "--action", "acquire").returncode == 0
    assert json.loads(run(*base, "--action", "query").stdout)["pid"] == "777"
    assert run(*base, "--action", "release").returncode == 0
    assert run(*base, "--action", "query").stdout == "{}\n"
    assert run(*base, "--action", "force-release").returncode == 0
    assert run(*base, "--action", "cleanup").returncode == 0


def test_default_owner_is_the_calling_shell(cluster):
    lock = Lock(cluster)
    script = f'"{BIN}" acquire --kubeconfig "$1" --name "$2" && echo "$$"'
    r = subprocess.run(["sh", "-c", script, "sh", cluster.kubeconfig(), lock.name],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert lock.query()["pid"] == r.stdout.strip()
    # Release from the same shell works; from another PID it is refused.
    script = f'"{BIN}" release --kubeconfig "$1" --name "$2"'
    assert lock.do("release", pid=1).returncode == 4
    r = subprocess.run(["sh", "-c", script, "sh", cluster.kubeconfig(), lock.name],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 4, "a different shell is a different owner"


def test_held_lock_times_out_with_exit_3_and_is_untouched(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=100).returncode == 0
    before = lock.configmap()
    t0 = time.monotonic()
    r = lock.do("acquire", "--max-wait-time", "1500ms", pid=200)
    took = time.monotonic() - t0
    assert r.returncode == 3, r.stderr
    assert 1.4 <= took < 10, took
    assert "held by host" in r.stderr and "pid 100" in r.stderr
    after = lock.configmap()
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_release_by_other_pid_is_refused_and_untouched(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=300).returncode == 0
    before = lock.configmap()
    r = lock.do("release", pid=301)
    assert r.returncode == 4
    assert "pid 300" in r.stderr and "not released" in r.stderr
    r = lock.do("release", pid=300, host="another-host")
    assert r.returncode == 4
    assert lock.configmap()["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert lock.do("release", pid=300).returncode == 0
    assert lock.query() == {}
    r = lock.do("release", pid=300)
    assert r.returncode == 0 and "not held" in r.stderr


def test_force_release_says_whose_it_was(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=400, host="perf-client-03").returncode == 0
    r = lock.do("force-release", pid=1)
    assert r.returncode == 0
    assert "perf-client-03" in r.stderr and "pid 400" in r.stderr
    assert lock.query() == {}


def test_reacquire_by_holder_is_idempotent(cluster):
    lock = Lock(cluster)
    a = lock.do("acquire", "--print-token", pid=500)
    b = lock.do("acquire", "--print-token", "--max-wait-time", "0", pid=500)
    assert a.returncode == 0 and b.returncode == 0
    assert a.stdout == b.stdout and re.fullmatch(r"\d+\n", a.stdout)


def test_fencing_token_grows_across_release_and_force_release(cluster):
    lock = Lock(cluster)
    tokens = []
    for i in range(6):
        r = lock.do("acquire", "--print-token", pid=600 + i)
        assert r.returncode == 0, r.stderr
        tokens.append(int(r.stdout))
        assert lock.query()["token"] == tokens[-1]
        action = "release" if i % 2 == 0 else "force-release"
        assert lock.do(action, pid=600 + i).returncode == 0
    assert tokens == list(range(tokens[0], tokens[0] + 6)), tokens


def test_waiter_wakes_soon_after_release(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=700).returncode == 0
    waiter = subprocess.Popen([BIN, *lock.args("acquire", "--max-wait-time", "60s", pid=701)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert waiter.poll() is None, "the waiter must wait while the lock is held"
    t0 = time.monotonic()
    assert lock.do("release", pid=700).returncode == 0
    _, err = waiter.communicate(timeout=30)
    woke = time.monotonic() - t0
    assert waiter.returncode == 0, err
    assert woke < 1.0, f"waiter took {woke:.3f}s after the release"
    assert "is held by host" in err, "the waiter says who holds the lock"
    assert lock.query()["pid"] == "701"


def test_ctrl_c_while_waiting_leaves_nothing_behind(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=800).returncode == 0
    before = lock.configmap()
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        waiter = subprocess.Popen([BIN, *lock.args("acquire", pid=801)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)
        waiter.send_signal(sig)
        waiter.communicate(timeout=10)
        assert waiter.returncode == code
    assert lock.configmap()["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_cleanup_keeps_a_live_owner_and_frees_a_dead_one(cluster):
    lock = Lock(cluster)
    owner = subprocess.Popen(["sleep", "60"])
    try:
        assert lock.do("acquire", pid=owner.pid).returncode == 0
        r = lock.do("cleanup", pid=1)
        assert r.returncode == 0 and "left alone" in r.stderr
        assert lock.query()["pid"] == str(owner.pid)
    finally:
        owner.kill()
        owner.wait()
    r = lock.do("cleanup", pid=1)
    assert r.returncode == 0 and "cleaned up" in r.stderr, r.stderr
    assert lock.query() == {}


def test_cleanup_leaves_another_hosts_lock(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=999999, host="some-other-host").returncode == 0
    r = lock.do("cleanup")
    assert r.returncode == 0 and "not this host" in r.stderr
    assert lock.query()["host"] == "some-other-host"


def test_cleanup_frees_a_lock_whose_pid_was_reused(cluster):
    lock = Lock(cluster)
    other = subprocess.Popen(["sleep", "60"])
    try:
        # A record naming a live PID but another process start time: the PID was reused.
        lock.put_holder(json.dumps({"host": ME, "pid": str(other.pid),
                                    "start-time": "2021-11-11 11:35:06.500703278 +0000 UTC",
                                    "token": 5, "proc-start": "1"}))
        r = lock.do("cleanup")
        assert r.returncode == 0 and "reused" in r.stderr, r.stderr
        assert lock.query() == {}
    finally:
        other.kill()
        other.wait()


def test_original_tool_record_is_read(cluster):
    lock = Lock(cluster)
    original = ('{"host":"stgiks-dal10-perf4-client-03","pid":"43552",'
                '"start-time":"2021-11-11 11:35:06.500703278 +0000 UTC m=+30.321635200"}')
    lock.put_holder(original, fence="0")
    r = lock.do("query")
    assert r.returncode == 0 and json.loads(r.stdout) == json.loads(original)
    assert lock.do("release", pid=43552, host="stgiks-dal10-perf4-client-03").returncode == 0
    r = lock.do("acquire", "--print-token", pid=1)
    assert r.returncode == 0 and r.stdout == "1\n"


@pytest.mark.parametrize("holder", [
    "not json",
    '{"host":"a","pid":43552,"start-time":"t"}',
    '{"pid":"1","start-time":"t"}',
    '["a"]',
    '{"host":"a","pid":"1","start-time":"t","token":"x"}',
    "x" * 100000,
])
def test_corrupt_record_is_never_silently_overwritten(cluster, holder):
    lock = Lock(cluster)
    lock.put_holder(holder)
    before = lock.configmap()["metadata"]["resourceVersion"]
    for action in ("acquire", "release", "query", "cleanup"):
        r = lock.do(action, "--max-wait-time", "0") if action == "acquire" else lock.do(action)
        assert r.returncode == 1, (action, r.stderr)
        assert "force-release replaces it" in r.stderr
        assert r.stdout == ""
    assert lock.configmap()["metadata"]["resourceVersion"] == before
    r = lock.do("force-release")
    assert r.returncode == 0 and "corrupt" in r.stderr
    assert lock.query() == {}


@pytest.mark.parametrize("kubeconfig", ["admin", "admin-dns", "admin-files", "ec", "token",
                                        "limited"])
def test_every_kubeconfig_of_the_harness(cluster, kubeconfig):
    lock = Lock(cluster, kubeconfig=kubeconfig)
    assert lock.do("acquire", pid=900).returncode == 0
    assert lock.query()["pid"] == "900"
    assert lock.configmap()["metadata"]["namespace"] == lock.namespace
    assert lock.do("release", pid=900).returncode == 0
    assert lock.query() == {}


def test_limited_user_is_refused_outside_its_namespace(cluster):
    lock = Lock(cluster, kubeconfig="limited")
    r = lock.do("acquire", "-n", "default")
    assert r.returncode == 1
    assert "403" in r.stderr and "configmaps" in r.stderr and "default" in r.stderr
    assert r.stderr.count("\n") <= 2, r.stderr


def test_twenty_contenders_never_hold_it_together(cluster, tmp_path):
    lock = Lock(cluster)
    log = tmp_path / "log"
    script = (f'for i in 1 2 3; do "{BIN}" acquire --kubeconfig "$1" --name "$2" '
              '--max-wait-time 5m || exit 9; echo "enter $$" >> "$3"; sleep 0.05; '
              f'echo "leave $$" >> "$3"; "{BIN}" release --kubeconfig "$1" --name "$2" || exit 8; done')
    procs = [subprocess.Popen(["sh", "-c", script, "sh", cluster.kubeconfig(), lock.name,
                               str(log)], stderr=subprocess.PIPE, text=True)
             for _ in range(20)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    holder = None
    entries = 0
    for line in log.read_text().splitlines():
        what, pid = line.split()
        if what == "enter":
            assert holder is None, f"{pid} entered while {holder} held the lock"
            holder = pid
            entries += 1
        else:
            assert holder == pid
            holder = None
    assert entries == 60


def test_wrong_ca_is_refused(cluster, tmp_path):
    kc = open(cluster.kubeconfig("admin")).read()
    ca = re.search(r"certificate-authority-data: (\S+)", kc).group(1)
    other = open(cluster.kubeconfig("admin")).read()
    # The client certificate's issuer is a CA too, but not the server's: any other CA will do.
    wrong = subprocess.run(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -subj /CN=wrong-ca "
        "-days 1 2>/dev/null | base64 -w0", shell=True, capture_output=True, text=True).stdout
    path = tmp_path / "wrong-ca.kubeconfig"
    path.write_text(other.replace(ca, wrong))
    r = run("query", "--kubeconfig", str(path), "--name", unique_name())
    assert r.returncode == 1
    assert "BR_ERR_X509" in r.stderr and cluster.server in r.stderr, r.stderr


@pytest.mark.parametrize("name", ["not-localhost.example", "127.0.0.9", "::2"])
def test_wrong_server_name_is_refused(cluster, tmp_path, name):
    # The server's certificate names 127.0.0.1 and localhost only: a DNS name or an IP
    # address it does not name must be refused (BearSSL ignores IP SANs: ours checks them).
    kc = open(cluster.kubeconfig("admin")).read()
    path = tmp_path / "wrong-name.kubeconfig"
    path.write_text(kc.replace("    server: ", f"    tls-server-name: \"{name}\"\n    server: ", 1))
    r = run("query", "--kubeconfig", str(path), "--name", unique_name())
    assert r.returncode == 1
    assert "BR_ERR_X509_BAD_SERVER_NAME" in r.stderr, r.stderr


def test_right_server_name_by_dns_and_ip(cluster, tmp_path):
    kc = open(cluster.kubeconfig("admin")).read()
    for name in ("localhost", "127.0.0.1"):
        path = tmp_path / f"{name}.kubeconfig"
        path.write_text(kc.replace("    server: ", f"    tls-server-name: {name}\n    server: ", 1))
        r = run("query", "--kubeconfig", str(path), "--name", unique_name())
        assert (r.returncode, r.stdout) == (0, "{}\n"), r.stderr


@pytest.mark.parametrize("args,word", [
    (["acquir"], "acquir"),
    (["acquire", "--max-wait-time", "10parsecs"], "10parsecs"),
    (["acquire", "--max-wait-time"], "--max-wait-time"),
    (["acquire", "--bogus"], "--bogus"),
    (["--action", "grab"], "grab"),
    ([], "no action"),
    (["acquire", "--pid", "-5"], "-5"),
    (["acquire", "--name", "Bad_Name"], "Bad_Name"),
    (["acquire", "-n", "UPPER"], "UPPER"),
    (["acquire", "release"], "release"),
])
def test_usage_errors_exit_2_and_name_the_word(args, word):
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert word in r.stderr


def test_help_lists_actions_flags_and_exit_codes():
    r = run("--help")
    assert r.returncode == 0
    for word in ("acquire", "release", "force-release", "query", "cleanup", "--kubeconfig",
                 "--context", "--namespace", "--name", "--max-wait-time", "--pid", "--host",
                 "--request-timeout", "--version", "Exit codes", " 3 ", " 4 "):
        assert word in r.stdout, word
    # The full --version contract is tests/test_release.py's.
    assert re.match(r"carrier-lock \S+\n", run("--version").stdout)


def test_secrets_never_printed_even_verbose(cluster):
    kc = open(cluster.kubeconfig("token")).read()
    token = re.search(r"token: (\S+)", kc).group(1)
    lock = Lock(cluster, kubeconfig="token")
    outs = [lock.do(a, "-v", pid=1) for a in ("acquire", "query", "release")]
    for r in outs:
        assert r.returncode == 0, r.stderr
        assert token not in r.stdout + r.stderr
    assert "GET" in outs[0].stderr, "-v should show the requests"
    key = re.search(r"client-key-data: (\S+)", open(cluster.kubeconfig("admin")).read()).group(1)
    r = Lock(cluster).do("query", "-v")
    assert key[:40] not in r.stderr and "PRIVATE KEY" not in r.stderr


def test_unreachable_server_exits_1_naming_it(tmp_path):
    path = tmp_path / "down.kubeconfig"
    path.write_text("apiVersion: v1\nclusters:\n- cluster:\n    server: http://127.0.0.1:9\n"
                    "  name: c\ncontexts:\n- context:\n    cluster: c\n    user: u\n  name: x\n"
                    "current-context: x\nusers:\n- name: u\n  user: {}\n")
    r = run("query", "--kubeconfig", str(path), timeout=120)
    assert r.returncode == 1
    assert "127.0.0.1:9" in r.stderr


def test_labels_and_annotations_on_the_configmap_are_kept(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=31).returncode == 0
    assert cluster.kubectl("label", "configmap", lock.name, "team=perf").returncode == 0
    assert cluster.kubectl("annotate", "configmap", lock.name, "owner=ci").returncode == 0
    assert lock.do("release", pid=31).returncode == 0
    assert lock.do("acquire", pid=32).returncode == 0
    meta = lock.configmap()["metadata"]
    assert meta["labels"] == {"team": "perf"} and meta["annotations"]["owner"] == "ci"


def test_kubeconfig_from_the_environment_and_context_flag(cluster, tmp_path):
    # $KUBECONFIG as a list: the first file's current-context (admin) wins; --context
    # picks the second file's (token) context instead; -n overrides the namespace.
    name = unique_name()
    env = {"KUBECONFIG": f"{tmp_path}/missing:{cluster.kubeconfig()}:{cluster.kubeconfig('token')}"}
    r = run("acquire", "--name", name, "--pid", "33", "-v", env=env)
    assert r.returncode == 0, r.stderr
    assert 'context "admin"' in r.stderr
    r = run("query", "--name", name, "--context", "token", "-v", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["pid"] == "33"
    assert 'context "token"' in r.stderr
    r = run("acquire", "--name", name, "--pid", "34", "-n", "locks", env=env)
    assert r.returncode == 0
    assert cluster.kubectl("get", "configmap", name, "-n", "locks").returncode == 0
    r = run("query", "--name", name, "--context", "nope", env=env)
    assert r.returncode == 1 and "nope" in r.stderr


def test_home_kube_config_is_the_fallback(cluster, tmp_path):
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(open(cluster.kubeconfig()).read())
    r = run("query", "--name", unique_name(), env={"HOME": str(tmp_path)})
    assert (r.returncode, r.stdout) == (0, "{}\n"), r.stderr


def test_server_asking_to_retry_later_is_honoured(tmp_path):
    """429 with Retry-After (API priority and fairness does this under load) is waited
    out, then the call succeeds. A scripted server: a real one will not 429 on demand."""
    import http.server
    import threading

    hits = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(time.monotonic())
            if len(hits) == 1:
                body = b'{"kind":"Status","reason":"TooManyRequests","message":"slow down","code":429}'
                self.send_response(429)
                self.send_header("Retry-After", "2")
            else:
                body = b'{"kind":"ConfigMapList","metadata":{"resourceVersion":"9"},"items":[]}'
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        kc = tmp_path / "k"
        kc.write_text("apiVersion: v1\nclusters:\n- cluster:\n    server: "
                      f"http://127.0.0.1:{srv.server_address[1]}\n  name: c\ncontexts:\n"
                      "- context:\n    cluster: c\n    user: u\n  name: x\n"
                      "current-context: x\nusers:\n- name: u\n  user: {}\n")
        r = run("query", "--kubeconfig", str(kc))
        assert (r.returncode, r.stdout) == (0, "{}\n"), r.stderr
        assert "429" in r.stderr and "slow down" in r.stderr
        assert len(hits) == 2 and hits[1] - hits[0] >= 1.9, hits
    finally:
        srv.shutdown()


def test_waiter_says_who_holds_it_at_start_and_every_30_seconds(cluster):
    lock = Lock(cluster)
    assert lock.do("acquire", pid=51).returncode == 0
    waiter = subprocess.Popen([BIN, *lock.args("acquire", "--max-wait-time", "5m", pid=52)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(32)
    assert lock.do("release", pid=51).returncode == 0
    _, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err
    said = [l for l in err.splitlines() if "is held by host" in l and "pid 51" in l]
    assert len(said) == 2, err
    # How long it has waited, of how long it may (and, queued, its place: test_queue.py).
    assert "in line, waiting " in said[0] and said[0].endswith(" of 5m0s"), said[0]
    assert "1st in line, waiting 3" in said[1] and said[1].endswith(" of 5m0s"), said[1]

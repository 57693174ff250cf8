"""Exec credential plugins against the real cluster: plugins written by the tests (python3
scripts, and a static C one for the empty root) hand out the cluster's static admin token
or the admin client certificate, in client.authentication.k8s.io/v1 and v1beta1, and log
each run (time, argv, environment, KUBERNETES_EXEC_INFO) to a file.

Each failing plugin must give exit 1, one line naming the plugin and the user, and leave
the lock untouched (its ConfigMap never appears). Nothing a plugin returns is printed,
also with -v.
"""
import base64
import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys

import pytest

from lockutil import BIN, Lock, REPO, alive, run, unique_name, wait_for, empty_root

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error")


def admin_token(cluster):
    return re.search(r"token: (\S+)", pathlib.Path(cluster.kubeconfig("token")).read_text()
                     ).group(1)


def ca_data(cluster):
    return re.search(r"certificate-authority-data: (\S+)",
                     pathlib.Path(cluster.kubeconfig("token")).read_text()).group(1)


class Plugin:
    """A plugin script in dir: logs each run as one JSON line to dir/runs, then runs body
    (python, with `log` (this run's record), `runs` (earlier records), `reply(status)`)."""

    def __init__(self, dir, body, name="plugin", api=V1):
        self.dir = pathlib.Path(dir)
        self.path = self.dir / name
        self.runs_file = self.dir / "runs"
        self.path.write_text(f"""#!{sys.executable}
import json, os, sys, time, datetime
RUNS = {str(self.runs_file)!r}
try:
    runs = [json.loads(l) for l in open(RUNS)]
except FileNotFoundError:
    runs = []
log = {{"t": time.time(), "argv": sys.argv[1:], "pid": os.getpid(),
       "info": os.environ.get("KUBERNETES_EXEC_INFO"),
       "env": {{k: v for k, v in os.environ.items() if k.startswith("CLT_")}},
       "stdin_tty": os.isatty(0)}}
def reply(status, api={api!r}, kind="ExecCredential"):
    log["exp"] = status.get("expirationTimestamp")
    sys.stdout.write(json.dumps({{"kind": kind, "apiVersion": api, "status": status}}))
def in_secs(s):
    return (datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
def done():
    if not log.get("logged"):
        with open(RUNS, "a") as f:
            f.write(json.dumps(log) + "\\n")
        log["logged"] = True
try:
{indent(body)}
finally:
    done()
""")
        self.path.chmod(0o755)

    def runs(self):
        if not self.runs_file.exists():
            return []
        return [json.loads(l) for l in self.runs_file.read_text().splitlines()]


def indent(body):
    return "\n".join("    " + l for l in body.strip("\n").splitlines())


def kubeconfig(cluster, path, exec_yaml, cluster_extra=""):
    """A kubeconfig for the cluster (CA inline, by IP) whose user runs exec_yaml."""
    path = pathlib.Path(path)
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: {cluster.server}
    certificate-authority-data: {ca_data(cluster)}
{cluster_extra}users:
- name: plugin-user
  user:
    exec:
{indent2(exec_yaml)}
contexts:
- name: x
  context: {{cluster: c, user: plugin-user, namespace: default}}
current-context: x
""")
    return str(path)


def indent2(y):
    return "\n".join("      " + l for l in y.strip("\n").splitlines())


def exec_entry(command, api=V1, mode="Never", extra=""):
    return f"apiVersion: {api}\ncommand: {command}\ninteractiveMode: {mode}\n{extra}"


def token_body(token):
    return f"reply({{'token': {token!r}}})"


def locked(cluster, kc, name, *extra, env=None, timeout=60, action="acquire"):
    return run(action, "--kubeconfig", kc, "--name", name, *extra, env=env, timeout=timeout)


def configmap_absent(cluster, name):
    r = cluster.kubectl("get", "configmap", name, "-n", "default")
    return r.returncode != 0 and "NotFound" in r.stderr


def no_sanitizer(r):
    assert not any(s in r.stderr for s in SANITIZER), r.stderr


# ---- plugins that work ----

@pytest.mark.parametrize("api", [V1, V1BETA1])
def test_token_plugin_takes_and_frees_the_lock(cluster, tmp_path, api):
    """A v1 and a v1beta1 plugin giving the static admin token: acquire, query, release as
    with a token kubeconfig; each process runs the plugin once (no expiry: cached)."""
    p = Plugin(tmp_path, token_body(admin_token(cluster)), api=api)
    mode = "Never" if api == V1 else "IfAvailable"
    kc = kubeconfig(cluster, tmp_path / "kc",
                    exec_entry("./plugin", api, mode, "args: [--flag, two words]"))
    name = unique_name()
    r = locked(cluster, kc, name, "--pid", "4242")
    assert r.returncode == 0, r.stderr
    no_sanitizer(r)
    rec = Lock(cluster, name=name).query()
    assert rec["pid"] == "4242"
    q = locked(cluster, kc, name, action="query")
    assert q.returncode == 0 and json.loads(q.stdout)["pid"] == "4242", q.stderr
    r = locked(cluster, kc, name, "--pid", "4242", action="release")
    assert r.returncode == 0, r.stderr
    assert Lock(cluster, name=name).query() == {}
    runs = p.runs()
    assert len(runs) == 3, runs
    assert all(x["argv"] == ["--flag", "two words"] for x in runs)
    info = json.loads(runs[0]["info"])
    assert info == {"kind": "ExecCredential", "apiVersion": api,
                    "spec": {"interactive": False}}


def test_client_certificate_plugin(cluster, tmp_path):
    """A plugin that returns the admin client certificate and key (PEM) instead of a
    token: the TLS handshake presents it and the lock is taken as cluster-admin."""
    pki = pathlib.Path(cluster.dir) / "pki"
    cert, key = (pki / "admin.crt").read_text(), (pki / "admin.key").read_text()
    p = Plugin(tmp_path, f"reply({{'clientCertificateData': {cert!r}, "
                         f"'clientKeyData': {key!r}}})")
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = locked(cluster, kc, name, "--pid", "77", "-v")
    assert r.returncode == 0, r.stderr
    assert Lock(cluster, name=name).query()["pid"] == "77"
    assert len(p.runs()) == 1
    body = "".join(key.splitlines()[1:-1])
    assert body[:40] not in r.stderr + r.stdout
    assert locked(cluster, kc, name, "--pid", "77", action="release").returncode == 0


def test_exec_info_with_cluster_info_and_extension(cluster, tmp_path):
    """provideClusterInfo: spec.cluster carries server, tls-server-name,
    certificate-authority-data (the CA's bytes) and config (the cluster's
    client.authentication.k8s.io/exec extension as JSON); env entries are added to ours
    (replacing one of the same name), ours are kept."""
    p = Plugin(tmp_path, token_body(admin_token(cluster)))
    ext = """    tls-server-name: localhost
    extensions:
    - name: other
      extension: {ignored: true}
    - name: client.authentication.k8s.io/exec
      extension:
        audience: perf
        zones: [a, "b"]
        replicas: 3
        quoted: "3"
        strict: false
"""
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin", extra="""provideClusterInfo: true
env:
- name: CLT_ADDED
  value: from kubeconfig
- name: CLT_REPLACED
  value: by kubeconfig"""), cluster_extra=ext)
    r = locked(cluster, kc, unique_name(), action="query",
               env={"CLT_INHERITED": "ours", "CLT_REPLACED": "ours"})
    assert r.returncode == 0, r.stderr
    (one,) = p.runs()
    info = json.loads(one["info"])
    c = info["spec"]["cluster"]
    assert c["server"] == cluster.server
    assert c["tls-server-name"] == "localhost"
    assert base64.b64decode(c["certificate-authority-data"]) == base64.b64decode(ca_data(cluster))
    assert c["config"] == {"audience": "perf", "zones": ["a", "b"], "replicas": 3,
                           "quoted": "3", "strict": False}
    assert "insecure-skip-tls-verify" not in c and "proxy-url" not in c
    assert info["spec"]["interactive"] is False
    assert one["env"] == {"CLT_ADDED": "from kubeconfig", "CLT_REPLACED": "by kubeconfig",
                          "CLT_INHERITED": "ours"}
    assert one["stdin_tty"] is False


def test_command_paths(cluster, tmp_path):
    """A command with a '/' is relative to the kubeconfig's directory, not the working
    directory; one without is looked up on PATH."""
    d = tmp_path / "conf"
    (d / "bin").mkdir(parents=True)
    p = Plugin(d / "bin", token_body(admin_token(cluster)), name="cl-test-plugin")
    kc = kubeconfig(cluster, d / "kc", exec_entry("bin/cl-test-plugin"))
    r = subprocess.run([os.path.abspath(BIN), "query", "--kubeconfig", kc,
                        "--name", unique_name()],
                       cwd="/", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    kc2 = kubeconfig(cluster, tmp_path / "kc2", exec_entry("cl-test-plugin"))
    r = locked(cluster, kc2, unique_name(), action="query",
               env={"PATH": f"/nonexistent:{d / 'bin'}:{os.environ['PATH']}"})
    assert r.returncode == 0, r.stderr
    assert len(p.runs()) == 2
    r = locked(cluster, kc2, unique_name(), action="query")
    assert r.returncode == 1 and "command not found on PATH" in r.stderr, r.stderr


def test_token_not_printed_with_verbose(cluster, tmp_path):
    """-v tells what the plugin did, never what it gave."""
    tok = admin_token(cluster)
    Plugin(tmp_path, token_body(tok))
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = locked(cluster, kc, name, "-v", "--pid", "9")
    assert r.returncode == 0, r.stderr
    assert 'exec plugin "./plugin" of user "plugin-user"' in r.stderr
    assert tok not in r.stderr and tok not in r.stdout
    assert tok[:12] not in r.stderr
    r = locked(cluster, kc, name, "-v", "--pid", "9", action="release")
    assert r.returncode == 0 and tok not in r.stderr


# ---- renewal: expiry and 401 ----

def expiring_body(token, secs):
    return f"reply({{'token': {token!r}, 'expirationTimestamp': in_secs({secs})}})"


def assert_renewed_before_expiry(runs):
    """Each run came before the credentials of the previous one expired."""
    for prev, cur in zip(runs, runs[1:]):
        exp = datetime.datetime.strptime(prev["exp"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        assert cur["t"] < exp, (prev, cur)


def wait_behind_a_holder(cluster, tmp_path, token_s, *flags):
    """acquire (with flags) on tokens that expire after token_s, behind a holder that
    releases after four plugin runs. Returns (plugin, holder lock, exit code, stderr)."""
    p = Plugin(tmp_path, expiring_body(admin_token(cluster), token_s))
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    holder = Lock(cluster)
    assert holder.do("acquire", pid=1111).returncode == 0
    w = subprocess.Popen([BIN, "acquire", *flags, "--kubeconfig", kc, "--name", holder.name,
                          "--pid", "2222", "--max-wait-time", "60s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(p.runs()) >= 4, timeout=40, what="four plugin runs")
        assert w.poll() is None, w.communicate()
        assert holder.query()["pid"] == "1111"
        assert holder.do("release", pid=1111).returncode == 0
        out, err = w.communicate(timeout=40)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    return p, holder, w.returncode, err


def test_expiring_token_is_renewed_during_a_long_wait(cluster, tmp_path):
    """Tokens that expire after 10 s, while acquire waits behind a holder: the plugin runs
    again before each expiry during the wait (the watch is ended when they are due, and
    the next watch carries the new token), and the waiter takes the lock when the
    holder frees it."""
    p, holder, rc, err = wait_behind_a_holder(cluster, tmp_path, 10)
    assert rc == 0, err
    assert holder.query()["pid"] == "2222"
    assert_renewed_before_expiry(p.runs())
    assert holder.do("release", pid=2222).returncode == 0


def test_watch_ended_for_new_credentials_resumes_without_reading_the_lock(cluster,
                                                                          tmp_path):
    """A watch that ends cleanly (here: as 6 s tokens come due; also at its timeout) is
    opened again from the version where it ended: the waiter neither lists nor reads the
    lock again, so a long wait costs one request per watch period, not two."""
    p, holder, rc, err = wait_behind_a_holder(cluster, tmp_path, 6, "-v")
    assert rc == 0, err
    assert err.count("resuming it from version") >= 2, err
    reads = [l for l in err.splitlines()
             if re.search(r": GET \S+/configmaps(/|\?fieldSelector)\S*: \d{3} ", l)]
    assert len(reads) == 1, reads
    assert holder.do("release", pid=2222).returncode == 0


def test_expiring_token_is_renewed_during_a_long_run(cluster, tmp_path):
    """run with a ttl holds the lock for 14 s on 6 s tokens: the plugin runs again before
    each expiry, the renewals go through, and the lock is freed at the end."""
    p = Plugin(tmp_path, expiring_body(admin_token(cluster), 6))
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = run("run", "--kubeconfig", kc, "--name", name, "--ttl", "3s", "--", "sleep", "14",
            timeout=90)
    assert r.returncode == 0, r.stderr
    no_sanitizer(r)
    runs = p.runs()
    assert len(runs) >= 4, runs
    assert_renewed_before_expiry(runs)
    assert Lock(cluster, name=name).query() == {}


def test_rotating_client_certificates_during_a_wait(cluster, tmp_path):
    """A plugin whose client certificate expires after 8 s and that hands out the RSA and
    the EC admin certificate in turn: each new one gets a new TLS context (the kept-alive
    connections are dropped), the wait goes on across the changes, and the waiter takes
    the lock when it is freed."""
    pki = pathlib.Path(cluster.dir) / "pki"
    pairs = [((pki / f"{n}.crt").read_text(), (pki / f"{n}.key").read_text())
             for n in ("admin", "admin-ec")]
    p = Plugin(tmp_path, f"""pairs = {pairs!r}
c, k = pairs[len(runs) % 2]
reply({{'clientCertificateData': c, 'clientKeyData': k, 'expirationTimestamp': in_secs(8)}})""")
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    holder = Lock(cluster)
    assert holder.do("acquire", pid=1111).returncode == 0
    w = subprocess.Popen([BIN, "acquire", "--kubeconfig", kc, "--name", holder.name,
                          "--pid", "3333", "--max-wait-time", "60s", "-v"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(p.runs()) >= 3, timeout=40, what="three plugin runs")
        assert w.poll() is None, w.communicate()
        assert holder.do("release", pid=1111).returncode == 0
        out, err = w.communicate(timeout=40)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert w.returncode == 0, err
    assert holder.query()["pid"] == "3333"
    assert_renewed_before_expiry(p.runs())
    for _, key in pairs:
        assert "".join(key.splitlines()[1:-1])[:40] not in err
    assert holder.do("release", pid=3333).returncode == 0


def test_rejected_token_is_obtained_again_once(cluster, tmp_path):
    """The first run hands out a token the server rejects (401): the plugin runs again
    and the request is sent once more with the new token."""
    tok = admin_token(cluster)
    p = Plugin(tmp_path, f"reply({{'token': 'wrong-token' if not runs else {tok!r}}})")
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = locked(cluster, kc, name, "--pid", "31")
    assert r.returncode == 0, r.stderr
    assert len(p.runs()) == 2
    assert Lock(cluster, name=name).query()["pid"] == "31"
    assert Lock(cluster, name=name).do("release", pid=31).returncode == 0


def test_rejected_client_certificate_is_replaced_by_a_new_tls_context(cluster, tmp_path):
    """The first run hands out a client certificate of a CA the server does not know
    (401); the second the admin's: the request is sent again over a new TLS context that
    presents the new certificate (on the old one it would be refused again)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", "bad.key", "-out", "bad.crt", "-days", "2",
                    "-subj", "/O=system:masters/CN=intruder",
                    "-addext", "extendedKeyUsage=clientAuth"],
                   cwd=tmp_path, check=True, capture_output=True)
    pki = pathlib.Path(cluster.dir) / "pki"
    pairs = [((tmp_path / "bad.crt").read_text(), (tmp_path / "bad.key").read_text()),
             ((pki / "admin.crt").read_text(), (pki / "admin.key").read_text())]
    p = Plugin(tmp_path, f"""pairs = {pairs!r}
c, k = pairs[min(len(runs), 1)]
reply({{'clientCertificateData': c, 'clientKeyData': k}})""")
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = locked(cluster, kc, name, "--pid", "32")
    assert r.returncode == 0, r.stderr
    assert len(p.runs()) == 2
    assert Lock(cluster, name=name).query()["pid"] == "32"
    assert Lock(cluster, name=name).do("release", pid=32).returncode == 0


def test_always_rejected_token_fails_after_one_more_run(cluster, tmp_path):
    p = Plugin(tmp_path, token_body("wrong-token"))
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = locked(cluster, kc, name)
    assert r.returncode == 1
    line = r.stderr.strip()
    assert "\n" not in line and "401" in line and 'exec plugin "./plugin"' in line, r.stderr
    assert len(p.runs()) == 2
    assert configmap_absent(cluster, name)


# ---- plugins that fail ----

FAILING = {
    "exit-status": ("sys.stderr.write('plugin says: no session\\n'); sys.exit(3)",
                    "exited with status 3"),
    "signal": ("done(); os.kill(os.getpid(), 9)", "killed by signal 9"),
    "garbage": ("print('<html>login</html>')", "not JSON"),
    "huge": ("done(); sys.stdout.write('x' * (2 << 20))", "more than 1048576 bytes"),
    "no-credentials": ("reply({'expirationTimestamp': in_secs(60)})", "no credentials"),
    "api-mismatch": (f"reply({{'token': 'x'}}, api={V1BETA1!r})", "apiVersion"),
    "wrong-kind": ("reply({'token': 'x'}, kind='Secret')", "not an ExecCredential"),
    "cert-without-key": ("reply({'clientCertificateData': '-----BEGIN CERTIFICATE-----'})",
                         "no status.clientKeyData"),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_failing_plugin(cluster, tmp_path, case):
    body, says = FAILING[case]
    p = Plugin(tmp_path, body)
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = locked(cluster, kc, name)
    assert r.returncode == 1, r.stderr
    no_sanitizer(r)
    ours = [l for l in r.stderr.splitlines() if l.startswith("carrier-lock:")]
    assert len(ours) == 1, r.stderr
    assert 'exec plugin "./plugin" of user "plugin-user"' in ours[0] and says in ours[0], ours
    assert r.stdout == ""
    if case == "exit-status":
        assert "plugin says: no session" in r.stderr    # its stderr is passed through
    assert len(p.runs()) == 1
    assert configmap_absent(cluster, name)


def test_hanging_plugin_is_killed_at_the_request_timeout(cluster, tmp_path):
    p = Plugin(tmp_path, "done(); time.sleep(120)")
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    r = locked(cluster, kc, name, "--request-timeout", "2s", timeout=60)
    assert r.returncode == 1
    assert 'exec plugin "./plugin"' in r.stderr and "did not finish" in r.stderr, r.stderr
    (one,) = p.runs()
    assert not alive(one["pid"]), "the plugin was killed and reaped"
    assert configmap_absent(cluster, name)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_the_plugin_runs(cluster, tmp_path, sig):
    """Ctrl-C (or TERM) while the plugin runs: the plugin is killed, carrier-lock exits
    128+N as when interrupted elsewhere, and the lock is untouched."""
    p = Plugin(tmp_path, "done(); time.sleep(120)")
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    name = unique_name()
    w = subprocess.Popen([BIN, "acquire", "--kubeconfig", kc, "--name", name],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: p.runs(), timeout=30, what="the plugin to start")
        w.send_signal(sig)
        out, err = w.communicate(timeout=30)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert w.returncode == 128 + sig, err
    (one,) = p.runs()
    wait_for(lambda: not alive(one["pid"]), timeout=10, what="the plugin to be gone")
    assert configmap_absent(cluster, name)


def test_missing_plugin_prints_the_install_hint(cluster, tmp_path):
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("cl-no-such-plugin", extra=
        'installHint: "Install cl-no-such-plugin with\\napt-get install cl-plugin"'))
    name = unique_name()
    r = locked(cluster, kc, name)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert 'exec plugin "cl-no-such-plugin" of user "plugin-user": command not found' in lines[0]
    assert "Install cl-no-such-plugin with" in r.stderr and "apt-get install cl-plugin" in r.stderr
    assert configmap_absent(cluster, name)


def test_interactive_always_without_a_terminal(cluster, tmp_path):
    p = Plugin(tmp_path, token_body(admin_token(cluster)))
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin", mode="Always"))
    name = unique_name()
    r = run("acquire", "--kubeconfig", kc, "--name", name, stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert "interactiveMode is Always" in r.stderr and "not a terminal" in r.stderr, r.stderr
    assert p.runs() == []
    assert configmap_absent(cluster, name)


@pytest.mark.parametrize("mode,interactive", [("Always", True), ("IfAvailable", True),
                                              ("Never", False)])
def test_interactive_with_a_terminal(cluster, tmp_path, mode, interactive):
    """stdin a terminal (a pty): spec.interactive is true and the plugin gets that
    terminal as its stdin, unless interactiveMode is Never (then an empty stdin)."""
    p = Plugin(tmp_path, token_body(admin_token(cluster)))
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin", mode=mode))
    master, slave = os.openpty()
    try:
        r = run("query", "--kubeconfig", kc, "--name", unique_name(), stdin=slave)
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 0, r.stderr
    (one,) = p.runs()
    assert json.loads(one["info"])["spec"]["interactive"] is interactive
    assert one["stdin_tty"] is interactive


# ---- bad exec entries: kubeconfig errors with file:line, nothing run or sent ----

# entry, the line of the error (1-based within the entry; 0: the "exec:" line), words
BAD_ENTRIES = {
    "no-api-version": ("command: ./plugin\ninteractiveMode: Never", 0, "has no apiVersion"),
    "old-api-version": ("apiVersion: client.authentication.k8s.io/v1alpha1\n"
                        "command: ./plugin\ninteractiveMode: Never", 1, "is not"),
    "no-command": (f"apiVersion: {V1}\ninteractiveMode: Never", 0, "has no command"),
    "v1-without-mode": (f"apiVersion: {V1}\ncommand: ./plugin", 0,
                        "interactiveMode must be set"),
    "bad-mode": (f"apiVersion: {V1}\ncommand: ./plugin\ninteractiveMode: Sometimes", 3,
                 "interactiveMode \"Sometimes\""),
    "args-not-list": (f"apiVersion: {V1}\ncommand: ./plugin\ninteractiveMode: Never\n"
                      "args: --flag", 4, "args of"),
    "env-not-pairs": (f"apiVersion: {V1}\ncommand: ./plugin\ninteractiveMode: Never\n"
                      "env:\n- FOO=bar", 5, "each entry must be a mapping"),
    "env-no-name": (f"apiVersion: {V1}\ncommand: ./plugin\ninteractiveMode: Never\n"
                    "env:\n- value: x", 5, "name must be set"),
    "cluster-info-not-bool": (f"apiVersion: {V1}\ncommand: ./plugin\ninteractiveMode: Never\n"
                              "provideClusterInfo: \"yes\"", 4, "must be true or false"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_bad_exec_entry(cluster, tmp_path, case):
    """One line "kubeconfig PATH:LINE: ..." at the offending line, exit 1, the plugin never
    run, nothing sent."""
    entry, offset, says = BAD_ENTRIES[case]
    p = Plugin(tmp_path, token_body(admin_token(cluster)))
    kc = kubeconfig(cluster, tmp_path / "kc", entry)
    exec_line = pathlib.Path(kc).read_text().splitlines().index("    exec:") + 1
    name = unique_name()
    r = locked(cluster, kc, name)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"carrier-lock: kubeconfig {kc}:{exec_line + offset}: "), \
        (r.stderr, exec_line + offset)
    assert says in r.stderr, r.stderr
    assert p.runs() == []
    assert configmap_absent(cluster, name)


def test_exec_together_with_a_token_is_refused(cluster, tmp_path):
    p = Plugin(tmp_path, token_body(admin_token(cluster)))
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    text = pathlib.Path(kc).read_text().replace("    exec:\n", "    token: abc\n    exec:\n")
    pathlib.Path(kc).write_text(text)
    r = locked(cluster, kc, unique_name())
    assert r.returncode == 1 and "sets both exec and token" in r.stderr, r.stderr
    assert p.runs() == []


# ---- the empty root ----

def test_static_plugin_in_an_empty_root(cluster, tmp_path):
    """A FROM scratch image: only carrier-lock, the kubeconfig and a static plugin (C,
    built here with musl-gcc -static) in a chroot; no shell, no /dev, no /proc. The
    plugin is found relative to the kubeconfig and its token takes the lock."""
    if os.geteuid() != 0 or BIN.endswith("asan/carrier-lock"):
        pytest.skip("needs root for chroot, and the static binary")
    src = REPO / "tests" / "exec" / "static_plugin.c"
    kc = kubeconfig(cluster, tmp_path / "kc", exec_entry("./plugin"))
    root = empty_root(BIN, kc, tmp_path)
    tok = admin_token(cluster)
    subprocess.run(["musl-gcc", "-static", "-O1", f'-DTOKEN="{tok}"', "-o",
                    str(root / "plugin"), str(src)], check=True)
    name = unique_name()

    def inside(*args):
        return subprocess.run([shutil.which("chroot"), str(root), "/carrier-lock", *args,
                               "--kubeconfig", "/kubeconfig", "--name", name],
                              capture_output=True, text=True, timeout=60, env={})

    r = inside("acquire", "--pid", "8")
    assert r.returncode == 0, r.stderr
    assert json.loads(inside("query").stdout)["pid"] == "8"
    assert inside("release", "--pid", "8").returncode == 0
    assert Lock(cluster, name=name).query() == {}
    assert sorted(p.name for p in root.iterdir()) == ["carrier-lock", "kubeconfig", "plugin"]

"""deploy/rbac.yaml is enough, and no more than enough; secrets are never printed.

- With limited.kubeconfig (bound only to deploy/rbac.yaml's Role in namespace `locks`),
  every action works through carrier-lock.
- The same user, through the cluster's kubectl, cannot touch Secrets in `locks`,
  ConfigMaps in `default` or `kube-system`, nor patch or delete ConfigMaps in `locks`.
- The Role's verbs are what carrier-lock uses: every HTTP method that -v reports is
  GET, POST or PUT (a watch is a GET with watch=1), never PATCH or DELETE.
- With admin (RSA cert + key), ec and token kubeconfigs, and with failing calls (wrong
  server name, 401, 403), -v prints no token, no piece of key or certificate data.
"""
import base64
import pathlib
import re
import subprocess
import time

import pytest

from lockutil import BIN, Lock, run, unique_name

pytestmark = pytest.mark.usefixtures("cluster")

METHOD = re.compile(r"^carrier-lock: ([A-Z]+) (https?://\S+)", re.M)


def methods(stderr):
    return [(m.group(1), m.group(2)) for m in METHOD.finditer(stderr)]


def test_limited_user_can_do_every_action(cluster):
    lock = Lock(cluster, kubeconfig="limited")
    seen = []

    def do(action, *extra, pid=None, host=None, want=0):
        r = lock.do(action, "-v", *extra, pid=pid, host=host)
        assert r.returncode == want, (action, r.stderr)
        assert "403 Forbidden" not in r.stderr, r.stderr  # not a bare "403": timestamps hold digits
        seen.extend(methods(r.stderr))
        return r

    do("acquire", "--max-wait-time", "0", pid=11)
    assert lock.query()["pid"] == "11"
    assert lock.configmap()["metadata"]["namespace"] == "locks"
    do("query")
    do("release", pid=11)
    assert lock.query() == {}
    do("acquire", pid=12, host="another-host")
    do("force-release")
    assert lock.query() == {}
    # cleanup: a dead owner on this host is cleaned up.
    dead = subprocess.Popen(["true"])
    dead.wait()
    do("acquire", pid=dead.pid)
    r = do("cleanup", pid=1)
    assert "cleaned up" in r.stderr
    assert lock.query() == {}
    # A waiting acquire is woken by a release (the watch works under the Role).
    do("acquire", pid=13)
    waiter = subprocess.Popen([BIN, *lock.args("acquire", "-v", "--max-wait-time", "60s",
                                               pid=14)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert waiter.poll() is None, "the waiter must wait while the lock is held"
    do("release", pid=13)
    _, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err
    seen.extend(methods(err))
    assert any(m == "GET" and "watch=1" in url for m, url in seen), err
    assert lock.query()["pid"] == "14"
    do("release", pid=14)
    # run -- CMD, without and with a lease that must be renewed while CMD runs.
    do("run", "--", "true")
    r = do("run", "--ttl", "3s", "--", "true")
    r = do("run", "--ttl", "3s", "--", "sleep", "2.2")
    assert sum(1 for m, _ in methods(r.stderr) if m == "PUT") >= 3, \
        "run --ttl 3s over 2.2 s: take, at least one renewal, release"
    assert lock.query() == {}
    # The waiter queued: a Lease of its own, created and deleted.
    assert any(m == "POST" and "/leases" in url for m, url in seen), err
    assert any(m == "DELETE" and "/leases/" in url for m, url in seen), err
    # The verbs of deploy/rbac.yaml, and nothing else: ConfigMaps are never deleted.
    used = {m for m, _ in seen}
    assert used <= {"GET", "POST", "PUT", "DELETE"}, used
    assert {"GET", "POST", "PUT", "DELETE"} <= used, used
    assert not any(m == "DELETE" and "/configmaps" in url for m, url in seen), seen
    assert role_verbs() == {"configmaps": ["create", "get", "list", "update", "watch"],
                            "leases": ["create", "delete", "list", "update"]}


def role_verbs():
    """deploy/rbac.yaml's rules as {resource: sorted verbs}."""
    rbac = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "rbac.yaml"
    rules, res = {}, None
    for line in rbac.read_text().splitlines():
        m = re.match(r"^\s*resources: \[\"(\w+)\"\]\s*$", line)
        if m:
            res = m.group(1)
            rules[res] = []
        m = re.match(r"^\s*- (\w+)\s*$", line)
        if m and res is not None:
            rules[res].append(m.group(1))
    return {r: sorted(v) for r, v in rules.items()}


@pytest.mark.parametrize("args", [
    ["get", "secrets", "-n", "locks"],
    ["get", "secret", "some-secret", "-n", "locks"],
    ["create", "secret", "generic", "bi-s", "--from-literal=a=b", "-n", "locks"],
    ["get", "configmaps", "-n", "default"],
    ["get", "configmap", "kube-root-ca.crt", "-n", "default"],
    ["create", "configmap", "bi-cm", "-n", "default"],
    ["get", "configmaps", "-n", "kube-system"],
    ["create", "configmap", "bi-cm", "-n", "kube-system"],
    ["delete", "configmap", "@LOCK", "-n", "locks"],
    ["patch", "configmap", "@LOCK", "-n", "locks", "--type=merge",
     "-p", '{"data":{"holder":""}}'],
    ["delete", "configmaps", "--all", "-n", "locks"],
    ["get", "pods", "-n", "locks"],
    ["get", "lease", "some-lease", "-n", "locks"],
    ["get", "leases", "-n", "default"],
    ["patch", "lease", "some-lease", "-n", "locks", "--type=merge", "-p", '{"spec":{}}'],
    ["get", "namespaces"],
], ids=lambda a: "-".join(w for w in a if not w.startswith(("-", "{", "@"))))
def test_limited_user_cannot_go_beyond_the_role(cluster, args):
    lock = Lock(cluster, kubeconfig="limited")
    assert lock.do("acquire", pid=21).returncode == 0
    before = lock.configmap()["metadata"]["resourceVersion"]
    args = [lock.name if a == "@LOCK" else a for a in args]
    r = cluster.kubectl(*args, kubeconfig="limited")
    assert r.returncode != 0, r.stdout
    assert "forbidden" in r.stderr.lower(), r.stderr
    assert lock.configmap()["metadata"]["resourceVersion"] == before
    # Nothing was created where it was refused.
    if args[0] == "create":
        ns = args[args.index("-n") + 1]
        kind, name = args[1], args[3] if args[1] == "secret" else args[2]
        got = cluster.kubectl("get", kind, name, "-n", ns)
        assert got.returncode != 0 and "NotFound" in got.stderr


def test_limited_user_positive_kubectl_checks_match_the_role(cluster):
    """kubectl auth can-i, as the limited user, agrees with deploy/rbac.yaml."""
    for verb in ("get", "list", "watch", "create", "update"):
        r = cluster.kubectl("auth", "can-i", verb, "configmaps", "-n", "locks",
                            kubeconfig="limited")
        assert r.stdout.strip() == "yes", (verb, r.stdout, r.stderr)
    for verb, res, ns in (("patch", "configmaps", "locks"), ("delete", "configmaps", "locks"),
                          ("get", "secrets", "locks"), ("list", "secrets", "locks"),
                          ("get", "configmaps", "default"),
                          ("update", "configmaps", "kube-system")):
        r = cluster.kubectl("auth", "can-i", verb, res, "-n", ns, kubeconfig="limited")
        assert r.stdout.strip() == "no", (verb, res, ns, r.stdout, r.stderr)
    for verb in ("create", "list", "update", "delete"):
        r = cluster.kubectl("auth", "can-i", verb, "leases.coordination.k8s.io", "-n", "locks",
                            kubeconfig="limited")
        assert r.stdout.strip() == "yes", (verb, r.stdout, r.stderr)
    for verb, ns in (("get", "locks"), ("watch", "locks"), ("patch", "locks"),
                     ("deletecollection", "locks"), ("list", "default"),
                     ("create", "kube-system")):
        r = cluster.kubectl("auth", "can-i", verb, "leases.coordination.k8s.io", "-n", ns,
                            kubeconfig="limited")
        assert r.stdout.strip() == "no", (verb, ns, r.stdout, r.stderr)


# ---- secrets never printed ----

def windows(s, n=32):
    return {s[i:i + n] for i in range(len(s) - n + 1)}


def secret_windows(kc_text):
    """32-char pieces of every secret in a kubeconfig: tokens, the base64 of cert and key
    data, and the base64 bodies of the decoded PEM."""
    out = set()
    for m in re.finditer(r"^\s*token: (\S+)", kc_text, re.M):
        out |= windows(m.group(1), min(32, len(m.group(1))))
    for m in re.finditer(r"^\s*client-(?:certificate|key)-data: (\S+)", kc_text, re.M):
        out |= windows(m.group(1))
        pem = base64.b64decode(m.group(1)).decode()
        body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
        out |= windows(body)
        for line in pem.splitlines():
            if not line.startswith("-----"):
                out |= windows(line)
    return out


def assert_no_secret(r, secrets):
    text = r.stdout + r.stderr
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text, text
    leaked = windows(text) & secrets
    assert not leaked, f"secret material printed: {sorted(leaked)[:2]}"


def unprivileged_cert_kubeconfig(cluster, tmp_path, base, algo):
    """base's kubeconfig with a client certificate, signed by the cluster CA, for a user
    that RBAC grants nothing: every call is a 403."""
    pki = cluster.dir / "pki"
    key, csr, crt = tmp_path / f"{algo}.key", tmp_path / f"{algo}.csr", tmp_path / f"{algo}.crt"
    if algo == "ec":
        gen = ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)]
    else:
        gen = ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"]
    subprocess.run(gen, check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", str(key), "-subj", "/CN=bi-nobody",
                    "-out", str(csr)], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"),
                    "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-days", "1",
                    "-out", str(crt)], check=True, capture_output=True)
    text = pathlib.Path(cluster.kubeconfig(base)).read_text()
    b64 = lambda p: base64.b64encode(p.read_bytes()).decode()
    text = re.sub(r"(client-certificate-data: )\S+", lambda m: m.group(1) + b64(crt), text)
    text = re.sub(r"(client-key-data: )\S+", lambda m: m.group(1) + b64(key), text)
    path = tmp_path / f"{algo}-nobody.kubeconfig"
    path.write_text(text)
    return path


def wrong_name_kubeconfig(src, tmp_path, tag):
    text = pathlib.Path(src).read_text().replace(
        "    server: ", '    tls-server-name: "not-localhost.example"\n    server: ', 1)
    path = tmp_path / f"{tag}-wrong-name.kubeconfig"
    path.write_text(text)
    return path


ACTIONS = [("acquire", "--max-wait-time", "0"), ("query",), ("release",), ("force-release",),
           ("cleanup",), ("run", "--max-wait-time", "0", "--", "true")]


@pytest.mark.parametrize("kubeconfig", ["admin", "ec", "token"])
def test_secrets_never_printed_verbose(cluster, tmp_path, kubeconfig):
    src = cluster.kubeconfig(kubeconfig)
    secrets = secret_windows(pathlib.Path(src).read_text())
    assert secrets
    name = unique_name("bi")
    configs = [(src, "default", (0,))]
    configs.append((str(wrong_name_kubeconfig(src, tmp_path, kubeconfig)), "default", (1,),
                    ACTIONS[1:2]))
    if kubeconfig == "token":
        # 401: a token the server does not know; 403: the limited user's token outside
        # its namespace. Both are token users.
        bad = tmp_path / "bad-token.kubeconfig"
        bad.write_text(re.sub(r"(token: )\S+", r"\g<1>0123456789abcdef0123456789abcdef",
                              pathlib.Path(src).read_text()))
        secrets |= windows("0123456789abcdef0123456789abcdef")
        configs.append((str(bad), "default", (1,)))
        limited = cluster.kubeconfig("limited")
        secrets |= secret_windows(pathlib.Path(limited).read_text())
        configs.append((limited, "default", (1,)))
    else:
        nobody = unprivileged_cert_kubeconfig(cluster, tmp_path, kubeconfig,
                                              "ec" if kubeconfig == "ec" else "rsa")
        secrets |= secret_windows(nobody.read_text())
        configs.append((str(nobody), "default", (1,)))
    for kc, ns, codes, *only in configs:
        for action in (only[0] if only else ACTIONS):
            r = run(action[0], "-v", "--kubeconfig", kc, "--name", name, "-n", ns,
                    "--pid", "31", *action[1:])
            assert r.returncode in codes, (kc, action, r.stderr)
            if codes == (0,):
                assert methods(r.stderr), "-v should show the requests"
            else:
                assert re.search(r"BR_ERR_X509_BAD_SERVER_NAME|401|403", r.stderr), r.stderr
            assert_no_secret(r, secrets)


def test_wrong_server_name_fails_at_once_with_one_line(cluster, tmp_path):
    kc = wrong_name_kubeconfig(cluster.kubeconfig(), tmp_path, "admin")
    for action in (["query"], ["acquire"]):
        try:
            r = run(*action, "--kubeconfig", str(kc), "--name", unique_name("bi"), timeout=6)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{action[0]} retried a certificate name mismatch for 6 s")
        assert r.returncode == 1
        assert len(r.stderr.splitlines()) == 1, r.stderr

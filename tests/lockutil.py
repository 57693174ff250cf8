"""Helpers for the integration tests: run the real carrier-lock binary against the
real local cluster, and read back what it stored with kubectl."""
import json
import os
import pathlib
import subprocess
import uuid

REPO = pathlib.Path(__file__).resolve().parent.parent
BIN = os.environ.get("CARRIER_LOCK_BIN", str(REPO / "carrier-lock"))


def unique_name(prefix="t"):
    """A fresh lock name, so every test has a lock of its own."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run(*args, timeout=60, env=None, **kw):
    """Run carrier-lock with args; returns CompletedProcess (text), never raises on exit."""
    full_env = dict(os.environ)
    full_env.pop("KUBECONFIG", None)
    if env:
        full_env.update(env)
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                          env=full_env, **kw)


class Lock:
    """One named lock on the cluster, driven through the binary."""

    def __init__(self, cluster, kubeconfig="admin", name=None, namespace=None):
        self.cluster = cluster
        self.kubeconfig = kubeconfig
        self.name = name or unique_name()
        self.namespace = namespace or ("locks" if kubeconfig == "limited" else "default")

    def args(self, action, *extra, pid=None, host=None):
        a = [action, "--kubeconfig", self.cluster.kubeconfig(self.kubeconfig),
             "--name", self.name]
        if pid is not None:
            a += ["--pid", str(pid)]
        if host is not None:
            a += ["--host", host]
        return a + list(extra)

    def do(self, action, *extra, pid=None, host=None, timeout=60):
        return run(*self.args(action, *extra, pid=pid, host=host), timeout=timeout)

    def query(self):
        r = self.do("query")
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("\n") == 1, r.stdout
        return json.loads(r.stdout)

    def configmap(self):
        """The ConfigMap as kubectl (an independent client) sees it, or None."""
        r = self.cluster.kubectl("get", "configmap", self.name, "-n", self.namespace,
                                 "-o", "json")
        if r.returncode != 0:
            assert "NotFound" in r.stderr, r.stderr
            return None
        return json.loads(r.stdout)

    def put_holder(self, text, fence="5"):
        """Writes data.holder by hand (as an operator editing the ConfigMap would)."""
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "data": {"holder": text, "fence": fence}}
        r = self.cluster.kubectl("apply", "-f", "-", input=json.dumps(body))
        assert r.returncode == 0, r.stderr


def wait_for(pred, timeout=30, what="condition"):
    """Polls pred() every 50 ms until it is truthy (returned) or timeout seconds pass."""
    import time
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid):
    """True while pid is a running process (a zombie counts as ended)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def token_kubeconfig(path, server):
    """Writes a kubeconfig for server (http://...) with a bearer token; returns its path."""
    path = pathlib.Path(path)
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: {server}
users:
- name: u
  user:
    token: abc
contexts:
- name: x
  context: {{cluster: c, user: u}}
current-context: x
""")
    return str(path)


def empty_root(binary, kubeconfig, tmp_path):
    """A directory holding only the binary and a kubeconfig, as a FROM scratch image
    would (chroot into it as root). Returns its path."""
    import shutil
    root = pathlib.Path(tmp_path) / "root"
    root.mkdir()
    shutil.copy(binary, root / "carrier-lock")
    shutil.copy(kubeconfig, root / "kubeconfig")
    return root


def sign_server_cert(pki, name, curve, out=None):
    """An EC server certificate NAME.crt/NAME.key (in out, default pki) for 127.0.0.1 and
    localhost, signed by the cluster's CA in pki; returns (crt, key)."""
    out = pathlib.Path(out or pki)
    key, crt, ext = (out / f"{name}.{x}" for x in ("key", "crt", "ext"))
    sh = dict(capture_output=True, text=True, check=True)
    subprocess.run(["openssl", "ecparam", "-name", curve, "-genkey", "-noout", "-out",
                    str(key)], **sh)
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    csr = subprocess.run(["openssl", "req", "-new", "-key", str(key), "-subj", "/CN=" + name],
                         **sh).stdout
    subprocess.run(["openssl", "x509", "-req", "-CA", str(pathlib.Path(pki) / "ca.crt"),
                    "-CAkey", str(pathlib.Path(pki) / "ca.key"), "-CAcreateserial", "-days",
                    "30", "-extfile", str(ext), "-out", str(crt)], input=csr, **sh)
    return crt, key

"""Ways of reaching the API server that a kubeconfig of the harness does not cover:
kubectl proxy (plain http), insecure-skip-tls-verify, in-cluster configuration."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from lockutil import BIN, Lock, run, unique_name, empty_root

pytestmark = pytest.mark.usefixtures("cluster")

SA_DIR = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")


def kubeconfig_for(server, user="{}", extra=""):
    return ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
            f"    server: {server}\n{extra}  name: c\ncontexts:\n- context:\n"
            "    cluster: c\n    user: u\n  name: x\ncurrent-context: x\n"
            f"users:\n- name: u\n  user: {user}\n")


def test_plain_http_through_kubectl_proxy(cluster, tmp_path):
    proxy = subprocess.Popen([str(cluster.dir / "kubectl"), "--kubeconfig",
                              cluster.kubeconfig(), "proxy", "--port=0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proxy.stdout.readline()
        port = re.search(r"127\.0\.0\.1:(\d+)", line).group(1)
        kc = tmp_path / "proxy.kubeconfig"
        kc.write_text(kubeconfig_for(f"http://127.0.0.1:{port}"))
        name = unique_name()
        base = ["--kubeconfig", str(kc), "--name", name]
        assert run("acquire", *base, "--pid", "5").returncode == 0
        assert json.loads(run("query", *base).stdout)["pid"] == "5"
        assert run("release", *base, "--pid", "5").returncode == 0
        assert Lock(cluster, name=name).query() == {}
    finally:
        proxy.terminate()
        proxy.wait()


def test_insecure_skip_tls_verify_works_and_warns(cluster, tmp_path):
    admin = open(cluster.kubeconfig()).read()
    cert = re.search(r"client-certificate-data: (\S+)", admin).group(1)
    key = re.search(r"client-key-data: (\S+)", admin).group(1)
    kc = tmp_path / "insecure.kubeconfig"
    kc.write_text(kubeconfig_for(
        cluster.server,
        user=f"\n    client-certificate-data: {cert}\n    client-key-data: {key}",
        extra="    insecure-skip-tls-verify: true\n"))
    r = run("query", "--kubeconfig", str(kc), "--name", unique_name())
    assert (r.returncode, r.stdout) == (0, "{}\n"), r.stderr
    assert "warning" in r.stderr and "verif" in r.stderr, r.stderr


def test_in_cluster_configuration(cluster, tmp_path):
    if SA_DIR.exists():
        pytest.skip(f"{SA_DIR} exists on this machine; not touching it")
    token = re.search(r"token: (\S+)", open(cluster.kubeconfig("limited")).read()).group(1)
    ca = re.search(r"certificate-authority-data: (\S+)",
                   open(cluster.kubeconfig("limited")).read()).group(1)
    created = SA_DIR
    while not created.parent.exists():
        created = created.parent
    SA_DIR.mkdir(parents=True)
    try:
        (SA_DIR / "token").write_text(token)
        subprocess.run(["sh", "-c", f"echo {ca} | base64 -d > {SA_DIR / 'ca.crt'}"], check=True)
        (SA_DIR / "namespace").write_text("locks")
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(cluster.port), "HOME": str(tmp_path)}
        name = unique_name()
        r = run("acquire", "--name", name, "--pid", "6", env=env)
        assert r.returncode == 0, r.stderr
        lock = Lock(cluster, name=name, namespace="locks")
        assert lock.configmap()["metadata"]["namespace"] == "locks"
        assert run("release", "--name", name, "--pid", "6", env=env).returncode == 0
    finally:
        shutil.rmtree(created)


class CuttableProxy:
    """A TCP forwarder to the API server whose connections the test can cut at will."""

    def __init__(self, port):
        import socket
        import threading
        self.target = ("127.0.0.1", port)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.conns = []
        self.accepted = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        import socket
        import threading
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = socket.create_connection(self.target)
            with self.lock:
                self.conns += [c, u]
                self.accepted += 1
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass

    def cut(self):
        import socket
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []

    def close(self):
        self.srv.close()
        self.cut()


def test_killed_watch_connection_still_ends_in_the_lock_taken(cluster, tmp_path):
    proxy = CuttableProxy(cluster.port)
    try:
        kc = tmp_path / "via-proxy.kubeconfig"
        kc.write_text(open(cluster.kubeconfig()).read().replace(
            f"127.0.0.1:{cluster.port}", f"127.0.0.1:{proxy.port}"))
        lock = Lock(cluster)
        assert lock.do("acquire", pid=61).returncode == 0
        waiter = subprocess.Popen([BIN, "acquire", "--kubeconfig", str(kc), "--name", lock.name, "--pid", "62",
            "--max-wait-time", "60s", "-v"], stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        before = proxy.accepted
        proxy.cut()                 # the watch (and the kept-alive connection) die
        time.sleep(1.5)
        assert waiter.poll() is None, "a dropped watch is not a reason to give up"
        assert lock.do("release", pid=61).returncode == 0
        _, err = waiter.communicate(timeout=60)
        assert waiter.returncode == 0, err
        assert proxy.accepted > before, "the waiter reconnected"
        assert lock.query()["pid"] == "62"
    finally:
        proxy.close()


def test_runs_in_an_empty_root_like_a_from_scratch_image(cluster, tmp_path):
    """The binary alone in an empty directory as root (no /proc, /dev, /etc, no libc):
    what a FROM scratch image gives it. Server by IP, so no resolver is needed either."""
    if os.geteuid() != 0 or BIN.endswith("asan/carrier-lock"):
        pytest.skip("needs root for chroot, and the static binary")
    root = empty_root(BIN, cluster.kubeconfig(), tmp_path)
    name = unique_name()

    def inside(*args):
        return subprocess.run(["chroot", str(root), "/carrier-lock", *args,
                               "--kubeconfig", "/kubeconfig", "--name", name],
                              capture_output=True, text=True, timeout=60)

    r = inside("acquire", "--pid", "7")
    assert r.returncode == 0, r.stderr
    rec = json.loads(inside("query").stdout)
    assert rec["pid"] == "7"
    assert "proc-start" not in rec and "boot-id" not in rec, "no /proc: not recorded"
    assert inside("release", "--pid", "7").returncode == 0
    assert sorted(p.name for p in root.iterdir()) == ["carrier-lock", "kubeconfig"]


def _rsa_key_with_primes_3_mod_4():
    """An RSA key whose public exponent BearSSL can recompute (p = q = 3 mod 4)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    while True:
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        n = k.private_numbers()
        if n.p % 4 == 3 and n.q % 4 == 3:
            return k


def _cert_for(public_key, ca_dir):
    """A client certificate for public_key, signed by the harness's CA."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carrier-mismatch")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_client_key_of_another_pair_is_refused_naming_it(cluster, tmp_path):
    """A client key that is not the certificate's is a kubeconfig error that says so,
    found before any request: another RSA key, another EC key, an RSA key whose modulus
    is the certificate's but whose exponent is not, and a key of the other type."""
    import base64
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    pki = cluster.dir / "pki"
    pem = serialization.Encoding.PEM
    trad = serialization.PrivateFormat.TraditionalOpenSSL
    none = serialization.NoEncryption()
    k = _rsa_key_with_primes_3_mod_4()
    same_n = rsa.RSAPublicNumbers(3, k.public_key().public_numbers().n).public_key()
    other_ec = ec.generate_private_key(ec.SECP256R1())
    cases = {
        "rsa-other": ((pki / "admin.crt").read_bytes(), (pki / "server.key").read_bytes()),
        "ec-other": ((pki / "admin-ec.crt").read_bytes(),
                     other_ec.private_bytes(pem, trad, none)),
        "rsa-exponent": (_cert_for(same_n, pki), k.private_bytes(pem, trad, none)),
        "type": ((pki / "admin.crt").read_bytes(), (pki / "admin-ec.key").read_bytes()),
    }
    for what, (crt, key) in cases.items():
        b64 = lambda b: base64.b64encode(b).decode()
        kc = tmp_path / f"{what}.kubeconfig"
        kc.write_text(kubeconfig_for(
            cluster.server,
            user=f"\n    client-certificate-data: {b64(crt)}\n    client-key-data: {b64(key)}",
            extra=f"    certificate-authority: {pki / 'ca.crt'}\n"))
        r = run("query", "--kubeconfig", str(kc), "--name", unique_name())
        assert r.returncode == 1, (what, r.stderr)
        assert "client key does not match client certificate" in r.stderr, (what, r.stderr)
        assert r.stdout == "", what
    # The same key with its own certificate is fine: the check is not a refusal of all.
    kc = tmp_path / "match.kubeconfig"
    kc.write_text(kubeconfig_for(
        cluster.server,
        user=("\n    client-certificate-data: "
              f"{base64.b64encode(_cert_for(k.public_key(), pki)).decode()}\n"
              "    client-key-data: "
              f"{base64.b64encode(k.private_bytes(pem, trad, none)).decode()}"),
        extra=f"    certificate-authority: {pki / 'ca.crt'}\n"))
    r = run("query", "--kubeconfig", str(kc), "--name", unique_name())
    assert "client key does not match" not in r.stderr, r.stderr

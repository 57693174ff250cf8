"""TLS 1.3-only servers: BearSSL speaks TLS 1.2, so a server that demands TLS 1.3 (OpenShift's
Modern TLS profile, kube-apiserver --tls-min-version=VersionTLS13) must get a message that
says exactly that. The servers: Python's ssl (OpenSSL) with a certificate of the tests' own,
which must work when it allows TLS 1.2, and a second kube-apiserver of the test cluster
started with --tls-min-version=VersionTLS13.
"""
import base64
import pathlib
import socket
import ssl
import subprocess
import threading
import time

from lockutil import BIN

NOT_FOUND = (b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps '
             b'\\"x\\" not found","reason":"NotFound","code":404}')


class TlsServer:
    """HTTPS on 127.0.0.1 that answers every request with a 404 Status (a free lock)."""

    def __init__(self, dir, minimum):
        self.cert, self.key = pathlib.Path(dir, "c.pem"), pathlib.Path(dir, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", str(self.key), "-out", str(self.cert), "-days", "2",
                        "-subj", "/CN=tls13-test", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = minimum
        self.ctx.load_cert_chain(self.cert, self.key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.handshakes, self.errors = 0, []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(20)
            s = self.ctx.wrap_socket(c, server_side=True)
            self.handshakes += 1
            data = b""
            while b"\r\n\r\n" not in data:
                more = s.recv(4096)
                if not more:
                    return
                data += more
            s.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                      b"Content-Length: " + str(len(NOT_FOUND)).encode() + b"\r\n\r\n" +
                      NOT_FOUND)
            s.close()
        except (OSError, ssl.SSLError) as e:
            self.errors.append(str(e))
        finally:
            c.close()

    def kubeconfig(self, dir):
        ca = base64.b64encode(self.cert.read_bytes()).decode()
        path = pathlib.Path(dir, "tls13.kubeconfig")
        path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: https://127.0.0.1:{self.port}
    certificate-authority-data: {ca}
users:
- name: t
  user:
    token: not-a-real-token
contexts:
- name: t
  context: {{cluster: t, user: t}}
current-context: t
""")
        return str(path)

    def stop(self):
        self.sock.close()


def query(kc):
    return subprocess.run([BIN, "query", "--kubeconfig", kc, "--name", "x",
                           "--request-timeout", "10s"], capture_output=True, text=True,
                          timeout=60)


def test_tls13_only_server_is_named(tmp_path):
    srv = TlsServer(tmp_path, ssl.TLSVersion.TLSv1_3)
    try:
        r = query(srv.kubeconfig(tmp_path))
    finally:
        srv.stop()
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1, r.stderr
    assert f"https://127.0.0.1:{srv.port}" in lines[0]
    assert "TLS handshake failed: the server accepts only TLS 1.3, and carrier-lock speaks " \
        "TLS 1.2 (BearSSL)" in lines[0], lines[0]
    assert srv.handshakes == 0


def test_server_that_also_speaks_tls12_works(tmp_path):
    srv = TlsServer(tmp_path, ssl.TLSVersion.TLSv1_2)
    try:
        r = query(srv.kubeconfig(tmp_path))
    finally:
        srv.stop()
    assert r.returncode == 0, r.stderr
    assert r.stdout == "{}\n"
    assert srv.handshakes >= 1


def test_kube_apiserver_with_tls13_minimum(cluster, tmp_path):
    """A second kube-apiserver of the test cluster (same etcd, certificate and users) with
    --tls-min-version=VersionTLS13, as OpenShift's Modern profile sets it: kubectl (Go,
    TLS 1.3) gets through, carrier-lock says why it cannot; the cluster's own server, which
    allows TLS 1.2, keeps working."""
    line = [l for l in (cluster.dir / "run-kube-apiserver.sh").read_text().splitlines()
            if l.startswith("exec ")][0]
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    argv = line.split()[1:]
    argv = [f"--secure-port={port}" if a.startswith("--secure-port=") else a for a in argv]
    argv.append("--tls-min-version=VersionTLS13")
    log = open(tmp_path / "apiserver13.log", "w")
    srv = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        kc = tmp_path / "tls13-apiserver.kubeconfig"
        kc.write_text(pathlib.Path(cluster.kubeconfig()).read_text().replace(
            f"https://127.0.0.1:{cluster.port}", f"https://127.0.0.1:{port}"))
        ready = False
        for _ in range(120):
            r = subprocess.run([str(cluster.dir / "kubectl"), "--kubeconfig", str(kc), "get",
                                "--raw", "/readyz"], capture_output=True, text=True,
                               timeout=30)
            if r.returncode == 0:
                ready = True
                break
            assert srv.poll() is None, (tmp_path / "apiserver13.log").read_text()[-2000:]
            time.sleep(0.5)
        assert ready, r.stderr
        r = subprocess.run([BIN, "query", "--kubeconfig", str(kc), "--name", "x"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and r.stdout == ""
        assert len(r.stderr.strip().split("\n")) == 1, r.stderr
        assert f"https://127.0.0.1:{port}" in r.stderr
        assert "the server accepts only TLS 1.3, and carrier-lock speaks TLS 1.2" in r.stderr
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        log.close()
    r = subprocess.run([BIN, "query", "--kubeconfig", cluster.kubeconfig(), "--name", "x"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr

"""TLS 1.3-only servers: BearSSL speaks TLS 1.2, so a server that demands TLS 1.3 (OpenShift's
Modern TLS profile, kube-apiserver --tls-min-version=VersionTLS13) must get a message that
says exactly that. The server is Python's ssl (OpenSSL), a real TLS 1.3 implementation, with
a certificate of the tests' own; the same server allowing TLS 1.2 must work.
"""
import base64
import pathlib
import socket
import ssl
import subprocess
import threading

import pytest

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

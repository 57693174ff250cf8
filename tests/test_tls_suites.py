"""The trimmed TLS engine (src/tls_engine.c) against servers that offer one suite or one curve.

Suites: the real kube-apiserver, restarted with --tls-cipher-suites limited to two suites,
one for RSA and one for ECDSA certificates, and a P-256 ECDSA certificate for the name
localhost (--tls-sni-cert-key) beside its RSA one. A connection by IP sends no SNI and
gets the RSA certificate, one by localhost gets the ECDSA one, so each connection has
exactly one suite the server may pick. `-v` names the negotiated suite and curve, and openssl s_client shows
that a suite outside the list is refused, so the restriction is real.

Curves: kube-apiserver has no flag that limits its curves (Go's crypto/tls takes
CurvePreferences only from code) and Go picks the first curve the client lists (P-256 for
us). So each curve is tested against OpenSSL instead: a TLS server from Python's ssl
module limited to that one curve (set_ecdh_curve), with a server certificate of the
cluster's CA, forwarding the bytes to kube-apiserver over its own TLS connection. What that
proves: our client completes ECDHE on that curve with a mainstream server and then talks
to the real API server through it; not that kube-apiserver would pick that curve.
"""
import os
import pathlib
import re
import select
import socket
import ssl
import subprocess
import tempfile
import threading

import pytest

from conftest import cluster_down, cluster_up
from lockutil import BIN, sign_server_cert, unique_name

# kube-apiserver refuses to start unless its list has an AES-128-GCM suite (HTTP/2 needs
# one), so each case pairs the suite under test with AES-128-GCM for the *other*
# certificate type, which that connection cannot use. By IP the client gets the RSA
# certificate, by localhost the ECDSA one: (suite as -v names it, Go's list, kubeconfig).
RSA128, EC128 = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
# Each restart: Go's list, and per kubeconfig the one suite its certificate allows. Four
# restarts cover the six suites (AES-128-GCM rides along where it is needed anyway).
SUITES = [
    (["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", EC128],
     {"admin": "ECDHE-RSA-AES256-GCM-SHA384", "admin-dns": "ECDHE-ECDSA-AES128-GCM-SHA256"}),
    (["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", RSA128],
     {"admin": "ECDHE-RSA-AES128-GCM-SHA256", "admin-dns": "ECDHE-ECDSA-AES256-GCM-SHA384"}),
    (["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", EC128],
     {"admin": "ECDHE-RSA-CHACHA20-POLY1305"}),
    (["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", RSA128],
     {"admin-dns": "ECDHE-ECDSA-CHACHA20-POLY1305"}),
]
OURS = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"]
# Go's server also offers ECDHE with AES-CBC-SHA by default; the trimmed client does not.
RSA_CBC = "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"


@pytest.fixture(scope="module")
def own_cluster():
    """A cluster of this module's own: its kube-apiserver is restarted with other flags."""
    d = tempfile.mkdtemp(prefix="carrier-lock-tls.")
    try:
        c = cluster_up(d)
        c.ec_crt, c.ec_key = sign_server_cert(c.dir / "pki", "server-ec", "prime256v1")
        c.run_script = (c.dir / "run-kube-apiserver.sh").read_text()
        yield c
    finally:
        cluster_down(d)


def restart_with(c, *flags):
    """Restart the cluster's kube-apiserver with its own flags plus these."""
    script = c.run_script.rstrip("\n") + " " + " ".join(flags) + "\n"
    (c.dir / "run-kube-apiserver.sh").write_text(script)
    r = subprocess.run([str(c.dir / "restart-apiserver.sh")], capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr


def negotiated(c, kubeconfig):
    """Runs query -v; returns (exit code, the "TLS 1.2 SUITE, CURVE" part or None, stderr)."""
    r = subprocess.run([BIN, "query", "-v", "--kubeconfig", kubeconfig, "--name",
                        unique_name("tls")], capture_output=True, text=True, timeout=60)
    m = re.search(r"TLS 1\.2 (\S+), (\S+)", r.stderr)
    return r.returncode, (m.group(1), m.group(2)) if m else None, r.stderr


def s_client_ok(port, cipher, servername=None):
    """True when openssl s_client completes a TLS 1.2 handshake offering only this suite."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-cipher",
           cipher, "-brief"]
    if servername:
        cmd += ["-servername", servername]
    r = subprocess.run(cmd, input="", capture_output=True, text=True, timeout=30)
    return "CONNECTION ESTABLISHED" in r.stderr


def test_the_cases_cover_every_suite_of_the_engine():
    assert sorted(x for _, want in SUITES for x in want.values()) == sorted(OURS)


@pytest.mark.parametrize("go_list,want", SUITES, ids=["+".join(w.values()) for _, w in SUITES])
def test_each_suite_with_kube_apiserver_offering_only_it(own_cluster, go_list, want):
    c = own_cluster
    restart_with(c, "--tls-cipher-suites=" + ",".join(go_list),
                 f"--tls-sni-cert-key={c.ec_crt},{c.ec_key}:localhost")
    for kubeconfig, suite in want.items():
        sni = "localhost" if kubeconfig == "admin-dns" else None
        # The server really is limited: for this certificate only this suite gets through.
        assert s_client_ok(c.port, suite, sni), suite
        for other in OURS:
            if other != suite and other.split("-")[1] == suite.split("-")[1]:
                assert not s_client_ok(c.port, other, sni), other
        code, got, err = negotiated(c, c.kubeconfig(kubeconfig))
        assert code == 0, err
        assert got is not None and got[0] == suite, err
        if kubeconfig == "admin":   # the EC client certificate signs with this suite too
            code, got, err = negotiated(c, c.kubeconfig("ec"))
            assert code == 0, err
            assert got is not None and got[0] == suite, err


def test_a_server_offering_only_cbc_is_refused_with_one_clear_line(own_cluster):
    c = own_cluster
    restart_with(c, f"--tls-cipher-suites={RSA_CBC},{EC128}")
    assert s_client_ok(c.port, "ECDHE-RSA-AES128-SHA")
    code, got, err = negotiated(c, c.kubeconfig("admin"))
    assert code == 1
    assert got is None
    lines = [l for l in err.splitlines() if "handshake failed" in l]
    assert len(lines) == 1, err
    assert c.server in lines[0]


class CurveProxy:
    """TLS 1.2 server limited to one curve; forwards each connection to kube-apiserver."""

    def __init__(self, c, curve, crt, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(str(crt), str(key))
        self.ctx.set_ecdh_curve(curve)
        self.up = ssl.create_default_context(cafile=str(c.dir / "pki" / "ca.crt"))
        self.target = ("127.0.0.1", c.port)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(raw,), daemon=True).start()

    def one(self, raw):
        try:
            down = self.ctx.wrap_socket(raw, server_side=True)
            self.handshakes += 1
            up = self.up.wrap_socket(socket.create_connection(self.target),
                                     server_hostname="127.0.0.1")
        except (OSError, ssl.SSLError):
            raw.close()
            return

        # One thread per connection pair: an SSL object must not be read and written
        # from two threads at once. pending() covers records already decrypted.
        try:
            while True:
                ready = [x for x in (down, up) if x.pending()]
                if not ready:
                    ready = select.select([down, up], [], [], 60)[0]
                if not ready:
                    break
                for x in ready:
                    data = x.recv(65536)
                    if not data:
                        return
                    (up if x is down else down).sendall(data)
        except OSError:
            pass
        finally:
            down.close()
            up.close()

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("curve,name,cert_curve", [
    ("prime256v1", "P-256", "prime256v1"),
    ("secp384r1", "P-384", "secp384r1"),
    ("X25519", "X25519", None),
])
def test_each_curve_with_a_server_that_offers_only_it(own_cluster, tmp_path, curve, name,
                                                     cert_curve):
    c = own_cluster
    pki = c.dir / "pki"
    if cert_curve is None:      # ECDHE_RSA with the cluster's own RSA server certificate
        crt, key = pki / "server.crt", pki / "server.key"
    else:                       # ECDHE_ECDSA, the certificate's key on the same curve
        crt, key = sign_server_cert(pki, f"server-{cert_curve}", cert_curve)
    proxy = CurveProxy(c, curve, crt, key)
    try:
        kc = tmp_path / "token.kubeconfig"
        kc.write_text(pathlib.Path(c.kubeconfig("token")).read_text().replace(
            f"https://127.0.0.1:{c.port}", f"https://127.0.0.1:{proxy.port}"))
        code, got, err = negotiated(c, str(kc))
        assert code == 0, err
        assert got is not None and got[1] == name, err
        assert got[0].startswith("ECDHE-RSA-" if cert_curve is None else "ECDHE-ECDSA-"), err
        assert proxy.handshakes >= 1
    finally:
        proxy.close()

"""A small OpenID Connect issuer for the tests, real in protocol: HTTPS (its own CA),
discovery (/.well-known/openid-configuration), JWKS, and a token endpoint that takes
grant_type=refresh_token with the client authenticated by HTTP Basic or in the form
(RFC 6749 2.3.1), and returns RS256-signed id_tokens (signed by the openssl CLI, the same
tool the cluster harness uses). kube-apiserver verifies those tokens against it
(--oidc-issuer-url), so it must run before the cluster starts and while it runs.

Refresh tokens rotate: each refresh returns a new one, and only the latest is accepted.
`mode` makes the token endpoint fail on purpose: "ok", "invalid_grant" (400 with an OAuth
error), "garbage" (200 with bytes that are not JSON), "no_id_token" (200 without
id_token), "not_jwt" (an id_token that is no JWT), "stall" (no reply for 30 s), "no_discovery" (404 for carrier-lock's discovery request), "no_refresh" (200 without
refresh_token: the old one stays valid).
`calls` counts requests by carrier-lock (its User-Agent) per path; kube-apiserver's own
discovery and JWKS requests are not counted.
"""
import base64
import json
import pathlib
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "carrier-lock-test"
CLIENT_SECRET = "s3cret&with:odd chars"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class TLSServer(ThreadingHTTPServer):
    """HTTPS with each connection's handshake in that connection's own thread. (A listening
    socket wrapped whole does every handshake inside accept(), in the one serving thread:
    a slow handshake there holds up every other client, kube-apiserver's JWKS fetches and
    carrier-lock's alike, and the backlog behind it is five.)"""
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, addr, handler, ctx):
        self.ctx = ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except OSError:         # the client gave up, or refused our certificate
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


class Issuer:
    def __init__(self, dir):
        self.dir = pathlib.Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        d = str(self.dir)
        openssl("genrsa", "-out", "ca.key", "2048", cwd=d)
        openssl("req", "-x509", "-new", "-key", "ca.key", "-days", "2", "-subj",
                "/CN=carrier-lock-test-oidc-ca", "-out", "ca.crt", cwd=d)
        openssl("genrsa", "-out", "server.key", "2048", cwd=d)
        openssl("req", "-new", "-key", "server.key", "-subj", "/CN=127.0.0.1", "-out",
                "server.csr", cwd=d)
        (self.dir / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.crt",
                cwd=d)
        # The signing key the JWKS publishes, and one it does not (for rejected tokens).
        openssl("genrsa", "-out", "sign.key", "2048", cwd=d)
        openssl("genrsa", "-out", "other.key", "2048", cwd=d)
        mod = subprocess.run(["openssl", "rsa", "-in", "sign.key", "-noout", "-modulus"],
                             cwd=d, check=True, capture_output=True, text=True).stdout
        n = int(mod.strip().split("=", 1)[1], 16)
        self.jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
                    "n": b64url(n.to_bytes((n.bit_length() + 7) // 8, "big")),
                    "e": b64url((65537).to_bytes(3, "big"))}
        self.ca = str(self.dir / "ca.crt")
        self.mode = "ok"
        self.lifetime = 3600
        self.lock = threading.Lock()
        self.calls = {}
        self.refresh_token = "rt-" + uuid.uuid4().hex
        self.last_id_token = None
        self.auth_seen = []
        self.basic_ok = True    # False: Basic is refused (401), as by a post-only client
        self.on_discovery = None  # called when carrier-lock fetches discovery (a race)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.dir / "server.crt"), str(self.dir / "server.key"))
        self.server = TLSServer(("127.0.0.1", 0), self._handler(), ctx)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self, path):
        with self.lock:
            return self.calls.get(path, 0)

    def mint(self, sub="alice", exp_in=3600, key="sign.key", aud=CLIENT_ID):
        """An RS256 id_token for sub, expiring exp_in seconds from now (negative: past)."""
        now = int(time.time())
        head = {"alg": "RS256", "typ": "JWT", "kid": "k1"}
        body = {"iss": self.url, "sub": sub, "aud": aud, "iat": now - 60,
                "exp": now + exp_in, "jti": uuid.uuid4().hex}
        signing = (b64url(json.dumps(head).encode()) + "." +
                   b64url(json.dumps(body).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                             cwd=str(self.dir), input=signing, check=True,
                             capture_output=True).stdout
        return signing.decode() + "." + b64url(sig)

    def _handler(self):
        iss = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _count(self):
                if self.headers.get("User-Agent", "").startswith("carrier-lock/"):
                    path = urllib.parse.urlsplit(self.path).path
                    with iss.lock:
                        iss.calls[path] = iss.calls.get(path, 0) + 1

            def _send(self, status, body, ctype="application/json"):
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._count()
                if self.path == "/.well-known/openid-configuration":
                    ua = self.headers.get("User-Agent", "")
                    if iss.on_discovery is not None and ua.startswith("carrier-lock/"):
                        iss.on_discovery()
                    if iss.mode == "no_discovery" and ua.startswith("carrier-lock/"):
                        return self._send(404, b"404 page not found", "text/plain")
                    self._send(200, {
                        "issuer": iss.url, "jwks_uri": iss.url + "/jwks",
                        "token_endpoint": iss.url + "/token",
                        "authorization_endpoint": iss.url + "/auth",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"]})
                elif self.path == "/jwks":
                    self._send(200, {"keys": [iss.jwk]})
                else:
                    self._send(404, {"error": "not_found"})

            def _client(self, form):
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                    iss.auth_seen.append("basic")
                    if not iss.basic_ok:
                        return None
                    return (urllib.parse.unquote_plus(user),
                            urllib.parse.unquote_plus(pw))
                iss.auth_seen.append("form")
                return form.get("client_id", [""])[0], form.get("client_secret", [""])[0]

            def do_POST(self):
                self._count()
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n).decode()
                if self.path != "/token":
                    return self._send(404, {"error": "not_found"})
                if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
                    return self._send(400, {"error": "invalid_request",
                                            "error_description": "not a form"})
                form = urllib.parse.parse_qs(raw)
                if (form.get("grant_type") != ["refresh_token"]):
                    return self._send(400, {"error": "unsupported_grant_type"})
                if self._client(form) != (CLIENT_ID, CLIENT_SECRET):
                    return self._send(401, {"error": "invalid_client"})
                with iss.lock:
                    mode = iss.mode
                    ok = form.get("refresh_token") == [iss.refresh_token]
                if mode == "invalid_grant" or not ok:
                    return self._send(400, {"error": "invalid_grant",
                                            "error_description": "Token is not active\x1b[31m"})
                if mode == "stall":
                    time.sleep(30)
                    return
                if mode == "garbage":
                    return self._send(200, b"<html>\x00\x01 not json", "text/html")
                idt = iss.mint(exp_in=iss.lifetime)
                reply = {"access_token": "at-" + uuid.uuid4().hex, "token_type": "Bearer",
                         "expires_in": iss.lifetime}
                if mode == "not_jwt":
                    idt = "not-a-jwt"
                if mode != "no_id_token":
                    reply["id_token"] = idt
                with iss.lock:
                    if mode != "no_refresh":
                        iss.refresh_token = "rt-" + uuid.uuid4().hex
                        reply["refresh_token"] = iss.refresh_token
                    if mode != "no_id_token":
                        iss.last_id_token = idt
                self._send(200, reply)

        return H

"""Proxies, as client-go uses them, against the real cluster: a cluster's proxy-url (http://
CONNECT, socks5:// with and without user/password), HTTPS_PROXY/https_proxy/HTTP_PROXY and
NO_PROXY/no_proxy with Go's rules, cross-checked with the cluster's kubectl through the same
proxies, and proxies that misbehave.

The proxies are the tests' own (real HTTP CONNECT and SOCKS5 on loopback) and count the
tunnels and bytes they carry. The API server is reached by the name carrier-lock-proxied.test,
which no resolver knows: only these proxies map it to 127.0.0.1 (the server certificate of
tests/cluster carries it). So a connection that bypassed the proxy cannot reach the server,
and a proxy that saw no tunnel proves that nothing went through it.
"""
import base64
import json
import os
import pathlib
import select
import socket
import subprocess
import threading
import time

import pytest

from lockutil import BIN, unique_name

PROXIED = "carrier-lock-proxied.test"
# TEST-NET-1 (RFC 5737): routed nowhere; the proxies map it to 127.0.0.1 as well.
FAR_IP = "192.0.2.10"
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY",
              "no_proxy", "ALL_PROXY", "all_proxy")
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error")


class Proxy:
    """An HTTP CONNECT (kind "http") or SOCKS5 (kind "socks5") proxy on 127.0.0.1.

    auth=(user, password) makes it demand credentials. behave makes it misbehave:
    http: "407", "403", "502", "close", "stall", "garbage"; socks5: "refuse" (reply code 5),
    "bad-reply", "stall". It counts tunnels, bytes each way, the targets asked for and the
    credentials it was sent.
    """

    def __init__(self, kind="http", auth=None, behave=None):
        self.kind, self.auth, self.behave = kind, auth, behave
        self.names = {PROXIED: "127.0.0.1", FAR_IP: "127.0.0.1"}
        self.lock = threading.Lock()
        self.conns = self.tunnels = self.up = self.down = 0
        self.targets, self.creds = [], []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.open = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, userinfo=""):
        return f"{self.kind}://{userinfo}127.0.0.1:{self.port}"

    def shown(self):
        return f"{self.kind}://127.0.0.1:{self.port}"

    def stop(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for s in list(self.open):
            try:
                s.close()
            except OSError:
                pass

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
            self.open.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        up = None
        try:
            c.settimeout(60)
            up = self._http(c) if self.kind == "http" else self._socks5(c)
            if up is not None:
                with self.lock:
                    self.tunnels += 1
                self._relay(c, up)
        except OSError:
            pass
        finally:
            for s in (c, up):
                if s is not None:
                    s.close()

    def _dial(self, host, port):
        return socket.create_connection((self.names.get(host, host), port), timeout=30)

    def _stall(self, c):
        while not self.closed and c.recv(4096):
            pass

    def _http(self, c):
        head = b""
        while b"\r\n\r\n" not in head:
            data = c.recv(4096)
            if not data:
                return None
            head += data
            assert len(head) < 65536
        lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        hdrs = {k.strip().lower(): v.strip() for k, v in
                (l.split(":", 1) for l in lines[1:] if ":" in l)}
        with self.lock:
            self.targets.append(target)
            self.creds.append(hdrs.get("proxy-authorization"))
        b = self.behave
        if method != "CONNECT":
            c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return None
        if b == "close":
            return None
        if b == "stall":
            self._stall(c)
            return None
        if b == "garbage":
            c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            self._stall(c)
            return None
        want = None
        if self.auth:
            want = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        if b == "407" or (want and hdrs.get("proxy-authorization") != want):
            c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                      b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            return None
        if b in ("403", "502"):
            text = {"403": b"Forbidden", "502": b"Bad Gateway"}[b]
            c.sendall(b"HTTP/1.1 " + b.encode() + b" " + text + b"\r\nContent-Length: 0\r\n\r\n")
            return None
        host, port = target.rsplit(":", 1)
        up = self._dial(host.strip("[]"), int(port))
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        return up

    def _recv(self, c, n):
        data = b""
        while len(data) < n:
            more = c.recv(n - len(data))
            if not more:
                raise OSError("closed")
            data += more
        return data

    def _socks5(self, c):
        ver, n = self._recv(c, 2)
        methods = self._recv(c, n)
        assert ver == 5
        if self.auth:
            if 2 not in methods:
                c.sendall(b"\x05\xff")
                return None
            c.sendall(b"\x05\x02")
            _, ulen = self._recv(c, 2)
            user = self._recv(c, ulen).decode()
            plen = self._recv(c, 1)[0]
            password = self._recv(c, plen).decode()
            with self.lock:
                self.creds.append((user, password))
            if (user, password) != tuple(self.auth):
                c.sendall(b"\x01\x01")
                return None
            c.sendall(b"\x01\x00")
        else:
            c.sendall(b"\x05\x00")
        _, cmd, _, atyp = self._recv(c, 4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, self._recv(c, 4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, self._recv(c, 16))
        else:
            host = self._recv(c, self._recv(c, 1)[0]).decode()
        port = int.from_bytes(self._recv(c, 2), "big")
        with self.lock:
            self.targets.append(f"{host}:{port}")
        if self.behave == "stall":
            self._stall(c)
            return None
        if self.behave == "bad-reply":
            c.sendall(b"\x04\x5a\x00\x00\x00\x00\x00\x00")
            return None
        if self.behave == "refuse" or cmd != 1:
            c.sendall(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
            return None
        up = self._dial(host, port)
        c.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + port.to_bytes(2, "big"))
        return up

    def _relay(self, a, b):
        a.settimeout(None)
        b.settimeout(None)
        while not self.closed:
            r, _, _ = select.select([a, b], [], [], 1)
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
                with self.lock:
                    if s is a:
                        self.up += len(data)
                    else:
                        self.down += len(data)


@pytest.fixture
def proxy():
    made = []

    def make(kind="http", auth=None, behave=None):
        p = Proxy(kind, auth, behave)
        made.append(p)
        return p
    yield make
    for p in made:
        p.stop()


def kubeconfig(cluster, dir, host=PROXIED, proxy_url=None, extra=""):
    """The cluster's admin.kubeconfig with the server reached by host (and proxy-url)."""
    text = pathlib.Path(cluster.kubeconfig()).read_text()
    old = f"server: https://127.0.0.1:{cluster.port}"
    assert text.count(old) == 1
    new = f"server: https://{host}:{cluster.port}"
    if proxy_url is not None:
        new += f"\n    proxy-url: {proxy_url}"
    if extra:
        new += "\n    " + extra
    path = pathlib.Path(dir) / f"{unique_name('kc')}.kubeconfig"
    path.write_text(text.replace(old, new))
    return str(path)


def clean_env(**add):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and k != "KUBECONFIG"}
    env.update(add)
    return env


def cl(kc, *args, env=None, timeout=90):
    r = subprocess.run([BIN, *args, "--kubeconfig", kc], capture_output=True, text=True,
                       timeout=timeout, env=env if env is not None else clean_env())
    for s in SANITIZER:
        assert s not in r.stderr, r.stderr
    return r


def kubectl(cluster, kc, *args, env=None):
    return subprocess.run([str(cluster.dir / "kubectl"), "--kubeconfig", kc, *args],
                          capture_output=True, text=True, timeout=60,
                          env=env if env is not None else clean_env())


def configmap(cluster, name):
    """The lock's ConfigMap data as kubectl sees it directly (no proxy), or None."""
    r = cluster.kubectl("get", "configmap", name, "-o", "jsonpath={.data}")
    if r.returncode != 0:
        assert "NotFound" in r.stderr, r.stderr
        return None
    return json.loads(r.stdout or "{}")


def holder(cluster, name):
    """The holder's record (a dict) on the cluster, or None when free or absent."""
    data = configmap(cluster, name)
    rec = json.loads((data or {}).get("holder") or "{}")
    return rec or None


def take_and_release(cluster, kc, env=None):
    name = unique_name("px")
    r = cl(kc, "acquire", "--name", name, "--max-wait-time", "0", env=env)
    assert r.returncode == 0, r.stderr
    mine = holder(cluster, name)
    assert mine is not None, "the lock is not held on the cluster"
    r = cl(kc, "query", "--name", name, env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["pid"] == mine["pid"], r.stderr
    r = cl(kc, "release", "--name", name, env=env)
    assert r.returncode == 0, r.stderr
    assert holder(cluster, name) is None, "release did not free the lock"
    return name


# ---- the cluster's proxy-url ----

@pytest.mark.parametrize("kind,auth", [("http", None), ("http", ("alice", "s3cr:et@/x")),
                                       ("socks5", None), ("socks5", ("bob", "hunter2"))])
def test_proxy_url_takes_and_releases(cluster, tmp_path, proxy, kind, auth):
    p = proxy(kind, auth)
    userinfo = ""
    if auth:
        userinfo = auth[0] + ":" + auth[1].replace("%", "%25").replace(":", "%3A") \
            .replace("@", "%40").replace("/", "%2F") + "@"
    kc = kubeconfig(cluster, tmp_path, proxy_url=p.url(userinfo))
    take_and_release(cluster, kc)
    assert p.tunnels >= 3 and p.up > 0 and p.down > 0
    # The target is the API server by its name (the proxy resolves it), never the proxy.
    assert set(p.targets) == {f"{PROXIED}:{cluster.port}"}, p.targets
    if auth and kind == "http":
        want = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        assert set(p.creds) == {want}, p.creds
    if auth and kind == "socks5":
        assert set(p.creds) == {auth}, p.creds


def test_proxy_url_with_ip_server_and_tls_server_name(cluster, tmp_path, proxy):
    """The certificate is checked against tls-server-name; the tunnel goes to the IP."""
    p = proxy("socks5")
    kc = kubeconfig(cluster, tmp_path, host=FAR_IP, proxy_url=p.url(),
                    extra=f"tls-server-name: {PROXIED}")
    take_and_release(cluster, kc)
    assert set(p.targets) == {f"{FAR_IP}:{cluster.port}"}, p.targets


def test_proxy_url_checks_the_api_servers_name_not_the_proxys(cluster, tmp_path, proxy):
    """Through the proxy to 192.0.2.10 with no tls-server-name: the certificate (SANs
    127.0.0.1, localhost, carrier-lock-proxied.test) is not valid for it."""
    p = proxy("http")
    kc = kubeconfig(cluster, tmp_path, host=FAR_IP, proxy_url=p.url())
    name = unique_name("px")
    r = cl(kc, "acquire", "--name", name, "--max-wait-time", "0")
    assert r.returncode == 1
    assert "not valid for IP 192.0.2.10" in r.stderr, r.stderr
    assert p.tunnels >= 1
    assert holder(cluster, name) is None


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_waiter_gets_the_handoff_through_the_proxy(cluster, tmp_path, proxy, kind):
    p = proxy(kind)
    kc = kubeconfig(cluster, tmp_path, proxy_url=p.url())
    name = unique_name("px")
    r = cl(kc, "acquire", "--name", name, "--max-wait-time", "0", "--pid", "1",
           "--host", "px-holder")
    assert r.returncode == 0, r.stderr
    w = subprocess.Popen([BIN, "acquire", "--name", name, "--max-wait-time", "60s",
                          "--kubeconfig", kc, "-v"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        # The waiter is watching once it said so on stderr (-v); then release.
        deadline = time.monotonic() + 30
        seen = ""
        while "watch" not in seen and time.monotonic() < deadline:
            line = w.stderr.readline()
            if not line:
                break
            seen += line
        assert "watch" in seen, seen
        before = p.tunnels
        r = cl(kc, "force-release", "--name", name)
        assert r.returncode == 0, r.stderr
        out, err = w.communicate(timeout=60)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert w.returncode == 0, seen + err
    assert p.tunnels > before
    h = holder(cluster, name)
    assert h is not None and h["host"] != "px-holder"
    cl(kc, "force-release", "--name", name)


def test_proxy_url_ignores_no_proxy(cluster, tmp_path, proxy):
    """As Go's http.ProxyURL: a kubeconfig's proxy-url applies to every host."""
    p = proxy("http")
    kc = kubeconfig(cluster, tmp_path, proxy_url=p.url())
    take_and_release(cluster, kc, env=clean_env(NO_PROXY="*"))
    assert p.tunnels >= 3


def test_proxy_url_is_used_even_for_loopback(cluster, tmp_path, proxy):
    p = proxy("http")
    kc = kubeconfig(cluster, tmp_path, host="127.0.0.1", proxy_url=p.url())
    take_and_release(cluster, kc)
    assert set(p.targets) == {f"127.0.0.1:{cluster.port}"}


def test_kubectl_through_the_same_proxy_url(cluster, tmp_path, proxy):
    """kubectl (client-go) and carrier-lock share the kubeconfig and the proxy."""
    for kind in ("http", "socks5"):
        p = proxy(kind, ("carol", "pw"))
        kc = kubeconfig(cluster, tmp_path, proxy_url=p.url("carol:pw@"))
        name = unique_name("px")
        r = cl(kc, "acquire", "--name", name, "--max-wait-time", "0")
        assert r.returncode == 0, r.stderr
        mine = p.tunnels
        r = kubectl(cluster, kc, "get", "configmap", name, "-o", "jsonpath={.data}")
        assert r.returncode == 0, r.stderr
        assert 'host' in json.loads(r.stdout)["holder"]
        assert p.tunnels > mine, "kubectl did not use the proxy"
        assert set(p.targets) == {f"{PROXIED}:{cluster.port}"}, p.targets
        assert cl(kc, "release", "--name", name).returncode == 0


def test_user_info_is_never_printed(cluster, tmp_path, proxy):
    p = proxy("http", ("dave", "Top-Secret-77"))
    kc = kubeconfig(cluster, tmp_path, proxy_url=p.url("dave:Top-Secret-77@"))
    name = unique_name("px")
    r = cl(kc, "acquire", "--name", name, "--max-wait-time", "0", "-v")
    assert r.returncode == 0, r.stderr
    assert p.shown() in r.stderr, r.stderr
    # A refused password is reported without it.
    p2 = proxy("http", ("dave", "right"))
    kc2 = kubeconfig(cluster, tmp_path, proxy_url=p2.url("dave:Top-Secret-77@"))
    r2 = cl(kc2, "query", "--name", name, "-v", "--request-timeout", "5s")
    assert r2.returncode == 1
    assert "407" in r2.stderr and p2.shown() in r2.stderr, r2.stderr
    for out in (r.stderr, r2.stderr):
        assert "Top-Secret-77" not in out and "dave" not in out, out
        assert base64.b64encode(b"dave:Top-Secret-77").decode() not in out
    assert cl(kc, "release", "--name", name).returncode == 0


# ---- the environment ----

def tunnels_used(p, fn):
    before = p.tunnels
    fn()
    return p.tunnels - before


@pytest.mark.parametrize("var", ["HTTPS_PROXY", "https_proxy"])
@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_https_proxy_variables(cluster, tmp_path, proxy, var, kind):
    p = proxy(kind)
    kc = kubeconfig(cluster, tmp_path)
    env = clean_env(**{var: p.url()})
    take_and_release(cluster, kc, env=env)
    assert p.tunnels >= 3
    assert set(p.targets) == {f"{PROXIED}:{cluster.port}"}
    # kubectl agrees.
    before = p.tunnels
    r = kubectl(cluster, kc, "get", "configmap", "--ignore-not-found", "x", env=env)
    assert r.returncode == 0, r.stderr
    assert p.tunnels > before


def test_upper_case_wins_and_empty_counts_as_unset(cluster, tmp_path, proxy):
    upper, lower = proxy("http"), proxy("http")
    kc = kubeconfig(cluster, tmp_path)
    take_and_release(cluster, kc, env=clean_env(HTTPS_PROXY=upper.url(),
                                                https_proxy=lower.url()))
    assert upper.tunnels >= 3 and lower.tunnels == 0
    take_and_release(cluster, kc, env=clean_env(HTTPS_PROXY="", https_proxy=lower.url()))
    assert lower.tunnels >= 3


def test_scheme_without_proxy_url_is_http(cluster, tmp_path, proxy):
    """As Go: "host:port" in a variable means http://host:port."""
    p = proxy("http")
    kc = kubeconfig(cluster, tmp_path)
    take_and_release(cluster, kc, env=clean_env(HTTPS_PROXY=f"127.0.0.1:{p.port}"))
    assert p.tunnels >= 3


def direct_failed(r):
    """carrier-lock tried the server directly: the name resolves nowhere, or FAR_IP is
    unreachable; either way no proxy was asked."""
    return r.returncode == 1 and ("cannot resolve host" in r.stderr or FAR_IP in r.stderr)


# NO_PROXY value, server host, proxied?  (Go's rules: exact, suffix, leading dot, *, port,
# IP and CIDR entries against IP literals.)
NO_PROXY_CASES = [
    (PROXIED, PROXIED, False),
    (".test", PROXIED, False),
    ("*.test", PROXIED, False),
    ("test", PROXIED, False),
    ("proxied.test", PROXIED, True),
    (f"{PROXIED}:1", PROXIED, True),
    (f"{PROXIED}:@PORT", PROXIED, False),
    ("*", PROXIED, False),
    ("example.com, .other.test", PROXIED, True),
    ("example.com , CARRIER-LOCK-PROXIED.TEST", PROXIED, False),
    ("192.0.2.0/24", FAR_IP, False),
    ("192.0.3.0/24", FAR_IP, True),
    (FAR_IP, FAR_IP, False),
    (f"{FAR_IP}:1", FAR_IP, True),
    (".test", FAR_IP, True),
]


@pytest.mark.parametrize("no_proxy,host,proxied", NO_PROXY_CASES)
def test_no_proxy(cluster, tmp_path, proxy, no_proxy, host, proxied):
    p = proxy("http")
    no_proxy = no_proxy.replace("@PORT", str(cluster.port))
    extra = f"tls-server-name: {PROXIED}" if host == FAR_IP else ""
    kc = kubeconfig(cluster, tmp_path, host=host, extra=extra)
    env = clean_env(HTTPS_PROXY=p.url(), NO_PROXY=no_proxy)
    # An unroutable FAR_IP makes a direct try wait for the timeout: keep it short.
    timeout = "1s" if host == FAR_IP and not proxied else "3s"
    r = cl(kc, "query", "--name", unique_name("px"), "--request-timeout", timeout, env=env)
    if proxied:
        assert r.returncode == 0 and r.stdout == "{}\n", r.stderr
        assert p.tunnels >= 1
    else:
        assert direct_failed(r), r.stderr
        assert p.tunnels == 0 and p.conns == 0, "went through the proxy despite NO_PROXY"
    # kubectl (Go's own rules) decides the same.
    before = p.conns
    r = kubectl(cluster, kc, "get", "configmap", "--ignore-not-found", "x",
                "--request-timeout", timeout, env=env)
    assert (p.conns > before) == proxied, (r.returncode, r.stderr)


def test_lower_case_no_proxy(cluster, tmp_path, proxy):
    p = proxy("http")
    kc = kubeconfig(cluster, tmp_path)
    r = cl(kc, "query", "--name", "x", "--request-timeout", "3s",
           env=clean_env(HTTPS_PROXY=p.url(), no_proxy=PROXIED))
    assert direct_failed(r) and p.conns == 0, r.stderr
    # NO_PROXY wins over no_proxy.
    r = cl(kc, "query", "--name", "x", "--request-timeout", "3s",
           env=clean_env(HTTPS_PROXY=p.url(), NO_PROXY="example.com", no_proxy=PROXIED))
    assert r.returncode == 0 and p.tunnels >= 1, r.stderr


def test_http_proxy_is_not_for_https_servers(cluster, tmp_path, proxy):
    p = proxy("http")
    kc = kubeconfig(cluster, tmp_path)
    r = cl(kc, "query", "--name", "x", "--request-timeout", "3s",
           env=clean_env(HTTP_PROXY=p.url(), http_proxy=p.url()))
    assert direct_failed(r) and p.conns == 0, r.stderr


@pytest.mark.parametrize("var", ["HTTP_PROXY", "http_proxy"])
def test_http_proxy_for_an_http_server(cluster, tmp_path, proxy, var):
    """An http:// API server (kubectl proxy in front of the cluster) through HTTP_PROXY;
    HTTPS_PROXY is not for it. carrier-lock tunnels http too (CONNECT). kubectl proxy takes
    only requests whose Host is the server's name."""
    kp = subprocess.Popen([str(cluster.dir / "kubectl"), "--kubeconfig", cluster.kubeconfig(),
                           "proxy", "--port=0", f"--accept-hosts=^{PROXIED}$"],
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        port = int(kp.stdout.readline().rsplit(":", 1)[1])
        p, other = proxy("http"), proxy("http")
        kc = pathlib.Path(tmp_path, "http.kubeconfig")
        kc.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                      f"    server: http://{PROXIED}:{port}\ncontexts:\n- name: x\n"
                      "  context: {cluster: c, user: u}\ncurrent-context: x\n"
                      "users:\n- name: u\n  user: {}\n")
        take_and_release(cluster, str(kc), env=clean_env(**{var: p.url(),
                                                            "HTTPS_PROXY": other.url()}))
        assert p.tunnels >= 3 and other.conns == 0
        assert set(p.targets) == {f"{PROXIED}:{port}"}
    finally:
        kp.terminate()
        kp.wait()


@pytest.mark.parametrize("kc_name", ["admin", "admin-dns"])
def test_loopback_is_never_proxied(cluster, tmp_path, proxy, kc_name):
    p = proxy("http")
    env = clean_env(HTTPS_PROXY=p.url())
    take_and_release(cluster, cluster.kubeconfig(kc_name), env=env)
    assert p.conns == 0


# ---- proxies that misbehave: one line naming the proxy, bounded time, lock untouched ----

HOSTILE = [
    ("http", None, "407", "refused CONNECT", "407 Proxy Authentication Required"),
    ("http", None, "403", "refused CONNECT", "403 Forbidden"),
    ("http", None, "502", "refused CONNECT", "502 Bad Gateway"),
    ("http", None, "close", "closed the connection", "reply to CONNECT"),
    ("http", None, "stall", "timed out", "reply to CONNECT"),
    ("http", None, "garbage", "garbage", "SSH-2.0-OpenSSH_9.6"),
    ("socks5", ("u", "right"), None, "rejected the user name and password", ""),
    ("socks5", None, "bad-reply", "not a SOCKS5 reply", ""),
    ("socks5", None, "refuse", "connection refused", "reply code 5"),
    ("socks5", None, "stall", "timed out", "SOCKS5 CONNECT reply"),
]


@pytest.mark.parametrize("kind,auth,behave,says,also", HOSTILE,
                         ids=[f"{h[0]}-{h[2] or 'auth'}" for h in HOSTILE])
def test_hostile_proxy(cluster, tmp_path, proxy, kind, auth, behave, says, also):
    p = proxy(kind, auth, behave)
    kc = kubeconfig(cluster, tmp_path, proxy_url=p.url("u:wrong-pw@" if auth else ""))
    name = unique_name("px")
    # A refusal that may pass (502, a close, a stall, SOCKS5 "connection refused") is
    # retried like an unreachable server; acquire is run for one of them (the retries end
    # and report once), query (bounded by --request-timeout as a whole) for all.
    actions = [["query"]]
    if behave not in ("close", "stall", "refuse"):
        actions.append(["acquire", "--max-wait-time", "0"])
    for action in actions:
        r = cl(kc, *action, "--name", name, "--request-timeout", "2s", timeout=60)
        assert r.returncode == 1, r.stderr
        lines = r.stderr.strip().split("\n")
        assert len(set(lines)) == 1, r.stderr
        assert p.shown() in lines[0] and says in lines[0] and also in lines[0], lines[0]
        assert "wrong-pw" not in r.stderr and r.stdout == ""
    assert p.conns >= len(actions)
    assert configmap(cluster, name) is None, "the lock appeared"


def test_dead_proxy(cluster, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kc = kubeconfig(cluster, tmp_path, proxy_url=f"http://127.0.0.1:{port}")
    r = cl(kc, "query", "--name", "x", "--request-timeout", "2s")
    assert r.returncode == 1
    assert f"proxy http://127.0.0.1:{port}: connection refused" in r.stderr, r.stderr


# ---- bad proxy settings: file:line or the variable, exit 1, nothing sent ----

BAD_PROXY_URLS = [
    ("ftp://127.0.0.1:21", "scheme must be"),
    ("127.0.0.1:3128", "has no scheme"),
    ("http://", "has no host"),
    ("http://127.0.0.1:0", "port must be"),
    ("http://127.0.0.1:99999", "port must be"),
    ("http://127.0.0.1:3128/some/path", "has a path"),
    ("http://[::1:3128", "bad IPv6"),
    ("http://user:pa%zzss@127.0.0.1:3128", "bad %-escape"),
    ("socks5://u:p@ss/w@127.0.0.1:1080", "has a path"),
    ("https://user:pw@127.0.0.1:3128", "https:// proxies"),
]


@pytest.mark.parametrize("url,says", BAD_PROXY_URLS)
def test_bad_proxy_url(cluster, tmp_path, proxy, url, says):
    p = proxy("http")
    real = url.replace("127.0.0.1:3128", f"127.0.0.1:{p.port}")
    kc = kubeconfig(cluster, tmp_path, host="127.0.0.1", proxy_url=real)
    lineno = next(i for i, l in enumerate(pathlib.Path(kc).read_text().split("\n"), 1)
                  if "proxy-url" in l)
    name = unique_name("px")
    r = cl(kc, "acquire", "--name", name, "--max-wait-time", "0")
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.strip().split("\n")) == 1, r.stderr
    assert f"{kc}:{lineno}:" in r.stderr and "proxy-url" in r.stderr and says in r.stderr, \
        r.stderr
    for secret in ("pa%zzss", "pw@", "p@ss"):
        assert secret not in r.stderr
    assert p.conns == 0
    assert configmap(cluster, name) is None


BAD_ENV = [
    ("HTTPS_PROXY", "ftp://127.0.0.1:21", "scheme must be"),
    ("HTTPS_PROXY", "http://127.0.0.1:0", "port must be"),
    ("https_proxy", "http://u:se%zzcret@127.0.0.1:3128", "bad %-escape"),
    ("HTTPS_PROXY", "https://u:pw@127.0.0.1:3128", "https:// proxies"),
]


@pytest.mark.parametrize("var,value,says", BAD_ENV)
def test_bad_proxy_variable(cluster, tmp_path, proxy, var, value, says):
    p = proxy("http")
    kc = kubeconfig(cluster, tmp_path)
    name = unique_name("px")
    r = cl(kc, "acquire", "--name", name, "--max-wait-time", "0",
           env=clean_env(**{var: value.replace("3128", str(p.port))}))
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.strip().split("\n")) == 1, r.stderr
    assert f"environment variable {var}" in r.stderr and says in r.stderr, r.stderr
    assert "se%zzcret" not in r.stderr and "pw@" not in r.stderr
    assert p.conns == 0
    assert configmap(cluster, name) is None

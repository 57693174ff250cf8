"""An HTTPS gateway in front of the test cluster's kube-apiserver, real in protocol.

A TLS server with a certificate of the cluster's CA that parses each HTTP/1.1 request on a
kept-alive connection and forwards it, its path prefix removed, over TLS to the real
kube-apiserver, passing its replies (watch streams included) back as they come. It stands
in for what sits between users and their API servers: Rancher's /k8s/clusters/ID proxy
(test_server_path), or an older API server's answers to one kind of request (a hook).
"""
import re
import select
import socket
import ssl
import threading

from lockutil import sign_server_cert

PREFIX = "/k8s/clusters/c-m-4x7kq2"


def gateway_cert(cluster, dir):
    """A server certificate for 127.0.0.1 by the cluster's CA: (crt, key)."""
    return sign_server_cert(cluster.dir / "pki", "gateway", "prime256v1", dir)


def gateway_kubeconfig(cluster, tmp_path, server):
    """The cluster's token kubeconfig (admin's bearer token, its CA) with server replaced."""
    text = open(cluster.kubeconfig("token")).read()
    text, n = re.subn(r"(?m)^(\s*server: ).*$", lambda m: m.group(1) + server, text)
    assert n == 1, text
    path = tmp_path / "gateway.kubeconfig"
    path.write_text(text)
    return str(path)


class Gateway:
    """HTTPS on 127.0.0.1 that serves the API under prefix, as Rancher's proxy does.

    hook(method, target), if given, sees each request (target without the prefix) before
    it is forwarded, and may return the bytes of a whole HTTP response to send instead
    (None: forward it); it runs on that connection's thread, so it may also wait."""

    def __init__(self, cluster, crt, key, prefix=PREFIX, hook=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(crt), str(key))
        self.up = ssl.create_default_context(cafile=str(cluster.dir / "pki" / "ca.crt"))
        self.target = ("127.0.0.1", cluster.port)
        self.prefix = prefix
        self.hook = hook
        self.seen = []          # request lines as they arrived
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def url(self, path=None):
        return f"https://127.0.0.1:{self.port}{self.prefix if path is None else path}"

    def serve(self):
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(raw,), daemon=True).start()

    def next_request(self, buf):
        """(head, body, rest) of the first whole request in buf, or None."""
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = buf[:end + 4]
        m = re.search(rb"\r\ncontent-length: *(\d+)\r\n", head, re.I)
        n = int(m.group(1)) if m else 0
        if len(buf) < end + 4 + n:
            return None
        return head, buf[end + 4:end + 4 + n], buf[end + 4 + n:]

    def one(self, raw):
        try:
            down = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        up = None
        buf = b""
        try:
            while True:
                ready = [x for x in (down, up) if x is not None and x.pending()]
                if not ready:
                    ready = select.select([x for x in (down, up) if x is not None], [], [],
                                          120)[0]
                if not ready:
                    return
                for x in ready:
                    data = x.recv(65536)
                    if not data:
                        return
                    if x is up:
                        down.sendall(data)
                        continue
                    buf += data
                    while (req := self.next_request(buf)) is not None:
                        head, body, buf = req
                        line, _, fields = head.partition(b"\r\n")
                        method, target, version = line.split(b" ")
                        self.seen.append(line.decode())
                        if not target.startswith(self.prefix.encode() + b"/"):
                            msg = b"404 page not found\n"
                            down.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain"
                                         b"\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))
                            continue
                        inner = target[len(self.prefix):]
                        if self.hook is not None and (
                                canned := self.hook(method.decode(), inner.decode())):
                            down.sendall(canned)
                            continue
                        if up is None:
                            up = self.up.wrap_socket(socket.create_connection(self.target),
                                                     server_hostname="127.0.0.1")
                        up.sendall(b" ".join((method, inner, version)) +
                                   b"\r\n" + fields + body)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            down.close()
            if up is not None:
                up.close()

    def close(self):
        self.sock.close()

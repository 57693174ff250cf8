"""Name resolution (src/resolve.c, src/dns.c) on the real cluster, with a nameserver of
the test's own: a real DNS server in protocol (RFC 1035 over UDP) on 127.53.0.1:53, and
/etc/hosts and /etc/resolv.conf of the test's making, bind-mounted over the real ones in a
mount namespace of carrier-lock's own (unshare -m: root). The API server's certificate
names carrier-lock-proxied.test, which no real resolver knows: only this nameserver, or
the hosts file, maps it to 127.0.0.1."""
import json
import os
import shutil
import socket
import struct
import subprocess
import threading

import pytest

from lockutil import BIN, unique_name

NS = "127.53.0.1"
NAME = "carrier-lock-proxied.test"


def can_mount():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "mount", "--bind", "/etc/hosts", "/etc/hosts"],
                          capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not can_mount(), reason="needs root and unshare -m")


class Nameserver:
    """Answers A and AAAA queries from a table: name -> list of addresses, "nxdomain",
    "servfail" or "silent". Unknown names are NXDOMAIN. Every question is logged as
    (name, type)."""

    def __init__(self, table):
        self.table = {k.lower(): v for k, v in table.items()}
        self.asked = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((NS, 53))
        self.sock.settimeout(0.2)
        self.done = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.done = True
        self.thread.join()
        self.sock.close()

    def _serve(self):
        while not self.done:
            try:
                msg, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            reply = self._answer(msg)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def _answer(self, msg):
        qid, flags, qd = struct.unpack(">HHH", msg[:6])
        at, labels = 12, []
        while msg[at] != 0:
            labels.append(msg[at + 1:at + 1 + msg[at]].decode())
            at += 1 + msg[at]
        qtype, _ = struct.unpack(">HH", msg[at + 1:at + 5])
        question = msg[12:at + 5]
        name = ".".join(labels).lower()
        self.asked.append((name, {1: "A", 28: "AAAA"}.get(qtype, qtype)))
        what = self.table.get(name, "nxdomain")
        if what == "silent":
            return None
        rcode, records = 0, b""
        if what == "nxdomain":
            rcode = 3
        elif what == "servfail":
            rcode = 2
        else:
            count = 0
            for addr in what:
                fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
                if (qtype == 28) != (fam == socket.AF_INET6):
                    continue
                data = socket.inet_pton(fam, addr)
                records += b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 30, len(data)) + data
                count += 1
            return struct.pack(">HHHHHH", qid, 0x8180, 1, count, 0, 0) + question + records
        return struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, 0, 0, 0) + question


@pytest.fixture
def nameserver():
    made = []

    def make(table):
        made.append(Nameserver(table))
        return made[-1]
    yield make
    for n in made:
        n.stop()


class Root:
    """The hosts and resolv.conf files carrier-lock sees, and a way to run it there."""

    def __init__(self, tmp_path, hosts="", resolv=f"nameserver {NS}\n"):
        self.hosts = tmp_path / "hosts"
        self.resolv = tmp_path / "resolv.conf"
        self.hosts.write_text(hosts)
        self.resolv.write_text(resolv)

    def run(self, *args, timeout=90):
        script = ('mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && '
                  'shift 2 && exec "$@"')
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(self.hosts),
                               str(self.resolv), BIN, *args],
                              capture_output=True, text=True, timeout=timeout, env=env)


def kubeconfig_for(cluster, tmp_path, host):
    """The admin kubeconfig with its server named host (same port)."""
    text = open(cluster.kubeconfig("admin-dns")).read()
    text = text.replace(f"https://localhost:{cluster.port}", f"https://{host}:{cluster.port}")
    assert host in text
    path = tmp_path / f"{host.strip('.') or 'x'}.kubeconfig"
    path.write_text(text)
    return str(path)


def holder(cluster, name):
    r = cluster.kubectl("get", "configmap", name, "-o", "json")
    if r.returncode != 0:
        return None
    text = json.loads(r.stdout).get("data", {}).get("holder")
    return json.loads(text) if text else None


def test_a_name_from_the_nameserver_through_the_search_list(cluster, tmp_path, nameserver):
    """ndots:5 puts the search domain first: its NXDOMAIN moves on to the name as it is,
    whose A record takes and frees the lock on the real cluster."""
    ns = nameserver({f"{NAME}.svc.cluster.local": "nxdomain", NAME: ["127.0.0.1"]})
    root = Root(tmp_path, resolv=f"nameserver {NS}\nsearch svc.cluster.local\n"
                                 "options ndots:5 timeout:2\n")
    kc = kubeconfig_for(cluster, tmp_path, NAME)
    name = unique_name("dns")
    r = root.run("acquire", "--kubeconfig", kc, "--name", name)
    assert r.returncode == 0, r.stderr
    assert holder(cluster, name) is not None
    asked = sorted(set(ns.asked))
    assert asked == sorted({(f"{NAME}.svc.cluster.local", "A"),
                            (f"{NAME}.svc.cluster.local", "AAAA"),
                            (NAME, "A"), (NAME, "AAAA")}), ns.asked
    assert ns.asked.index((f"{NAME}.svc.cluster.local", "A")) < ns.asked.index((NAME, "A"))
    r = root.run("release", "--kubeconfig", kc, "--name", name)
    assert r.returncode == 0, r.stderr
    assert holder(cluster, name) is None


def test_a_final_dot_asks_for_the_name_only(cluster, tmp_path, nameserver):
    ns = nameserver({NAME: ["127.0.0.1"]})
    root = Root(tmp_path, resolv=f"nameserver {NS}\nsearch svc.cluster.local\n"
                                 "options ndots:5\n")
    kc = kubeconfig_for(cluster, tmp_path, NAME + ".")
    # The certificate names the host without the dot; TLS checks what tls-server-name says.
    text = open(kc).read().replace("    server:", f"    tls-server-name: {NAME}\n    server:")
    open(kc, "w").write(text)
    r = root.run("query", "--kubeconfig", kc, "--name", unique_name("dns"))
    assert r.returncode == 0, r.stderr
    assert {n for n, _ in ns.asked} == {NAME}, ns.asked


def test_a_silent_nameserver_is_named_and_bounded(cluster, tmp_path, nameserver):
    """No answer: the message names the nameserver and its resolv.conf limits."""
    nameserver({"silent.test": "silent"})
    root = Root(tmp_path, resolv=f"nameserver {NS}\noptions timeout:1 attempts:1\n")
    kc = kubeconfig_for(cluster, tmp_path, "silent.test")
    r = root.run("query", "--kubeconfig", kc, "--request-timeout", "3s")
    assert r.returncode == 1, r.stderr
    assert (f'cannot resolve host "silent.test": no answer for silent.test from the '
            f'nameserver ({NS}) in 1 tries of 1 s') in r.stderr, r.stderr


def test_the_request_timeout_bounds_a_slow_nameserver(cluster, tmp_path, nameserver):
    """resolv.conf allows 2 tries of 30 s; --request-timeout 2s ends the wait first and
    says the deadline passed (getaddrinfo() took no deadline: it waited the 60 s)."""
    nameserver({"slow.test": "silent"})
    root = Root(tmp_path, resolv=f"nameserver {NS}\noptions timeout:30 attempts:2\n")
    kc = kubeconfig_for(cluster, tmp_path, "slow.test")
    r = root.run("query", "--kubeconfig", kc, "--request-timeout", "2s", timeout=50)
    assert r.returncode == 1, r.stderr
    assert f"no answer for slow.test from the nameserver ({NS}) before the deadline" \
        in r.stderr, r.stderr


def test_servfail_is_named_and_never_falls_through_to_another_name(cluster, tmp_path,
                                                                    nameserver):
    """A failure of the first search domain stops there: the name must not become another
    domain's address."""
    ns = nameserver({"api.a.test": "servfail", "api.b.test": ["127.0.0.1"],
                     "api": ["127.0.0.1"]})
    root = Root(tmp_path, resolv=f"nameserver {NS}\nsearch a.test b.test\n"
                                 "options attempts:1\n")
    kc = kubeconfig_for(cluster, tmp_path, "api")
    r = root.run("query", "--kubeconfig", kc)
    assert r.returncode == 1, r.stderr
    assert f"the nameserver ({NS}) answered SERVFAIL (the server failed) for api.a.test" \
        in r.stderr, r.stderr
    assert {n for n, _ in ns.asked} == {"api.a.test"}, ns.asked


def test_an_unknown_name_says_where_it_looked(cluster, tmp_path, nameserver):
    nameserver({})
    root = Root(tmp_path, resolv=f"nameserver {NS}\nsearch a.test\n")
    kc = kubeconfig_for(cluster, tmp_path, "nowhere")
    r = root.run("query", "--kubeconfig", kc)
    assert r.returncode == 1, r.stderr
    assert (f'cannot resolve host "nowhere": no such host (not in /etc/hosts; the '
            f'nameserver ({NS}) knows no address for it, nor with the search domains of '
            f'/etc/resolv.conf)') in r.stderr, r.stderr


def test_localhost_needs_no_hosts_file_and_no_nameserver(cluster, tmp_path, nameserver):
    """RFC 6761: localhost is the loopback address, also in a FROM scratch image that has
    no /etc/hosts (here: an empty one), and the nameserver is never asked."""
    ns = nameserver({})
    root = Root(tmp_path, hosts="")
    name = unique_name("dns")
    r = root.run("acquire", "--kubeconfig", cluster.kubeconfig("admin-dns"), "--name", name)
    assert r.returncode == 0, r.stderr
    assert ns.asked == []
    r = root.run("release", "--kubeconfig", cluster.kubeconfig("admin-dns"), "--name", name)
    assert r.returncode == 0, r.stderr


def test_a_long_hosts_line_is_read_past_musls_512_bytes(cluster, tmp_path, nameserver):
    """The name at byte 700 of its line is found; the nameserver is never asked."""
    ns = nameserver({})
    aliases = " ".join(f"alias-{i:04d}.example" for i in range(40))
    line = f"127.0.0.1 {aliases} {NAME}\n"
    assert line.index(NAME) > 600
    root = Root(tmp_path, hosts="# made by the test\n" + line + "::1 localhost\n")
    kc = kubeconfig_for(cluster, tmp_path, NAME)
    r = root.run("query", "--kubeconfig", kc, "--name", unique_name("dns"))
    assert r.returncode == 0, r.stderr
    assert ns.asked == []


def test_ipv4_is_tried_before_ipv6(cluster, tmp_path, nameserver):
    """The API server listens on 127.0.0.1 only: with ::1 listed too, 127.0.0.1 is
    tried first, so the connection never goes to an address that refuses it."""
    nameserver({NAME: ["::1", "127.0.0.1"]})
    root = Root(tmp_path)
    kc = kubeconfig_for(cluster, tmp_path, NAME)
    r = root.run("query", "-v", "--kubeconfig", kc, "--name", unique_name("dns"))
    assert r.returncode == 0, r.stderr
    assert "refused" not in r.stderr

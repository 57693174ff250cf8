"""Command-line and kubeconfig edges that do not fit tests/data/bad_input/cases.json:
values that must not be echoed raw (a 10 KB --host with control bytes), an unprintable
host name from the kernel, empty --context / --namespace meaning "not given" as kubectl
has it, and kubeconfigs with CR LF and old Mac (CR only) line ends, as kubectl reads.

Each runs ./carrier-lock and build/asan/carrier-lock (ASan + UBSan) against the real
local cluster; a listening "tripwire" server stands in for it where nothing may be sent.
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import threading

import pytest

from lockutil import REPO, unique_name

BINARIES = {"static": REPO / "carrier-lock", "asan": REPO / "build" / "asan" / "carrier-lock"}
SANITIZER = (b"AddressSanitizer", b"LeakSanitizer", b"runtime error",
             b"UndefinedBehaviorSanitizer")

pytestmark = pytest.mark.usefixtures("cluster")


@pytest.fixture(params=sorted(BINARIES), scope="module")
def binary(request):
    path = BINARIES[request.param]
    if not path.is_file():
        pytest.fail(f"{path} is missing: run ./build.sh and ./build.sh asan", pytrace=False)
    return str(path)


class Tripwire:
    """A listening socket that counts connections: nothing may connect to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()


@pytest.fixture(scope="module")
def tripwire(cluster, tmp_path_factory):
    """(Tripwire, path of the admin kubeconfig pointed at it)."""
    t = Tripwire()
    kc = tmp_path_factory.mktemp("tripwire") / "tripwire.kubeconfig"
    kc.write_text(pathlib.Path(cluster.kubeconfig()).read_text().replace(
        cluster.server, f"https://127.0.0.1:{t.port}"))
    yield t, str(kc)
    t.sock.close()


def run(binary, args, prefix=()):
    """Runs [*prefix, binary, *args] (args may be bytes); stdout and stderr as bytes."""
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = "/nonexistent"
    r = subprocess.run([*prefix, binary, *args], capture_output=True, timeout=60, env=env)
    for s in SANITIZER:
        assert s not in r.stderr, r.stderr.decode(errors="replace")
    return r


def printable(b):
    """Only printable ASCII and line feeds: no raw control or non-ASCII byte."""
    return all(0x20 <= c < 0x7f or c == 0x0a for c in b)


def configmap(cluster, name, ns):
    r = cluster.kubectl("get", "configmap", name, "-n", ns, "-o", "json")
    if r.returncode != 0:
        assert "NotFound" in r.stderr, r.stderr
        return None
    return json.loads(r.stdout)


# ---- --host: a usage error that names the value, shown safely ----

def test_host_10k_with_control_bytes_is_cut_and_sanitised(binary, tripwire):
    trip, kc = tripwire
    value = b"h\t\xc3\xb6\x1b[2J" + b"x" * 10240
    hits = trip.hits
    for args in ([b"acquire", b"--host", value], [b"release", b"--host=" + value]):
        r = run(binary, [*args, b"--kubeconfig", kc.encode(), b"--name", b"edge-host"])
        assert r.returncode == 2, r.stderr
        assert r.stdout == b""
        err = r.stderr
        assert printable(err), err[:400]
        assert len(err) < 1024, f"the 10 KB value was not cut: {len(err)} bytes"
        assert b'--host' in err and b'"h????[2Jxxxx' in err, err
        assert b'xxx..."' in err, err
        assert len(err.splitlines()) == 2 and err.startswith(b"carrier-lock: "), err
    assert trip.hits == hits, "a bad --host connected to the server"


def unshare_works():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--uts", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not unshare_works(), reason="needs root and unshare --uts")
def test_unprintable_kernel_host_name_is_refused_and_suggests_host(binary, cluster, tripwire):
    """A host name from the kernel that is not printable ASCII: exit 1, shown safely,
    pointing at --host; with --host the same process takes the lock."""
    trip, kc = tripwire
    name = unique_name("edge")
    set_name = ["unshare", "--uts", "sh", "-c",
                'printf "ci agent\\033[2J" > /proc/sys/kernel/hostname && exec "$0" "$@"']
    hits = trip.hits
    r = run(binary, ["acquire", "--kubeconfig", kc, "--name", name], prefix=set_name)
    assert r.returncode == 1, r.stderr
    assert printable(r.stderr), r.stderr
    assert b'"ci agent?[2J"' in r.stderr and b"--host" in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert trip.hits == hits, "an unusable host name still connected to the server"
    admin = cluster.kubeconfig()
    r = run(binary, ["acquire", "--kubeconfig", admin, "--name", name, "--host", "ci-agent",
                     "--pid", "4242"], prefix=set_name)
    assert r.returncode == 0, r.stderr
    holder = json.loads(configmap(cluster, name, "default")["data"]["holder"])
    assert holder["host"] == "ci-agent"
    r = run(binary, ["release", "--kubeconfig", admin, "--name", name, "--host", "ci-agent",
                     "--pid", "4242"])
    assert r.returncode == 0, r.stderr


# ---- --context "" and --namespace "": not given, as kubectl ----

def test_empty_context_means_current_context(binary, cluster):
    kc = cluster.kubeconfig()
    name = unique_name("edge")
    for args in (["--context", ""], ["--context="]):
        r = run(binary, ["acquire", "--kubeconfig", kc, "--name", name, "--pid", "4242",
                         "--max-wait-time", "0", *args])
        assert r.returncode == 0, r.stderr
        assert configmap(cluster, name, "default")["data"]["holder"]
        r = run(binary, ["release", "--kubeconfig", kc, "--name", name, "--pid", "4242",
                         *args])
        assert r.returncode == 0, r.stderr
        assert "holder" not in configmap(cluster, name, "default")["data"]


def test_empty_namespace_means_the_contexts(binary, cluster, tmp_path):
    """-n "" is the context's namespace (here kube-public), not "default" and not an
    error; the same holds for --namespace= and after an earlier -n."""
    kc = tmp_path / "kube-public.kubeconfig"
    text = pathlib.Path(cluster.kubeconfig()).read_text()
    assert text.count("namespace: default") == 1
    kc.write_text(text.replace("namespace: default", "namespace: kube-public"))
    for args in (["-n", ""], ["--namespace="], ["-n", "locks", "--namespace", ""]):
        name = unique_name("edge")
        r = run(binary, ["acquire", "--kubeconfig", str(kc), "--name", name, "--pid", "4242",
                         "--max-wait-time", "0", *args])
        assert r.returncode == 0, r.stderr
        assert configmap(cluster, name, "kube-public")["data"]["holder"]
        assert configmap(cluster, name, "default") is None
        assert configmap(cluster, name, "locks") is None
        r = run(binary, ["force-release", "--kubeconfig", str(kc), "--name", name, *args])
        assert r.returncode == 0, r.stderr
        assert cluster.kubectl("delete", "configmap", name, "-n", "kube-public").returncode == 0


# ---- kubeconfig line ends: LF, CR LF, CR (old Mac) ----

@pytest.mark.parametrize("eol", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_kubeconfig_line_ends(binary, cluster, tmp_path, eol):
    admin = pathlib.Path(cluster.kubeconfig()).read_text()
    assert "\r" not in admin
    kc = tmp_path / "eol.kubeconfig"
    kc.write_bytes(admin.replace("\n", eol).encode())
    name = unique_name("edge")
    base = ["--kubeconfig", str(kc), "--name", name, "--pid", "4242"]
    r = run(binary, ["acquire", *base, "--max-wait-time", "0", "--print-token"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().isdigit(), r.stdout
    r = run(binary, ["query", *base])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["pid"] == "4242"
    r = run(binary, ["release", *base])
    assert r.returncode == 0, r.stderr

    # An error in such a file names the line an editor shows.
    lines = admin.split("\n")
    assert lines.count("    user: admin") == 1
    want = lines.index("    user: admin") + 1
    kc.write_bytes(admin.replace("    user: admin", "    user: ghost").replace(
        "\n", eol).encode())
    r = run(binary, ["acquire", *base, "--max-wait-time", "0"])
    assert r.returncode == 1, r.stderr
    assert f"{kc}:{want}: ".encode() in r.stderr and b'"ghost"' in r.stderr, r.stderr
    assert configmap(cluster, name, "default")["data"].get("holder") is None

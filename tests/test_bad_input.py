"""Bad input, data-driven from tests/data/bad_input/cases.json: bad flags and durations,
broken kubeconfigs (each one the cluster's real admin.kubeconfig with one targeted edit),
API errors and hand-edited lock ConfigMaps.

Every case checks the documented exit code (2 usage, 1 otherwise), a message of at most
two lines on stderr that names what is wrong and where, nothing on stdout, and that the
lock on the cluster did not change: a held lock keeps its resourceVersion, an absent one
does not appear, and for usage and kubeconfig errors a listening "tripwire" server in the
kubeconfig receives no connection at all. The whole table runs against ./carrier-lock and
build/asan/carrier-lock (ASan + UBSan), whose stderr must hold no sanitizer report.
"""
import base64
import json
import os
import pathlib
import re
import shutil
import socket
import ssl
import http.client
import subprocess
import tempfile
import threading

import pytest

from lockutil import REPO, unique_name

DATA = REPO / "tests" / "data" / "bad_input"
TABLE = json.loads((DATA / "cases.json").read_text())["cases"]
BINARIES = {"static": REPO / "carrier-lock", "asan": REPO / "build" / "asan" / "carrier-lock"}
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error", "UndefinedBehaviorSanitizer")
REC = '{"host":"bi-other-host","pid":"1","start-time":"2021-11-11 11:35:06.500703278 +0000 UTC"}'
LONGNAME = "a" * 254

pytestmark = pytest.mark.usefixtures("cluster")


# ---- an independent client: Python's own HTTPS with the admin certificate ----

class Api:
    """Minimal ConfigMap reader/writer as cluster-admin, independent of carrier-lock."""

    def __init__(self, cluster, dir):
        kc = pathlib.Path(cluster.kubeconfig("admin")).read_text()

        def field(key):
            return base64.b64decode(re.search(rf"{key}: (\S+)", kc).group(1))
        cert, key = pathlib.Path(dir, "c.pem"), pathlib.Path(dir, "k.pem")
        cert.write_bytes(field("client-certificate-data"))
        key.write_bytes(field("client-key-data"))
        self.ctx = ssl.create_default_context(cadata=field("certificate-authority-data").decode())
        self.ctx.load_cert_chain(cert, key)
        self.port = cluster.port

    def call(self, method, path, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        try:
            c.request(method, path, body=None if body is None else json.dumps(body),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def get(self, name, ns="default"):
        status, body = self.call("GET", f"/api/v1/namespaces/{ns}/configmaps/{name}")
        if status == 404:
            return None
        assert status == 200, (status, body[:300])
        return json.loads(body)

    def rv(self, name, ns="default"):
        cm = self.get(name, ns)
        return None if cm is None else cm["metadata"]["resourceVersion"]

    def create(self, name, data, ns="default"):
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": ns}, "data": data}
        status, reply = self.call("POST", f"/api/v1/namespaces/{ns}/configmaps", body)
        assert status == 201, (status, reply[:300])


@pytest.fixture(scope="module")
def api(cluster, tmp_path_factory):
    return Api(cluster, tmp_path_factory.mktemp("api"))


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
def tripwire():
    t = Tripwire()
    yield t
    t.sock.close()


@pytest.fixture(scope="module")
def workdir():
    """World-traversable scratch directory (the unreadable case runs as nobody)."""
    d = tempfile.mkdtemp(prefix="carrier-lock-bad-input.")
    os.chmod(d, 0o755)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(params=sorted(BINARIES), scope="module")
def binary(request):
    path = BINARIES[request.param]
    if not path.is_file():
        pytest.fail(f"{path} is missing: run ./build.sh and ./build.sh asan", pytrace=False)
    return str(path)


# ---- running the binary and judging one answer ----

def run(binary, args, as_nobody=False, timeout=60):
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = "/nonexistent"     # no ~/.kube/config fallback
    cmd = [binary, *args]
    if as_nobody:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def check_failure(r, exit_code, says=(), not_says=(), where=()):
    """The common contract of every refusal."""
    err = r.stderr
    for s in SANITIZER:
        assert s not in err, err
    assert r.returncode == exit_code, f"exit {r.returncode}, want {exit_code}: {err!r}"
    assert r.stdout == "", f"stdout must stay empty: {r.stdout!r}"
    lines = err.splitlines()
    assert 1 <= len(lines) <= 2, f"want a one- or two-line message, got {err!r}"
    assert all(l.startswith("carrier-lock: ") for l in lines), err
    for w in (*says, *where):
        assert w in err, f"{w!r} not in {err!r}"
    for w in not_says:
        assert w not in err, f"{w!r} in {err!r}"


def xfail_marks(case):
    if "xfail" in case:
        return [pytest.mark.xfail(strict=True, reason=case["xfail"])]
    return []


def cases(group):
    return [pytest.param(c, id=c["id"], marks=xfail_marks(c)) for c in TABLE
            if c["group"] == group]


def held_lock(api, binary, ns="default"):
    """A lock held by someone else (set up with the admin kubeconfig) and its rv."""
    name = unique_name("bi")
    api.create(name, {"holder": REC, "fence": "7"}, ns=ns)
    return name, api.rv(name, ns)


# ---- usage errors: exit 2, the word named, nothing sent ----

def usage_args(args, kc, name):
    out = []
    for a in args:
        a = a.replace("@KC", kc).replace("@NAME", name).replace("@LONGNAME", LONGNAME)
        out.append(a)
    return out


@pytest.mark.parametrize("case", cases("usage"))
def test_usage_error(case, binary, api, cluster, tripwire, workdir):
    says = [w.replace("@LONGNAME", LONGNAME) for w in case["says"]]
    held, rv = held_lock(api, binary)
    absent = unique_name("bi")
    trip = workdir / f"tripwire-{absent}.kubeconfig"
    trip.write_text(pathlib.Path(cluster.kubeconfig()).read_text().replace(
        cluster.server, f"https://127.0.0.1:{tripwire.port}"))
    hits = tripwire.hits
    for kc, name in ((cluster.kubeconfig(), held), (cluster.kubeconfig(), absent),
                     (str(trip), absent)):
        r = run(binary, usage_args(case["args"], kc, name))
        check_failure(r, 2, says, case.get("not_says", ()))
    assert api.rv(held) == rv, "the held lock changed"
    assert api.get(absent) is None, "the absent lock appeared"
    assert tripwire.hits == hits, "a usage error connected to the server"


# ---- kubeconfig errors: exit 1, path and line, nothing sent ----

def b64_placeholders(text):
    text = re.sub(r"<<b64file:([^>]+)>>",
                  lambda m: base64.b64encode((DATA / m.group(1)).read_bytes()).decode(), text)
    return re.sub(r"<<b64:(.*?)>>", lambda m: base64.b64encode(m.group(1).encode()).decode(),
                  text, flags=re.S)


def apply_edits(text, edits):
    for e in edits:
        if "sub" in e:
            old, new = e["sub"]
            assert text.count(old) == 1, f"edit {old!r} must match once"
            text = text.replace(old, b64_placeholders(new))
        elif "re" in e:
            pat, repl = e["re"]
            repl = b64_placeholders(repl)
            text, n = re.subn(pat, repl, text, flags=re.M)
            assert n == 1, f"edit {pat!r} matched {n} times"
        elif "del" in e:
            lines = text.splitlines(keepends=True)
            hit = [l for l in lines if e["del"] in l]
            assert len(hit) == 1, f"del {e['del']!r} matched {len(hit)} lines"
            text = "".join(l for l in lines if e["del"] not in l)
        elif "append" in e:
            text += e["append"]
        elif "whole" in e:
            text = e["whole"]
        elif "pad" in e:
            line = "# padding padding padding padding padding padding padding padding\n"
            text += line * (e["pad"] // len(line) + 1)
        else:
            raise ValueError(e)
    return text


def expected_line(text, spec):
    marker, nth = spec
    found = [i for i, l in enumerate(text.split("\n"), 1) if marker in l]
    assert len(found) >= nth, f"marker {marker!r} not in the edited kubeconfig"
    return found[nth - 1]


def write_kubeconfig(case, path, text):
    if case.get("file") == "missing":
        return
    if case.get("file") == "directory":
        path.mkdir()
        return
    path.write_text(text)
    if case.get("file") == "unreadable":
        os.chmod(path, 0)


@pytest.mark.parametrize("case", cases("kubeconfig"))
def test_kubeconfig_error(case, binary, api, cluster, tripwire, workdir):
    admin = pathlib.Path(cluster.kubeconfig()).read_text()
    text = apply_edits(admin, case.get("edit", []))
    held, rv = held_lock(api, binary)
    absent = unique_name("bi")
    kc = workdir / f"{absent}.kubeconfig"
    write_kubeconfig(case, kc, text)
    where = [str(kc)]
    if case["line"] is not None:
        where = [f"{kc}:{expected_line(text, case['line'])}:"]
    nobody = case.get("file") == "unreadable"
    extra = case.get("extra", [])
    runs = [["force-release", "--name", held], ["acquire", "--name", absent,
                                                 "--max-wait-time", "0"]]
    for args in runs:
        r = run(binary, [*args, "--kubeconfig", str(kc), *extra], as_nobody=nobody)
        check_failure(r, 1, case["says"], case.get("not_says", ()), where)
    assert api.rv(held) == rv, "the held lock changed"
    assert api.get(absent) is None, "the absent lock appeared"
    # The same fault with the server swapped for a tripwire: not even a connection.
    if case.get("file") is None and cluster.server in text:
        trip = workdir / f"tripwire-{absent}.kubeconfig"
        trip.write_text(text.replace(cluster.server, f"https://127.0.0.1:{tripwire.port}"))
        hits = tripwire.hits
        r = run(binary, ["acquire", "--name", absent, "--kubeconfig", str(trip), *extra])
        assert r.returncode == 1, r.stderr
        assert tripwire.hits == hits, "a broken kubeconfig still connected to the server"


# ---- API errors: exit 1, server + resource + namespace named ----

@pytest.mark.parametrize("case", cases("api"))
def test_api_error(case, binary, api, cluster, workdir):
    args = case["args"]
    ns = args[args.index("-n") + 1] if "-n" in args else "default"
    exists = api.call("GET", f"/api/v1/namespaces/{ns}")[0] == 200
    name = unique_name("bi")
    rv = None
    if exists:
        name, rv = held_lock(api, binary, ns=ns)
    kc = pathlib.Path(cluster.kubeconfig(case["base"]))
    if case.get("edit"):
        path = workdir / f"{name}.kubeconfig"
        path.write_text(apply_edits(kc.read_text(), case["edit"]))
        kc = path
    r = run(binary, [*args, "--kubeconfig", str(kc), "--name", name])
    check_failure(r, 1, case["says"], case.get("not_says", ()), [cluster.server])
    assert api.rv(name, ns) == rv if exists else api.get(name, ns) is None


# ---- hand-edited lock ConfigMaps ----

def value(spec):
    if isinstance(spec, str):
        return spec.replace("@REC", REC)
    return (value(spec.get("prefix", "")) + spec["repeat"] * spec["times"] +
            value(spec.get("suffix", "")))


CORRUPT_STEPS = [["acquire", 1, ["force-release replaces it"]],
                 ["release", 1, ["force-release replaces it"]],
                 ["query", 1, ["force-release replaces it"]],
                 ["cleanup", 1, ["force-release replaces it"]],
                 ["force-release", 0, ["corrupt"], True],
                 ["query", 0, [], True]]


@pytest.mark.parametrize("case", cases("record"))
def test_hand_edited_configmap(case, binary, api, cluster):
    name = unique_name("bi")
    api.create(name, {k: value(v) for k, v in case["data"].items()})
    rv = api.rv(name)
    writes = False
    for step in CORRUPT_STEPS if case.get("corrupt") else case["steps"]:
        action, code, says = step[:3]
        writes = writes or (len(step) > 3 and step[3])
        args = [action, "--kubeconfig", cluster.kubeconfig(), "--name", name,
                "--pid", "4242", "--host", "bi-this-host"]
        if action == "acquire":
            args += ["--max-wait-time", "0"]
        r = run(binary, args)
        for s in SANITIZER:
            assert s not in r.stderr, r.stderr
        assert r.returncode == code, (action, r.returncode, r.stderr[:500])
        assert len(r.stderr.splitlines()) <= 2, (action, r.stderr[:500])
        for w in says:
            assert w in r.stderr, (action, w, r.stderr[:500])
        if code == 1:
            check_failure(r, 1, where=[f"configmaps/{name}", "default"])
        if action == "query" and code == 0:
            assert r.stdout.count("\n") == 1 and isinstance(json.loads(r.stdout), dict)
            if case.get("corrupt"):
                assert r.stdout == "{}\n"
        elif code != 0:
            assert r.stdout == ""
        if not writes:
            assert api.rv(name) == rv, f"{action} changed the ConfigMap"


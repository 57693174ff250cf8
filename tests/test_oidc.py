"""The oidc auth-provider against the real kube-apiserver: a cluster of its own whose
kube-apiserver verifies id_tokens (--oidc-issuer-url, --oidc-client-id, --oidc-ca-file,
username claim sub with prefix "oidc:") of the tests' HTTPS issuer (tests/oidc/issuer.py:
discovery, JWKS, token endpoint, RS256). The OIDC user oidc:alice is bound to
deploy/rbac.yaml's Role in namespace locks, so a lock is taken only with a token the
server accepted.

Checked: a valid id-token is used without asking the issuer; an expired one is refreshed,
written back into the kubeconfig (only the two values change, comments and mode stay)
and the lock is taken; a 401 on an unexpired token leads to one refresh; the client
authenticates by HTTP Basic, and in the form when Basic is refused; a failing refresh
(invalid_grant, unreachable, garbage, no id_token, https without a CA) is one line, exit
1, lock untouched; no token or secret in -v output; a kubeconfig in a read-only directory
gives one warning and the lock is still taken. Bad auth-provider entries: one line with
file:line, exit 1, nothing sent.
"""
import base64
import json
import os
import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from conftest import Cluster, DOWN, UP
from lockutil import BIN, empty_root, run, unique_name, wait_for

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "oidc"))
from issuer import CLIENT_ID, CLIENT_SECRET, Issuer  # noqa: E402

NS = "locks"
USER = "oidc:alice"


@pytest.fixture(scope="module")
def oidc(tmp_path_factory):
    """(cluster, issuer): a cluster whose kube-apiserver trusts the issuer."""
    iss = Issuer(tmp_path_factory.mktemp("issuer"))
    cdir = tempfile.mkdtemp(prefix="carrier-lock-oidc-cluster.")
    env = dict(os.environ)
    env["CLUSTER_EXTRA_APISERVER_FLAGS"] = (
        f"--oidc-issuer-url={iss.url} --oidc-client-id={CLIENT_ID} "
        f"--oidc-ca-file={iss.ca} --oidc-username-claim=sub --oidc-username-prefix=oidc:")
    r = subprocess.run([str(UP), cdir], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        iss.stop()
        pytest.fail(f"up.sh exited {r.returncode}:\n{r.stdout}{r.stderr}", pytrace=False)
    c = Cluster(cdir)
    try:
        r = c.kubectl("-n", NS, "create", "rolebinding", "oidc-alice", "--role=carrier-lock",
                      f"--user={USER}")
        assert r.returncode == 0, r.stderr
        # kube-apiserver loads the issuer's discovery and JWKS in the background.
        ca = ca_pem(c)
        tok = iss.mint()

        def accepted():
            req = urllib.request.Request(
                f"{c.server}/api/v1/namespaces/{NS}/configmaps?limit=1",
                headers={"Authorization": "Bearer " + tok})
            try:
                with urllib.request.urlopen(req, context=ssl.create_default_context(
                        cadata=ca), timeout=5) as resp:
                    return resp.status == 200
            except Exception:
                return False
        wait_for(accepted, timeout=60, what="kube-apiserver to accept the issuer's tokens")
        yield c, iss
    finally:
        subprocess.run([str(DOWN), cdir])
        iss.stop()


def ca_pem(c):
    kc = pathlib.Path(c.kubeconfig("admin")).read_text()
    return base64.b64decode(re.search(r"certificate-authority-data: (\S+)", kc).group(1)).decode()


TEMPLATE = """# written by test_oidc: comments and layout must survive the write-back
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: {server}   # the test cluster
    certificate-authority-data: {ca}
users:
- name: other
  user:
    token: "not-used"
- name: alice
  user:
    auth-provider:
      name: oidc
      config:
        # the tests' issuer
        idp-issuer-url: {issuer}
        client-id: {client_id}
        client-secret: "{secret}"
{ca_line}        id-token: {idt}
        refresh-token: '{rt}'
        extra-scopes: groups,email
contexts:
- name: x
  context: {{cluster: c, user: alice, namespace: locks}}
current-context: x
"""


def write_kc(dir, c, iss, idt, rt=None, issuer=None, ca=True, mode=0o600):
    dir = pathlib.Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    (dir / "oidc-ca.crt").write_text(pathlib.Path(iss.ca).read_text())
    kc = dir / "config"
    kc.write_text(TEMPLATE.format(
        server=c.server, ca=base64.b64encode(ca_pem(c).encode()).decode(),
        issuer=issuer or iss.url, client_id=CLIENT_ID, secret=CLIENT_SECRET,
        ca_line="        idp-certificate-authority: oidc-ca.crt\n" if ca else "",
        idt=idt, rt=rt or iss.refresh_token))
    os.chmod(kc, mode)
    return kc


def lock_args(kc, name, action="acquire"):
    return [action, "--kubeconfig", str(kc), "--name", name, "--max-wait-time", "0"]


def held(c, name):
    r = c.kubectl("-n", NS, "get", "configmap", name, "-o", "json")
    if r.returncode != 0:
        assert "NotFound" in r.stderr, r.stderr
        return None
    return json.loads(r.stdout).get("data", {}).get("holder") or None


def calls(iss):
    return iss.count("/.well-known/openid-configuration"), iss.count("/token")


def test_valid_id_token_used_without_the_issuer(oidc, tmp_path):
    c, iss = oidc
    kc = write_kc(tmp_path, c, iss, iss.mint(exp_in=3600))
    before, text = calls(iss), kc.read_text()
    name = unique_name("oidc")
    r = run(*lock_args(kc, name))
    assert r.returncode == 0, r.stderr
    assert held(c, name)
    r = run(*lock_args(kc, name, "release"))
    assert r.returncode == 0, r.stderr
    assert calls(iss) == before
    assert kc.read_text() == text


def test_expired_id_token_refreshed_written_back_and_lock_taken(oidc, tmp_path):
    c, iss = oidc
    iss.mode = "ok"
    old_idt, old_rt = iss.mint(exp_in=-120), iss.refresh_token
    kc = write_kc(tmp_path, c, iss, old_idt, mode=0o640)
    orig = kc.read_text()
    tokens_before = iss.count("/token")
    iss.auth_seen.clear()
    name = unique_name("oidc")
    r = run("-v", *lock_args(kc, name))
    assert r.returncode == 0, r.stderr
    assert held(c, name)
    assert iss.count("/token") == tokens_before + 1
    # HTTP Basic with the URL-escaped id and secret ("&", ":", " " in it) was accepted.
    assert iss.auth_seen == ["basic"]
    new_idt, new_rt = iss.last_id_token, iss.refresh_token
    assert new_idt != old_idt and new_rt != old_rt
    # Only the two values changed (the refresh token's quotes went with its old value).
    want = orig.replace(f"id-token: {old_idt}\n", f"id-token: {new_idt}\n").replace(
        f"refresh-token: '{old_rt}'\n", f"refresh-token: {new_rt}\n")
    assert want != orig
    assert kc.read_text() == want
    assert os.stat(kc).st_mode & 0o7777 == 0o640
    assert not [p for p in tmp_path.iterdir() if "carrier-lock-" in p.name]
    out = r.stdout + r.stderr
    for secret in (old_idt, new_idt, old_rt, new_rt, CLIENT_SECRET,
                   base64.b64encode(CLIENT_SECRET.encode()).decode()):
        assert secret not in out
    assert "refreshing the id-token" in r.stderr  # -v said what it did
    # The next run uses the written token without asking the issuer.
    r = run(*lock_args(kc, name, "release"))
    assert r.returncode == 0, r.stderr
    assert iss.count("/token") == tokens_before + 1
    assert not held(c, name)


def test_write_back_through_symlinks_replaces_their_target(oidc, tmp_path):
    """~/.kube/config as a link (here two: a relative path given from the working
    directory, then a relative link into another directory): the file at the end gets the
    new tokens, the links stay links, and no temporary file is left anywhere."""
    c, iss = oidc
    iss.mode = "ok"
    old_idt = iss.mint(exp_in=-120)
    kc = write_kc(tmp_path / "real", c, iss, old_idt)
    links = tmp_path / "links"
    links.mkdir()
    os.symlink("../real/config", links / "kc")
    os.symlink("links/kc", tmp_path / "home-kc")
    # Relative file names in a kubeconfig are relative to the path given, as for kubectl.
    for d in (tmp_path, links):
        (d / "oidc-ca.crt").write_text((kc.parent / "oidc-ca.crt").read_text())
    name = unique_name("oidc")
    r = run(*lock_args("home-kc", name), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "not written back" not in r.stderr, r.stderr
    assert f"id-token: {iss.last_id_token}\n" in kc.read_text()
    assert os.readlink(tmp_path / "home-kc") == "links/kc"
    assert os.readlink(links / "kc") == "../real/config"
    for d in (tmp_path, links, kc.parent):
        assert not [p for p in d.iterdir() if "carrier-lock-" in p.name]
    r = run(*lock_args(kc, name, "release"))
    assert r.returncode == 0, r.stderr


def test_401_on_unexpired_token_refreshes_once(oidc, tmp_path):
    c, iss = oidc
    iss.mode = "ok"
    # Signed by a key the issuer's JWKS does not hold: the API server answers 401.
    kc = write_kc(tmp_path, c, iss, iss.mint(exp_in=3600, key="other.key"))
    before = iss.count("/token")
    name = unique_name("oidc")
    r = run(*lock_args(kc, name))
    assert r.returncode == 0, r.stderr
    assert held(c, name)
    assert iss.count("/token") == before + 1
    assert f"id-token: {iss.last_id_token}\n" in kc.read_text()
    assert run(*lock_args(kc, name, "release")).returncode == 0


def test_basic_refused_then_form(oidc, tmp_path):
    c, iss = oidc
    iss.mode = "ok"
    iss.basic_ok = False
    try:
        kc = write_kc(tmp_path, c, iss, iss.mint(exp_in=-10))
        iss.auth_seen.clear()
        name = unique_name("oidc")
        r = run(*lock_args(kc, name))
        assert r.returncode == 0, r.stderr
        assert iss.auth_seen == ["basic", "form"]
    finally:
        iss.basic_ok = True
    assert run(*lock_args(kc, name, "release")).returncode == 0


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("mode,issuer,ca,want", [
    ("invalid_grant", None, True, "refused the refresh: 400: invalid_grant: Token is not active"),
    ("garbage", None, True, "bad token reply: reply is not JSON"),
    ("no_id_token", None, True, "bad token reply: reply has no id_token"),
    ("not_jwt", None, True, "bad token reply: its id_token is not a JWT"),
    ("stall", None, True, "POST /token: read timed out"),
    ("no_discovery", None, True, "answered 404 to GET /.well-known/openid-configuration"),
    ("ok", "closed", True, "GET /.well-known/openid-configuration: connection refused"),
    ("ok", None, False, "neither idp-certificate-authority nor idp-certificate-authority-data"),
])
def test_failing_refresh_is_one_line_and_lock_untouched(oidc, tmp_path, mode, issuer, ca, want):
    c, iss = oidc
    iss.mode = mode
    try:
        url = f"https://127.0.0.1:{closed_port()}" if issuer == "closed" else None
        kc = write_kc(tmp_path, c, iss, iss.mint(exp_in=-60), issuer=url, ca=ca)
        text = kc.read_text()
        name = unique_name("oidc")
        r = run(*lock_args(kc, name), "--request-timeout", "3s" if mode == "stall" else "10s",
                timeout=25)
    finally:
        iss.mode = "ok"
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert want in lines[0]
    if issuer != "closed" and mode != "stall":  # else httpc's line: URL, request, failure
        assert 'user "alice"' in lines[0]
    assert "\x1b" not in r.stderr
    assert r.stdout == ""
    assert held(c, name) is None
    assert kc.read_text() == text


def test_write_back_into_read_only_directory_warns_and_goes_on(oidc, tmp_path):
    c, iss = oidc
    iss.mode = "ok"
    # Outside pytest's tmp_path, whose parents only root may enter.
    top = pathlib.Path(tempfile.mkdtemp(prefix="carrier-lock-oidc-ro."))
    os.chmod(top, 0o755)
    d = top / "ro"
    kc = write_kc(d, c, iss, iss.mint(exp_in=-60), mode=0o644)
    os.chmod(d, 0o555)
    text = kc.read_text()
    name = unique_name("oidc")
    try:
        # As nobody: root would write into the read-only directory regardless.
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            BIN, *lock_args(kc, name)], capture_output=True, text=True,
                           timeout=60)
    finally:
        os.chmod(d, 0o755)
    text_after = kc.read_text()
    shutil.rmtree(top)
    assert r.returncode == 0, r.stderr
    assert held(c, name)
    lines = [ln for ln in r.stderr.splitlines() if "acquired lock" not in ln]
    assert len(lines) == 1, r.stderr
    assert "warning:" in lines[0]
    assert "were not written back (Permission denied)" in lines[0]
    assert text_after == text
    r = c.kubectl("-n", NS, "delete", "configmap", name)
    assert r.returncode == 0, r.stderr


BAD = [
    ("gcp", "    auth-provider:\n      name: gcp\n      config: {cmd-path: /x}\n",
     ":14: user \"u\" uses the gcp auth-provider, which kubectl removed in 1.26; use the "
     "exec plugin gke-gcloud-auth-plugin"),
    ("azure", "    auth-provider:\n      name: azure\n",
     ":14: user \"u\" uses the azure auth-provider, which kubectl removed in 1.26; use the "
     "exec plugin kubelogin"),
    ("other", "    auth-provider:\n      name: keystone\n",
     ":14: user \"u\" uses the auth-provider \"keystone\", which carrier-lock does not support"),
    ("no name", "    auth-provider:\n      config: {client-id: x}\n",
     ":14: auth-provider of user \"u\" has no name"),
    ("not a map", "    auth-provider: oidc\n",
     ":14: auth-provider of user \"u\" must be a mapping"),
    ("no config", "    auth-provider:\n      name: oidc\n",
     ":14: auth-provider oidc of user \"u\" has no config"),
    ("no issuer", "    auth-provider:\n      name: oidc\n      config:\n        client-id: x\n"
     "        refresh-token: r\n",
     ":14: the oidc auth-provider of user \"u\" has no idp-issuer-url"),
    ("no client-id", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: https://i\n        refresh-token: r\n",
     ":14: the oidc auth-provider of user \"u\" has no client-id"),
    ("bad issuer", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: ftp://i\n        client-id: x\n        refresh-token: r\n",
     ":17: idp-issuer-url \"ftp://i\" of the oidc auth-provider of user \"u\": must start with"),
    ("unbracketed IPv6 issuer", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: https://fe80::1:8443\n        client-id: x\n"
     "        refresh-token: r\n",
     ":17: idp-issuer-url \"https://fe80::1:8443\" of the oidc auth-provider of user \"u\": "
     "an IPv6 address must be in brackets ([::1]:PORT)"),
    ("no tokens", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: https://i\n        client-id: x\n",
     ":14: the oidc auth-provider of user \"u\" has neither an id-token nor a refresh-token"),
    ("config value a list", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: [a]\n        client-id: x\n",
     ":17: idp-issuer-url of the oidc auth-provider of user \"u\" must be a string"),
    ("bad ca data", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: https://i\n        client-id: x\n        refresh-token: r\n"
     "        idp-certificate-authority-data: '!!'\n",
     ":20: idp-certificate-authority-data of the oidc auth-provider of user \"u\": not valid "
     "base64"),
    ("ca file missing", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: https://i\n        client-id: x\n        refresh-token: r\n"
     "        idp-certificate-authority: nope.crt\n",
     ":20: idp-certificate-authority of the oidc auth-provider of user \"u\": "),
    ("token and auth-provider", "    token: abc\n    auth-provider:\n      name: oidc\n"
     "      config:\n        idp-issuer-url: https://i\n        client-id: x\n"
     "        refresh-token: r\n",
     ":14: user \"u\" sets both token and an auth-provider; use one"),
    ("id-token not a JWT", "    auth-provider:\n      name: oidc\n      config:\n"
     "        idp-issuer-url: https://i\n        client-id: x\n        id-token: abc\n",
     ":19: id-token of the oidc auth-provider of user \"u\" is not a JWT"),
]


@pytest.mark.parametrize("case,user,want", BAD, ids=[b[0] for b in BAD])
def test_bad_auth_provider_entry(tmp_path, case, user, want):
    # A listening socket that must see no connection: nothing is sent on bad input.
    trip = socket.socket()
    trip.bind(("127.0.0.1", 0))
    trip.listen(1)
    trip.setblocking(False)
    port = trip.getsockname()[1]
    kc = tmp_path / "config"
    kc.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: http://127.0.0.1:{port}
contexts:
- name: x
  context: {{cluster: c, user: u}}
current-context: x
users:
- name: u
  user:
{user}""")
    r = run("query", "--kubeconfig", str(kc), timeout=30)
    try:
        trip.accept()
        connected = True
    except BlockingIOError:
        connected = False
    trip.close()
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert want in lines[0], lines[0]
    assert f"kubeconfig {kc}:" in lines[0]
    assert not connected
    assert r.stdout == ""


def test_write_back_goes_to_the_file_of_a_kubeconfig_list_that_holds_the_user(oidc, tmp_path):
    c, iss = oidc
    iss.mode = "ok"
    kc = write_kc(tmp_path / "b", c, iss, iss.mint(exp_in=-60))
    first = tmp_path / "a.yaml"
    first.write_text("# only a namespace preference\napiVersion: v1\nkind: Config\n"
                     "preferences: {}\n")
    a_text = first.read_text()
    name = unique_name("oidc")
    r = run(*lock_args(kc, name)[:1], "--name", name, "--max-wait-time", "0",
            env={"KUBECONFIG": f"{first}:{kc}"})
    assert r.returncode == 0, r.stderr
    assert f"id-token: {iss.last_id_token}\n" in kc.read_text()
    assert first.read_text() == a_text
    r = run("release", "--name", name, env={"KUBECONFIG": f"{first}:{kc}"})
    assert r.returncode == 0, r.stderr


def test_tokens_expiring_during_a_wait_are_refreshed(oidc, tmp_path):
    """A 12 s id-token while acquire waits 20 s on a held lock: renewed as it waits
    (each new one again for 12 s), and the lock is taken when the holder lets go."""
    c, iss = oidc
    iss.mode = "ok"
    iss.lifetime = 12
    try:
        kc = write_kc(tmp_path, c, iss, iss.mint(exp_in=12))
        name = unique_name("oidc")
        other = run(*lock_args(kc, name), "--host", "other-host", "--pid", "1")
        assert other.returncode == 0, other.stderr
        before = iss.count("/token")
        waiter = subprocess.Popen([BIN, *lock_args(kc, name)[:3], "--name", name,
                                   "--max-wait-time", "60s"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        wait_for(lambda: iss.count("/token") >= before + 2, timeout=40,
                 what="two refreshes during the wait")
        assert waiter.poll() is None
        # As admin: a second oidc client refreshing beside the waiter would race it for
        # the rotating refresh token (as two kubectls would).
        r = run("force-release", "--kubeconfig", c.kubeconfig("admin"), "-n", NS,
                "--name", name)
        assert r.returncode == 0, r.stderr
        out, err = waiter.communicate(timeout=30)
        assert waiter.returncode == 0, err
        assert "warning" not in err, err
        assert f"id-token: {iss.last_id_token}\n" in kc.read_text()
        assert "other-host" not in (held(c, name) or "")
        assert held(c, name)
    finally:
        iss.lifetime = 3600
    assert run(*lock_args(kc, name, "release")).returncode == 0


def test_another_process_refreshed_first(oidc, tmp_path):
    """The issuer rotates refresh tokens. While carrier-lock refreshes, another client
    (played by the discovery hook) refreshes with the same refresh token first and writes
    its tokens back: ours is refused (invalid_grant), and carrier-lock takes the newer
    ones from the kubeconfig instead of failing, and leaves the file as the other wrote it."""
    c, iss = oidc
    iss.mode = "ok"
    kc = write_kc(tmp_path, c, iss, iss.mint(exp_in=-60))
    theirs = {}

    def other_client_refreshes():
        iss.on_discovery = None
        old_rt = iss.refresh_token
        with iss.lock:
            iss.refresh_token = "rt-other-" + os.urandom(4).hex()
        theirs["id"] = iss.mint(exp_in=3600)
        text = kc.read_text()
        text = re.sub(r"id-token: \S+\n", f"id-token: {theirs['id']}\n", text)
        text = text.replace(f"refresh-token: '{old_rt}'", f"refresh-token: {iss.refresh_token}")
        kc.write_text(text)
        theirs["text"] = text
    iss.on_discovery = other_client_refreshes
    before = iss.count("/token")
    name = unique_name("oidc")
    try:
        r = run("-v", *lock_args(kc, name))
    finally:
        iss.on_discovery = None
    assert r.returncode == 0, r.stderr
    assert held(c, name)
    assert "refreshed by another process" in r.stderr
    assert iss.count("/token") == before + 2  # Basic, then the form, both refused
    assert kc.read_text() == theirs["text"]
    assert theirs["id"] not in r.stderr
    assert run(*lock_args(kc, name, "release")).returncode == 0


def test_no_refresh_token_in_the_reply_keeps_the_old_one(oidc, tmp_path):
    c, iss = oidc
    iss.mode = "no_refresh"
    try:
        old_rt = iss.refresh_token
        kc = write_kc(tmp_path, c, iss, iss.mint(exp_in=-60))
        name = unique_name("oidc")
        r = run(*lock_args(kc, name))
    finally:
        iss.mode = "ok"
    assert r.returncode == 0, r.stderr
    text = kc.read_text()
    assert f"id-token: {iss.last_id_token}\n" in text
    assert f"refresh-token: '{old_rt}'\n" in text  # untouched, quotes and all
    assert run(*lock_args(kc, name, "release")).returncode == 0


def test_flow_style_config_without_id_token_warns_why(oidc, tmp_path):
    c, iss = oidc
    iss.mode = "ok"
    kc = write_kc(tmp_path, c, iss, "x.y.z")
    text = re.sub(r"      config:\n(?:        .*\n)+", "", kc.read_text())
    ca = (tmp_path / "oidc-ca.crt").name
    text = text.replace("      name: oidc\n", "      name: oidc\n      config: {"
                        f"idp-issuer-url: '{iss.url}', client-id: {CLIENT_ID}, "
                        f"client-secret: '{CLIENT_SECRET}', idp-certificate-authority: {ca}, "
                        f"refresh-token: {iss.refresh_token}}}\n")
    kc.write_text(text)
    name = unique_name("oidc")
    r = run(*lock_args(kc, name))
    assert r.returncode == 0, r.stderr
    warn = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert len(warn) == 1, r.stderr
    assert "flow style and lacks the key" in warn[0]
    assert kc.read_text() == text
    # The rotated refresh token was not kept: the next run is refused, as the warning says.
    assert c.kubectl("-n", NS, "delete", "configmap", name).returncode == 0


def test_refresh_and_write_back_in_an_empty_root(oidc, tmp_path):
    """The static binary alone in an empty directory (a FROM scratch image): the refresh
    needs no resolver, no system trust store, no /proc, and the write-back works there."""
    if os.geteuid() != 0 or BIN.endswith("asan/carrier-lock"):
        pytest.skip("needs root for chroot, and the static binary")
    c, iss = oidc
    iss.mode = "ok"
    src = write_kc(tmp_path / "src", c, iss, iss.mint(exp_in=-60))
    root = empty_root(BIN, src, tmp_path)
    (root / "oidc-ca.crt").write_text(pathlib.Path(iss.ca).read_text())
    name = unique_name("oidc")

    def inside(*args):
        return subprocess.run(["chroot", str(root), "/carrier-lock", *args,
                               "--kubeconfig", "/kubeconfig", "--name", name, "--pid", "7"],
                              capture_output=True, text=True, timeout=60)
    r = inside("acquire")
    assert r.returncode == 0, r.stderr
    assert held(c, name)
    assert f"id-token: {iss.last_id_token}\n" in (root / "kubeconfig").read_text()
    assert inside("release").returncode == 0
    assert sorted(p.name for p in root.iterdir()) == ["carrier-lock", "kubeconfig",
                                                      "oidc-ca.crt"]

"""Tests of the test-cluster harness itself (tests/cluster/up.sh, down.sh): every other
integration test trusts that the kubeconfigs reach the server as the user they claim, that
the limited user gets exactly deploy/rbac.yaml, and that clusters start and stop cleanly."""
import json
import os
import pathlib
import signal
import subprocess
import time
import uuid

import pytest

from conftest import DOWN, UP, cluster_down, cluster_up

KUBECONFIGS = ["admin", "admin-dns", "admin-files", "ec", "token", "limited"]

# Who each kubeconfig authenticates as, per the API server (SelfSubjectReview).
IDENTITIES = {
    "admin": ("carrier-admin", True),
    "admin-dns": ("carrier-admin", True),
    "admin-files": ("carrier-admin", True),
    "ec": ("carrier-admin-ec", True),
    "token": ("carrier-admin-token", True),
    "limited": ("carrier-limited", False),
}


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def pids_mentioning(text):
    """PIDs of processes whose command line contains `text` (a cluster's DIR or data dir)."""
    pids = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            pids.append(int(proc.name))
    return pids


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (it cannot hold a port or a file).
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def spare_cluster(tmp_path):
    """A second cluster, for tests that restart or stop things."""
    dir = tmp_path / "spare"
    c = cluster_up(dir)
    yield c
    cluster_down(dir)


# --- kubeconfigs -------------------------------------------------------------------------

@pytest.mark.parametrize("name", KUBECONFIGS)
def test_kubeconfig_reaches_readyz(cluster, name):
    r = cluster.kubectl("get", "--raw", "/readyz", kubeconfig=name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


@pytest.mark.parametrize("name", KUBECONFIGS)
def test_kubeconfig_authenticates_as_its_user(cluster, name):
    r = cluster.kubectl("auth", "whoami", "-o", "json", kubeconfig=name)
    assert r.returncode == 0, r.stderr
    user = json.loads(r.stdout)["status"]["userInfo"]
    want_name, want_master = IDENTITIES[name]
    assert user["username"] == want_name
    assert ("system:masters" in user.get("groups", [])) == want_master


@pytest.mark.parametrize("name", KUBECONFIGS)
def test_kubeconfig_shape(cluster, name):
    """Server, namespace and credential form are what SPEC.md's table promises."""
    r = cluster.kubectl("config", "view", "--raw", "-o", "json", kubeconfig=name)
    assert r.returncode == 0, r.stderr
    cfg = json.loads(r.stdout)
    (cl,) = cfg["clusters"]
    (user,) = cfg["users"]
    (ctx,) = cfg["contexts"]
    assert cfg["current-context"] == ctx["name"]
    host = "localhost" if name == "admin-dns" else "127.0.0.1"
    assert cl["cluster"]["server"] == f"https://{host}:{cluster.port}"
    assert ctx["context"]["namespace"] == ("locks" if name == "limited" else "default")
    if name == "admin-files":
        assert cl["cluster"]["certificate-authority"] == "pki/ca.crt"
        assert user["user"]["client-certificate"] == "pki/admin.crt"
        assert user["user"]["client-key"] == "pki/admin.key"
    else:
        assert "certificate-authority-data" in cl["cluster"]
    if name in ("token", "limited"):
        assert set(user["user"]) == {"token"}
    elif name != "admin-files":
        assert set(user["user"]) == {"client-certificate-data", "client-key-data"}


def test_admin_files_paths_are_relative_to_the_kubeconfig(cluster, tmp_path):
    """Run from elsewhere: relative paths must resolve against the file, not the cwd."""
    r = subprocess.run([str(cluster.dir / "kubectl"), "--kubeconfig", cluster.kubeconfig("admin-files"),
                        "get", "--raw", "/readyz"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_ec_kubeconfig_uses_a_p256_key(cluster):
    key = (cluster.dir / "pki" / "admin-ec.key").read_text()
    assert "BEGIN EC PRIVATE KEY" in key
    r = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(cluster.dir / "pki" / "admin-ec.crt")],
                       capture_output=True, text=True, check=True)
    assert "prime256v1" in r.stdout or "P-256" in r.stdout


def test_wrapper_defaults_to_admin(cluster):
    r = subprocess.run([str(cluster.dir / "kubectl"), "auth", "whoami", "-o", "json"],
                       capture_output=True, text=True, env={**os.environ, "KUBECONFIG": "/nonexistent"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"]["userInfo"]["username"] == "carrier-admin"


def test_env_file(cluster):
    r = subprocess.run(["bash", "-c", f"set -u; . {cluster.dir}/env; env"], capture_output=True, text=True, check=True)
    env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    assert env["KUBECONFIG"] == str(cluster.dir / "admin.kubeconfig")
    assert env["CLUSTER_SERVER"] == cluster.server == f"https://127.0.0.1:{cluster.port}"
    assert env["CLUSTER_DIR"] == str(cluster.dir)
    assert env["CLUSTER_PORT"] == str(cluster.port)
    assert env["CLUSTER_KUBECTL"] == str(cluster.dir / "kubectl")
    assert alive(int(env["CLUSTER_ETCD_PID"]))
    assert alive(int(env["CLUSTER_APISERVER_PID"]))
    for var in ("KUBE_APISERVER_BIN", "ETCD_BIN", "KUBECTL_BIN"):
        assert os.access(env[var], os.X_OK), var


# --- the limited user gets exactly deploy/rbac.yaml ---------------------------------------

def test_limited_can_do_what_the_lock_needs(cluster):
    name = unique("limited-ok")
    lim = dict(kubeconfig="limited")
    # The context's namespace is `locks`, so no -n: that is part of what is tested.
    r = cluster.kubectl("create", "configmap", name, "--from-literal=k=v", **lim)
    assert r.returncode == 0, r.stderr
    r = cluster.kubectl("get", "configmap", name, "-o", "json", **lim)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["metadata"]["namespace"] == "locks"
    # update (PUT): what acquire and release do.
    obj = json.loads(r.stdout)
    obj["data"] = {"k": "w"}
    r = cluster.kubectl("replace", "-f", "-", input=json.dumps(obj), **lim)
    assert r.returncode == 0, r.stderr
    # list and watch of one object by fieldSelector: what a waiting acquire does.
    r = cluster.kubectl("get", "--raw",
                        f"/api/v1/namespaces/locks/configmaps?fieldSelector=metadata.name%3D{name}", **lim)
    assert r.returncode == 0, r.stderr
    assert [i["metadata"]["name"] for i in json.loads(r.stdout)["items"]] == [name]
    r = cluster.kubectl("get", "--raw",
                        f"/api/v1/namespaces/locks/configmaps?watch=1&timeoutSeconds=1"
                        f"&fieldSelector=metadata.name%3D{name}", **lim)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[0])["object"]["data"] == {"k": "w"}


@pytest.fixture(scope="module")
def admin_configmap(cluster):
    """A ConfigMap in `locks` that the limited user must not be able to patch or delete."""
    name = unique("admin-owned")
    r = cluster.kubectl("-n", "locks", "create", "configmap", name, "--from-literal=k=v")
    assert r.returncode == 0, r.stderr
    return name


@pytest.mark.parametrize("args", [
    ["get", "configmaps", "-n", "default"],
    ["create", "configmap", "nope", "-n", "default"],
    ["get", "secrets", "-n", "locks"],
    ["create", "secret", "generic", "nope", "-n", "locks"],
    ["delete", "configmap", "{cm}", "-n", "locks"],
    ["patch", "configmap", "{cm}", "-n", "locks", "-p", '{{"data":{{"k":"patched"}}}}'],
    ["get", "pods", "-n", "locks"],
])
def test_limited_is_refused_everything_else(cluster, admin_configmap, args):
    r = cluster.kubectl(*(a.format(cm=admin_configmap) for a in args), kubeconfig="limited")
    assert r.returncode != 0
    # "Error from server (Forbidden)" or, from kubectl create, "... is forbidden: User ...".
    assert "forbidden" in r.stderr.lower(), r.stderr
    r = cluster.kubectl("-n", "locks", "get", "configmap", admin_configmap, "-o", "jsonpath={.data.k}")
    assert r.returncode == 0 and r.stdout == "v", r.stderr


def test_rbac_role_is_the_repositorys(cluster):
    r = cluster.kubectl("-n", "locks", "get", "role", "carrier-lock", "-o", "json")
    assert r.returncode == 0, r.stderr
    cms, leases = json.loads(r.stdout)["rules"]
    assert cms["resources"] == ["configmaps"] and cms["apiGroups"] == [""]
    assert sorted(cms["verbs"]) == ["create", "get", "list", "update", "watch"]
    assert leases["resources"] == ["leases"] and leases["apiGroups"] == ["coordination.k8s.io"]
    assert sorted(leases["verbs"]) == ["create", "delete", "list", "update"]
    assert "resourceNames" not in cms and "resourceNames" not in leases


# --- lifecycle ---------------------------------------------------------------------------

def test_second_cluster_runs_beside_the_first(cluster, spare_cluster):
    assert spare_cluster.port != cluster.port
    for c in (cluster, spare_cluster):
        r = c.kubectl("get", "--raw", "/readyz")
        assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    # Separate etcds: an object made in one is not in the other.
    name = unique("only-in-spare")
    assert spare_cluster.kubectl("create", "configmap", name).returncode == 0
    assert "NotFound" in cluster.kubectl("get", "configmap", name).stderr


def test_restart_apiserver_keeps_port_and_data(spare_cluster):
    c = spare_cluster
    name = unique("survives-restart")
    assert c.kubectl("create", "configmap", name).returncode == 0
    old_pid = int((c.dir / "kube-apiserver.pid").read_text())
    r = subprocess.run([str(c.dir / "restart-apiserver.sh")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    new_pid = int((c.dir / "kube-apiserver.pid").read_text())
    assert new_pid != old_pid and not alive(old_pid) and alive(new_pid)
    assert f"CLUSTER_APISERVER_PID={new_pid}\n" in (c.dir / "env").read_text()
    r = c.kubectl("get", "configmap", name)
    assert r.returncode == 0, r.stderr


def test_stop_and_start_apiserver(spare_cluster):
    c = spare_cluster
    r = subprocess.run([str(c.dir / "stop-apiserver.sh")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert c.kubectl("get", "--raw", "/readyz", "--request-timeout=2s").returncode != 0
    r = subprocess.run([str(c.dir / "start-apiserver.sh")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert c.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"


def test_down_leaves_no_process_and_no_files(tmp_path):
    dir = tmp_path / "c"
    c = cluster_up(dir)
    pids = [int(c.env["CLUSTER_ETCD_PID"]), int(c.env["CLUSTER_APISERVER_PID"])]
    data = (dir / "etcd-data-dir").read_text().strip()
    assert all(alive(p) for p in pids) and os.path.isdir(data)
    subprocess.run([str(DOWN), str(dir)], check=True, timeout=60)
    assert not any(alive(p) for p in pids)
    assert not dir.exists()
    assert not os.path.exists(data)
    assert pids_mentioning(str(dir)) == [] and pids_mentioning(data) == []
    # Idempotent: a second down.sh on the same (now missing) DIR is fine.
    subprocess.run([str(DOWN), str(dir)], check=True, timeout=60)


@pytest.mark.parametrize("component,variable", [
    ("etcd", "CLUSTER_EXTRA_ETCD_FLAGS"),
    ("kube-apiserver", "CLUSTER_EXTRA_APISERVER_FLAGS"),
])
def test_startup_failure_reports_and_leaves_nothing(tmp_path, component, variable):
    dir = tmp_path / "broken"
    env = {**os.environ, variable: "--no-such-flag-for-carrier-lock"}
    try:
        r = subprocess.run([str(UP), str(dir)], env=env, capture_output=True, text=True, timeout=180)
        assert r.returncode != 0
        assert f"last 40 lines of {dir}/{component}.log" in r.stderr
        assert "no-such-flag-for-carrier-lock" in r.stderr  # the component's own complaint
        data = (dir / "etcd-data-dir").read_text().strip()
        assert pids_mentioning(str(dir)) == [] and pids_mentioning(data) == []
        assert not os.path.exists(data)
        assert not (dir / "env").exists()
    finally:
        subprocess.run([str(DOWN), str(dir)], timeout=60)
    assert not dir.exists()


def test_interrupted_startup_leaves_nothing(tmp_path):
    """SIGTERM while up.sh waits for the API server: it must stop etcd and the API server."""
    dir = tmp_path / "interrupted"
    up = subprocess.Popen([str(UP), str(dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (dir / "kube-apiserver.pid").exists():
            assert up.poll() is None and time.monotonic() < deadline, "up.sh never started kube-apiserver"
            time.sleep(0.05)
        up.send_signal(signal.SIGTERM)
        _, err = up.communicate(timeout=60)
        assert up.returncode != 0
        assert "startup failed" in err
        data = (dir / "etcd-data-dir").read_text().strip()
        assert pids_mentioning(str(dir)) == [] and pids_mentioning(data) == []
        assert not os.path.exists(data)
    finally:
        up.kill()
        subprocess.run([str(DOWN), str(dir)], timeout=60)


def test_up_refuses_a_nonempty_dir(tmp_path):
    (tmp_path / "precious").write_text("x")
    r = subprocess.run([str(UP), str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "not empty" in r.stderr
    assert (tmp_path / "precious").exists()


def test_down_refuses_a_foreign_dir(tmp_path):
    (tmp_path / "precious").write_text("x")
    r = subprocess.run([str(DOWN), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert (tmp_path / "precious").exists()

"""Ways of reaching the API server that a kubeconfig of the harness does not cover:
kubectl proxy (plain http), insecure-skip-tls-verify, in-cluster configuration."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from lockutil import Lock, run, unique_name

pytestmark = pytest.mark.usefixtures("cluster")

SA_DIR = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")


def kubeconfig_for(server, user="{}", extra=""):
    return ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
            f"    server: {server}\n{extra}  name: c\ncontexts:\n- context:\n"
            "    cluster: c\n    user: u\n  name: x\ncurrent-context: x\n"
            f"users:\n- name: u\n  user: {user}\n")


def test_plain_http_through_kubectl_proxy(cluster, tmp_path):
    proxy = subprocess.Popen([str(cluster.dir / "kubectl"), "--kubeconfig",
                              cluster.kubeconfig(), "proxy", "--port=0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proxy.stdout.readline()
        port = re.search(r"127\.0\.0\.1:(\d+)", line).group(1)
        kc = tmp_path / "proxy.kubeconfig"
        kc.write_text(kubeconfig_for(f"http://127.0.0.1:{port}"))
        name = unique_name()
        base = ["--kubeconfig", str(kc), "--name", name]
        assert run("acquire", *base, "--pid", "5").returncode == 0
        assert json.loads(run("query", *base).stdout)["pid"] == "5"
        assert run("release", *base, "--pid", "5").returncode == 0
        assert Lock(cluster, name=name).query() == {}
    finally:
        proxy.terminate()
        proxy.wait()


def test_insecure_skip_tls_verify_works_and_warns(cluster, tmp_path):
    admin = open(cluster.kubeconfig()).read()
    cert = re.search(r"client-certificate-data: (\S+)", admin).group(1)
    key = re.search(r"client-key-data: (\S+)", admin).group(1)
    kc = tmp_path / "insecure.kubeconfig"
    kc.write_text(kubeconfig_for(
        cluster.server,
        user=f"\n    client-certificate-data: {cert}\n    client-key-data: {key}",
        extra="    insecure-skip-tls-verify: true\n"))
    r = run("query", "--kubeconfig", str(kc), "--name", unique_name())
    assert (r.returncode, r.stdout) == (0, "{}\n"), r.stderr
    assert "warning" in r.stderr and "verif" in r.stderr, r.stderr


def test_in_cluster_configuration(cluster, tmp_path):
    if SA_DIR.exists():
        pytest.skip(f"{SA_DIR} exists on this machine; not touching it")
    token = re.search(r"token: (\S+)", open(cluster.kubeconfig("limited")).read()).group(1)
    ca = re.search(r"certificate-authority-data: (\S+)",
                   open(cluster.kubeconfig("limited")).read()).group(1)
    created = SA_DIR
    while not created.parent.exists():
        created = created.parent
    SA_DIR.mkdir(parents=True)
    try:
        (SA_DIR / "token").write_text(token)
        subprocess.run(["sh", "-c", f"echo {ca} | base64 -d > {SA_DIR / 'ca.crt'}"], check=True)
        (SA_DIR / "namespace").write_text("locks")
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(cluster.port), "HOME": str(tmp_path)}
        name = unique_name()
        r = run("acquire", "--name", name, "--pid", "6", env=env)
        assert r.returncode == 0, r.stderr
        lock = Lock(cluster, name=name, namespace="locks")
        assert lock.configmap()["metadata"]["namespace"] == "locks"
        assert run("release", "--name", name, "--pid", "6", env=env).returncode == 0
    finally:
        shutil.rmtree(created)

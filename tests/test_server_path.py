"""A server URL with a path: Rancher's /k8s/clusters/ID in front of the real API server.

Rancher (and other gateways: Loft, a reverse proxy under a path) hands out kubeconfigs whose
server is https://rancher.example.com/k8s/clusters/c-m-xxxx; it authenticates the bearer
token and forwards each request, without the prefix, to that cluster's kube-apiserver. The
stand-in here is real in protocol: a TLS server with a certificate of the cluster's CA that
parses each HTTP/1.1 request on a kept-alive connection, answers one outside its prefix with
Rancher's 404, and forwards the rest, prefix removed, over TLS to the test cluster's
kube-apiserver, whose replies (watch streams included) it passes back as they come. Every
lock behaviour below is that of the real API server behind it.
"""
import json
import re
import subprocess

import pytest

from gateway import PREFIX, Gateway, gateway_kubeconfig
from gateway import gateway_cert as make_gateway_cert
from lockutil import BIN, Lock, run, unique_name, wait_for


@pytest.fixture(scope="module")
def gateway_cert(cluster, tmp_path_factory):
    return make_gateway_cert(cluster, tmp_path_factory.mktemp("gateway"))


@pytest.fixture
def gateway(cluster, gateway_cert):
    g = Gateway(cluster, *gateway_cert)
    yield g
    g.close()


def test_acquire_query_release_through_a_path_prefix(cluster, gateway, tmp_path):
    kc = gateway_kubeconfig(cluster, tmp_path, gateway.url())
    name = unique_name()
    direct = Lock(cluster, name=name)
    a = run("acquire", "--kubeconfig", kc, "--name", name, "--pid", "4101")
    assert a.returncode == 0, a.stderr
    assert direct.configmap() is not None
    assert direct.query()["pid"] == "4101", "the lock taken through the gateway is the cluster's"
    q = run("query", "--kubeconfig", kc, "--name", name)
    assert q.returncode == 0 and json.loads(q.stdout)["pid"] == "4101", q.stderr
    r = run("release", "--kubeconfig", kc, "--name", name, "--pid", "4101")
    assert r.returncode == 0, r.stderr
    assert direct.query() == {}
    assert gateway.seen, "nothing went through the gateway"
    assert all(s.split(" ")[1].startswith(PREFIX + "/api") for s in gateway.seen), gateway.seen


def test_a_waiter_behind_the_prefix_watches_and_is_handed_the_lock(cluster, gateway, tmp_path):
    kc = gateway_kubeconfig(cluster, tmp_path, gateway.url())
    name = unique_name()
    direct = Lock(cluster, name=name)
    assert direct.do("acquire", pid=4201).returncode == 0
    w = subprocess.Popen([BIN, "acquire", "--kubeconfig", kc, "--name", name, "--pid", "4202",
                          "--max-wait-time", "60s"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any("watch=1" in s for s in gateway.seen),
                 what="the waiter's watch through the gateway")
        assert direct.do("release", pid=4201).returncode == 0
        out, err = w.communicate(timeout=60)
    finally:
        w.kill()
    assert w.returncode == 0, err
    assert direct.query()["pid"] == "4202"
    assert direct.do("release", pid=4202).returncode == 0


def test_the_wrong_prefix_is_one_line_naming_the_url_and_the_404(cluster, gateway, tmp_path):
    wrong = gateway.url("/k8s/clusters/c-m-gone")
    kc = gateway_kubeconfig(cluster, tmp_path, wrong)
    name = unique_name()
    r = run("acquire", "--kubeconfig", kc, "--name", name, "--max-wait-time", "0")
    assert r.returncode == 1, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"carrier-lock: {wrong}: get configmaps/{name} in namespace "
                               "default: HTTP 404: 404 page not found"), lines[0]
    assert "is the server URL right, path included?" in lines[0], lines[0]
    assert Lock(cluster, name=name).configmap() is None, "nothing was created"


@pytest.mark.parametrize("path", ["/k8s/clusters/c-m-gone", ""])
def test_a_404_that_is_not_the_apis_is_not_a_free_lock(cluster, gateway, tmp_path, path):
    """The gateway's 404 for a path it does not serve (a wrong prefix, or none: its root) is
    not "no such ConfigMap": query of a held lock must fail, not print {} (free)."""
    name = unique_name()
    direct = Lock(cluster, name=name)
    assert direct.do("acquire", pid=4301).returncode == 0
    kc = gateway_kubeconfig(cluster, tmp_path, gateway.url(path))
    for action in ("query", "cleanup", "release", "force-release"):
        r = run(action, "--kubeconfig", kc, "--name", name, "--pid", "4302")
        assert r.returncode == 1 and r.stdout == "", (action, r.returncode, r.stdout, r.stderr)
        assert "HTTP 404" in r.stderr, (action, r.stderr)
    assert direct.query()["pid"] == "4301", "the lock is as it was"
    assert direct.do("release", pid=4301).returncode == 0


def test_verbose_names_each_request_with_the_prefix(cluster, gateway, tmp_path):
    kc = gateway_kubeconfig(cluster, tmp_path, gateway.url() + "/")
    r = run("query", "-v", "--kubeconfig", kc, "--name", unique_name())
    assert r.returncode == 0, r.stderr
    assert f"GET {gateway.url()}/api/v1/namespaces/default/configmaps/" in r.stderr, r.stderr
    token = re.search(r"(?m)^\s*token: (\S+)$", open(kc).read()).group(1)
    assert token not in r.stderr

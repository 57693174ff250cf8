"""A waiter's first watch starts with the lock's state (WatchList's initial events).

The waiter reads the lock with a GET, whose resourceVersion is the object's own: for a
lock held for hours on a busy cluster, older than the API server's watch cache reaches.
So its watch asks the server for the lock as it is now, then its changes
(sendInitialEvents, resourceVersionMatch=NotOlderThan). test_faults shows the gain on a
restarted API server (one watch instead of a 410, a list and a second watch). Here, on
the shared cluster through a gateway (tests/gateway.py, real in protocol, forwarding to
the real kube-apiserver), the two edges of that watch:
- a server before Kubernetes 1.27 refuses those parameters (422, as 1.19 to 1.26 answer
  resourceVersionMatch on a watch; 400 or 500 from others): the waiter watches from the
  version as before;
- the lock deleted between the GET and the watch: the initial state ends without it,
  and the waiter reads again and takes the lock.
"""
import json
import re
import subprocess
import threading

import pytest

from gateway import Gateway, gateway_kubeconfig
from gateway import gateway_cert as make_gateway_cert
from lockutil import BIN, Lock, wait_for

INITIAL = "sendInitialEvents=true"


@pytest.fixture(scope="module")
def cert(cluster, tmp_path_factory):
    return make_gateway_cert(cluster, tmp_path_factory.mktemp("gateway"))


REFUSALS = {
    # kube-apiserver 1.19-1.26's answer to resourceVersionMatch on a watch.
    422: ("Unprocessable Entity", "Invalid", 'ListOptions.meta.k8s.io "" is invalid: '
          "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch"),
    400: ("Bad Request", "BadRequest", "sendInitialEvents is forbidden for watch unless the "
          "WatchList feature gate is enabled"),
    500: ("Internal Server Error", "InternalError", "sendInitialEvents is not supported "
          "without the watch cache"),
}


def refusal(code):
    phrase, reason, message = REFUSALS[code]
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                       "status": "Failure", "message": message, "reason": reason,
                       "code": code}).encode()
    return (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (code, phrase.encode(), len(body), body))


def queued(lock):
    r = lock.cluster.kubectl("get", "leases", "-n", lock.namespace, "-o", "name",
                             "-l", f"carrier-lock.io/lock={lock.name}")
    return r.returncode == 0 and r.stdout.strip()


def waiter(cluster, gw, tmp_path, lock, pid):
    kc = gateway_kubeconfig(cluster, tmp_path, gw.url())
    return subprocess.Popen([BIN, "acquire", "-v", "--kubeconfig", kc, "--name", lock.name,
                             "--pid", str(pid), "--max-wait-time", "30s"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p, timeout=40):
    try:
        _, err = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return err


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_a_server_that_refuses_the_initial_state_is_watched_as_before(cluster, cert,
                                                                      tmp_path, code):
    refused = []

    def hook(method, target):
        if "watch=1" in target and INITIAL in target:
            refused.append(target)
            return refusal(code)
        return None

    gw = Gateway(cluster, *cert, hook=hook)
    lock = Lock(cluster)
    try:
        assert lock.do("acquire", pid=71).returncode == 0
        p = waiter(cluster, gw, tmp_path, lock, 72)
        wait_for(lambda: queued(lock), what="the waiter's place in the queue")
        wait_for(lambda: sum("watch=1" in l for l in gw.seen) == 2,
                 what="the refused watch and the one after it")
        assert lock.do("release", pid=71).returncode == 0
        err = finish(p)
    finally:
        gw.close()
    assert p.returncode == 0, err
    assert lock.query().get("pid") == "72"
    assert len(refused) == 1, refused
    watches = [l for l in gw.seen if "watch=1" in l]
    assert INITIAL not in watches[1] and "resourceVersion=" in watches[1], watches
    assert re.search(rf"{code} to a watch that starts with the current state; watching "
                     r"from version \d+ instead", err), err
    # Not an error the user must act on: the server's message is not printed.
    assert REFUSALS[code][2] not in err, err
    assert lock.do("release", pid=72).returncode == 0


def test_a_lock_deleted_before_the_watch_is_read_again_and_taken(cluster, cert, tmp_path):
    deleted = threading.Event()
    lock = Lock(cluster)

    def hook(method, target):
        if "watch=1" in target and not deleted.is_set():
            # The lock goes between the waiter's GET and its watch.
            r = cluster.kubectl("delete", "configmap", lock.name, "-n", lock.namespace)
            assert r.returncode == 0, r.stderr
            deleted.set()
        return None

    gw = Gateway(cluster, *cert, hook=hook)
    try:
        assert lock.do("acquire", pid=73).returncode == 0
        p = waiter(cluster, gw, tmp_path, lock, 74)
        err = finish(p)
    finally:
        gw.close()
    assert deleted.is_set()
    assert p.returncode == 0, err  # not 3: it did not wait on a lock that was gone
    assert "the ConfigMap is gone" in err, err
    assert lock.query().get("pid") == "74"
    assert lock.do("release", pid=74).returncode == 0

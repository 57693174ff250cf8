"""Shared pytest fixtures.

`cluster`: one local test cluster (tests/cluster/up.sh) for the whole session, stopped with
down.sh at the end. Set CARRIER_LOCK_CLUSTER_DIR to the DIR of a cluster already started
with up.sh to reuse it instead; it is then left running.
"""
import os
import pathlib
import shlex
import signal
import subprocess
import tempfile

import pytest

# A shell without job control starts a background command ("tests/run.sh &" in a CI
# script) with SIGINT and SIGQUIT ignored, and every process it starts inherits that:
# carrier-lock then keeps them ignored, as it must under nohup, and the tests that send
# them would fail. The tests start from default dispositions; the ones about ignored
# signals set them up themselves.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)

REPO = pathlib.Path(__file__).resolve().parent.parent
UP = REPO / "tests" / "cluster" / "up.sh"
DOWN = REPO / "tests" / "cluster" / "down.sh"


class Cluster:
    """A running cluster's directory, as up.sh left it."""

    def __init__(self, dir):
        self.dir = pathlib.Path(dir)
        self.env = read_env(self.dir / "env")
        self.port = int(self.env["CLUSTER_PORT"])
        self.server = self.env["CLUSTER_SERVER"]

    def kubeconfig(self, name="admin"):
        """Path of DIR/NAME.kubeconfig (admin, admin-dns, admin-files, ec, token, limited)."""
        path = self.dir / f"{name}.kubeconfig"
        if not path.is_file():
            raise FileNotFoundError(path)
        return str(path)

    def kubectl(self, *args, kubeconfig="admin", input=None, timeout=60):
        """Run DIR/kubectl with the named kubeconfig; never raises on a non-zero exit."""
        cmd = [str(self.dir / "kubectl"), "--kubeconfig", self.kubeconfig(kubeconfig), *args]
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)


def read_env(path):
    """DIR/env's `export NAME=VALUE` lines as a dict (values are shell-quoted by up.sh)."""
    env = {}
    for line in pathlib.Path(path).read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            env[name] = value
    return env


def cluster_up(dir):
    """Run up.sh DIR; fail the test with up.sh's output if the cluster does not start."""
    r = subprocess.run([str(UP), str(dir)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"up.sh {dir} exited {r.returncode}:\n{r.stdout}{r.stderr}", pytrace=False)
    return Cluster(dir)


def cluster_down(dir):
    subprocess.run([str(DOWN), str(dir)], check=True)


@pytest.fixture(scope="session")
def cluster():
    reuse = os.environ.get("CARRIER_LOCK_CLUSTER_DIR")
    if reuse:
        yield Cluster(reuse)
        return
    dir = tempfile.mkdtemp(prefix="carrier-lock-cluster.")
    try:
        yield cluster_up(dir)
    finally:
        cluster_down(dir)

"""Torture: many `run` clients contend for one lock on a cluster of their own, holders
are SIGKILLed at random, and the API server is restarted once. A checker over the shared
enter/leave log must find no two holders at once and no fencing token out of order."""
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import cluster_down, cluster_up
from lockutil import BIN, unique_name

CLIENTS = 20
HANDOFFS = 300          # successful entries to reach
KILLS = 6               # holders SIGKILLed (with their command) while inside
TTL = "2s"


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp("torture") / "cluster"
    c = cluster_up(d)
    yield c
    cluster_down(d)


def test_torture(own_cluster, tmp_path):
    cluster = own_cluster
    name = unique_name("torture")
    log = tmp_path / "log"
    log.touch()
    # The protected command: stamp enter/leave with the token. O_APPEND writes of one
    # short line are atomic, so the log is one total order of events.
    body = ('echo "enter $CARRIER_LOCK_TOKEN $$" >> "$LOG"; sleep 0.01; '
            'echo "leave $CARRIER_LOCK_TOKEN $$" >> "$LOG"')
    env = dict(os.environ, LOG=str(log))
    env.pop("KUBECONFIG", None)
    stop = threading.Event()
    live = {}                # pgid -> Popen of running clients
    lock = threading.Lock()
    stats = {"runs": 0, "exit": {}}

    def client():
        while not stop.is_set():
            p = subprocess.Popen(
                [BIN, "run", "--kubeconfig", cluster.kubeconfig(), "--name", name,
                 "--ttl", TTL, "--max-wait-time", "5m", "--", "sh", "-c", body],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                start_new_session=True)
            with lock:
                live[p.pid] = p
            _, err = p.communicate()
            with lock:
                live.pop(p.pid, None)
                stats["runs"] += 1
                stats["exit"][p.returncode] = stats["exit"].get(p.returncode, 0) + 1
            if p.returncode not in (0, -signal.SIGKILL, 5):
                stats.setdefault("errors", []).append((p.returncode, err.decode()[-500:]))

    def entries():
        return log.read_text().count("enter ")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    kills = 0
    restarted = False
    rng = random.Random(7)
    while entries() < HANDOFFS and time.monotonic() - t0 < 600:
        n = entries()
        if not restarted and n >= HANDOFFS // 2:
            r = subprocess.run([str(cluster.dir / "restart-apiserver.sh")],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            restarted = True
            with open(log, "a") as f:
                f.write("restart - -\n")
        if kills < KILLS and n >= (kills + 1) * HANDOFFS // (KILLS + 2):
            # Kill the client whose command is inside right now (last line is an enter).
            lines = log.read_text().splitlines()
            if lines and lines[-1].startswith("enter "):
                inside = int(lines[-1].split()[2])
                with lock:
                    victim = next((pg for pg in live
                                   if os.path.exists(f"/proc/{inside}") and
                                   os.getpgid(inside) == pg), None)
                if victim is not None:
                    os.killpg(victim, signal.SIGKILL)
                    with open(log, "a") as f:
                        f.write(f"killed {lines[-1].split()[1]} {inside}\n")
                    kills += 1
        time.sleep(rng.uniform(0.05, 0.2))
    stop.set()
    for t in threads:
        t.join(timeout=120)
    took = time.monotonic() - t0

    # The checker: one holder at a time, tokens strictly increasing across entries.
    holder = None
    last_token = 0
    enters = 0
    for line in log.read_text().splitlines():
        what, token, pid = line.split()
        if what == "restart":
            continue
        if what == "enter":
            assert holder is None, f"{pid} (token {token}) entered while {holder} was inside"
            assert int(token) > last_token, f"token {token} after {last_token}"
            holder, last_token = (token, pid), int(token)
            enters += 1
        elif what == "leave":
            assert holder == (token, pid), f"leave {token} {pid} but inside: {holder}"
            holder = None
        elif what == "killed" and holder == (token, pid):
            holder = None       # killed inside; else it had left before the kill landed
    print(f"\ntorture: {CLIENTS} clients, {enters} handoffs, {kills} holders killed, "
          f"API server restarted: {restarted}, {stats['runs']} runs, exits {stats['exit']}, "
          f"{took:.1f}s, {enters / took:.1f} handoffs/s")
    assert not stats.get("errors"), stats["errors"][:3]
    assert enters >= HANDOFFS and kills == KILLS and restarted

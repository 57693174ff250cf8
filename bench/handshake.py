#!/usr/bin/env python3
"""bench/handshake.py CLUSTER_DIR KUBECONFIG_NAME BIN... : median wall time of one
`carrier-lock query` (process start, kubeconfig, one TLS handshake, one GET) for each
binary, runs interleaved so that the machine's load falls on all alike. Issue 13 used it
to compare -Os with -O2 and the EC implementations; prints one line per binary."""
import statistics
import subprocess
import sys
import time

RUNS = 41


def main():
    cdir, kc, bins = sys.argv[1], sys.argv[2], sys.argv[3:]
    times = {b: [] for b in bins}
    for _ in range(RUNS):
        for b in bins:
            t0 = time.perf_counter()
            r = subprocess.run([b, "query", "--kubeconfig", f"{cdir}/{kc}.kubeconfig",
                                "--name", "bench-handshake"], capture_output=True)
            t = time.perf_counter() - t0
            if r.returncode != 0:
                sys.exit(f"{b}: exit {r.returncode}: {r.stderr.decode()}")
            times[b].append(t * 1000)
    for b in bins:
        print(f"{statistics.median(times[b]):7.2f} ms  median of {RUNS}  {kc}  {b}")


if __name__ == "__main__":
    main()

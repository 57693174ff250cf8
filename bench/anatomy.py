"""Scenario 7 of bench/compare.py: where one uncontended acquire spends its time.

  - `query` (process, kubeconfig, TCP, TLS handshake, one GET) with an RSA client
    certificate, an EC P-256 one and a bearer token: wall and CPU medians, interleaved;
    the differences are the client-authentication crypto;
  - strace -ttt -T of acquires: the time blocked in poll() on the server (handshake
    flights, each request) against the time between (the client's own work, strace's
    overhead included), and whether any wait looks like Nagle or delayed ACK (~40 ms);
  - perf record of acquires and releases (when perf is installed): the client's CPU by
    what it does, from symbol names of an unstripped build of the same sources.
"""
import os
import re
import shutil
import statistics
import subprocess
import tempfile

import tools as T

CATEGORIES = [
    ("RSA private-key arithmetic (BearSSL i62 modpow, CRT)",
     re.compile(r"^(montymul|montysquare|br_i62_|i62_|br_ccopy|br_rsa_|mkrand|br_i31_modpow)")),
    ("other i31 big-int: P-256 ECDHE (generic i31 curve code), RSA verify",
     re.compile(r"^(br_i31_|br_ec_|api_|point_|run_code|br_divrem|GT|p256|c255|cswap)")),
    ("X.509, key and PEM decoding (BearSSL's T0 code)",
     re.compile(r"^(br_x509|br_skey|br_pem|t0_|xm_|br_asn1)")),
    ("TLS engine, hashes, AES-GCM",
     re.compile(r"^(br_ssl|br_sha|sha2|br_hmac|br_aes|br_gcm|br_ghash|br_tls|br_prf|br_md|"
                r"br_multihash|ghash|aes|br_enc|br_dec|br_range|br_chacha|br_poly)")),
    ("kubeconfig, YAML, base64, JSON, HTTP (ours)",
     re.compile(r"^(yp_|yaml|kcfg|b64|pem_|json|jsmn|http|kube|lock|record|text_|buf_|cli_)")),
    ("kernel (exec, page faults, sockets)", re.compile(r"^\[k\]")),
]


def query_medians(env, binary, cdir, runs):
    kinds = [("RSA client certificate", "admin"), ("EC P-256 client certificate", "ec"),
             ("bearer token", "token")]
    res = {k: {"wall": [], "cpu": []} for k, _ in kinds}
    for _ in range(runs):
        for label, kc in kinds:
            p = T.Proc([binary, "query", "--kubeconfig", os.path.join(cdir, f"{kc}.kubeconfig"),
                        "--name", "bench-profile"], env)
            if p.wait() != 0:
                raise RuntimeError(f"query with {kc}.kubeconfig exited {p.status}")
            res[label]["wall"].append(p.t_end - p.t0)
            res[label]["cpu"].append(p.cpu)
    return {k: {"wall": statistics.median(v["wall"]), "cpu": statistics.median(v["cpu"])}
            for k, v in res.items()}


LINE = re.compile(r"^(\d+\.\d+) (\w+)\((.*)\) += (-?\d+|\?)(.*?)(?: <(\d+\.\d+)>)?$")


def strace_acquire(env, binary, kc, runs):
    """Medians over RUNS acquires (each followed by an untraced release) of the phases
    the system calls mark: start to the kubeconfig's open(); the kubeconfig parsed and
    the client key checked (to socket()); TCP and the TLS handshake (to the first
    application-data record sent: TLS records of type 0x17); the requests (to the last
    read); and the longest single wait in poll() (a Nagle or delayed-ACK stall would
    show as ~40 ms)."""
    if not shutil.which("strace"):
        return None
    keys = ("start", "kubeconfig", "handshake", "requests", "total", "longest_wait",
            "nrequests")
    out = {k: [] for k in keys}
    for i in range(runs):
        name = "bench-profile-acq"
        with tempfile.NamedTemporaryFile(prefix="cl-bench-strace.") as f:
            subprocess.run(["strace", "-ttt", "-T", "-o", f.name, binary, "acquire",
                            "--kubeconfig", kc, "--name", name, "--owner", "prof"],
                           env=env, capture_output=True, check=True)
            lines = open(f.name).read().splitlines()
        subprocess.run([binary, "release", "--kubeconfig", kc, "--name", name, "--owner",
                        "prof"], env=env, capture_output=True, check=True)
        t0 = t_open = t_sock = t_app = t_read = t_end = None
        longest, nreq = 0.0, 0
        for line in lines:
            m = LINE.match(line)
            if not m:
                continue
            t, call, args, dur = float(m.group(1)), m.group(2), m.group(3), m.group(6)
            d = float(dur) if dur else 0.0
            t0 = t if t0 is None else t0
            t_end = t + d
            if call == "open" and kc in args and t_open is None:
                t_open = t
            elif call == "socket" and t_sock is None:
                t_sock = t
            elif call == "sendto" and args.split(",", 1)[1].strip().startswith('"\\27'):
                t_app = t if t_app is None else t_app
                nreq += 1
            elif call in ("recvfrom", "read") and t_app is not None:
                t_read = t + d
            elif call == "poll" and "POLLIN" in args:
                longest = max(longest, d)
        if None in (t_open, t_sock, t_app, t_read):
            raise RuntimeError("strace: an acquire without the expected system calls")
        out["start"].append(t_open - t0)
        out["kubeconfig"].append(t_sock - t_open)
        out["handshake"].append(t_app - t_sock)
        out["requests"].append(t_read - t_app)
        out["total"].append(t_end - t0)
        out["longest_wait"].append(longest)
        out["nrequests"].append(nreq)
    return {k: statistics.median(v) for k, v in out.items()}


def perf_profile(env, unstripped, kc, runs):
    """Shares of the client's CPU samples by category over RUNS acquire+release pairs."""
    if not shutil.which("perf") or not os.path.exists(unstripped):
        return None
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "perf.data")
        script = "; ".join(
            f"{unstripped} acquire --kubeconfig {kc} --name bench-profile-perf --owner p; "
            f"{unstripped} release --kubeconfig {kc} --name bench-profile-perf --owner p"
            for _ in range(runs))
        r = subprocess.run(["perf", "record", "-q", "-F", "10000", "-o", data, "--", "sh",
                            "-c", script + " >/dev/null 2>&1"], env=env, capture_output=True)
        if r.returncode != 0:
            return None
        # The kernel keeps 15 bytes of a command's name.
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--comm",
                              os.path.basename(unstripped)[:15], "--sort", "sym"],
                             capture_output=True, text=True).stdout
    shares = {c: 0.0 for c, _ in CATEGORIES}
    shares["other"] = 0.0
    top = []
    for line in rep.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
        if not m:
            continue
        pct, kind, sym = float(m.group(1)), m.group(2), m.group(3)
        key = "[k]" if kind == "k" else sym
        for c, rx in CATEGORIES:
            if rx.search(key):
                shares[c] += pct
                break
        else:
            shares["other"] += pct
        if len(top) < 8:
            top.append((sym, pct))
    return {"shares": shares, "top": top}


def run(env, binary, unstripped, cdir, quick):
    kc = os.path.join(cdir, "admin.kubeconfig")
    return {"query": query_medians(env, binary, cdir, 5 if quick else 31),
            "strace": strace_acquire(env, binary, kc, 3 if quick else 15),
            "perf": perf_profile(env, unstripped, kc, 5 if quick else 30)}

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
    ("BearSSL i31 big-integer code (the client key's RSA signature, the P-256 ECDHE and "
     "the RSA verifications share it: see the callgrind table)",
     re.compile(r"^(br_i31_|br_ec_|api_|point_|run_code|br_divrem|GT|p256|c255|cswap|"
                r"montymul|montysquare|br_ccopy|br_rsa_|mkrand)")),
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


# What each part of a process costs in instructions (callgrind, exact), attributed by
# caller: the i31 big-integer routines (br_i31_montymul above all) serve the client key's
# signature, the ECDHE and the verifications alike, so a flat profile by symbol cannot tell
# them apart. Each part: the functions whose inclusive cost counts, and the caller they
# must be called from (None: any). The parts do not overlap: the signature's own point
# multiplication is called from the signature, the key check's from load_chain.
CALLGRIND_PARTS = [
    ("client key's signature (CertificateVerify)",
     r"^(br_rsa_i31_pkcs1_sign|br_ecdsa_i31_sign_asn1)(\.|$)", None),
    ("ECDHE key exchange (P-256, generic i31 curve code)", r"^(ec_mul|ec_mulgen)(\.|$)",
     r"^br_ssl_hs_client_run(\.|$)"),
    ("server's chain and ServerKeyExchange verified",
     r"^(br_rsa_i31_pkcs1_vrfy|br_ecdsa_i31_vrfy_asn1)(\.|$)", None),
    ("client certificate and key decoded and checked against each other",
     r"^tls_ctx_new(\.|$)", None),
]


def callgrind_parts(env, unstripped, kc, action):
    """{part: instructions} of one `action` (acquire of a free lock, or release of it) under
    callgrind, and "total"; None without valgrind. Raises when valgrind ran and failed,
    or a part was not found (a renamed function), so that the smoke run says so."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate") or \
            not os.path.exists(unstripped):
        return None
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                            unstripped, action, "--kubeconfig", kc, "--name",
                            "bench-profile-cg", "--owner", "cg"], env=env, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"callgrind of {action} exited {r.returncode}: "
                               f"{r.stderr.decode(errors='replace')[-400:]}")
        rep = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=caller",
                              "--threshold=100", out], capture_output=True, text=True).stdout
    parts = {k: 0 for k, _, _ in CALLGRIND_PARTS}
    callers = []
    for line in rep.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(<|\*)\s+[^:]*:(\S+)", line)
        if not m:
            callers = []
            continue
        n, kind, fn = int(m.group(1).replace(",", "")), m.group(2), m.group(3)
        if kind == "<":
            callers.append((fn, n))
            continue
        for k, rx, caller in CALLGRIND_PARTS:
            if re.search(rx, fn):
                parts[k] += n if caller is None else sum(c for f, c in callers
                                                         if re.search(caller, f))
                break
        callers = []
    m = re.search(r"^\s*([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", rep, re.M)
    if not m or not all(parts.values()):
        raise RuntimeError(f"callgrind of {action}: no total, or a part not found ({parts})")
    parts["total"] = int(m.group(1).replace(",", ""))
    return parts


def run(env, binary, unstripped, cdir, quick):
    kc = os.path.join(cdir, "admin.kubeconfig")
    cg = {}
    for label, name in (("RSA client certificate", "admin"), ("EC P-256 client certificate", "ec")):
        k = os.path.join(cdir, f"{name}.kubeconfig")
        for action in ("acquire", "release"):
            cg[f"{action}, {label}"] = callgrind_parts(env, unstripped, k, action)
    return {"query": query_medians(env, binary, cdir, 5 if quick else 31),
            "strace": strace_acquire(env, binary, kc, 3 if quick else 15),
            "perf": perf_profile(env, unstripped, kc, 5 if quick else 30),
            "callgrind": cg if all(cg.values()) else None}

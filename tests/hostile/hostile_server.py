#!/usr/bin/env python3
"""hostile_server.py: a scripted HTTP server that misbehaves on purpose.

For faults a real kube-apiserver will not produce. Plain HTTP, or TLS with the given
certificate and key. Listens on 127.0.0.1 (port chosen by the kernel unless --port),
writes the port number to --port-file once it accepts connections, and serves until
killed. Every connection gets the same treatment, chosen by --mode:

  truncated-body   head says Content-Length 1000, 10 bytes follow, then close
  truncated-head   half a head, then close
  garbage-status   a line that is not an HTTP status line
  oversize-head    a head of 64 KiB of header fields (limit is 32 KiB)
  oversize-body    Content-Length 16 MiB, then that many bytes (limit is 8 MiB)
  endless-chunk    chunked body that never ends (1 KiB chunks, forever)
  silent           accept and say nothing (with TLS: no handshake either)
  reset-mid-response  half a body, then a TCP RST (SO_LINGER 0)
  stalled-watch    GET of a ConfigMap: 404 Status (or 200 with --exists); GET with
                   "watch=" in the query: 200 chunked head, one ADDED event, then nothing;
                   any write: 409 Conflict. The ConfigMap is held by host "elsewhere"
                   pid 1 (data.holder, data.fence as carrier-lock stores them)

Usage: hostile_server.py --mode M --port-file F [--tls-cert C --tls-key K] [--exists]
"""
import argparse
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

MODES = ("truncated-body", "truncated-head", "garbage-status", "oversize-head",
         "oversize-body", "endless-chunk", "silent", "reset-mid-response", "stalled-watch")

HOLD = 3600  # seconds a stalled connection is held open


def read_request(conn):
    """Reads one request head (and a Content-Length body). Returns (method, target) or None."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None
        buf += data
        if len(buf) > 1 << 20:
            return None
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or b"0")
    while len(rest) < length:
        data = conn.recv(65536)
        if not data:
            break
        rest += data
    if len(parts) < 2:
        return None
    return parts[0].decode("latin-1"), parts[1].decode("latin-1")


def object_name(target):
    """The ConfigMap's name: from .../configmaps/NAME, or a metadata.name field selector."""
    path, _, query = target.partition("?")
    for arg in query.split("&"):
        key, _, value = arg.partition("=")
        if key == "fieldSelector":
            value = value.replace("%3D", "=").replace("%3d", "=")
            if value.startswith("metadata.name="):
                return value[len("metadata.name="):]
    last = path.rstrip("/").split("/")[-1]
    return "carrier-lock" if last in ("", "configmaps") else last


def status_json(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                       "status": "Failure", "message": message, "reason": reason,
                       "code": code}).encode() + b"\n"


def configmap(name, rv, lock):
    return {"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "default", "resourceVersion": rv,
                         "uid": "00000000-0000-4000-8000-000000000001"},
            "data": {"holder": lock, "fence": "1"}}


def reply(conn, status, body, extra=b""):
    conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + extra +
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def hold(conn):
    try:
        time.sleep(HOLD)
    finally:
        conn.close()


def serve(conn, mode, exists):
    # stalled-watch answers the requests of a kept-alive connection in a loop, not by
    # recursion: a client that retries fast must not overflow Python's stack.
    while True:
        req = read_request(conn)
        if req is None or not serve_one(conn, mode, exists, *req):
            return


def serve_one(conn, mode, exists, method, target):
    """Answers one request; True when the connection should read another."""
    if mode == "truncated-body":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"kind\":\"C")
    elif mode == "truncated-head":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: appl")
    elif mode == "garbage-status":
        conn.sendall(b"HTTP/1.1 OK 200 ha\r\nContent-Length: 0\r\n\r\n")
    elif mode == "oversize-head":
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        field = b"X-Filler: " + b"f" * 1000 + b"\r\n"
        for _ in range(64):
            conn.sendall(field)
        conn.sendall(b"Content-Length: 0\r\n\r\n")
    elif mode == "oversize-body":
        size = 16 << 20
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(size).encode() + b"\r\n\r\n")
        block = b" " * 65536
        for _ in range(size // len(block)):
            conn.sendall(block)
    elif mode == "endless-chunk":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"400\r\n" + b" " * 1024 + b"\r\n"
        while True:
            conn.sendall(chunk)
    elif mode == "reset-mid-response":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"kind\":\"ConfigMap\",")
        time.sleep(0.1)
        # Linger 0: close() sends RST (and, with TLS, no close_notify first).
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    elif mode == "stalled-watch":
        name = object_name(target)
        if "watch=" in target:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            event = json.dumps({"type": "ADDED", "object": configmap(
                name, "101", json.dumps({"host": "elsewhere", "pid": "1",
                                         "start-time": "2021-11-11 11:35:06.500703278 +0000 UTC"}))
            }).encode() + b"\n"
            conn.sendall(b"%x\r\n" % len(event) + event + b"\r\n")
            hold(conn)
        elif method == "GET" and exists:
            reply(conn, b"200 OK", json.dumps(configmap(name, "100", json.dumps(
                {"host": "elsewhere", "pid": "1",
                 "start-time": "2021-11-11 11:35:06.500703278 +0000 UTC"}))).encode())
            return True
        elif method == "GET":
            reply(conn, b"404 Not Found", status_json(
                404, "NotFound", 'configmaps "%s" not found' % name))
            return True
        else:
            reply(conn, b"409 Conflict", status_json(
                409, "Conflict", "Operation cannot be fulfilled on configmaps \"%s\": "
                "the object has been modified" % name))
            return True
    return False


def handle(raw, mode, exists, tls_ctx):
    conn = raw
    try:
        if mode == "silent":  # not even a TLS handshake
            hold(raw)
            return
        if tls_ctx is not None:
            conn = tls_ctx.wrap_socket(raw, server_side=True)
        serve(conn, mode, exists)
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--exists", action="store_true",
                    help="stalled-watch: the ConfigMap exists (GET says 200)")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    tls_ctx = None
    if args.tls_cert:
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(args.tls_cert, args.tls_key)

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.replace(tmp, args.port_file)  # readers never see a half-written port

    while True:
        raw, _ = srv.accept()
        threading.Thread(target=handle, args=(raw, args.mode, args.exists, tls_ctx),
                         daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)

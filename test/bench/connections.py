#!/usr/bin/env python3
"""Connection and read-amplification attacks against wani, with the Python standard library only.

Usage: test/bench/connections.py WANI_BIN [--replies N]

Seeds one board /b/ (the default config) with a thread of N replies (default 1500) of 3900
characters each, then runs each attack class against a fresh start of the server on that data
directory (so each class's peak memory is its own) and prints, per class: the server's peak
resident memory (VmHWM), the time one `GET /healthz` from another client address took while
the attack was on, what the attackers got, and the database size before and after.

Classes:
  slots     one address opens 64 idle sockets and 64 live streams (X-Forwarded-For from loopback,
            which the default config trusts)
  after     64 clients read `?after=i` of the big thread at once, each a different i
  cold      the server starts cold; 32 clients read the big thread at once
  unread    32 clients each pipeline 20 requests for the big thread and read nothing, for longer
            than write_timeout_secs
  trickle   200 clients (200 addresses) each start a multipart upload and send one byte of the
            file part every second, for longer than body_timeout_secs
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import json
import http.client

HEALTH = b"GET /healthz HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: 203.0.113.250\r\nConnection: close\r\n\r\n"


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def db_mib(data):
    return os.path.getsize(os.path.join(data, "wani.redb")) / (1 << 20)


class Server:
    def __init__(self, binary, data):
        self.log = open(os.path.join(os.path.dirname(data), "wani.log"), "ab")
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--data", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.port = None
        for raw in self.proc.stderr:
            self.log.write(raw)
            m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)/", raw)
            if m:
                self.port = int(m.group(1))
                break
        if not self.port:
            sys.exit("wani did not start")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for raw in self.proc.stderr:
            self.log.write(raw)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port))

    def health_ms(self):
        start = time.monotonic()
        s = self.connect()
        s.settimeout(120)
        s.sendall(HEALTH)
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        return (time.monotonic() - start) * 1000, got[:12]

    def post(self, path, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status != 201:
            sys.exit(f"seeding failed: {r.status} {data[:200]!r}")
        return json.loads(data)


def status_of(sock, timeout=30):
    sock.settimeout(timeout)
    got = b""
    try:
        while b"\r\n" not in got:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    parts = got.split(b" ", 2)
    return parts[1].decode() if len(parts) > 1 else "closed"


def get_req(path, client):
    return f"GET {path} HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: {client}\r\n\r\n".encode()


def read_all(sock):
    sock.settimeout(120)
    total = 0
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return total
            total += len(chunk)
    except OSError:
        return total


def attack_slots(srv, thread):
    socks, streams, idle = [], {}, {}
    for _ in range(64):
        s = srv.connect()
        s.sendall(get_req("/api/live?board=b", "198.51.100.7"))
        st = status_of(s, 10)
        streams[st] = streams.get(st, 0) + 1
        socks.append(s)
    for _ in range(64):
        s = srv.connect()
        s.sendall(get_req("/healthz", "198.51.100.7"))
        st = status_of(s, 10)
        idle[st] = idle.get(st, 0) + 1
        socks.append(s)
    ms, _ = srv.health_ms()
    for s in socks:
        s.close()
    return ms, f"one address asks for 64 live streams: {streams}; then 64 more connections: {idle}"


def attack_after(srv, thread):
    results = []

    def one(i):
        s = srv.connect()
        s.sendall(get_req(f"/api/boards/b/threads/{thread}?after={i}", f"198.51.100.{i % 250}"))
        s.sendall(b"")
        results.append(read_all_one(s))
        s.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    ms, _ = srv.health_ms()
    for t in threads:
        t.join()
    return ms, f"{len(results)} answers, {sum(results) / len(results) / (1 << 20):.1f} MiB each"


def read_all_one(sock):
    """Reads one response with a Content-Length; returns its size."""
    sock.settimeout(120)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return len(got)
        got += chunk
    head, _, rest = got.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)content-length: (\d+)", head)
    want = int(m.group(1)) if m else 0
    have = len(rest)
    while have < want:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        have += len(chunk)
    return have


def attack_cold(srv, thread):
    results = []

    def one(i):
        s = srv.connect()
        s.sendall(get_req(f"/api/boards/b/threads/{thread}", f"198.51.100.{i}"))
        results.append(read_all_one(s))
        s.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    ms, _ = srv.health_ms()
    for t in threads:
        t.join()
    return ms, f"{len(results)} answers"


def attack_unread(srv, thread):
    baseline = fds(srv.proc.pid)
    socks = []
    for i in range(32):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", srv.port))
        s.sendall(get_req(f"/api/boards/b/threads/{thread}", f"198.51.100.{i}") * 20)
        socks.append(s)
    time.sleep(5)
    ms, _ = srv.health_ms()
    during = fds(srv.proc.pid) - baseline
    time.sleep(35)  # past write_timeout_secs (30 s by default)
    after = fds(srv.proc.pid) - baseline
    for s in socks:
        s.close()
    return ms, f"server sockets for the 32 non-reading clients: {during} at 5 s, {after} at 40 s"


def attack_trickle(srv, thread):
    head = (
        b"POST /api/boards/b/threads HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: %s\r\n"
        b"Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 1000000\r\n\r\n"
        b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n"
    )
    socks = []
    for i in range(200):
        s = srv.connect()
        s.sendall(head % f"10.9.{i // 250}.{i % 250}".encode())
        socks.append(s)
    peak_fds = 0
    ms = None
    for second in range(75):
        for s in socks:
            try:
                s.send(b"a")
            except OSError:
                pass
        peak_fds = max(peak_fds, fds(srv.proc.pid))
        if second == 5:
            ms, _ = srv.health_ms()
        time.sleep(1)
    after_fds = fds(srv.proc.pid)
    tmp = os.listdir(os.path.join(srv.data, "tmp")) if hasattr(srv, "data") else []
    for s in socks:
        s.close()
    return ms, f"server fds peak {peak_fds}, after 75 s {after_fds}; tmp files left {len(tmp)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--replies", type=int, default=1500)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="wani-conn-bench.")
    data = os.path.join(tmp, "data")
    try:
        srv = Server(args.binary, data)
        thread = srv.post("/api/boards/b/threads", {"body": "the big thread"})["no"]
        text = ("word " * 780).strip()
        for _ in range(args.replies):
            srv.post(f"/api/boards/b/threads/{thread}/posts", {"body": text})
        srv.stop()
        print(f"{'class':8} {'peak MiB':>9} {'healthz ms':>11} {'db MiB before':>14} {'after':>7}  what the attackers got")
        for name, attack in [
            ("slots", attack_slots),
            ("after", attack_after),
            ("cold", attack_cold),
            ("unread", attack_unread),
            ("trickle", attack_trickle),
        ]:
            before = db_mib(data)
            srv = Server(args.binary, data)
            srv.data = data
            ms, what = attack(srv, thread)
            peak = vm(srv.proc.pid, "VmHWM")
            srv.stop()
            print(f"{name:8} {peak:9} {ms:11.1f} {before:14.1f} {db_mib(data):7.1f}  {what}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

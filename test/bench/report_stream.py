#!/usr/bin/env python3
"""The staff stream of report counts under load: what open streams cost a reporter, and how
soon a new count reaches every stream.

What it measures
  1. Starts wani ($WANI_BIN, default target/release/wani, else target/debug/wani) on a free
     loopback port with a fresh data directory, one board /t/, open signup, `root` an admin,
     and the connection and stream caps raised above $STREAMS.
  2. Signs `root` up, opens a thread and $REPORTS replies on /t/.
  3. Baseline: files $REPORTS/2 reports one at a time (each on its own post, each from its own
     client address through X-Forwarded-For) with no stream open; notes each POST's latency.
  4. Opens $STREAMS streams of GET /api/reports/live as root (one thread each, raw sockets),
     waits for each one's first `counts` event, then files the other $REPORTS/2 reports the same
     way, one every $SPACING_MS ms (longer than the stream's 250 ms coalescing gap, so that each
     report is one event). Each stream notes when it received each total.
  5. Prints the POST latency (median, p99, max) without and with the streams, and the delay from
     a report's 201 to the last stream and to the median stream receiving its count.
  Exits non-zero when a report is not answered 201 or a stream misses a count.

Run: python3 test/bench/report_stream.py   (STREAMS=300 REPORTS=100 SPACING_MS=300 by default)
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STREAMS = int(os.environ.get("STREAMS", "300"))
REPORTS = int(os.environ.get("REPORTS", "100"))
SPACING = int(os.environ.get("SPACING_MS", "300")) / 1000


def binary():
    if os.environ.get("WANI_BIN"):
        return os.environ["WANI_BIN"]
    release = os.path.join(ROOT, "target/release/wani")
    return release if os.path.exists(release) else os.path.join(ROOT, "target/debug/wani")


def start(work):
    cap = STREAMS + 64
    config = f"""
trusted_proxies = ["127.0.0.1"]
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0
max_connections = {cap}
max_connections_per_client = {cap}
max_streams_per_client = {cap}

[accounts]
signup = "open"
admins = ["root"]
argon2_memory_kib = 1024
argon2_iterations = 1

[[boards]]
slug = "t"
title = "Test"
"""
    path = os.path.join(work, "config.toml")
    with open(path, "w") as f:
        f.write(config)
    log = open(os.path.join(work, "log"), "w+")
    proc = subprocess.Popen(
        [binary(), "--config", path, "--listen", "127.0.0.1:0", "--data", os.path.join(work, "data")],
        stderr=log,
    )
    for _ in range(300):
        log.seek(0)
        for line in log:
            if "listening on http://" in line:
                addr = line.split("listening on http://")[1].split("/")[0].split()[0]
                host, port = addr.rsplit(":", 1)
                return proc, (host, int(port))
        if proc.poll() is not None:
            sys.exit("wani exited before listening")
        time.sleep(0.1)
    sys.exit("wani did not report its address")


def request(addr, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(*addr, timeout=30)
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json"} if data else {}
    h.update(headers or {})
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    return r.status, r.getheader("set-cookie") or "", json.loads(payload) if payload else None


def stream(addr, cookie, received, ready, index):
    """Reads one counts stream; notes when each total first arrives."""
    sock = socket.create_connection(addr)
    sock.sendall(
        (
            f"GET /api/reports/live HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\n"
            f"X-Forwarded-For: 10.9.{index // 250}.{index % 250 + 1}\r\n\r\n"
        ).encode()
    )
    buf = b""
    seen = received[index]
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        now = time.monotonic()
        buf += chunk
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    total = json.loads(line[6:])["total"]
                    seen.setdefault(total, now)
                    if len(seen) == 1:
                        ready.release()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def line(name, values):
    ms = [v * 1000 for v in values]
    print(f"{name}: median {statistics.median(ms):.2f} ms, p99 {pct(ms, 99):.2f} ms, max {max(ms):.2f} ms")


def report(addr, no, i):
    t0 = time.monotonic()
    status, _, body = request(
        addr,
        "POST",
        f"/api/boards/t/posts/{no}/report",
        {"category": "spam"},
        {"X-Forwarded-For": f"10.{1 + i // 250}.{i % 250}.7"},
    )
    t1 = time.monotonic()
    if status != 201:
        sys.exit(f"report of {no}: {status} {body}")
    return t0, t1


def main():
    with tempfile.TemporaryDirectory() as work:
        proc, addr = start(work)
        try:
            status, cookie, body = request(addr, "POST", "/auth/signup", {"username": "root", "password": "violet staple 42 orbit"})
            assert status == 201, body
            cookie = cookie.split(";")[0]
            _, _, op = request(addr, "POST", "/api/boards/t/threads", {"body": "bench"})
            posts = []
            for i in range(REPORTS):
                _, _, r = request(addr, "POST", f"/api/boards/t/threads/{op['no']}/posts", {"body": f"reply {i}"})
                posts.append(r["no"])
            half = REPORTS // 2
            baseline = []
            for i in range(half):
                t0, t1 = report(addr, posts[i], i)
                baseline.append(t1 - t0)
                time.sleep(SPACING)

            received = [dict() for _ in range(STREAMS)]
            ready = threading.Semaphore(0)
            for i in range(STREAMS):
                threading.Thread(target=stream, args=(addr, cookie, received, ready, i), daemon=True).start()
            for _ in range(STREAMS):
                if not ready.acquire(timeout=60):
                    sys.exit("a stream did not send its first counts")
            answered = {}
            loaded = []
            for i in range(half, REPORTS):
                t0, t1 = report(addr, posts[i], i)
                loaded.append(t1 - t0)
                answered[i + 1] = t1
                time.sleep(SPACING)
            time.sleep(1)
            to_last, to_median = [], []
            for total, t in answered.items():
                times = []
                for seen in received:
                    if total not in seen:
                        sys.exit(f"a stream never received total {total}")
                    times.append(seen[total] - t)
                to_last.append(max(times))
                to_median.append(statistics.median(times))
            print(f"wani: {binary()}; {STREAMS} streams, {REPORTS - half} reports with them, {half} without")
            line("report POST, no stream open", baseline)
            line(f"report POST, {STREAMS} streams open", loaded)
            line("201 to the last stream's event", to_last)
            line("201 to the median stream's event", to_median)
        finally:
            proc.terminate()
            proc.wait()


main()

#!/usr/bin/env python3
"""What one flooding client can still do: flood control off (as before it existed) and on.

Standard library only. For each of two configs, starts the given wani binary on a free port
with a throwaway data directory and one board /b/ (the default settings):

- off: `flood_control = false` and the request budget off: the server as it was before;
- on:  the defaults (cooldowns 600/60/60 s, duplicate window 600 s, 10 threads a minute,
       a request budget of 20 at once and 30 a minute per client network).

Each run first opens SEED threads from SEED addresses (with flood control off, then restarts
wani on the same data with the run's config, so both runs start from the same board), then:

- replies: one address (X-Forwarded-For, believed from 127.0.0.1) posts replies with distinct
  bodies, spread over the seeded threads, over CONNS keep-alive connections for SECONDS: the
  replies accepted, and answers of any kind per second (the server keeps refusing quickly);
- duplicates: the same body from 50 addresses: how many are accepted;
- threads: one address, then 200 addresses (one thread each), open 200 threads as fast as they
  can: how many are accepted, how long it took, and how many of the seeded threads are then
  off the board's live list.

    python3 test/bench/flood.py target/release/wani

Prints a Markdown table.
"""

import concurrent.futures
import http.client
import json
import re
import subprocess
import sys
import tempfile
import threading
import time

SEED = 100
CONNS = 8
SECONDS = 5.0
THREADS = 200


def start(binary, data, config_text):
    cfg = f"{data}.toml"
    with open(cfg, "w") as f:
        f.write(config_text)
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--data", data, "--config", cfg],
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            # Keep draining the log so wani never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, int(m.group(1))
    raise SystemExit("wani did not start")


def stop(proc):
    proc.terminate()
    proc.wait(timeout=30)


class Client:
    """One keep-alive connection, posting as `addr`."""

    def __init__(self, port, addr):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.addr = addr

    def post(self, path, body):
        data = json.dumps(body)
        headers = {"Content-Type": "application/json", "X-Forwarded-For": self.addr}
        self.conn.request("POST", path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, payload

    def get(self, path):
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read())


def seed(port):
    nos = []
    for i in range(SEED):
        status, body = Client(port, f"10.1.{i // 250}.{i % 250 + 1}").post(
            "/api/boards/b/threads", {"body": f"seed thread {i}"}
        )
        assert status == 201, body
        nos.append(json.loads(body)["no"])
    return nos


def replies(port, seeded):
    stop_at = time.monotonic() + SECONDS
    counts = {}
    lock = threading.Lock()

    def worker(w):
        client = Client(port, "192.0.2.1")
        n = 0
        while time.monotonic() < stop_at:
            # Spread over the seeded threads, so none reaches max_replies and locks.
            thread = seeded[(w * 7919 + n) % len(seeded)]
            status, _ = client.post(
                f"/api/boards/b/threads/{thread}/posts", {"body": f"reply {w} {n}"}
            )
            n += 1
            with lock:
                counts[status] = counts.get(status, 0) + 1

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CONNS) as pool:
        list(pool.map(worker, range(CONNS)))
    took = time.monotonic() - t0
    total = sum(counts.values())
    return counts.get(201, 0), took, total / took


def duplicates(port, thread):
    accepted = 0
    for i in range(50):
        status, _ = Client(port, f"10.2.0.{i + 1}").post(
            f"/api/boards/b/threads/{thread}/posts", {"body": "the same advert"}
        )
        accepted += status == 201
    return accepted


def threads(port, seeded, sprayed):
    t0 = time.monotonic()

    def one(i):
        addr = f"10.3.{i // 250}.{i % 250 + 1}" if sprayed else "192.0.2.9"
        status, _ = Client(port, addr).post(
            "/api/boards/b/threads", {"body": f"flood thread {sprayed} {i}"}
        )
        return status == 201

    with concurrent.futures.ThreadPoolExecutor(CONNS) as pool:
        accepted = sum(pool.map(one, range(THREADS)))
    took = time.monotonic() - t0
    _, catalog = Client(port, "127.0.0.1").get("/api/boards/b/catalog")
    live = {t["no"] for t in catalog["threads"]}
    gone = sum(1 for no in seeded if no not in live)
    return accepted, took, gone


def run(binary, name, config_text):
    with tempfile.TemporaryDirectory() as tmp:
        data = f"{tmp}/data"
        off = "flood_control = false\nrequest_budget_per_minute = 0\nrequest_budget_burst = 0\n"
        proc, port = start(binary, data, off)
        try:
            seeded = seed(port)
        finally:
            stop(proc)
        proc, port = start(binary, data, config_text)
        try:
            accepted, took, answered_s = replies(port, seeded)
            dup = duplicates(port, seeded[1])
            one = threads(port, seeded, sprayed=False)
            many = threads(port, seeded, sprayed=True)
        finally:
            stop(proc)
    return (
        f"| {name} | {accepted:,} in {took:.1f} s ({accepted / took:,.0f}/s) | {answered_s:,.0f} "
        f"| {dup} of 50 "
        f"| {one[0]} in {one[1]:.2f} s | {many[0]} in {many[1]:.2f} s | {many[2]} of {SEED} |"
    )


def main():
    binary = sys.argv[1]
    print(
        "| flood control | replies accepted, one address | answers/s | identical bodies "
        "(50 addresses) | 200 threads, one address | 200 threads, 200 addresses "
        "| seeded threads pushed off |"
    )
    print("|---|---|---|---|---|---|---|")
    off = "flood_control = false\nrequest_budget_per_minute = 0\nrequest_budget_burst = 0\n"
    print(run(binary, "off (as before)", off))
    print(run(binary, "on (defaults)", ""))


if __name__ == "__main__":
    main()

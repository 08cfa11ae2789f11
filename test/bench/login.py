#!/usr/bin/env python3
"""What a login costs: argon2id with the default parameters, and a burst of logins.

Standard library only. Starts the given wani binary on a free port with a throwaway data
directory and `admins = ["root"]`, signs `root` up, then measures:

- sequential: 20 logins one after another (median and max milliseconds);
- burst: 64 logins at once from 64 client addresses (wall time; at most max_concurrent_hashes
  hash at a time, the rest wait their turn), while GET /healthz is asked every 50 ms from
  another address (its slowest answer shows the server stays responsive).

    python3 test/bench/login.py target/release/wani

Prints one line of JSON.
"""

import concurrent.futures
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PASSWORD = "violet staple 42 orbit"


def request(port, method, path, body=None, headers=None, src="127.0.0.1"):
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(src, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.monotonic() - start
    finally:
        conn.close()


def login(port, client):
    body = json.dumps({"username": "root", "password": PASSWORD}).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{client + 1}"}
    return request(port, "POST", "/auth/login", body, headers)


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp()
    config = os.path.join(work, "config.toml")
    with open(config, "w") as f:
        f.write('[accounts]\nadmins = ["root"]\n[[boards]]\nslug = "b"\ntitle = "B"\n')
    server = subprocess.Popen(
        [binary, "--config", config, "--listen", "127.0.0.1:0", "--data", os.path.join(work, "data")],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        for line in server.stderr:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
        body = json.dumps({"username": "root", "password": PASSWORD}).encode()
        status, _ = request(port, "POST", "/auth/signup", body, {"Content-Type": "application/json"})
        assert status == 201, status

        sequential = []
        for i in range(20):
            status, secs = login(port, i)
            assert status == 200, status
            sequential.append(secs * 1000)

        done = threading.Event()
        probes = []

        def probe():
            while not done.is_set():
                status, secs = request(port, "GET", "/healthz", src="127.0.0.2")
                probes.append(secs * 1000)
                time.sleep(0.05)

        prober = threading.Thread(target=probe)
        prober.start()
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            results = list(pool.map(lambda i: login(port, i), range(64)))
        burst = time.monotonic() - start
        done.set()
        prober.join()
        assert all(status == 200 for status, _ in results), results
        print(json.dumps({
            "login_median_ms": round(statistics.median(sequential), 1),
            "login_max_ms": round(max(sequential), 1),
            "burst_64_logins_s": round(burst, 2),
            "burst_slowest_login_s": round(max(secs for _, secs in results), 2),
            "healthz_during_burst_max_ms": round(max(probes), 1),
            "healthz_probes": len(probes),
        }))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()

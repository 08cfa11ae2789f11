#!/usr/bin/env python3
"""The attacks of test/bench/abuse.sh, one class per run, against one running wani.

Standard library only. While the attack runs, a prober asks GET /healthz every half second from
127.0.0.2 (another client address than the attacker's 127.0.0.1, so a per-address limit on the
attacker does not hit it) and a sampler reads the server's VmHWM. Attack posts carry
X-Forwarded-For addresses (trusted from 127.0.0.1 by the default config) so that they look like
many clients, unless the class is about one address. Every loop is bounded in count and time.

Prints one line of JSON: {"outcome", "healthz_max_s", "healthz_timeouts", "peak_kb"}.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import select
import socket
import struct
import sys
import threading
import time
import zlib

ARGS = None
PROBE_TIMEOUT = 10.0


# --- HTTP -------------------------------------------------------------------------------------


def forwarded(i):
    """A distinct documentation address for client number i."""
    return f"198.51.{100 + (i // 250) % 100}.{1 + i % 250}"


def request(method, path, body=None, headers=None, timeout=60.0, src="127.0.0.1"):
    """(status, body bytes, seconds); status 0 when the connection failed or timed out."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", ARGS.port, timeout=timeout, source_address=(src, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data, time.monotonic() - start
    except (OSError, http.client.HTTPException):
        return 0, b"", time.monotonic() - start
    finally:
        conn.close()


def post_json(path, obj, client=0, timeout=60.0):
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded(client)}
    status, data, secs = request("POST", path, json.dumps(obj).encode(), headers, timeout)
    try:
        answer = json.loads(data) if data else {}
    except ValueError:
        answer = {}
    return status, answer, secs


def multipart(parts, boundary="wani-abuse-boundary"):
    """parts: (name, filename or None, bytes). Returns (body, content type)."""
    out = bytearray()
    for name, filename, data in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def post_files(path, files, body="", client=0, timeout=120.0):
    parts = [("body", None, body.encode())] if body else []
    parts += [("file", name, data) for name, data in files]
    data, ctype = multipart(parts)
    headers = {"Content-Type": ctype, "X-Forwarded-For": forwarded(client)}
    status, answer, secs = request("POST", path, data, headers, timeout)
    try:
        answer = json.loads(answer) if answer else {}
    except ValueError:
        answer = {}
    return status, answer, secs


def error_code(answer):
    return (answer.get("error") or {}).get("code", "")


def new_thread(board, body, client=0, **extra):
    status, answer, _ = post_json(f"/api/boards/{board}/threads", {"body": body, **extra}, client)
    if status != 201:
        raise SystemExit(f"opening a thread failed: {status} {answer}")
    return answer["thread"]


def raw(data, timeout=10.0, src="127.0.0.1"):
    """Sends raw bytes, returns the status code of the answer (0 when none)."""
    try:
        with socket.create_connection(("127.0.0.1", ARGS.port), timeout=timeout, source_address=(src, 0)) as s:
            s.sendall(data)
            got = b""
            while b"\r\n" not in got:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            parts = got.split(b" ", 2)
            return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    except OSError:
        return 0


# --- watching the server ----------------------------------------------------------------------


class Watch:
    """Probes /healthz and samples VmHWM on threads until stopped."""

    def __init__(self):
        self.stop = threading.Event()
        self.healthz_max = 0.0
        self.timeouts = 0
        self.probes = 0
        self.peak_kb = 0
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.probe, self.sample)]
        for t in self.threads:
            t.start()

    def probe(self):
        while not self.stop.is_set():
            status, _, secs = request("GET", "/healthz", timeout=PROBE_TIMEOUT, src="127.0.0.2")
            self.probes += 1
            if status == 0 and not server_alive():
                break
            if status == 0:
                self.timeouts += 1
            self.healthz_max = max(self.healthz_max, secs)
            self.stop.wait(0.5)

    def sample(self):
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, status_kb("VmHWM"))
            self.stop.wait(0.1)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(PROBE_TIMEOUT + 5)
        self.peak_kb = max(self.peak_kb, status_kb("VmHWM"))


def status_kb(field):
    try:
        with open(f"/proc/{ARGS.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_alive():
    try:
        with open(f"/proc/{ARGS.pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


def cpu_seconds():
    with open(f"/proc/{ARGS.pid}/stat") as f:
        fields = f.read().split(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parallel(n, fn, items):
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(fn, items))


# --- 1. quote amplification -------------------------------------------------------------------


def quote_body(numbers, limit=4000):
    out, size = [], 0
    for n in numbers:
        piece = f">>{n}"
        if size + len(piece) + 1 > limit:
            break
        out.append(piece)
        size += len(piece) + 1
    return " ".join(out), len(out)


def attack_quotes():
    deadline = time.monotonic() + ARGS.budget
    thread = new_thread("b", "quote target", password="bomb-password")
    seeds = parallel(8, lambda i: post_json(f"/api/boards/b/threads/{thread}/posts", {"body": f"seed {i}"}, i),
                     range(ARGS.quote_seeds))
    numbers = [thread] + sorted(a["no"] for s, a, _ in seeds if s == 201)
    body, quoted = quote_body(numbers)
    made, refused, start = 0, {}, time.monotonic()
    for i in range(ARGS.quote_replies):
        if time.monotonic() > deadline:
            break
        status, answer, _ = post_json(f"/api/boards/b/threads/{thread}/posts", {"body": body}, 1000 + i)
        if status == 201:
            made += 1
        else:
            refused[f"{status} {error_code(answer)}"] = refused.get(f"{status} {error_code(answer)}", 0) + 1
    post_secs = time.monotonic() - start
    events = live_events_for_one_post(thread, body)
    status, answer, delete_secs = post_json(f"/api/boards/b/posts/{thread}/delete",
                                            {"password": "bomb-password"}, timeout=120.0)
    deleted = "deleted" if status == 200 else f"delete answered {status} {error_code(answer)}".strip()
    if status == 0:
        deleted = "delete got no answer"
    refusals = "".join(f", {n}x {k}" for k, n in refused.items())
    return (f"{len(numbers) - 1} seed replies, then {made} replies quoting {quoted} posts each in "
            f"{post_secs:.1f} s{refusals}; one more such reply sent {events} live events; "
            f"{deleted} in {delete_secs:.1f} s")


def live_events_for_one_post(thread, body):
    """Posts one more quoting reply with a live subscriber on the thread; events it received."""
    try:
        s = socket.create_connection(("127.0.0.1", ARGS.port), timeout=5)
        s.sendall(f"GET /api/live?board=b&thread={thread} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = s.recv(65536)
        post_json(f"/api/boards/b/threads/{thread}/posts", {"body": body}, 999)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], 0.2)
            if r:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
        s.close()
        return got.count(b"\nevent: ") + got.startswith(b"event: ")
    except OSError:
        return "?"


# --- 2. decompression bombs -------------------------------------------------------------------


def png_bomb(variant, width=10000, height=10000):
    """A 16-bit RGBA PNG of width x height, black but for its first row's shade (so that each
    variant is a different file)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" + bytes(width * 8)
    z = zlib.compressobj(9)
    idat = [z.compress(b"\x00" + bytes([variant]) * (width * 8))]
    for _ in range(height - 1):
        idat.append(z.compress(row))
    idat.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(idat)) + chunk(b"IEND", b"")


def bomb_file(name):
    path = os.path.join(ARGS.files, name)
    with open(path, "rb") as f:
        return f.read()


def describe(status, answer, secs, what):
    if status == 201:
        return f"{what}: 201 in {secs:.1f} s"
    if status == 0:
        return f"{what}: no answer after {secs:.1f} s"
    return f"{what}: {status} {error_code(answer)} in {secs:.1f} s"


def attack_bomb():
    kind = ARGS.bomb
    if kind == "png-404":
        data = bomb_file("bomb-0.png")
        status, answer, secs = post_files("/api/boards/b/threads/999999/posts", [("bomb.png", data)])
        return describe(status, answer, secs, f"a {len(data) // 1024} KB 16-bit 10000x10000 PNG sent to a thread that does not exist")
    if kind == "png-x4":
        files = [(f"bomb{i}.png", bomb_file(f"bomb-{i}.png")) for i in range(4)]
        size = sum(len(d) for _, d in files)
        status, answer, secs = post_files("/api/boards/b/threads", files, body="four bombs")
        return describe(status, answer, secs, f"one post of four such PNGs ({size // 1024} KB)")
    if kind == "gif":
        data = bomb_file("bomb.gif")
        status, answer, secs = post_files("/api/boards/b/threads", [("bomb.gif", data)], body="gif")
        out = describe(status, answer, secs, f"a {len(data) // 1024} KB GIF, 1x1 screen, 10000x10000 frame")
        if status == 201:
            f = fetch_post(answer["no"])["files"][0]
            out += f", reported as {f['width']}x{f['height']}"
        return out
    if kind == "webp":
        data = bomb_file("bomb.webp")
        status, answer, secs = post_files("/api/boards/b/threads", [("bomb.webp", data)], body="webp")
        return describe(status, answer, secs, f"a {len(data) / 1024:.1f} KB lossless 10000x10000 WebP")
    if kind == "mp4":
        data = bomb_file("bomb.mp4")
        status, answer, secs = post_files("/api/boards/b/threads", [("bomb.mp4", data)], body="mp4")
        return describe(status, answer, secs, f"a {len(data) / 1024:.1f} KB 9984x9984 MP4")
    raise SystemExit(f"unknown bomb {kind}")


def fetch_post(no, board="b"):
    status, data, _ = request("GET", f"/api/boards/{board}/posts/{no}")
    return json.loads(data)["post"] if status == 200 else {}


# --- 3. read amplification --------------------------------------------------------------------


def attack_reads():
    thread = new_thread("b", "a long thread")
    text = ("All work and no play makes a long thread. " * 100)[:4000]
    start = time.monotonic()
    results = parallel(8, lambda i: post_json(f"/api/boards/b/threads/{thread}/posts", {"body": text}, i)[0],
                       range(ARGS.read_replies))
    made = results.count(201)
    seed_secs = time.monotonic() - start
    path = f"/api/boards/b/threads/{thread}?after={thread}"
    start = time.monotonic()
    reads = parallel(ARGS.readers, lambda _: request("GET", path, timeout=120.0), range(ARGS.readers))
    read_secs = time.monotonic() - start
    size = max(len(d) for _, d, _ in reads)
    ok = sum(1 for s, _, _ in reads if s == 200)
    # Clients that ask and never read: the response has to wait somewhere.
    held = []
    for _ in range(ARGS.stallers):
        try:
            s = socket.create_connection(("127.0.0.1", ARGS.port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            held.append(s)
        except OSError:
            break
    time.sleep(ARGS.hold)
    rss_held = status_kb("VmRSS")
    for s in held:
        s.close()
    return (f"{made} replies of 4000 characters in {seed_secs:.1f} s ({size / 1e6:.1f} MB thread); "
            f"{ARGS.readers} parallel ?after reads: {ok} answered in {read_secs:.1f} s; "
            f"{len(held)} clients not reading for {ARGS.hold:.0f} s: RSS {rss_held // 1024} MiB")


# --- 4. connection slots ----------------------------------------------------------------------


def read_pending(s):
    """(still open, bytes the server sent). A socket the server answered and closed still holds
    the answer's bytes: read them all, then tell EOF (closed) from nothing more yet (open)."""
    got = b""
    s.setblocking(False)
    try:
        while chunk := s.recv(65536):
            got += chunk
    except BlockingIOError:
        return True, got
    except OSError:
        pass
    return False, got


def attack_slots():
    socks, streams = [], 0
    deadline = time.monotonic() + 20
    while len(socks) < ARGS.connections and time.monotonic() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", ARGS.port), timeout=2)
        except OSError:
            break
        if len(socks) % 2 == 0:
            s.sendall(b"GET /api/live?board=b HTTP/1.1\r\nHost: x\r\n\r\n")
            streams += 1
        socks.append(s)
    time.sleep(ARGS.hold)
    alive = refused = served = 0
    for s in socks:
        is_open, got = read_pending(s)
        alive += is_open
        refused += got.startswith(b"HTTP/1.1 429")
        served += got.startswith(b"HTTP/1.1 200")
        s.close()
    return (f"one address opened {len(socks)} connections ({streams} live streams, the rest idle); "
            f"{served} streams served, {refused} answered 429; {alive} still open after "
            f"{ARGS.hold:.0f} s")


# --- 5. slow uploads --------------------------------------------------------------------------


def attack_slow():
    boundary = "slow-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n\xff").encode("latin-1")
    socks = []
    for i in range(ARGS.connections):
        try:
            s = socket.create_connection(("127.0.0.1", ARGS.port), timeout=5)
            s.sendall((f"POST /api/boards/b/threads HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {forwarded(i)}\r\n"
                       f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                       "Content-Length: 1000000\r\n\r\n").encode() + head)
            socks.append(s)
        except OSError:
            break
    start = time.monotonic()
    fds = tmp = 0
    while time.monotonic() - start < ARGS.hold:
        time.sleep(ARGS.drip)
        for s in socks:
            try:
                s.send(b"\xd8")
            except OSError:
                pass
        if time.monotonic() - start > ARGS.hold - ARGS.drip - 1:
            fds = fd_count()
            tmp = tmp_count()
    open_ = timed_out = 0
    for s in socks:
        is_open, got = read_pending(s)
        open_ += is_open
        timed_out += got.startswith(b"HTTP/1.1 408")
        s.close()
    return (f"{len(socks)} uploads sending one byte every {ARGS.drip:.0f} s: {open_} still held after "
            f"{ARGS.hold:.0f} s ({timed_out} answered 408), with {fds} open descriptors and {tmp} "
            f"temp files in wani")


def fd_count():
    try:
        return len(os.listdir(f"/proc/{ARGS.pid}/fd"))
    except OSError:
        return 0


def tmp_count():
    try:
        return len(os.listdir(os.path.join(ARGS.data, "tmp")))
    except OSError:
        return 0


# --- 6. deletion passwords --------------------------------------------------------------------


def attack_passwords():
    thread = new_thread("b", "guess my password", password="correct horse battery staple")
    stop = time.monotonic() + ARGS.hold
    counts = {}
    lock = threading.Lock()

    def guesser(w):
        conn = http.client.HTTPConnection("127.0.0.1", ARGS.port, timeout=10)
        i = 0
        while time.monotonic() < stop:
            body = json.dumps({"password": f"guess-{w}-{i}"})
            try:
                conn.request("POST", f"/api/boards/b/posts/{thread}/delete", body,
                             {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.66"})
                resp = conn.getresponse()
                key = f"{resp.status} {error_code(json.loads(resp.read() or b'{}'))}"
            except (OSError, http.client.HTTPException, ValueError):
                key = "failed"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", ARGS.port, timeout=10)
            with lock:
                counts[key] = counts.get(key, 0) + 1
            i += 1

    start = time.monotonic()
    parallel(8, guesser, range(8))
    secs = time.monotonic() - start
    total = sum(counts.values())
    seen = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    # After the window: does the answer still tell a right password from a wrong one?
    closed = new_thread("w", "short window", password="right")
    time.sleep(2.2)
    _, right, _ = post_json(f"/api/boards/w/posts/{closed}/delete", {"password": "right"}, 5)
    _, wrong, _ = post_json(f"/api/boards/w/posts/{closed}/delete", {"password": "wrong"}, 5)
    oracle = "yes" if error_code(right) != error_code(wrong) else "no"
    return (f"{total / secs:.0f} guesses/s from one address ({seen}); after the window closed, right "
            f"vs wrong password: {error_code(right) or 'ok'} vs {error_code(wrong) or 'ok'} (oracle: {oracle})")


# --- 7. leaks in error messages ---------------------------------------------------------------


def attack_leaks():
    broken = {
        "broken.mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free" + os.urandom(4096),
        "broken.webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + os.urandom(4096),
    }
    leaks = []
    for name, data in broken.items():
        status, answer, _ = post_files("/api/boards/b/threads", [(name, data)], body="leak?")
        message = (answer.get("error") or {}).get("message", "")
        signs = [s for s in (ARGS.data, "/tmp", ".tmp", "ffmpeg", "Invalid data", "moov", "EBML") if s in message]
        if signs:
            leaks.append(f"{name} → {status}: \"{message[:90]}\"")
    if not leaks:
        return "no error message names a path or a tool's output"
    return "leaked: " + "; ".join(leaks)


# --- 8. smaller weaknesses --------------------------------------------------------------------


def attack_small():
    weak, checked = [], []

    def check(name, present):
        checked.append(name)
        if present:
            weak.append(name)

    def accepted(obj, client=0):
        return post_json("/api/boards/b/threads", obj, client)[0] == 201

    status, _, _ = request("POST", "/api/boards/b/threads", b'{"body":"a","body":"b"}',
                           {"Content-Type": "application/json"})
    check("duplicate JSON keys", status == 201)
    check("tripcode look-alike name", accepted({"body": "x", "name": "Admin !!AbCdEfGhIj"}))
    check("fullwidth ！！ name", accepted({"body": "x", "name": "Admin ！！AbCdEfGhIj"}))
    status, answer, _ = post_json("/api/boards/b/threads", {"body": "x", "name": "\u202ejIhGfEdCbA!! nimdA"})
    if status == 201:
        _, data, _ = request("GET", f"/api/boards/b/posts/{answer.get('no')}", None, {})
        check("U+202E kept in a name", "\u202e" in json.loads(data or b"{}").get("post", {}).get("name", ""))
    else:
        check("U+202E kept in a name", False)
    check("invisible name U+200B", accepted({"body": "x", "name": "\u200b"}))
    check("invisible name U+3164", accepted({"body": "x", "name": "\u3164"}))
    check("body of only U+202E", accepted({"body": "\u202e"}))
    check("body of only zero-width", accepted({"body": "\u200b\u200c\u200d"}))
    check("no Host served", raw(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n") == 200)
    check("two Hosts served", raw(b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n") == 200)
    body = b'{"body":"te"}'
    check("unknown transfer coding", raw(
        b"POST /api/boards/b/threads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: frob, chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n") == 201)
    # A JPEG whose ICC profile block carries a payload, and a PNG with an IDAT after the image.
    with open(ARGS.jpeg, "rb") as f:
        jpeg = f.read()
    marker = b"WANI-ABUSE-PAYLOAD-1234567890"
    icc = b"ICC_PROFILE\x00\x01\x01" + marker * 4
    jpeg = jpeg[:2] + b"\xff\xe2" + struct.pack(">H", len(icc) + 2) + icc + jpeg[2:]
    status, answer, _ = post_files("/api/boards/b/threads", [("icc.jpg", jpeg)], body="icc")
    stored = stored_file(answer) if status == 201 else b""
    check("payload kept in JPEG ICC block", marker in stored)
    png = small_png(extra_idat=marker)
    status, answer, _ = post_files("/api/boards/b/threads", [("idat.png", png)], body="idat")
    stored_png = stored_file(answer) if status == 201 else b""
    check("payload kept in an IDAT after the image", marker in stored_png)
    check("If-Range ignored", if_range_ignored())
    ids = set()
    thread = new_thread("w", "ids")
    for addr in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
        status, answer, _ = request("POST", f"/api/boards/w/threads/{thread}/posts", b'{"body":"me"}',
                                    {"Content-Type": "application/json", "X-Forwarded-For": addr})
        if status == 201:
            ids.add(fetch_post(json.loads(answer)["no"], "w").get("id"))
    check("poster ids differ within one IPv6 /64", len(ids) == 2)
    # Many empty file parts: the cost of one request that holds nothing.
    # A short boundary keeps 290 000 of them under the default max_post_bytes.
    data, ctype = multipart([("file", "", b"")] * ARGS.empty_parts, boundary="b")
    cpu0 = cpu_seconds()
    status, _, secs = request("POST", "/api/boards/b/threads", data, {"Content-Type": ctype}, timeout=60)
    cpu = cpu_seconds() - cpu0
    return (f"{len(weak)} of {len(checked)} present ({', '.join(weak) or 'none'}); {ARGS.empty_parts} empty file parts "
            f"({len(data) / 1e6:.1f} MB): {status} after {cpu:.1f} s of CPU")


def small_png(extra_idat=None):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes([40, 90, 160]) * 8 for _ in range(8))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
    out += chunk(b"IDAT", zlib.compress(rows))
    if extra_idat:
        out += chunk(b"IDAT", extra_idat)
    return out + chunk(b"IEND", b"")


def stored_file(answer):
    files = fetch_post(answer.get("no", 0)).get("files") or []
    if not files:
        return b""
    status, data, _ = request("GET", files[0]["url"])
    return data if status == 200 else b""


def if_range_ignored():
    status, answer, _ = post_files("/api/boards/b/threads", [("r.png", small_png())], body="range")
    if status != 201:
        return False
    url = fetch_post(answer["no"])["files"][0]["url"]
    status, _, _ = request("GET", url, headers={"Range": "bytes=0-0", "If-Range": '"not-the-etag"'})
    return status == 206


# --- main -------------------------------------------------------------------------------------

ATTACKS = {
    "quotes": attack_quotes,
    "bomb": attack_bomb,
    "reads": attack_reads,
    "slots": attack_slots,
    "slow": attack_slow,
    "passwords": attack_passwords,
    "leaks": attack_leaks,
    "small": attack_small,
}


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("attack", choices=[*ATTACKS, "png"])
    p.add_argument("--port", type=int)
    p.add_argument("--pid", type=int)
    p.add_argument("--data", default="")
    p.add_argument("--files", default="", help="folder of the bomb files")
    p.add_argument("--bomb", default="")
    p.add_argument("--jpeg", default="")
    p.add_argument("--budget", type=float, default=40)
    p.add_argument("--hold", type=float, default=8)
    p.add_argument("--drip", type=float, default=10)
    p.add_argument("--connections", type=int, default=200)
    p.add_argument("--quote-seeds", type=int, default=600)
    p.add_argument("--quote-replies", type=int, default=150)
    p.add_argument("--read-replies", type=int, default=2000)
    p.add_argument("--readers", type=int, default=40)
    p.add_argument("--stallers", type=int, default=30)
    p.add_argument("--empty-parts", type=int, default=290000)
    p.add_argument("--out", default="")
    ARGS = p.parse_args()
    if ARGS.attack == "png":
        # Writes the four PNG bombs into --files.
        for variant in range(4):
            with open(os.path.join(ARGS.files, f"bomb-{variant}.png"), "wb") as f:
                f.write(png_bomb(variant))
        return
    watch = Watch()
    try:
        outcome = ATTACKS[ARGS.attack]()
    except SystemExit as e:
        outcome = f"attack stopped: {e}"
    time.sleep(1)
    watch.finish()
    print(json.dumps({
        "outcome": outcome,
        "healthz_max_s": round(watch.healthz_max, 2),
        "healthz_timeouts": watch.timeouts,
        "probes": watch.probes,
        "peak_kb": watch.peak_kb,
    }))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Load and probes for test/bench/backup.sh, with the Python 3.11 standard library only.

Commands (each prints `key=value` lines on stdout for the script, progress on stderr):

  seed    opens THREADS threads, then posts replies until the board holds POSTS posts, from
          WORKERS processes of CONNECTIONS keep-alive connections each (one thread per
          connection). Bodies are about 200 characters of words drawn from a small vocabulary
          (they compress about as much as real chat), with the markup of real posts: `>>N`
          quotes of earlier posts in the thread, `>greentext` lines, line breaks. The random
          generators have fixed seeds; only the quoted numbers depend on the order of commits.
  upload  posts COUNT new threads, each with a distinct 256x256 RGB noise PNG (made here with
          zlib and struct), multipart/form-data with a `body` and a `file` part.
  drain   polls GET /healthz every INTERVAL seconds from START (a Unix time taken just before
          the server was started) until `backup.backlog` is 0; a refused connection is polled
          again, as the server may still be starting.
  count   reads the catalog: the live threads and the posts they hold (each OP + its replies).

A request answered with anything but the expected status makes the command exit 1.
"""

import argparse
import json
import random
import socket
import struct
import sys
import threading
import time
import zlib


class Conn:
    """One keep-alive HTTP/1.1 connection over a raw socket: far less client CPU per request
    than http.client, which matters when the client shares two cores with the server."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def request(self, method, path, body=b"", content_type="application/json"):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if body or method == "POST":
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + body)
        return self._response()

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            raise RuntimeError("chunked responses are not read by this client")
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buf += data


# --- text posts ---------------------------------------------------------------------------------

# Sentences are drawn word by word from a vocabulary with Zipf-like weights (the k-th word
# k times rarer than the first), so text compresses roughly as much as real chat does; a few
# fixed sentences repeated would let zstd shrink the snapshot far more than real posts allow.
WORDS = """
the i to and a it is that of you in this for not on but with be have was my just like so are
do if or what at they can get one all no it's don't use because about think from more would
people an me will when there your up out how time still why then also even any some really only
know good much make thing way than which now other same work new who run server back need
want try used into been we its them over should could file first never well version problem
right after fix thread post board image update before going most disk these too again off
something last year old since better those while anyone said long many yes fine did cable
where box machine setup every day load code config manual release change log network down memory
fast slow slower faster cheap price worth bought week month build broken works working default
install kernel driver issue test tested measure numbers bench backup restore copy drive
power fan noise quiet hot cold screen keyboard mouse card port usb case laptop desktop
phone battery charge linux windows mac shell script python rust compile error warning crash
reboot boot start stop wait hour minute second read write save lost found open close small big
cpu ram ssd hdd raid zfs ext4 nginx proxy cache dns wifi router switch fiber speed ping
lag game play music film book watch listen buy sell free paid sure probably maybe exactly
anyway though actually literally honestly basically obviously clearly simply
""".split()
WEIGHTS = [1 / (k + 1) for k in range(len(WORDS))]
GREENTEXT = [
    ">be me",
    ">buy the cheapest option",
    ">it works perfectly for five years",
    ">implying anyone reads the changelog",
    ">mfw it was DNS again",
]


def sentence(rng):
    words = rng.choices(WORDS, WEIGHTS, k=rng.randint(5, 16))
    return words[0].capitalize() + " " + " ".join(words[1:]) + rng.choice(".....?!")


def body_text(rng, quote=None, target=200):
    parts = []
    if quote is not None:
        parts.append(f">>{quote}")
    if rng.random() < 0.3:
        parts.append(rng.choice(GREENTEXT) if rng.random() < 0.5 else ">" + sentence(rng))
    text = ""
    while len(text) < target - 30:
        text += (" " if text else "") + sentence(rng)
    parts.append(text)
    return "\n".join(parts)


def check(status, body, expected, what):
    if status != expected:
        raise RuntimeError(f"{what}: answered {status}, not {expected}: {body[:300]!r}")


def run_threads(count, connections, job):
    """Runs job(conn, i) for i in 0..count over `connections` threads, one connection each;
    the first error stops every thread and is raised."""
    errors = []
    lock = threading.Lock()
    next_i = [0]

    def loop(port):
        conn = Conn(port)
        try:
            while not errors:
                with lock:
                    i = next_i[0]
                    next_i[0] += 1
                if i >= count:
                    return
                job(conn, i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            conn.close()

    workers = [threading.Thread(target=loop, args=(ARGS.port,)) for _ in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]


def reply_share(share):
    """One process: `share` replies, spread uniformly over the threads."""
    index, count, threads = share
    rng_lock = threading.Lock()
    rng = random.Random(1000 + index)
    last_in_thread = {t: t for t in threads}
    base = f"/api/boards/{ARGS.board}/threads"

    def job(conn, _i):
        with rng_lock:
            thread = rng.choice(threads)
            quote = last_in_thread[thread] if rng.random() < 0.6 else None
            name = rng.choice(["", "", "", "Anonymous", "regular"])
            payload = {"body": body_text(rng, quote)}
            if name:
                payload["name"] = name
            if rng.random() < 0.05:
                payload["sage"] = True
        status, body = conn.request("POST", f"{base}/{thread}/posts", json.dumps(payload).encode())
        check(status, body, 201, f"reply to {thread}")
        no = json.loads(body)["no"]
        with rng_lock:
            last_in_thread[thread] = max(last_in_thread[thread], no)

    run_threads(count, ARGS.connections, job)
    return count


def seed():
    started = time.monotonic()
    rng = random.Random(1)
    threads = [None] * ARGS.threads
    base = f"/api/boards/{ARGS.board}/threads"
    openers = [
        json.dumps({"subject": f"Thread {i + 1}", "body": body_text(rng)}).encode()
        for i in range(ARGS.threads)
    ]

    def open_thread(conn, i):
        status, body = conn.request("POST", base, openers[i])
        check(status, body, 201, "new thread")
        threads[i] = json.loads(body)["thread"]

    run_threads(ARGS.threads, ARGS.connections * ARGS.workers, open_thread)
    opened = time.monotonic()
    print(f"opened {ARGS.threads} threads in {opened - started:.1f}s", file=sys.stderr)

    replies = ARGS.posts - ARGS.threads
    shares = [
        (w, replies // ARGS.workers + (w < replies % ARGS.workers), threads)
        for w in range(ARGS.workers)
    ]
    import multiprocessing  # here, not at the top: the drain poller should start fast

    with multiprocessing.get_context("fork").Pool(ARGS.workers) as pool:
        done = sum(pool.map(reply_share, shares))
    finished = time.monotonic()
    secs = finished - started
    print(f"threads={ARGS.threads}")
    print(f"replies={done}")
    print(f"posts={ARGS.threads + done}")
    print(f"seed_secs={secs:.1f}")
    print(f"posts_per_sec={(ARGS.threads + done) / secs:.0f}")


# --- files --------------------------------------------------------------------------------------


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def noise_png(rng, width, height):
    """An 8-bit RGB PNG of random pixels: incompressible, so every byte is real upload work."""
    rows = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(rows, 1))
        + png_chunk(b"IEND", b"")
    )


def multipart(fields, file_name, file_bytes, content_type):
    boundary = "wani-bench-boundary-7f3a9c"
    out = bytearray()
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"'
        f"\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()
    out += file_bytes + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def upload():
    rng = random.Random(2)
    images = [noise_png(rng, ARGS.size, ARGS.size) for _ in range(ARGS.count)]
    total = sum(len(i) for i in images)
    print(f"made {ARGS.count} PNGs, {total / 1e6:.1f} MB", file=sys.stderr)
    path = f"/api/boards/{ARGS.board}/threads"
    texts = [body_text(random.Random(3 + i), target=120) for i in range(ARGS.count)]

    def job(conn, i):
        body, ctype = multipart({"body": texts[i]}, f"noise-{i + 1}.png", images[i], "image/png")
        status, answer = conn.request("POST", path, body, ctype)
        check(status, answer, 201, f"upload {i + 1}")

    started = time.monotonic()
    run_threads(ARGS.count, ARGS.connections, job)
    secs = time.monotonic() - started
    print(f"files={ARGS.count}")
    print(f"png_bytes={total}")
    print(f"upload_secs={secs:.2f}")
    print(f"uploads_per_sec={ARGS.count / secs:.1f}")


# --- probes -------------------------------------------------------------------------------------


def drain():
    conn = Conn(ARGS.port)
    first_answer = first_backlog = None
    peak = 0
    while True:
        now = time.time()
        elapsed = now - ARGS.start
        if elapsed > ARGS.timeout:
            raise RuntimeError(f"the backlog did not reach 0 within {ARGS.timeout}s (peak {peak})")
        try:
            status, body = conn.request("GET", "/healthz")
        except OSError:
            conn.close()
            time.sleep(ARGS.interval)
            continue
        check(status, body, 200, "GET /healthz")
        elapsed = time.time() - ARGS.start
        backup = json.loads(body)["backup"]
        if not backup.get("enabled"):
            raise RuntimeError(f"the backup is not enabled: {backup}")
        backlog = backup["backlog"]
        if first_answer is None:
            first_answer, first_backlog = elapsed, backlog
            print(f"first /healthz answer after {elapsed:.2f}s: backlog {backlog}", file=sys.stderr)
        peak = max(peak, backlog or 0)
        if backlog == 0:
            break
        time.sleep(max(0.0, ARGS.interval - (time.time() - now)))
    conn.close()
    print(f"first_answer_secs={first_answer:.3f}")
    print(f"first_backlog={first_backlog}")
    print(f"peak_backlog={peak}")
    print(f"drain_secs={elapsed:.3f}")
    print(f"objects_done={backup['objects_done']}")
    print(f"last_error={backup['last_error']}")


def count():
    import urllib.request

    url = f"http://127.0.0.1:{ARGS.port}/api/boards/{ARGS.board}/catalog"
    with urllib.request.urlopen(url) as answer:
        threads = json.load(answer)["threads"]
    print(f"threads={len(threads)}")
    print(f"posts={sum(1 + t['replies'] for t in threads)}")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["seed", "upload", "drain", "count"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--board", default="bench")
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="per worker process")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--start", type=float, help="Unix time the server was started")
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=600)
    ARGS = parser.parse_args()
    if ARGS.command == "drain" and ARGS.start is None:
        parser.error("drain needs --start")
    try:
        {"seed": seed, "upload": upload, "drain": drain, "count": count}[ARGS.command]()
    except (RuntimeError, OSError) as e:
        print(f"backup_load.py {ARGS.command}: {e}", file=sys.stderr)
        sys.exit(1)


ARGS = None

if __name__ == "__main__":
    main()

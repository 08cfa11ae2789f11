#!/usr/bin/env python3
"""Media abuse benchmark: decompression bombs and broken files against a running wani binary.

What it measures
  For each attack class a fresh server (default config plus ffmpeg_path) is started, the attack
  is posted with plain HTTP from this script, and a second client asks GET /healthz every 50 ms
  meanwhile. Printed per class: the answers' status and code, the server's peak resident memory
  (VmHWM of the server process; ffmpeg children are separate processes and listed apart), the
  slowest /healthz answer during the attack, the database size before and after, and the files
  left in tmp/.

  png16      a 10000x10000 16-bit RGBA PNG of zeros (about 1 MB), one post
  png16x4x2  two posts at once, one with four such files and one with one
  webp       a 10000x10000 lossless WebP made by vips (a few KB)
  gif        a GIF whose logical screen is 1x1 and whose one frame is 10000x10000
  missing    four 16-bit bombs posted as a reply to a thread that does not exist
  parts      290 000 empty file parts in one multipart body
  mp4        a 9984x9984 H.264 MP4 of one black frame (made by ffmpeg), with ffmpeg_path set

How to run
  test/bench/abuse_media.py path/to/wani [class ...]
Needs: python3, vips (for the WebP), ffmpeg with libx264 (for the MP4).
"""

import http.client
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib


def chunk(kind, body):
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png16_bomb(side=10_000):
    z = zlib.compressobj(9)
    row = bytes(1 + side * 8)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">II", side, side) + bytes([16, 6, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_bomb():
    out = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes([0, 0, 0, 255, 255, 255])
    out += bytes([0x2C, 0, 0, 0, 0, 0x10, 0x27, 0x10, 0x27, 0])
    return out + bytes([2, 2, 0x4C, 0x01, 0, 0x3B])


def webp_bomb(tmp):
    path = os.path.join(tmp, "bomb.webp")
    subprocess.run(
        ["vips", "black", path + "[lossless]", "10000", "10000", "--bands", "4"],
        check=True,
        env={**os.environ, "VIPS_WARNING": "0"},
    )
    return open(path, "rb").read()


def mp4_bomb(tmp):
    path = os.path.join(tmp, "bomb.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=black:s=9984x9984:d=0.04",
         "-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast", path],
        check=True,
    )
    return open(path, "rb").read()


def multipart(files, body="bomb", boundary="wanibench"):
    parts = []
    if body is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\n{body}\r\n'.encode()
        )
    for name, data in files:
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\n\r\n').encode()
        parts.append(head + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Server:
    def __init__(self, wani, tmp, ffmpeg):
        self.dir = tempfile.mkdtemp(dir=tmp)
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as f:
            if ffmpeg:
                f.write(f'ffmpeg_path = "{ffmpeg}"\n')
            f.write('[[boards]]\nslug = "b"\ntitle = "Random"\n')
        self.log = open(os.path.join(self.dir, "wani.log"), "w+")
        self.proc = subprocess.Popen(
            [wani, "--config", config, "--listen", "127.0.0.1:0", "--data",
             os.path.join(self.dir, "data")],
            stderr=self.log, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            time.sleep(0.05)
            self.log.seek(0)
            text = self.log.read()
            if "listening on http://" in text:
                self.addr = text.split("listening on http://")[1].split("/")[0]
                return
        raise SystemExit("wani did not start:\n" + text)

    def request(self, method, path, body=None, ctype=None, timeout=600):
        host, port = self.addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        headers = {"content-type": ctype} if ctype else {}
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            return 0, str(e)
        finally:
            conn.close()
        try:
            code = json.loads(data).get("error", {}).get("code", "")
        except ValueError:
            code = ""
        return resp.status, code

    def peak_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0

    def db_bytes(self):
        path = os.path.join(self.dir, "data", "wani.redb")
        return os.path.getsize(path) if os.path.exists(path) else 0

    def tmp_left(self):
        path = os.path.join(self.dir, "data", "tmp")
        return len(os.listdir(path)) if os.path.isdir(path) else 0

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def attack_posts(server, posts):
    """Sends the (path, body, ctype) posts at once; returns their (status, code)."""
    results = [None] * len(posts)

    def send(i, post):
        results[i] = server.request("POST", *post)

    threads = [threading.Thread(target=send, args=(i, p)) for i, p in enumerate(posts)]
    for t in threads:
        t.start()
    return threads, results


def run_class(wani, tmp, name, payloads, ffmpeg):
    server = Server(wani, tmp, ffmpeg)
    status, _ = server.request("POST", "/api/boards/b/threads", json.dumps({"body": "op"}),
                               "application/json")
    assert status == 201, status
    db_before = server.db_bytes()
    posts = payloads(server)
    slowest = [0.0]
    done = threading.Event()

    def health():
        while not done.is_set():
            start = time.monotonic()
            server.request("GET", "/healthz", timeout=120)
            slowest[0] = max(slowest[0], time.monotonic() - start)
            time.sleep(0.05)

    watcher = threading.Thread(target=health)
    watcher.start()
    start = time.monotonic()
    threads, results = attack_posts(server, posts)
    for t in threads:
        t.join()
    took = time.monotonic() - start
    done.set()
    watcher.join()
    row = (name, ", ".join(f"{s} {c}".strip() for s, c in results), f"{took:.1f} s",
           f"{server.peak_mib():.0f} MiB", f"{slowest[0] * 1000:.0f} ms",
           f"{db_before / 1024:.0f} KiB -> {server.db_bytes() / 1024:.0f} KiB",
           str(server.tmp_left()))
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)
    return row


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    wani = os.path.abspath(sys.argv[1])
    wanted = sys.argv[2:]
    ffmpeg = shutil.which("ffmpeg")
    tmp = tempfile.mkdtemp(prefix="wani-abuse-media.")
    try:
        png = png16_bomb()
        reply = "/api/boards/b/threads/1/posts"
        classes = {
            "png16": lambda s: [(reply, *multipart([("a.png", png)]))],
            "png16x4x2": lambda s: [
                (reply, *multipart([(f"{i}.png", png) for i in range(4)])),
                (reply, *multipart([("e.png", png)])),
            ],
            "webp": lambda s: [(reply, *multipart([("a.webp", webp_bomb(tmp))]))],
            "gif": lambda s: [(reply, *multipart([("a.gif", gif_bomb())]))],
            "missing": lambda s: [
                ("/api/boards/b/threads/999/posts",
                 *multipart([(f"{i}.png", png) for i in range(4)]))
            ],
            "parts": lambda s: [(reply, *multipart([("", b"")] * 290_000, body=None))],
            "mp4": lambda s: [(reply, *multipart([("a.mp4", mp4_bomb(tmp))]))],
        }
        rows = []
        for name, payloads in classes.items():
            if wanted and name not in wanted:
                continue
            print(f"== {name}", file=sys.stderr)
            rows.append(run_class(wani, tmp, name, payloads, ffmpeg))
        head = ("class", "answers", "took", "peak RSS", "slowest /healthz", "database", "tmp/ left")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Quote amplification benchmark for wani: a release build on loopback, over HTTP only.
#
# What it measures (N replies each, one client posting one reply at a time, each 201 durable):
#   1. N plain replies of 4000 characters into one thread: time, database size after.
#   2. N maximally quoting replies into a second thread: each body is `>>a >>a+1 ...` quoting
#      the thread's earlier posts, as many as fit in 4000 characters (about 600); the board
#      links 45 (`max_quotes`). Time, database size after.
#   3. Deleting the second reply, which every later quoting reply links: the answer's time (the
#      n - 2 posts quoting it are not rewritten; they are served with the link dead from then on,
#      which the script checks on the last of them).
#   4. Deleting that quoting thread with its poster's password: the answer's time, the time
#      until the purge is done (a post in another thread quoting the thread's first reply, the
#      last one removed, turns into a dead link), and the slowest of the replies another client
#      posts meanwhile (what a writer waits behind the purge).
#   5. The same quoting thread on a board with thread_limit = 1 and archive_days = 0, pushed
#      out (deleted) by a new thread: the time of that new thread's POST, and until the purge
#      is done. (Archive retention deletes through the same code; it runs hourly and cannot be
#      triggered over HTTP.)
#   Also the server's peak resident memory (VmHWM) at the end.
#
# The boards take N replies a thread (max_replies = N); flood control and the request budget
# are off (one client posts them all); everything else is the default.
#
# How to run (from anywhere): test/bench/quotes.sh
# Settings, as environment variables:
#   N=1500        replies per thread
#   WANI_BIN=...  use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1    keep the temp dir (data, config, log) and print its path
#
# Needs: python3, and cargo unless WANI_BIN is given.

set -euo pipefail

N=${N:-1500}
KEEP_TMP=${KEEP_TMP:-0}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ -z "${WANI_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    WANI_BIN="$ROOT/target/release/wani"
fi

TMP=$(mktemp -d)
cleanup() {
    if [ -n "${PID:-}" ]; then kill "$PID" 2>/dev/null || true; fi
    if [ "$KEEP_TMP" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

cat >"$TMP/config.toml" <<EOF
# One client posts thousands of replies: flood control and the request budget would refuse it.
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0

[[boards]]
slug = "bench"
title = "Bench"
max_replies = $N

[[boards]]
slug = "push"
title = "Pushed"
max_replies = $N
thread_limit = 1
archive_days = 0
EOF

"$WANI_BIN" --listen 127.0.0.1:0 --data "$TMP/data" --config "$TMP/config.toml" 2>"$TMP/log" &
PID=$!
for _ in $(seq 100); do
    ADDR=$(grep -o 'listening on http://[0-9.:]*' "$TMP/log" | head -1 | sed 's|.*http://||') || true
    [ -n "$ADDR" ] && break
    sleep 0.1
done
[ -n "$ADDR" ] || { cat "$TMP/log" >&2; echo "quotes.sh: wani did not start" >&2; exit 1; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), \
$(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r)"
echo "N = $N replies per thread, body 4000 characters, max_quotes 45 (default)"

python3 - "$ADDR" "$N" "$TMP/data/wani.redb" "$PID" <<'PY'
import http.client, json, os, sys, threading, time

addr, n, db, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
host, port = addr.rsplit(":", 1)

def conn():
    return http.client.HTTPConnection(host, int(port), timeout=120)

def call(c, method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"content-type": "application/json"})
    r = c.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)

def post(c, path, body):
    status, data = call(c, "POST", path, body)
    if status != 201:
        sys.exit(f"POST {path}: {status} {data}")
    return data["no"]

def mib(size):
    return f"{size / (1 << 20):.1f} MiB"

def quoting(first):
    body, no = "", first
    while len(body) + len(f">>{no} ") <= 4000:
        body += f">>{no} "
        no += 1
    return body

c = conn()
plain = ("lorem ipsum " * 400)[:4000]

def cpu():
    """The server's CPU time so far (user and system), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def fill(board, body_of):
    t = post(c, f"/api/boards/{board}/threads", {"body": "target", "password": "pw"})
    start = time.monotonic()
    # The second reply can be deleted by its poster: every later quoting reply links it.
    replies = [post(c, f"/api/boards/{board}/threads/{t}/posts",
                    {"body": body_of(t), **({"password": "pw"} if i == 1 else {})})
               for i in range(n)]
    return t, replies, time.monotonic() - start

def wait_dead(board, linker):
    start = time.monotonic()
    while True:
        _, data = call(c, "GET", f"/api/boards/{board}/posts/{linker}")
        if "deadlink" in data["post"].get("html", ""):  # absent for a body without markup
            return time.monotonic() - start
        time.sleep(0.005)

size0 = os.path.getsize(db)
cpu0 = cpu()
t_plain, _, secs = fill("bench", lambda t: plain)
size1, cpu1 = os.path.getsize(db), cpu()
print(f"{n} plain replies:     {secs:6.2f} s  ({secs / n * 1000:.2f} ms each, server CPU "
      f"{(cpu1 - cpu0) / n * 1000:.2f} ms each), database {mib(size0)} -> {mib(size1)}")
t_q, replies, secs_q = fill("bench", quoting)
size2, cpu2 = os.path.getsize(db), cpu()
print(f"{n} quoting replies:   {secs_q:6.2f} s  ({secs_q / n * 1000:.2f} ms each, server CPU "
      f"{(cpu2 - cpu1) / n * 1000:.2f} ms each; {secs_q / secs:.2f}x plain in time, "
      f"{(cpu2 - cpu1) / (cpu1 - cpu0):.2f}x in CPU), database {mib(size1)} -> {mib(size2)}")
text = n * 4000
print(f"text posted per thread: {mib(text)}; database growth per thread: "
      f"plain {(size1 - size0) / text:.2f}x, quoting {(size2 - size1) / text:.2f}x the text")

# One reply quoted by every later one (n - 2 posts) is deleted: each quoting post serves its
# link to it dead from that commit on.
start = time.monotonic()
status, data = call(c, "POST", f"/api/boards/bench/posts/{replies[1]}/delete", {"password": "pw"})
if status != 200:
    sys.exit(f"delete a quoted reply: {status} {data}")
secs_d = time.monotonic() - start
_, data = call(c, "GET", f"/api/boards/bench/posts/{replies[-1]}")
if f'<span class="deadlink">&gt;&gt;{replies[1]}</span>' not in data["post"]["html"]:
    sys.exit("deleting a quoted reply left a live link to it")
print(f"delete a reply quoted by the {n - 2} later replies: {secs_d * 1000:.0f} ms "
      f"({secs_d / (n - 2) * 1e6:.0f} us per quoting post)")

other = post(c, "/api/boards/bench/threads", {"body": "elsewhere"})
linker = post(c, f"/api/boards/bench/threads/{other}/posts", {"body": f">>{replies[0]}"})

# Another client posts while the thread is deleted and purged.
worst, stop = [0.0], threading.Event()
def meanwhile():
    m = conn()
    while not stop.is_set():
        start = time.monotonic()
        post(m, f"/api/boards/bench/threads/{other}/posts", {"body": "meanwhile"})
        worst[0] = max(worst[0], time.monotonic() - start)
side = threading.Thread(target=meanwhile)
side.start()
time.sleep(0.2)
start = time.monotonic()
status, data = call(c, "POST", f"/api/boards/bench/posts/{t_q}/delete", {"password": "pw"})
answered = time.monotonic() - start
if status != 200:
    sys.exit(f"delete: {status} {data}")
purged = answered + wait_dead("bench", linker)
time.sleep(0.2)
stop.set()
side.join()
print(f"delete the quoting thread: answered in {answered * 1000:.0f} ms, purged in "
      f"{purged * 1000:.0f} ms; slowest concurrent reply {worst[0] * 1000:.0f} ms")

t_p, replies, _ = fill("push", quoting)
# A post on the other board quotes the first reply, which the purge removes last.
linker = post(c, f"/api/boards/bench/threads/{other}/posts", {"body": f">>>/push/{replies[0]}"})
start = time.monotonic()
post(c, "/api/boards/push/threads", {"body": "the next thread"})
answered = time.monotonic() - start
purged = answered + wait_dead("bench", linker)
print(f"push the quoting thread out (archive_days = 0): the new thread answered in "
      f"{answered * 1000:.0f} ms, purged in {purged * 1000:.0f} ms")
with open(f"/proc/{pid}/status") as f:
    hwm = next(l for l in f if l.startswith("VmHWM")).split()[1]
print(f"server peak memory (VmHWM): {int(hwm) / 1024:.0f} MiB")
PY

#!/usr/bin/env bash
# Dashboard benchmark: the latency of GET /api/admin/stats with a million posts stored.
#
# What it measures
#   examples/stats_fill writes POSTS posts (threads of 100) on BOARDS boards into a fresh data
#   directory through the real writer, 512 submissions at once so that every commit holds a
#   full group; that is the fastest honest way in (the writer does for each post what it does
#   for one made through the API, the dashboard's counters included; the HTTP API would spend
#   most of the time on requests, not on the database). Then wani starts on that directory, the
#   config admin signs up, and one client on one keep-alive connection sends REQUESTS
#   sequential GET /api/admin/stats, after WARMUP unmeasured ones. The table gives the time
#   from sending a request to reading the whole answer: median, 90th and 99th percentile, and
#   the slowest. The goal (issue 15): within 5 ms with 1 million posts.
#   The answer's cost is bounded by the boards and the hourly rows kept per board (at most 720);
#   the fill writes its posts within a few minutes, so each board has one or two rows and the
#   figure is about the posts stored, not about a month of buckets.
#
# How to run (from anywhere; needs python3 and a Rust toolchain, or WANI_BIN and FILL_BIN)
#   test/bench/stats.sh
# Settings, as environment variables:
#   POSTS=1000000 BOARDS=10 REQUESTS=500 WARMUP=50
#   WANI_BIN=... FILL_BIN=...   use these binaries instead of building them with cargo
#   DATA=dir                    measure on this data directory, filled by stats_fill before
#                               (it is used as it is; the config admin signs up in it, or
#                               logs in when a run before did)
#   KEEP_TMP=1                  keep the temp dir (data directory, log)
# Output: progress on stderr; the table on stdout, ready to paste into readme.md.

set -euo pipefail

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init stats

POSTS=${POSTS:-1000000}
BOARDS=${BOARDS:-10}
REQUESTS=${REQUESTS:-500}
WARMUP=${WARMUP:-50}

need_python
if [ -z "${DATA:-}" ] && [ -z "${FILL_BIN:-}" ]; then
    say "building the filler (cargo build --release --example stats_fill)"
    (cd "$ROOT" && cargo build --release --locked --quiet --example stats_fill) ||
        die "cargo build --release --example stats_fill failed"
    FILL_BIN=$ROOT/target/release/examples/stats_fill
fi
[ -n "${DATA:-}" ] || [ -x "$FILL_BIN" ] || die "$FILL_BIN is not an executable"
build_wani
bench_tmp

cat >"$TMP/config.toml" <<'EOF'
[accounts]
signup = "open"
admins = ["root"]
argon2_memory_kib = 1024
argon2_iterations = 1
EOF

if [ -n "${DATA:-}" ]; then
    [ -f "$DATA/wani.redb" ] || die "$DATA holds no wani.redb"
    FILLED="filled before"
else
    DATA=$TMP/data
    say "filling $DATA with $POSTS posts on $BOARDS boards"
    FILLED=$("$FILL_BIN" "$DATA" "$POSTS" "$BOARDS")
    say "$FILLED"
fi
DB_BYTES=$(stat -c %s "$DATA/wani.redb")

cpu_busy
start_wani "$TMP/config.toml" "$DATA" "$TMP/wani.log"
say "wani on $WANI_URL; $REQUESTS requests"

RESULT=$(python3 - "$WANI_PORT" "$REQUESTS" "$WARMUP" <<'EOF'
import http.client, json, sys, time

port, requests, warmup = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)
body = json.dumps({"username": "root", "password": "lantern orchard 7 quietly"})
conn.request("POST", "/auth/signup", body, {"Content-Type": "application/json"})
r = conn.getresponse()
r.read()
if r.status == 409:
    # A data directory measured before: the admin exists already.
    conn.request("POST", "/auth/login", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
assert r.status in (200, 201), r.status
cookie = r.getheader("Set-Cookie").split(";")[0]
times = []
for i in range(warmup + requests):
    t0 = time.perf_counter()
    conn.request("GET", "/api/admin/stats", headers={"Cookie": cookie})
    r = conn.getresponse()
    answer = r.read()
    t1 = time.perf_counter()
    assert r.status == 200, (r.status, answer[:200])
    if i >= warmup:
        times.append((t1 - t0) * 1000)
stats = json.loads(answer)
posts = sum(b["posts"] for board in stats["boards"] for b in board["days"])
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{posts} {len(answer)} {pick(0.5):.2f} {pick(0.9):.2f} {pick(0.99):.2f} {times[-1]:.2f}")
EOF
)
stop_wani
read -r COUNTED BYTES P50 P90 P99 MAX <<<"$RESULT"

echo "Machine: $(machine); CPUs ${BUSY_BEFORE}% busy before the run"
echo "Database: $COUNTED posts counted by the dashboard, $((DB_BYTES / 1048576)) MiB ($FILLED)"
echo
echo "| GET /api/admin/stats ($BYTES bytes) | median | p90 | p99 | slowest |"
echo "|---|---|---|---|---|"
echo "| $REQUESTS sequential requests, one connection | $P50 ms | $P90 ms | $P99 ms | $MAX ms |"

#!/usr/bin/env bash
# One-connection posting beside the disk's fsync rate, on loopback, with wrk.
#
# What it measures
#   1. Starts wani with a board /bench/ holding one thread (flood control and the request budget
#      off: one client posts far faster than a person).
#   2. The disk's fsync rate in the data directory (test/bench/fsync_rate.py: 4 KiB overwritten
#      in place, then fdatasync, for $PROBE_S seconds), just before and just after the posting.
#   3. Replies POSTed by `wrk -t1 -c1 -d$DURATION` (test/bench/post.lua) into the thread: each
#      201 is one durable commit, and with one connection no two posts share one.
#   Reports posts/s, the fsync rate (the mean of the two probes, and both), their ratio (the
#   figure), p50/p99 latency and wani's CPU time per post. With PERF=1 it also records wani
#   with `perf record -g` during the posting and prints the top of `perf report` (self time).
#
# Target (from the issue): one-connection posts/s at least 0.80 times the fsync rate.
#
# Fairness notes: wrk, wani and the probe share the CPUs and the disk with whatever else runs;
# the CPU's busy share in the second before is printed. On a tmpfs fsync is free and the ratio
# means nothing: the filesystem type is printed.
#
# How to run: test/bench/post_rate.sh
#   DURATION=10s  length of the posting run
#   PROBE_S=2     length of each fsync probe
#   PERF=0        1: profile wani with perf during the posting (needs perf)
#   WANI_BIN=...  use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1    keep the temp dir and print its path
#   FLOOR=1       measure the machine's floor instead of wani: examples/post_floor, a server
#                 that does nothing per POST but write FLOOR_PAGES pages of 4 KiB in place
#                 (default 1, the probe's own write; 14 is what a reply's commit writes) and
#                 fdatasync, with the same wrk poster, probes and report
# Needs: wrk, curl, python3 (installed with apt-get when missing), cargo unless WANI_BIN is given.

set -euo pipefail

DURATION=${DURATION:-10s}
PROBE_S=${PROBE_S:-2}
PERF=${PERF:-0}
BOARD=bench

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init post_rate
need_python
need curl curl
need wrk wrk

bench_tmp
FLOOR=${FLOOR:-0}
FLOOR_PAGES=${FLOOR_PAGES:-1}
if [ "$FLOOR" = 1 ]; then
    mkdir -p "$TMP/data"
    start_floor post_floor "$TMP/data/floor" "$FLOOR_PAGES"
    URL=http://127.0.0.1:$WANI_PORT/api/boards/$BOARD/threads/1/posts
else
    build_wani
    start_posting_wani
fi
cpu_busy

probe() { python3 "$HERE/fsync_rate.py" "$TMP/data/fsync-probe" "$PROBE_S"; }
server_ticks() { awk '{ print $14 + $15 }' "/proc/$WANI_PID/stat"; }

say "fsync probe, then wrk -t1 -c1 -d$DURATION -s post.lua $URL, then the probe again"
FSYNC_BEFORE=$(probe)
TICKS_BEFORE=$(server_ticks)
if [ "$PERF" = 1 ]; then
    perf record -g -o "$TMP/perf.data" -p "$WANI_PID" 2>"$TMP/perf.err" >/dev/null &
    PERF_PID=$!
    BENCH_PID_VARS+=(PERF_PID)
    sleep 0.5
fi
wrk -t1 -c1 -d"$DURATION" --latency -s "$HERE/post.lua" "$URL" >"$TMP/wrk.txt" 2>&1 ||
    { cat "$TMP/wrk.txt" >&2; die "wrk failed"; }
if [ "$PERF" = 1 ]; then
    kill -INT "$PERF_PID"
    wait "$PERF_PID" || true
    PERF_PID=
fi
TICKS_AFTER=$(server_ticks)
FSYNC_AFTER=$(probe)
grep -q 'Non-2xx or 3xx responses' "$TMP/wrk.txt" && { cat "$TMP/wrk.txt" >&2; die "non-2xx answers"; }

POSTS_S=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$TMP/wrk.txt")
REQUESTS=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
P50=$(awk '$1 == "50%" { print $2 }' "$TMP/wrk.txt")
P99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk.txt")
FSYNC=$(((FSYNC_BEFORE + FSYNC_AFTER) / 2))
RATIO=$(awk -v a="$POSTS_S" -v b="$FSYNC" 'BEGIN { printf "%.2f", a / b }')
CPU_US=$(awk -v t=$((TICKS_AFTER - TICKS_BEFORE)) -v hz="$(getconf CLK_TCK)" -v n="$REQUESTS" \
    'BEGIN { printf "%.0f", t * 1e6 / hz / n }')

echo
echo "wani one-connection posting benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(machine)"
echo "CPU busy in the second before the run (other work): ${BUSY_BEFORE}%"
if [ "$FLOOR" = 1 ]; then
    echo "server: the floor (examples/post_floor: $FLOOR_PAGES page(s) of 4 KiB and fdatasync per POST), not wani"
else
    echo "versions: $("$WANI_BIN" --version) ($WANI_BIN)"
fi
echo "data dir: filesystem $(stat -f -c %T "$TMP/data")"
echo
echo "  fsync rate (4 KiB + fdatasync)      $FSYNC /s (before $FSYNC_BEFORE, after $FSYNC_AFTER)"
echo "  POST reply, 1 connection            $POSTS_S posts/s ($REQUESTS in $DURATION), p50 $P50, p99 $P99"
echo "  wani CPU per post                   $CPU_US us"
echo "  posts/s / fsync rate >= 0.80        $RATIO $(awk -v r="$RATIO" 'BEGIN { print (r >= 0.8) ? "PASS" : "FAIL" }')"
if [ "$PERF" = 1 ]; then
    echo
    echo "perf report (self time, top 40):"
    perf report -i "$TMP/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
        grep -v '^#' | grep '%' | head -n 40
fi

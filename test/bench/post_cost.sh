#!/usr/bin/env bash
# What one durable reply costs the server, counted rather than timed: thread switches, CPU time
# and (with CALLGRIND=1) instructions per post, for N replies over one keep-alive connection.
#
# Wall-clock rates on a shared machine move with whatever else runs; these counts barely do.
# The context switches per post are the hand-offs between threads (request task, writer, live
# fan-out, log, blocking pool) that the one-connection rate pays for in wake-up latency.
#
# What it does
#   1. Starts wani with a board /bench/ holding one thread (flood control and the request
#      budget off), posts WARMUP replies, then N replies (test/bench/post_count.py: the body of
#      post.lua, each answer checked to be 201) while `perf stat -e
#      context-switches,cpu-migrations,task-clock -p PID` counts wani's threads.
#   2. With CALLGRIND=1, starts wani under valgrind's callgrind instead, switches the
#      instrumentation on for the N replies only, and prints instructions per post and the
#      functions with the most instructions (inclusive of what they call: `--inclusive=yes`).
#
# How to run: test/bench/post_cost.sh
#   N=2000 WARMUP=200   replies counted, and sent before counting
#   CALLGRIND=0         1: count instructions under callgrind (about 50 times slower; use N=300)
#   WANI_BIN=...        use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1          keep the temp dir and print its path
# Needs: perf (and valgrind with CALLGRIND=1), curl, python3.

set -euo pipefail

N=${N:-2000}
WARMUP=${WARMUP:-200}
CALLGRIND=${CALLGRIND:-0}
BOARD=bench

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init post_cost
need_python
need curl curl
need perf linux-perf
[ "$CALLGRIND" = 1 ] && need valgrind valgrind

bench_tmp
build_wani
if [ "$CALLGRIND" = 1 ]; then
    # shellcheck disable=SC2034 # start_wani (lib.sh) runs wani under it
    WANI_WRAP=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=$TMP/callgrind.out")
fi
start_posting_wani

say "$WARMUP replies to warm up, then $N counted"
python3 "$HERE/post_count.py" "$URL" "$WARMUP"
cpu_busy
perf stat -x, -e context-switches,cpu-migrations,task-clock -p "$WANI_PID" -o "$TMP/stat.csv" &
STAT_PID=$!
BENCH_PID_VARS+=(STAT_PID)
[ "$CALLGRIND" = 1 ] && callgrind_control -i on "$WANI_PID" >/dev/null
sleep 0.2
START=$EPOCHREALTIME
python3 "$HERE/post_count.py" "$URL" "$N"
END=$EPOCHREALTIME
if [ "$CALLGRIND" = 1 ]; then
    callgrind_control -i off "$WANI_PID" >/dev/null
    callgrind_control -d "$WANI_PID" >/dev/null
fi
kill -INT "$STAT_PID"
wait "$STAT_PID" || true
STAT_PID=

stat_of() { awk -F, -v e="$1" '$3 ~ "^"e { print $1 }' "$TMP/stat.csv"; }
per_post() { awk -v v="$1" -v n="$N" -v s="${2:-1}" 'BEGIN { printf "%.1f", v * s / n }'; }
SWITCHES=$(stat_of context-switches)
MIGRATIONS=$(stat_of cpu-migrations)
TASK_MS=$(stat_of task-clock)

echo
echo "wani post cost ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(machine)"
echo "CPU busy in the second before the count (other work): ${BUSY_BEFORE}%"
echo "versions: $("$WANI_BIN" --version) ($WANI_BIN)$([ "$CALLGRIND" = 1 ] && echo ', under callgrind')"
echo
echo "  replies counted                     $N (one connection, each a durable commit)"
echo "  wall time                           $(awk -v a="$START" -v b="$END" -v n="$N" 'BEGIN { printf "%.0f us a post", (b - a) * 1e6 / n }')"
echo "  context switches (all threads)      $(per_post "$SWITCHES") a post"
echo "  CPU migrations                      $(per_post "$MIGRATIONS") a post"
echo "  CPU time (task-clock)               $(per_post "$TASK_MS" 1000) us a post"
if [ "$CALLGRIND" = 1 ]; then
    # The first dump (callgrind_control -d): the counted replies only.
    OUT=$TMP/callgrind.out.1
    IR=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    echo "  instructions (callgrind)            $(per_post "$IR") a post"
    echo
    echo "callgrind, inclusive, top 45 (instructions over $N posts):"
    callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null | grep -E '^ *[0-9,]+ ' | head -n 45
fi

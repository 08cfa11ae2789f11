#!/usr/bin/env bash
# Live-updates benchmark for wani: many Server-Sent Events subscribers on one board, on loopback.
#
# What it measures
#   1. Starts a release wani with a board /bench/ holding one thread, `max_connections` (and the
#      per-client caps, since every subscriber is 127.0.0.1) raised above $SUBSCRIBERS, and the
#      open-file limit raised (to 65536, or the hard limit when that is lower and the script may
#      not raise it: wani needs one descriptor per subscriber and a few dozen more).
#   2. Opens $SUBSCRIBERS connections to GET /api/live?board=bench from $WORKERS processes of
#      examples/live_subscribers.rs (one thread each, raw non-blocking sockets and epoll, built
#      with cargo; driven by test/bench/live_clients.py, Python 3.11 standard library only), and
#      waits until every one has its 200 and the opening `retry: 3000`. The subscribers are
#      compiled because a Python client spent about 14 us of CPU per read, on the same two
#      cores as the server it measured.
#   3. Memory per subscriber: wani's VmRSS (/proc/PID/status) just before the connections and
#      $SETTLE_S seconds after the last one, the difference divided by the subscribers.
#   4. Delivery delay: $POSTS replies POSTed one at a time, one every $SPACING_MS ms, over one
#      keep-alive connection (opened before them with a GET of the board, so that the first 201
#      does not include connecting; each 201's latency is printed in posting order). The poster notes when it sent each POST and when its 201 arrived;
#      every subscriber notes when the read completing each event returned (CLOCK_MONOTONIC, one
#      clock for all processes of the machine). Reported, over the posts, as median / p99 / max
#      of: the delay from the 201 to the last of the subscribers receiving the event, and to the
#      median subscriber; and over every single delivery. The same again from the moment the POST
#      was sent. wani answers the post without waiting for the fan-out, which runs at the same
#      time on its own thread, so a delivery can still come before the 201 (a negative delay).
#      The poster's own latency (POST sent to 201 received) is reported as median / p99 / max.
#   5. Whether the client could keep up: the CPU time of wani and of the client processes
#      during the posting phase, in all and per subscriber-event (one event delivered to one
#      subscriber). While it is measured, a client process only reads each readable socket and
#      notes the time; it parses the bytes afterwards.
#   The script exits non-zero when a subscriber fails to connect or does not receive every
#   event exactly once and in order, when a post is not answered 201, or when wani fails to start.
#
# Targets (from the issue)
#   - hold 20 000 concurrent subscribers on a 2-core machine;
#   - p99 of the delay from sending a post to its event reaching the last subscriber under
#     100 ms, and p99 of the poster's 201 under 10 ms (not delayed by the fan-out);
#   - report the memory per subscriber (server RSS delta / subscribers).
#
# Fairness notes
#   - wani and the client processes share the machine's CPUs; nothing is pinned. The client's
#     CPU time is printed so its share can be judged.
#   - Only the bench poster writes during the measurement, so each post is one event.
#
# How to run (from anywhere; as root, or with python3 and curl already installed)
#   test/bench/live.sh
# Settings, as environment variables:
#   SUBSCRIBERS=20000  concurrent subscribers
#   POSTS=40           replies posted in the measured phase (p99 is the max below 100)
#   SPACING_MS=500     time between the starts of two posts
#   WORKERS=2          client processes holding the subscribers
#   SETTLE_S=2         wait after the last connection before reading wani's RSS
#   DRAIN_S=5          wait after the last post before the subscribers stop recording
#   WANI_BIN=...       use this binary instead of building target/release/wani with cargo
#   SUBSCRIBER_BIN=... use this build of examples/live_subscribers instead of building it
#   KEEP_TMP=1         keep the temp dir (data, config, log) and print its path
#   FLOOR=1            measure the machine's floor instead of wani: examples/live_floor, a
#                      server that does nothing per event but one write() per subscriber
#                      (FLOOR_THREADS=2 threads writing, FLOOR_FRAME=177 bytes a frame,
#                      the size of wani's frame for the same post), with the same
#                      clients, poster and report
#
# Needs: python3 (3.11 or later) and curl (installed with apt-get when missing), and cargo
# unless WANI_BIN and SUBSCRIBER_BIN are given.

set -euo pipefail

SUBSCRIBERS=${SUBSCRIBERS:-20000}
POSTS=${POSTS:-40}
SPACING_MS=${SPACING_MS:-500}
WORKERS=${WORKERS:-2}
SETTLE_S=${SETTLE_S:-2}
DRAIN_S=${DRAIN_S:-5}
BOARD=bench

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init live

# --- tools and limits --------------------------------------------------------------------------
need_python
need curl curl

# Every subscriber is a file descriptor in wani and one in a client process.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
[ "$FD_LIMIT" -ge $((SUBSCRIBERS + 64)) ] ||
    die "the open-file limit is $FD_LIMIT, too low for $SUBSCRIBERS subscribers (raise the hard limit, or SUBSCRIBERS=$((FD_LIMIT - 64)))"
MAX_CONNECTIONS=$((SUBSCRIBERS + 2000))
[ "$MAX_CONNECTIONS" -ge 12000 ] || MAX_CONNECTIONS=12000

# --- build and start wani ----------------------------------------------------------------------
bench_tmp
FLOOR=${FLOOR:-0}
[ "$FLOOR" = 1 ] || build_wani
if [ -z "${SUBSCRIBER_BIN:-}" ]; then
    say "building the subscribers (cargo build --release --example live_subscribers)"
    (cd "$ROOT" && cargo build --release --locked --quiet --example live_subscribers) ||
        die "cargo build --release --example live_subscribers failed"
    SUBSCRIBER_BIN=$ROOT/target/release/examples/live_subscribers
fi
[ -x "$SUBSCRIBER_BIN" ] || die "$SUBSCRIBER_BIN is not an executable"

# Every subscriber comes from 127.0.0.1, one client address: the per-client caps are raised
# with the global one, as an admin behind a single proxy address would.
cat >"$TMP/wani.toml" <<EOF
max_connections = $MAX_CONNECTIONS
max_connections_per_client = $MAX_CONNECTIONS
max_streams_per_client = $MAX_CONNECTIONS
# One client posts far faster than any person: flood control and the request budget are off.
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0

[[boards]]
slug = "$BOARD"
title = "Bench"
bump_limit = 1000000
EOF

if [ "$FLOOR" = 1 ]; then
    # wani frames the same post as 177 bytes (its `id`, `event` and `data` lines).
    FLOOR_FRAME=${FLOOR_FRAME:-177}
    FLOOR_THREADS=${FLOOR_THREADS:-2}
    say "the floor server: $FLOOR_THREADS threads writing, $FLOOR_FRAME-byte frames"
    start_floor live_floor "$FLOOR_THREADS" "$FLOOR_FRAME"
    THREAD=1
else
    say "starting wani (max_connections = $MAX_CONNECTIONS, open-file limit $FD_LIMIT)"
    start_wani "$TMP/wani.toml" "$TMP/data" "$TMP/wani.log"
    API=$WANI_URL/api/boards/$BOARD

    THREAD=$(curl -sSf -H 'Content-Type: application/json' \
        --data-binary '{"subject":"Live","body":"The thread the benchmark replies to."}' "$API/threads" |
        sed -n 's/.*"thread":\([0-9]*\).*/\1/p')
    [ -n "$THREAD" ] || die "creating the thread failed"
fi

# Other work on the machine skews every figure: note how busy the CPUs are in the second before.
cpu_busy

# --- run ---------------------------------------------------------------------------------------
say "connecting $SUBSCRIBERS subscribers, then posting $POSTS replies"
status=0
python3 "$HERE/live_clients.py" --port "$WANI_PORT" --server-pid "$WANI_PID" --board "$BOARD" \
    --thread "$THREAD" --subscribers "$SUBSCRIBERS" --posts "$POSTS" --spacing-ms "$SPACING_MS" \
    --workers "$WORKERS" --settle-s "$SETTLE_S" --drain-s "$DRAIN_S" \
    --subscriber-bin "$SUBSCRIBER_BIN" >"$TMP/result.txt" || status=$?
kill -0 "$WANI_PID" 2>/dev/null || { cat "$TMP/wani.log" >&2; die "wani died during the run"; }
ERRORS=$(grep -c ' ERROR \| WARN ' "$TMP/wani.log" || true)

# --- report ------------------------------------------------------------------------------------
echo
echo "wani live-updates benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(machine)"
echo "CPU busy in the second before the run (other work): ${BUSY_BEFORE}%"
if [ "$FLOOR" = 1 ]; then
    echo "server: the floor (examples/live_floor: one write() per subscriber, $FLOOR_THREADS threads, $FLOOR_FRAME-byte frames), not wani"
else
    echo "versions: $("$WANI_BIN" --version), $(python3 --version)"
fi
echo "setup: $SUBSCRIBERS subscribers to /api/live?board=$BOARD from $WORKERS client processes; max_connections $MAX_CONNECTIONS; open-file limit $FD_LIMIT"
echo "wani log: $(wc -l <"$TMP/wani.log") lines, $ERRORS at WARN or ERROR"
echo
cat "$TMP/result.txt"
[ "$status" = 0 ] || die "the run failed (see above)"

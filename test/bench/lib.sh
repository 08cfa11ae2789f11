# shellcheck shell=bash
# The preamble every benchmark shares: tools, the release build, a temp dir that cleans up after
# itself, starting and stopping wani on a free loopback port, and the machine's description.
#
# Use: after `set -euo pipefail`,
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_init NAME          # NAME.sh prefixes errors; sets HERE, ROOT, KEEP_TMP
#   bench_tmp                # TMP, removed at exit (kept with KEEP_TMP=1); stops wani at exit
#   build_wani               # WANI_BIN: $WANI_BIN if given, else a release build of this tree
#   start_wani CONFIG DATA LOG [PORT]   # WANI_PID, WANI_PORT; WANI_WRAP=(prlimit ...) prefixes it
#   start_floor EXAMPLE ARG...          # a floor server from examples/ in wani's place
# A script that starts other servers adds the names of the variables holding their PIDs to
# BENCH_PID_VARS so that they are stopped at exit too.

# bench_init NAME: names the script in messages and finds the tree.
bench_init() {
    BENCH_NAME=$1
    HERE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
    ROOT=$(cd "$HERE/../.." && pwd)
    KEEP_TMP=${KEEP_TMP:-0}
    BENCH_PID_VARS=(WANI_PID)
    WANI_PID=
    WANI_WRAP=()
}

die() {
    echo "$BENCH_NAME.sh: error: $*" >&2
    exit 1
}
say() { echo "== $*" >&2; }

# need COMMAND PACKAGE ...: installs the Debian packages with apt-get when COMMAND is missing.
need() {
    local command=$1
    shift
    command -v "$command" >/dev/null && return 0
    [ -x "$command" ] && return 0
    say "installing $*"
    [ "$(id -u)" = 0 ] || die "missing $command; install it (apt-get install $*)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
        die "apt-get install $* failed"
}

# need_python: python3 3.11 or later (the helpers use only its standard library).
need_python() {
    need python3 python3
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "python3 3.11 or later is needed"
}

# stop_pid PID: SIGTERM, then SIGKILL after 15 s; returns 1 when it had to kill.
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
}

bench_cleanup() {
    local var
    for var in "${BENCH_PID_VARS[@]}"; do
        stop_pid "${!var:-}" || true
    done
    [ -n "${TMP:-}" ] || return 0
    if [ "$KEEP_TMP" = 1 ]; then
        echo "$BENCH_NAME.sh: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}

# bench_tmp: a fresh temp dir in TMP, removed with every server at exit.
bench_tmp() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/wani-$BENCH_NAME-bench.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# build_wani: WANI_BIN, the given binary or a release build of this tree.
build_wani() {
    if [ -z "${WANI_BIN:-}" ]; then
        say "building wani (cargo build --release)"
        (cd "$ROOT" && cargo build --release --locked --quiet) || die "cargo build --release failed"
        WANI_BIN=$ROOT/target/release/wani
    fi
    [ -x "$WANI_BIN" ] || die "$WANI_BIN is not an executable"
}

# start_wani CONFIG DATA LOG [PORT]: starts wani in the background (WANI_PID) on PORT, or on a
# port it picks, and waits up to 30 s until it logs that it listens (WANI_PORT, WANI_URL).
start_wani() {
    local config=$1 data=$2 log=$3 port=${4:-0}
    "${WANI_WRAP[@]}" "$WANI_BIN" --listen "127.0.0.1:$port" --data "$data" --config "$config" 2>"$log" &
    WANI_PID=$!
    WANI_PORT=
    for _ in $(seq 1 300); do
        WANI_PORT=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p' "$log" | head -n1)
        if [ -n "$WANI_PORT" ]; then
            # shellcheck disable=SC2034 # for the scripts that source this
            WANI_URL=http://127.0.0.1:$WANI_PORT
            return 0
        fi
        kill -0 "$WANI_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "wani exited at start"; }
        sleep 0.1
    done
    tail -n 20 "$log" >&2
    die "wani did not report its port within 30s"
}

# start_floor EXAMPLE ARG...: builds examples/EXAMPLE.rs, a floor server (it takes its port first,
# then ARG...), and starts it in wani's place: WANI_PID, WANI_PORT, its output in $TMP/wani.log.
start_floor() {
    local example=$1
    shift
    say "building the floor server (cargo build --release --example $example)"
    (cd "$ROOT" && cargo build --release --locked --quiet --example "$example") ||
        die "cargo build --release --example $example failed"
    WANI_PORT=$(free_port) || die "no free port"
    "$ROOT/target/release/examples/$example" "$WANI_PORT" "$@" >"$TMP/wani.log" 2>&1 &
    WANI_PID=$!
    for _ in $(seq 1 100); do
        grep -q listening "$TMP/wani.log" && return 0
        sleep 0.1
    done
    die "the floor server did not start"
}

# start_posting_wani: starts wani with a board $BOARD for one client posting far faster than any
# person (flood control and the request budget off, a thread takes 100 000 replies) and opens one
# thread there; sets API and URL (the thread's replies route). Shared by post_rate.sh and
# post_cost.sh, which differ only in how they post and what they count.
start_posting_wani() {
    cat >"$TMP/wani.toml" <<EOT
# One client posts far faster than any person: flood control and the request budget are off.
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0

[[boards]]
slug = "$BOARD"
title = "Bench"
bump_limit = 1000000
max_replies = 100000
EOT
    start_wani "$TMP/wani.toml" "$TMP/data" "$TMP/wani.log"
    API=$WANI_URL/api/boards/$BOARD
    local thread
    thread=$(curl -sSf -H 'Content-Type: application/json' \
        --data-binary '{"subject":"Posts","body":"The thread the benchmark replies to."}' \
        "$API/threads" | sed -n 's/.*"thread":\([0-9]*\).*/\1/p')
    [ -n "$thread" ] || die "creating the thread failed"
    # shellcheck disable=SC2034 # for the scripts that source this
    URL=$API/threads/$thread/posts
}

# stop_wani: stops it (SIGTERM; dies when it needs SIGKILL), STOP_SECS is how long that took.
stop_wani() {
    local t0=$EPOCHREALTIME
    stop_pid "$WANI_PID" || die "wani did not stop within 15s of SIGTERM"
    WANI_PID=
    # shellcheck disable=SC2034 # for the scripts that source this
    STOP_SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

# Ports below the kernel's ephemeral range, so no outgoing connection takes one while its
# server is starting; "free" means nothing accepts a connection on it now.
BENCH_GIVEN_PORTS=" "
free_port() {
    local low p
    low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 20000 ] || low=20000
    for _ in $(seq 1 100); do
        p=$((10000 + RANDOM % (low - 10000)))
        case $BENCH_GIVEN_PORTS in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            BENCH_GIVEN_PORTS="$BENCH_GIVEN_PORTS$p "
            echo "$p"
            return 0
        fi
    done
    return 1
}

# cpu_busy: BUSY_BEFORE, how busy the CPUs were in the last second (from /proc/stat; the load
# average would still remember a build), with a warning when other work would skew figures.
cpu_busy() {
    local total0 idle0 total1 idle1
    read -r total0 idle0 < <(awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep 1
    read -r total1 idle1 < <(awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    BUSY_BEFORE=$(awk -v t=$((total1 - total0)) -v i=$((idle1 - idle0)) \
        'BEGIN { printf "%.0f", (t > 0) ? 100 * (t - i) / t : 0 }')
    [ "$BUSY_BEFORE" -le 10 ] ||
        say "warning: the CPUs were ${BUSY_BEFORE}% busy before the run; other work will skew the figures"
}

# machine: one line naming the CPUs, their model, the memory and the kernel.
machine() {
    local model mem
    model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "$(nproc) CPUs, ${model:-unknown CPU}, $mem RAM, kernel $(uname -r)"
}

#!/usr/bin/env bash
# HTTP benchmark for wani, on loopback, with wrk.
#
# What it measures
#   1. Seeds a fresh board /bench/ over HTTP with 150 live threads: 149 short threads (an OP of
#      100 to 300 characters each, no replies), then one big thread of 300 posts (OP + 299
#      replies of about 200 characters each). The big thread is created last, so it is also the
#      first thread on index page 1 (with its last 5 replies).
#   2. Reads, each with `wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency`
#      (requests/s and p99 latency):
#        - GET of the big thread from wani (served from wani's in-memory response cache);
#        - GET of the very same bytes from nginx, as a static file (the reference);
#        - the same from nginx with sendfile off, for information only (no target uses it):
#          nginx then copies the file from user memory into the socket, as wani must;
#        - GET of the board catalog and of index page $INDEX_PAGE from wani;
#        - GET of the big thread with `Accept-Encoding: gzip` from wani (its cached gzip copy)
#          and from nginx serving the same document with `gzip_static` from a file
#          pre-compressed with `gzip -9` (the reference), and with `Accept-Encoding: zstd`
#          from wani (nginx has no zstd without a third-party module).
#      Every run is preceded by a $WARMUP wrk run against the same URL, not counted. The bytes
#      on the wire per request (status line, headers and body, as curl counts them) are
#      reported for each form of the thread GET; each compressed form is checked to decode to
#      the identity bytes.
#   3. Durable post creation (after an fsync-rate probe in the data directory): replies POSTed by wrk (test/bench/post.lua) into the four oldest of
#      the 149 short threads in turn (not the big one, which stays fixed for the comparison), first with 1
#      connection (-t1 -c1), then with $CONNECTIONS connections (-t$WRK_THREADS). Each 201 means
#      the post was committed to redb on disk; concurrent posts share one commit (one fsync).
#      Reported as posts/s and p99. The posts the server committed are checked against wrk's
#      count afterwards.
#   For each run the script also reports the server's CPU time per request (user + system, all
#   threads or worker processes), which matters because wrk shares the same CPUs.
#   The report also names the machine (CPUs, model, memory, kernel) and how busy its CPUs were in
#   the second before the runs, with a warning when other work was running.
#   Any non-2xx response or socket error in any run makes the script exit non-zero, as does a
#   server that fails to start or a seed request that fails. Missed targets are only reported.
#
# Targets (from the issue)
#   - wani's big-thread GET requests/s at least 0.8 times nginx's serving the same bytes;
#   - wani's gzipped big-thread GET requests/s at least 1.0 times nginx's gzip_static;
#   - wani's p99 for that GET no more than 1.5 times nginx's p99 in the same run;
#   - $CONNECTIONS concurrent posters reach at least 10 times the posts/s of a single poster;
#   - a single poster reaches at least 0.8 times the disk's fsync rate, measured just before
#     by test/bench/fsync_rate.py in the data directory (test/bench/post_rate.sh measures only
#     this, with an optional perf profile).
#
# Fairness notes
#   - Both servers log every request: wani writes one line per request to stderr (redirected to
#     a file in the temp dir), nginx keeps its access_log on (a file in the temp dir).
#   - nginx: worker_processes auto, sendfile on, keepalive_requests raised so that, like wani,
#     it never closes wrk's keep-alive connections during a run.
#   - wrk, wani and nginx share the machine's CPUs; nothing is pinned.
#   - The data directory lives under $TMPDIR (default /tmp). If that is a tmpfs, fsync is free and
#     the post figures do not measure durability; the script prints the filesystem type and the
#     time of one 4 KiB O_DSYNC write there (dd), to put the single-poster figure in context.
#
# How to run (from anywhere; as root, or with wrk, nginx and curl already installed)
#   test/bench/http.sh
# Settings, as environment variables:
#   DURATION=10s     length of each measured wrk run
#   WARMUP=2s        length of the unmeasured wrk run before each GET measurement (0 to skip)
#   CONNECTIONS=64   connections for the GET runs and for the concurrent-poster run
#   WRK_THREADS=2    wrk threads for those runs
#   INDEX_PAGE=1     index page to measure (pages count from 1)
#   WANI_BIN=...     use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1       keep the temp dir (data, config, logs, wrk outputs) and print its path
#
# Needs: wrk, nginx (/usr/sbin/nginx), curl, gzip, zstd, python3 (installed with apt-get when missing),
# and cargo unless WANI_BIN is given.

set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
INDEX_PAGE=${INDEX_PAGE:-1}
BOARD=bench
BIG_REPLIES=299   # + the OP = 300 posts
OTHER_THREADS=149 # + the big thread = 150 live threads
SEED_PARALLEL=8

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init http
NGINX=/usr/sbin/nginx
NGINX_PID=
BENCH_PID_VARS+=(NGINX_PID)

# --- tools -------------------------------------------------------------------------------------
command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
[ -x "$NGINX" ] || command -v nginx >/dev/null || (apt-get update && apt-get install -y nginx)
command -v curl >/dev/null || (apt-get update && apt-get install -y curl)
command -v zstd >/dev/null || (apt-get update && apt-get install -y zstd)
need_python # the fsync probe
[ -x "$NGINX" ] || NGINX=$(command -v nginx)
command -v wrk >/dev/null || die "wrk is not installed"
[ -x "$NGINX" ] || die "nginx is not installed"

# --- build and start wani ----------------------------------------------------------------------
bench_tmp
build_wani

cat >"$TMP/wani.toml" <<EOF
# One client posts far faster than any person: flood control and the request budget are off.
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0
[[boards]]
slug = "$BOARD"
title = "Bench"
bump_limit = 1000000
thread_limit = 1000
threads_per_page = 10
max_body_chars = 4000
max_replies = 100000 # the post runs must not lock their thread at the default 1000
EOF

say "starting wani"
start_wani "$TMP/wani.toml" "$TMP/data" "$TMP/wani.log"
WANI=$WANI_URL
API=$WANI/api/boards/$BOARD

# --- seed --------------------------------------------------------------------------------------
# Fixed texts (no randomness); \n is a JSON escape, so posts have line breaks like real ones.
SHORT='Has anyone here tried running it on a single board computer? Mine boots fine but stalls after an hour.'
MEDIUM='I have been reading this board for a while and finally have a question worth asking.\nWhat do you all use for backups of a small server: rsync to another box, or something with snapshots? Keep it simple please.'
LONG='Long post ahead. I rebuilt my old workstation over the weekend: new thermal paste, a quieter fan, a clean install.\nIt now idles ten degrees cooler and the noise is gone. The only thing left is the flaky USB port on the front panel. Ideas welcome; I would rather not replace the whole case for one port.'
REPLY='Agreed with the post above. I measured the same thing on two machines and got numbers within a few percent of each other.\nThe difference only shows under load, so test with real traffic before you decide.'

post_json() { # URL JSON: POST, fail unless 201
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "$2" "$1") || return 1
    [ "$code" = 201 ] || { echo "POST $1 answered $code" >&2; return 1; }
}
export -f post_json
seed() { # URL, with NUL-separated JSON bodies on stdin: posts them $SEED_PARALLEL at a time
    # shellcheck disable=SC2016 # $0 and $1 belong to the inner bash
    xargs -0 -P "$SEED_PARALLEL" -I{} bash -c 'post_json "$0" "$1"' "$1" {}
}

say "seeding $OTHER_THREADS short threads ($SEED_PARALLEL at a time)"
SECONDS=0
for i in $(seq 1 "$OTHER_THREADS"); do
    case $((i % 3)) in
        0) text=$SHORT ;; 1) text=$MEDIUM ;; *) text=$LONG ;;
    esac
    printf '{"subject":"Thread %d","body":"%s"}\0' "$i" "$text"
done | seed "$API/threads" || die "seeding the short threads failed"
# The four oldest short threads (lowest numbers) take the measured posts, in turn: at today's
# rate the many-poster run alone would fill one thread past the most replies a board allows.
read -r -a POST_THREADS <<<"$(curl -sSf "$API/catalog" | grep -o '"no":[0-9]*' | sed 's/"no"://' |
    sort -n | head -n4 | tr '\n' ' ')"
[ "${#POST_THREADS[@]}" = 4 ] || die "could not find four threads to post into"
POST_THREAD=${POST_THREADS[0]}

say "seeding the big thread: OP + $BIG_REPLIES replies"
BIG=$(curl -sSf -H 'Content-Type: application/json' \
    --data-binary "{\"subject\":\"The big thread\",\"body\":\"$LONG\"}" "$API/threads" |
    sed -n 's/.*"thread":\([0-9]*\).*/\1/p')
[ -n "$BIG" ] || die "creating the big thread failed"
for i in $(seq 1 "$BIG_REPLIES"); do
    printf '{"name":"Anonymous %d","body":"Reply %d. %s"}\0' "$((i % 7))" "$i" "$REPLY"
done | seed "$API/threads/$BIG/posts" || die "seeding the big thread failed"
SEED_SECS=$SECONDS

curl -sSf "$API/threads/$BIG" -o "$TMP/thread.json" || die "GET of the big thread failed"
BIG_POSTS=$(grep -o '"no":' "$TMP/thread.json" | wc -l)
# One "no" for the thread itself, one per post.
[ "$BIG_POSTS" = $((BIG_REPLIES + 2)) ] || die "the big thread has $((BIG_POSTS - 1)) posts, not $((BIG_REPLIES + 1))"
LIVE=$(curl -sSf "$API/catalog" | grep -o '"no":' | wc -l)
THREAD_BYTES=$(stat -c %s "$TMP/thread.json")
CATALOG_BYTES=$(curl -sSf "$API/catalog" | wc -c)
INDEX_BYTES=$(curl -sSf "$API/index?page=$INDEX_PAGE" | wc -c)

# --- nginx serving the same bytes --------------------------------------------------------------
mkdir -p "$TMP/nginx/html" "$TMP/nginx/logs" "$TMP/nginx/tmp"
cp "$TMP/thread.json" "$TMP/nginx/html/thread.json"
gzip -9 -n -k "$TMP/nginx/html/thread.json" # thread.json.gz, for gzip_static
start_nginx() {
    NGINX_PORT=$(free_port) || return 1
    NGINX_PORT2=$(free_port) || return 1
    [ "$NGINX_PORT" != "$NGINX_PORT2" ] || return 1
    local user=
    [ "$(id -u)" = 0 ] && user='user root;' # workers must read the 0700 temp dir
    cat >"$TMP/nginx/nginx.conf" <<EOF
$user
daemon off;
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    access_log $TMP/nginx/logs/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/nginx/html;
        default_type application/json;
        # Without Accept-Encoding: the identity file; with gzip: thread.json.gz as it is.
        location = /thread.json { gzip_static on; gzip_vary on; }
    }
    server { # information only
        listen 127.0.0.1:$NGINX_PORT2;
        sendfile off;
        root $TMP/nginx/html;
        default_type application/json;
        location = /thread.json { }
    }
}
EOF
    "$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2>>"$TMP/nginx/logs/stderr.log" &
    NGINX_PID=$!
    for _ in $(seq 1 50); do
        curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/thread.json" &&
            curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT2/thread.json" && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.1
    done
    stop_pid "$NGINX_PID"
    NGINX_PID=
    return 1
}
say "starting nginx"
started=0
for _ in 1 2 3; do
    if start_nginx; then started=1; break; fi
done
[ "$started" = 1 ] || { cat "$TMP/nginx/logs/"*.log >&2 || true; die "nginx did not start"; }
NGINX_URL=http://127.0.0.1:$NGINX_PORT/thread.json
NGINX_URL2=http://127.0.0.1:$NGINX_PORT2/thread.json
curl -sSf "$NGINX_URL" | cmp -s - "$TMP/thread.json" || die "nginx does not serve the same bytes"
curl -sSf "$NGINX_URL2" | cmp -s - "$TMP/thread.json" || die "nginx does not serve the same bytes"
NGINX_WORKERS=$(awk -v p="$NGINX_PID" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null | tr '\n' ' ' || true)
[ -n "$NGINX_WORKERS" ] || die "found no nginx worker processes"
curl -sSf "$API/threads/$BIG" | cmp -s - "$TMP/thread.json" || die "wani's thread changed"

# The compressed forms: wani makes its copies just after the first read; wait for them, then
# check that every compressed answer decodes to the identity bytes.
encoded_as() { # URL CODING -> the Content-Encoding of the answer (empty for none)
    curl -sSf -o /dev/null -D - -H "Accept-Encoding: $2" "$1" | tr -d '\r' |
        sed -n 's/^content-encoding: *//Ip'
}
for coding in gzip zstd; do
    for _ in $(seq 1 100); do
        [ "$(encoded_as "$API/threads/$BIG" "$coding")" = "$coding" ] && break
        sleep 0.1
    done
    [ "$(encoded_as "$API/threads/$BIG" "$coding")" = "$coding" ] || die "wani never sent the thread as $coding"
done
[ "$(encoded_as "$NGINX_URL" gzip)" = gzip ] || die "nginx does not send the gzip_static file"
curl -sSf -H 'Accept-Encoding: gzip' "$API/threads/$BIG" | gzip -dc | cmp -s - "$TMP/thread.json" ||
    die "wani's gzip answer does not decode to the thread"
curl -sSf -H 'Accept-Encoding: zstd' "$API/threads/$BIG" | zstd -dcq | cmp -s - "$TMP/thread.json" ||
    die "wani's zstd answer does not decode to the thread"
curl -sSf -H 'Accept-Encoding: gzip' "$NGINX_URL" | gzip -dc | cmp -s - "$TMP/thread.json" ||
    die "nginx's gzip answer does not decode to the thread"
declare -A WIRE
wire() { # KEY URL [CODING]: bytes on the wire for one answer (head and body)
    local args=(-sSf -o /dev/null -w '%{size_header} %{size_download}')
    [ -n "${3:-}" ] && args+=(-H "Accept-Encoding: $3")
    WIRE[$1]=$(curl "${args[@]}" "$2" | awk '{ print $1 + $2 }')
}
wire thread_nginx "$NGINX_URL"
wire thread_wani "$API/threads/$BIG"
wire thread_nginx_gzip "$NGINX_URL" gzip
wire thread_wani_gzip "$API/threads/$BIG" gzip
wire thread_wani_zstd "$API/threads/$BIG" zstd

# Other work on the machine skews every figure: note how busy the CPUs are in the second before
# measuring (from /proc/stat; the load average would still remember the build).
cpu_busy

# --- wrk runs ----------------------------------------------------------------------------------
declare -A RPS P99 REQS CPU
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_ticks() { # PID... -> user + system clock ticks, summed
    local sum=0 pid
    for pid in "$@"; do sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
    echo "$sum"
}
to_ms() { # wrk latency like 812.00us, 3.21ms, 1.02s, 1.50m -> milliseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        else if (u == "h") n *= 3600000; else if (u != "ms") { print "?"; exit 1 }
        printf "%.3f", n }'
}
# run_wrk KEY THREADS CONNECTIONS DURATION URL [LUA]: runs wrk, fails on any error response or
# socket error, stores requests/s, p99 (ms), the request count and the CPU time per request of
# the server processes $SERVER_PIDS under KEY.
# WRK_HEADERS: extra `-H` arguments for every wrk run while set.
WRK_HEADERS=()
run_wrk() {
    local key=$1 threads=$2 conns=$3 dur=$4 url=$5 lua=${6:-} out=$TMP/wrk-$1.txt
    local args=(-t"$threads" -c"$conns" -d"$dur" --latency "${WRK_HEADERS[@]}") before after
    [ -n "$lua" ] && args+=(-s "$lua")
    local script_args=("${@:7}") # for the script, after `--`
    # shellcheck disable=SC2086 # a list of pids
    before=$(cpu_ticks $SERVER_PIDS)
    wrk "${args[@]}" "$url" ${script_args[0]+--} "${script_args[@]}" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk failed ($key)"; }
    # shellcheck disable=SC2086
    after=$(cpu_ticks $SERVER_PIDS)
    sed 's/^/    /' "$out" >&2
    if grep -q 'Non-2xx or 3xx responses' "$out"; then die "$key: wrk saw non-2xx responses"; fi
    if grep -q 'Socket errors' "$out"; then die "$key: wrk saw socket errors"; fi
    RPS[$key]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    REQS[$key]=$(awk '/requests in/ { print $1 }' "$out")
    local p99
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    if [ -z "${RPS[$key]}" ] || [ -z "$p99" ]; then die "$key: could not read wrk's output"; fi
    P99[$key]=$(to_ms "$p99") || die "$key: unknown latency unit in $p99"
    CPU[$key]=$(awk -v t=$((after - before)) -v us="$TICK_US" -v n="${REQS[$key]}" \
        'BEGIN { printf "%.1f", t * us / n }')
}
measure_get() { # KEY URL
    if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
        wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${WRK_HEADERS[@]}" "$2" >/dev/null 2>&1 ||
            die "wrk warm-up failed ($1)"
    fi
    say "$1: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency ${WRK_HEADERS[*]} $2"
    run_wrk "$1" "$WRK_THREADS" "$CONNECTIONS" "$DURATION" "$2"
}

SERVER_PIDS=$NGINX_WORKERS
measure_get thread_nginx "$NGINX_URL"
measure_get thread_nginx_nosf "$NGINX_URL2"
SERVER_PIDS=$WANI_PID
measure_get thread_wani "$API/threads/$BIG"
measure_get catalog "$API/catalog"
measure_get index "$API/index?page=$INDEX_PAGE"
WRK_HEADERS=(-H "Accept-Encoding: gzip")
SERVER_PIDS=$NGINX_WORKERS
measure_get thread_nginx_gzip "$NGINX_URL"
SERVER_PIDS=$WANI_PID
measure_get thread_wani_gzip "$API/threads/$BIG"
WRK_HEADERS=(-H "Accept-Encoding: zstd")
measure_get thread_wani_zstd "$API/threads/$BIG"
WRK_HEADERS=()

replies_of() { # THREAD... -> their reply counts, summed
    local thread n total=0
    for thread in "$@"; do
        n=$(curl -sSf "$API/threads/$thread" | sed -n 's/^{"thread":{[^[]*"replies":\([0-9]*\).*/\1/p')
        [ -n "$n" ] || return 1
        total=$((total + n))
    done
    echo "$total"
}
BEFORE=$(replies_of "${POST_THREADS[@]}")
# The disk's fsync rate as a commit sees it, right before the one-poster run (the ceiling of
# one-connection posting: each post is one commit).
say "fsync probe (test/bench/fsync_rate.py) in the data directory"
FSYNC_RATE=$(python3 "$HERE/fsync_rate.py" "$TMP/data/fsync-probe" 2) || die "the fsync probe failed"
say "post_1: wrk -t1 -c1 -d$DURATION --latency -s post.lua $API/threads/$POST_THREAD/posts -- ${POST_THREADS[*]}"
run_wrk post_1 1 1 "$DURATION" "$API/threads/$POST_THREAD/posts" "$HERE/post.lua" "${POST_THREADS[@]}"
say "post_$CONNECTIONS: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency -s post.lua $API/threads/$POST_THREAD/posts -- ${POST_THREADS[*]}"
run_wrk post_n "$WRK_THREADS" "$CONNECTIONS" "$DURATION" "$API/threads/$POST_THREAD/posts" "$HERE/post.lua" \
    "${POST_THREADS[@]}"
sleep 0.5 # posts still in flight when wrk stopped
AFTER=$(replies_of "${POST_THREADS[@]}")
if [ -z "$BEFORE" ] || [ -z "$AFTER" ]; then
    die "could not read the reply counts of threads ${POST_THREADS[*]}"
fi
COMMITTED=$((AFTER - BEFORE))
COUNTED=$((REQS[post_1] + REQS[post_n]))
# wrk does not count requests still in flight when it stops, so the server may hold a few more.
if [ "$COMMITTED" -lt "$COUNTED" ] || [ "$COMMITTED" -gt $((COUNTED + CONNECTIONS + 1)) ]; then
    die "wrk counted $COUNTED posts answered, but threads ${POST_THREADS[*]} gained $COMMITTED replies"
fi
curl -sSf "$API/threads/$BIG" | cmp -s - "$TMP/thread.json" ||
    die "the big thread changed during the run"
kill -0 "$WANI_PID" 2>/dev/null || die "wani died during the run"

# One 4 KiB synchronous write on the data directory's filesystem, for context.
dd if=/dev/zero of="$TMP/data/dsync-probe" bs=4096 count=200 oflag=dsync 2>"$TMP/dd.txt" ||
    die "dd failed: $(cat "$TMP/dd.txt")"
rm -f "$TMP/data/dsync-probe"
DSYNC_MS=$(awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) s = $(i - 1) }
    END { printf "%.3f", s * 1000 / 200 }' "$TMP/dd.txt")

# --- report ------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "FAIL" }'; }
RPS_RATIO=$(ratio "${RPS[thread_wani]}" "${RPS[thread_nginx]}")
P99_RATIO=$(ratio "${P99[thread_wani]}" "${P99[thread_nginx]}")
POST_RATIO=$(ratio "${RPS[post_n]}" "${RPS[post_1]}")
FSYNC_RATIO=$(ratio "${RPS[post_1]}" "$FSYNC_RATE")
GZIP_RATIO=$(ratio "${RPS[thread_wani_gzip]}" "${RPS[thread_nginx_gzip]}")
LOG_LINES=$(wc -l <"$TMP/wani.log")
NGINX_LINES=$(wc -l <"$TMP/nginx/logs/access.log")

fs_type=$(stat -f -c %T "$TMP/data")
row() { printf '  %-40s %11s %10s %17s\n' "$@"; }

echo
echo "wani HTTP benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(machine)"
echo "CPU busy in the second before the runs (other work): ${BUSY_BEFORE}%"
echo "versions: $("$WANI_BIN" --version), $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }')"
echo "data dir: filesystem $fs_type, one 4 KiB O_DSYNC write (dd) takes $DSYNC_MS ms; fsync rate (4 KiB + fdatasync, before the 1-poster run) $FSYNC_RATE/s"
echo "seed: $LIVE live threads on /$BOARD/ ($OTHER_THREADS short + 1 big); big thread No.$BIG has $((BIG_POSTS - 1)) posts; seeded in ${SEED_SECS}s"
echo "bodies: big thread $THREAD_BYTES bytes, catalog $CATALOG_BYTES bytes, index page $INDEX_PAGE $INDEX_BYTES bytes"
echo "wrk: GETs -t$WRK_THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up each); posts -t1 -c1 and -t$WRK_THREADS -c$CONNECTIONS -d$DURATION into threads ${POST_THREADS[*]} in turn"
echo "logging: wani wrote $LOG_LINES log lines, nginx $NGINX_LINES access-log lines"
echo
row "measurement" "requests/s" "p99 (ms)" "server CPU us/req"
for key in thread_nginx thread_nginx_nosf thread_wani thread_nginx_gzip thread_wani_gzip \
    thread_wani_zstd catalog index post_1 post_n; do
    case $key in
        thread_nginx) label="GET big thread, nginx static file" ;;
        thread_nginx_nosf) label="  (info) same, nginx with sendfile off" ;;
        thread_wani) label="GET big thread, wani" ;;
        thread_nginx_gzip) label="GET big thread gzip, nginx gzip_static" ;;
        thread_wani_gzip) label="GET big thread gzip, wani" ;;
        thread_wani_zstd) label="GET big thread zstd, wani" ;;
        catalog) label="GET catalog, wani" ;;
        index) label="GET index page $INDEX_PAGE, wani" ;;
        post_1) label="POST reply, 1 poster" ;;
        post_n) label="POST reply, $CONNECTIONS posters" ;;
    esac
    row "$label" "${RPS[$key]}" "${P99[$key]}" "${CPU[$key]}"
done
echo "  (posts committed during the two POST runs: $COMMITTED; wrk counted $COUNTED answers)"
echo
printf '  %-40s %11s\n' "thread GET, bytes on the wire" "per answer"
printf '  %-40s %11s\n' "identity, nginx / wani" "${WIRE[thread_nginx]} / ${WIRE[thread_wani]}"
printf '  %-40s %11s\n' "gzip, nginx gzip_static (-9) / wani" "${WIRE[thread_nginx_gzip]} / ${WIRE[thread_wani_gzip]}"
printf '  %-40s %11s\n' "zstd, wani" "${WIRE[thread_wani_zstd]}"
echo
printf '  %-58s %7s  %s\n' "target" "value" "result"
printf '  %-58s %7s  %s\n' "thread GET requests/s, wani / nginx >= 0.80" "$RPS_RATIO" "$(verdict "$RPS_RATIO" '>=' 0.8)"
printf '  %-58s %7s  %s\n' "thread GET p99, wani / nginx <= 1.50" "$P99_RATIO" "$(verdict "$P99_RATIO" '<=' 1.5)"
printf '  %-58s %7s  %s\n' "gzip thread GET requests/s, wani / nginx gzip_static >= 1.00" "$GZIP_RATIO" "$(verdict "$GZIP_RATIO" '>=' 1.0)"
printf '  %-58s %7s  %s\n' "posts/s, $CONNECTIONS posters / 1 poster >= 10.00" "$POST_RATIO" "$(verdict "$POST_RATIO" '>=' 10)"
printf '  %-58s %7s  %s\n' "posts/s, 1 poster / fsync rate >= 0.80" "$FSYNC_RATIO" "$(verdict "$FSYNC_RATIO" '>=' 0.8)"

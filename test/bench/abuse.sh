#!/usr/bin/env bash
# Abuse benchmark: each attack class of the security review against a release wani on loopback.
#
# What it measures
#   For each attack class (and each decompression bomb), a fresh wani with the default config
#   (exceptions below) in a fresh data directory, run under `prlimit --as=$AS_LIMIT_MIB MiB`
#   so that a blow-up kills wani, not the machine. test/bench/abuse.py runs the attack while it
#   asks GET /healthz every 0.5 s from 127.0.0.2 (another client address than the attacker's;
#   a probe gives up after 10 s) and samples wani's VmHWM. One Markdown table row per run:
#     - peak memory: VmHWM from /proc/PID/status (the peak resident set);
#     - /healthz: the slowest probe during the attack, and how many gave up;
#     - DB before / after: the size of wani.redb right after start and after the attack;
#     - outcome: what the attack achieved, and "killed" / "died" when wani did not survive.
#   Classes:
#     1 quotes     a thread of QUOTE_SEEDS replies, then up to QUOTE_REPLIES replies each quoting
#                  as many of them as 4000 characters hold; the live events one more such reply
#                  sends; then the poster deletes the thread with its password
#     2 bombs      a 16-bit RGBA PNG of 10000x10000 to a thread that does not exist; four such
#                  PNGs in one post; a GIF with a 1x1 screen and a 10000x10000 frame; a lossless
#                  10000x10000 WebP; a 9984x9984 MP4 (ffmpeg_path set for this one run)
#     3 reads      READ_REPLIES replies of 4000 characters, then READERS parallel
#                  `GET ...?after=N` reads, then STALLERS clients that ask and never read
#     4 slots      one address opens max_connections connections, half of them live streams
#     5 slow       SLOW_CONNECTIONS uploads that send one byte of a file every DRIP_S seconds
#     6 passwords  deletion-password guesses for HOLD_S seconds from one address; and whether a
#                  delete after the window still tells a right password from a wrong one
#     7 leaks      broken MP4 and WebM uploads (ffmpeg_path set): does the error name a path or
#                  echo ffmpeg?
#     8 small      the smaller weaknesses, each checked yes/no; EMPTY_PARTS empty file parts
#   Config exceptions: class 4 sets max_connections = $SLOT_CONNECTIONS (the default 20000 is
#   the machine's open-file limit); classes 6 and 8 add a board /w/ with delete_window_secs = 1
#   and poster_ids = true; classes 2 (MP4 only) and 7 set ffmpeg_path.
#   Attack posts come with X-Forwarded-For addresses (believed from 127.0.0.1 by default) so
#   that they look like many clients, except in classes 4 and 6, which are about one address.
#
# How to run (from anywhere; as root, or with python3, ffmpeg and prlimit installed)
#   test/bench/abuse.sh            # all classes, about 5 minutes
#   test/bench/abuse.sh 1 2        # only these classes
# Settings, as environment variables:
#   AS_LIMIT_MIB=4096   address-space limit for wani
#   QUOTE_SEEDS=600 QUOTE_REPLIES=150 READ_REPLIES=2000 READERS=40 STALLERS=30
#   SLOT_CONNECTIONS=1000 SLOW_CONNECTIONS=200 DRIP_S=10 SLOW_HOLD_S=75 HOLD_S=8
#   EMPTY_PARTS=290000
#   WANI_BIN=...        use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1          keep the temp dir (bomb files, data, logs)
# Output: progress on stderr; the table on stdout, ready to paste into readme.md.

set -euo pipefail

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init abuse

AS_LIMIT_MIB=${AS_LIMIT_MIB:-4096}
QUOTE_SEEDS=${QUOTE_SEEDS:-600}
QUOTE_REPLIES=${QUOTE_REPLIES:-150}
READ_REPLIES=${READ_REPLIES:-2000}
READERS=${READERS:-40}
STALLERS=${STALLERS:-30}
SLOT_CONNECTIONS=${SLOT_CONNECTIONS:-1000}
SLOW_CONNECTIONS=${SLOW_CONNECTIONS:-200}
DRIP_S=${DRIP_S:-10}
SLOW_HOLD_S=${SLOW_HOLD_S:-75}
HOLD_S=${HOLD_S:-8}
EMPTY_PARTS=${EMPTY_PARTS:-290000}
CLASSES=("$@")
((${#CLASSES[@]})) || CLASSES=(1 2 3 4 5 6 7 8)

need_python
need prlimit util-linux
need ffmpeg ffmpeg
FFMPEG=$(command -v ffmpeg)
build_wani
bench_tmp
# shellcheck disable=SC2034 # read by lib.sh's start_wani
WANI_WRAP=(prlimit --as=$((AS_LIMIT_MIB * 1024 * 1024)) --)
# Every connection is a descriptor; class 4 and 5 need a few thousand.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- bomb files --------------------------------------------------------------------------------
FILES=$TMP/files
mkdir -p "$FILES"
wants() { printf '%s\n' "${CLASSES[@]}" | grep -qx "$1"; }
if wants 2; then
    say "making the bomb files"
    python3 "$HERE/abuse.py" png --files "$FILES"
    # A GIF of one black 10000x10000 frame, then its logical screen set to 1x1.
    # shellcheck disable=SC2015 # either failure is the same: no GIF bomb
    "$FFMPEG" -v error -f lavfi -i color=c=black:s=10000x10000:d=0.04 -frames:v 1 -y "$FILES/big.gif" &&
        python3 - "$FILES/big.gif" "$FILES/bomb.gif" <<'EOF' || say "no GIF bomb: ffmpeg failed"
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[6:10] = b"\x01\x00\x01\x00"
open(sys.argv[2], "wb").write(data)
EOF
    # cwebp is not needed: ffmpeg's libwebp encoder makes the same lossless file.
    "$FFMPEG" -v error -f lavfi -i color=c=black:s=10000x10000:d=0.04 -frames:v 1 \
        -c:v libwebp -lossless 1 -y "$FILES/bomb.webp" 2>"$TMP/webp.err" ||
        say "no WebP bomb: $(head -c 200 "$TMP/webp.err")"
    "$FFMPEG" -v error -f lavfi -i color=c=black:s=9984x9984:d=0.04 -frames:v 1 \
        -c:v libx264 -pix_fmt yuv420p -y "$FILES/bomb.mp4" 2>"$TMP/mp4.err" ||
        say "no MP4 bomb: $(head -c 200 "$TMP/mp4.err")"
fi

# --- one run -----------------------------------------------------------------------------------
ROWS=()
mib() { awk -v b="$1" 'BEGIN { if (b >= 1073741824) printf "%.2f GiB", b / 1073741824; else printf "%.1f MiB", b / 1048576 }'; }

# run LABEL CONFIG_EXTRA ATTACK [ABUSE.PY ARGS...]: a fresh wani, one attack, one row.
run() {
    local label=$1 extra=$2 attack=$3
    shift 3
    local dir=$TMP/run-${#ROWS[@]}
    mkdir -p "$dir"
    printf '%b\n' "$extra" >"$dir/config.toml"
    say "$label"
    start_wani "$dir/config.toml" "$dir/data" "$dir/wani.log"
    local before after result status=0 verdict
    before=$(stat -c %s "$dir/data/wani.redb")
    result=$(timeout 300 python3 "$HERE/abuse.py" "$attack" --port "$WANI_PORT" --pid "$WANI_PID" \
        --data "$dir/data" --files "$FILES" --jpeg "$ROOT/test/fixtures/images/path-2560x1600.jpg" \
        "$@" 2>"$dir/abuse.err") || result=
    if kill -0 "$WANI_PID" 2>/dev/null; then
        stop_pid "$WANI_PID" || true
        verdict=
    else
        wait "$WANI_PID" 2>/dev/null || status=$?
        case $status in
            137) verdict="**killed** (SIGKILL, out of memory)" ;;
            134) verdict="**died** (SIGABRT: an allocation failed under the ${AS_LIMIT_MIB} MiB limit)" ;;
            *) verdict="**died** (exit status $status)" ;;
        esac
    fi
    WANI_PID=
    after=$(stat -c %s "$dir/data/wani.redb" 2>/dev/null || echo 0)
    # shellcheck disable=SC1003 # tr deletes quotes and backslashes
    [ -n "$result" ] || result=$(printf '{"outcome": "the attack script failed: %s", "healthz_max_s": 0, "healthz_timeouts": 0, "peak_kb": 0}' \
        "$(tail -n 1 "$dir/abuse.err" | tr -d '"\\')")
    ROWS+=("$(python3 - "$label" "$before" "$after" "$verdict" "$result" <<'EOF'
import json, sys
label, before, after, verdict, result = sys.argv[1:]
r = json.loads(result)
def size(b):
    b = int(b)
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.1f} MiB"
peak = size(r["peak_kb"] * 1024) if r["peak_kb"] else "?"
healthz = f"{r['healthz_max_s']:.2f} s"
if r["healthz_timeouts"]:
    healthz += f" ({r['healthz_timeouts']} of {r.get('probes', '?')} gave up at 10 s)"
outcome = r["outcome"].replace("|", "/")
if verdict:
    outcome = f"{verdict}; {outcome}"
print(f"| {label} | {peak} | {healthz} | {size(before)} | {size(after)} | {outcome} |")
EOF
    )")
    echo "${ROWS[-1]}" >&2
}

BOARD_W='[[boards]]\nslug = "b"\ntitle = "Random"\n\n[[boards]]\nslug = "w"\ntitle = "Window"\ndelete_window_secs = 1\nposter_ids = true'
FFMPEG_LINE="ffmpeg_path = \"$FFMPEG\""
START=$EPOCHREALTIME
for class in "${CLASSES[@]}"; do
    case $class in
        1) run "1 quote amplification" "" quotes --quote-seeds "$QUOTE_SEEDS" --quote-replies "$QUOTE_REPLIES" ;;
        2)
            run "2a PNG bomb, missing thread" "" bomb --bomb png-404
            run "2b four PNG bombs, one post" "" bomb --bomb png-x4
            if [ -s "$FILES/bomb.gif" ]; then run "2c GIF, 1x1 screen" "" bomb --bomb gif; fi
            if [ -s "$FILES/bomb.webp" ]; then run "2d lossless WebP bomb" "" bomb --bomb webp; fi
            if [ -s "$FILES/bomb.mp4" ]; then run "2e MP4 bomb" "$FFMPEG_LINE" bomb --bomb mp4; fi
            ;;
        3) run "3 read amplification" "" reads --read-replies "$READ_REPLIES" --readers "$READERS" \
            --stallers "$STALLERS" --hold "$HOLD_S" ;;
        4) run "4 connection slots" "max_connections = $SLOT_CONNECTIONS" slots \
            --connections $((SLOT_CONNECTIONS + 20)) --hold "$HOLD_S" ;;
        5) run "5 slow uploads" "" slow --connections "$SLOW_CONNECTIONS" --drip "$DRIP_S" --hold "$SLOW_HOLD_S" ;;
        6) run "6 deletion passwords" "$BOARD_W" passwords --hold 5 ;;
        7) run "7 leaks in errors" "$FFMPEG_LINE" leaks ;;
        8) run "8 smaller weaknesses" "$BOARD_W" small --empty-parts "$EMPTY_PARTS" ;;
        *) die "no class $class (1 to 8)" ;;
    esac
done
TOTAL_S=$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# --- report ------------------------------------------------------------------------------------
cpu_busy 2>/dev/null
echo
echo "wani abuse benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $("$WANI_BIN" --version), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
echo "machine: $(machine); CPU ${BUSY_BEFORE}% busy in the second after the runs (other work)"
echo "wani under prlimit --as=${AS_LIMIT_MIB} MiB; /healthz probed every 0.5 s from 127.0.0.2, 10 s timeout; ${TOTAL_S} s in all"
echo
echo "| attack | peak memory (VmHWM) | slowest /healthz | DB before | DB after | outcome |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"

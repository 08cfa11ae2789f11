#!/usr/bin/env bash
# Upload benchmark: posting a 5 MB photo to wani over loopback.
#
# What it measures
#   A 5120x3200 JPEG of about 5 MB (the fixture path-2560x1600.jpg scaled up 2x by libvips at
#   quality 94) is posted as a reply with curl, multipart/form-data, as a browser would. Each
#   upload is a different file (the width is cut by one more pixel each time), so dedup never
#   skips the work: every upload is streamed to tmp/, sniffed, stripped of metadata, fully
#   decoded, thumbnailed, hashed, written and fsynced, then committed. Three runs of $COUNT
#   uploads each: 1 client (one after another), then $CONCURRENCY clients, then 2 x
#   $CONCURRENCY clients. Reported per run: uploads/s, MB/s of request bodies, median and p99
#   of curl's total time per upload; then wani's peak resident memory (VmHWM) over all runs.
#   Any answer other than 201 makes the script exit non-zero.
#
# How to run (from anywhere; as root, or with the tools below installed)
#   test/bench/upload.sh
# Settings, as environment variables:
#   COUNT=16         uploads per run
#   CONCURRENCY=2    clients in the second run (the third uses twice as many)
#   WANI_BIN=...     use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1       keep the temp dir (images, data, logs)
#
# Needs: vips (libvips-tools) and curl, installed with apt-get when missing; cargo unless
# WANI_BIN is given.

set -euo pipefail

COUNT=${COUNT:-16}
CONCURRENCY=${CONCURRENCY:-2}

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init upload
FIXTURE=${FIXTURE:-$ROOT/test/fixtures/images/path-2560x1600.jpg}

need vips libvips-tools
need curl curl
[[ -f $FIXTURE ]] || die "no fixture at $FIXTURE"
build_wani
bench_tmp

RUNS=3
TOTAL=$((COUNT * RUNS))
say "making $TOTAL distinct 5 MB JPEGs"
export VIPS_WARNING=0
vips resize "$FIXTURE" "$TMP/big.v" 2 2>/dev/null
BIG_W=$(vipsheader -f width "$TMP/big.v")
BIG_H=$(vipsheader -f height "$TMP/big.v")
mkdir "$TMP/img"
for ((i = 1; i <= TOTAL; i++)); do
    vips crop "$TMP/big.v" "$TMP/img/$i.jpg[Q=94]" 0 0 $((BIG_W - i)) "$BIG_H" 2>/dev/null
done
rm "$TMP/big.v"
AVG_BYTES=$(du -cb "$TMP"/img/*.jpg | tail -1 | awk -v n="$TOTAL" '{printf "%d", $1 / n}')

cat >"$TMP/config.toml" <<EOF
[[boards]]
slug = "bench"
title = "Bench"
EOF
start_wani "$TMP/config.toml" "$TMP/data" "$TMP/wani.log"
BASE=$WANI_URL/api/boards/bench
THREAD=$(curl -sf -H 'content-type: application/json' -d '{"body":"uploads"}' "$BASE/threads" |
    sed 's/.*"no":\([0-9]*\).*/\1/')
[[ $THREAD =~ ^[0-9]+$ ]] || die "could not open a thread"

# upload N: posts image N, prints "http_code seconds".
upload() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
        -F "body=upload $1" -F "file=@$TMP/img/$1.jpg;type=image/jpeg" \
        "$BASE/threads/$THREAD/posts"
}
export -f upload
export TMP BASE THREAD

results=()
run() { # run FIRST CLIENTS
    local first=$1 clients=$2
    local out="$TMP/run-$clients.txt" start end
    start=$(date +%s.%N)
    seq "$first" $((first + COUNT - 1)) | xargs -P "$clients" -I{} bash -c 'upload {}' >"$out"
    end=$(date +%s.%N)
    local bad
    bad=$(awk '$1 != 201' "$out" | wc -l)
    ((bad == 0)) || die "$bad uploads were not answered 201: $(awk '$1 != 201' "$out" | head -3)"
    results+=("$(sort -k2 -g "$out" | awk -v n="$COUNT" -v c="$clients" -v s="$start" -v e="$end" \
        -v b="$AVG_BYTES" '{t[NR] = $2} END {
            wall = e - s; p99 = t[int(n * 0.99 + 0.999)]; med = t[int((n + 1) / 2)];
            printf "  %-10s %10.2f %10.1f %12.0f %10.0f\n", c " client" (c > 1 ? "s" : ""),
                n / wall, n * b / wall / 1e6, med * 1000, p99 * 1000 }')")
}
say "uploading: $COUNT with 1 client, $COUNT with $CONCURRENCY, $COUNT with $((CONCURRENCY * 2))"
run 1 1
run $((COUNT + 1)) "$CONCURRENCY"
run $((2 * COUNT + 1)) $((CONCURRENCY * 2))
PEAK_KB=$(awk '/VmHWM/ {print $2}' "/proc/$WANI_PID/status")
STORED=$(find "$TMP/data/files" -type f | wc -l)
LEFT=$(find "$TMP/data/tmp" -type f | wc -l)
((STORED == TOTAL)) || die "expected $TOTAL stored originals, found $STORED"
((LEFT == 0)) || die "$LEFT files left in tmp/"

echo
echo "wani upload benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(machine)"
echo "image: JPEG ${BIG_W}x${BIG_H} (minus 1..$TOTAL px of width), $(awk -v b="$AVG_BYTES" 'BEGIN {printf "%.2f MB", b / 1e6}') on average; $COUNT uploads per run"
echo
printf "  %-10s %10s %10s %12s %10s\n" clients uploads/s MB/s "median (ms)" "p99 (ms)"
printf '%s\n' "${results[@]}"
echo
echo "wani peak resident memory (VmHWM) over all runs: $((PEAK_KB / 1024)) MiB"
echo "stored originals: $STORED; files left in tmp/: $LEFT"

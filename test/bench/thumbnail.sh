#!/usr/bin/env bash
# Thumbnail benchmark: `wani thumbnail` against libvips' `vipsthumbnail`, whole processes.
#
# What it measures
#   For each fixture image (JPEG and WebP files in test/fixtures/images), in the same run:
#     wani thumbnail IN OUT.webp --size $SIZE
#     vipsthumbnail IN -s $SIZE -o OUT.webp
#   Wall time: median of $RUNS runs after one warm-up run, measured by hyperfine with no shell in
#   between (-N), so process start-up, reading the file, decoding, resizing and writing the WebP
#   all count, as they do for a user. Peak memory: median over $RUNS runs of the maximum resident
#   set size reported by GNU time (%M). Also the size of each thumbnail.
#   Both write WebP so the encoders do comparable work (vips at its default quality 75, wani at
#   80). wani's command is the server's thumbnail code path (src/media): the file is read, its
#   container walked, the picture decoded as small as possible, resized and encoded.
#
# Target (from the issue)
#   ratio = wani median / vipsthumbnail median <= 1.0 on every image. A missed target is reported,
#   not fatal; a command that fails or makes no file makes the script exit non-zero.
#
# Fairness notes
#   - vipsthumbnail may use every core (libvips threads); wani's path is single-threaded apart
#     from jpeg-decoder's per-component threads. Neither is pinned.
#   - The page cache is warm for both (the warm-up run reads the file first).
#
# How to run (from anywhere; as root, or with the tools below already installed)
#   test/bench/thumbnail.sh
# Settings, as environment variables:
#   RUNS=5          measured runs per command and image
#   SIZE=250        longest side of the thumbnails
#   FIXTURES=DIR    images to use (default: test/fixtures/images)
#   WANI_BIN=...    use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1      keep the temp dir (thumbnails, raw hyperfine and time outputs)
#
# Needs: vipsthumbnail (libvips-tools), hyperfine, GNU time (/usr/bin/time); installed with
# apt-get when missing. cargo unless WANI_BIN is given.

set -euo pipefail

RUNS=${RUNS:-5}
SIZE=${SIZE:-250}

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init thumbnail
FIXTURES=${FIXTURES:-$ROOT/test/fixtures/images}

# --- tools -------------------------------------------------------------------------------------
need vipsthumbnail libvips-tools
need hyperfine hyperfine
need /usr/bin/time time
build_wani
WANI=$WANI_BIN

shopt -s nullglob
IMAGES=("$FIXTURES"/*.jpg "$FIXTURES"/*.jpeg "$FIXTURES"/*.png "$FIXTURES"/*.gif "$FIXTURES"/*.webp)
((${#IMAGES[@]})) || die "no images in $FIXTURES"

bench_tmp
case $TMP in *[[:space:]]*) die "the temp dir path must have no spaces (hyperfine -N splits on them)" ;; esac

# The subcommand must exist before anything is timed: a usage error would time as "fast".
"$WANI" thumbnail "${IMAGES[0]}" "$TMP/probe.webp" --size "$SIZE" >/dev/null ||
    die "\`$WANI thumbnail IN OUT --size N\` failed; is the thumbnail command wired into main.rs?"

# --- measuring ---------------------------------------------------------------------------------
# Median of the numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# peak_kb NAME CMD...: median peak RSS (KiB) over $RUNS runs; fails if any run fails.
peak_kb() {
    local name=$1
    shift
    for ((i = 0; i < RUNS; i++)); do
        /usr/bin/time -f %M -o "$TMP/$name.rss" "$@" >/dev/null 2>"$TMP/$name.err" ||
            die "$name failed: $(tail -3 "$TMP/$name.err")"
        tail -1 "$TMP/$name.rss"
    done | median
}

say "$RUNS runs each, thumbnails of longest side $SIZE, wani at $WANI"
printf '%-24s %11s %11s %7s  %9s %9s  %9s %9s\n' image wani_ms vips_ms ratio wani_MB vips_MB wani_KB vips_KB
missed=0
for image in "${IMAGES[@]}"; do
    name=$(basename "$image")
    case $name in *[[:space:]]*) die "image names must have no spaces: $name" ;; esac
    wani_out=$TMP/wani-$name.webp
    vips_out=$TMP/vips-$name.webp
    rm -f "$wani_out" "$vips_out"
    hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-csv "$TMP/$name.csv" \
        "$WANI thumbnail $image $wani_out --size $SIZE" \
        "vipsthumbnail $image -s $SIZE -o $vips_out" >/dev/null 2>"$TMP/$name.hyperfine" ||
        die "hyperfine failed on $name: $(tail -3 "$TMP/$name.hyperfine")"
    [[ -s $wani_out && -s $vips_out ]] || die "$name: a thumbnail is missing"
    # CSV columns: command,mean,stddev,median,user,system,min,max (seconds); row 2 is wani.
    wani_s=$(awk -F, 'NR == 2 { print $4 }' "$TMP/$name.csv")
    vips_s=$(awk -F, 'NR == 3 { print $4 }' "$TMP/$name.csv")
    wani_kb=$(peak_kb wani "$WANI" thumbnail "$image" "$wani_out" --size "$SIZE")
    vips_kb=$(peak_kb vips vipsthumbnail "$image" -s "$SIZE" -o "$vips_out")
    ratio=$(awk -v a="$wani_s" -v b="$vips_s" 'BEGIN { printf "%.2f", a / b }')
    verdict=ok
    if awk -v r="$ratio" 'BEGIN { exit !(r > 1.0) }'; then
        verdict=MISSED
        missed=$((missed + 1))
    fi
    printf '%-24s %11.1f %11.1f %7s  %9.1f %9.1f  %9.1f %9.1f  %s\n' "$name" \
        "$(awk -v s="$wani_s" 'BEGIN { print s * 1000 }')" \
        "$(awk -v s="$vips_s" 'BEGIN { print s * 1000 }')" \
        "$ratio" \
        "$(awk -v k="$wani_kb" 'BEGIN { print k / 1024 }')" \
        "$(awk -v k="$vips_kb" 'BEGIN { print k / 1024 }')" \
        "$(awk -v b="$(stat -c %s "$wani_out")" 'BEGIN { print b / 1024 }')" \
        "$(awk -v b="$(stat -c %s "$vips_out")" 'BEGIN { print b / 1024 }')" \
        "$verdict"
done
if ((missed)); then
    say "target missed on $missed image(s): wani slower than vipsthumbnail"
else
    say "target met: wani at most as slow as vipsthumbnail on every image"
fi

#!/usr/bin/env bash
# Backup benchmark for wani: database snapshots, restore, and the file outbox, against a local
# Garage (an S3-compatible server) on loopback.
#
# What it measures
#   1. Snapshot and restore of a database of $POSTS posts. A release wani with a board /bench/
#      (thread_limit 1000, generous limits) and an [s3] section pointing at Garage
#      (snapshot_interval "0": no timed snapshots) takes $THREADS new threads, then replies
#      spread uniformly over them until the board holds $POSTS posts, all over HTTP from
#      test/bench/backup_load.py ($WORKERS processes of $CONNECTIONS keep-alive connections
#      each). Bodies are about 200 characters of random common words (so they compress about as
#      much as real posts, which matters for the snapshot's compressed size), with `>>N` quotes
#      and `>greentext` lines. Then:
#        - the size of wani.redb on disk (the file's length, and the blocks it holds);
#        - `wani backup`, timed as a whole process: the running server copies every table into
#          a new database file, compresses it with zstd and uploads it and its manifest; the
#          manifest gives the snapshot's raw and compressed bytes;
#        - wani is stopped (SIGTERM), its data directory moved away, and `wani restore` into a
#          new, empty directory is timed as a whole process (download, checksum, secret.key,
#          row counts of every table; there are no files to fetch);
#        - wani is started on the restored directory: its catalog must list the $THREADS
#          threads holding $POSTS posts and be byte for byte the catalog served before the
#          snapshot.
#   2. Outbox drain rate. A fresh wani without [s3] takes $FILES new threads, each with a
#      distinct ${IMAGE_SIZE}x${IMAGE_SIZE} RGB noise PNG (multipart, `file` and `body`). It is
#      stopped and started again with the [s3] section, so at start it queues every stored file
#      for its first upload (the original and its thumbnail). GET /healthz is polled every
#      ${POLL_MS} ms from the moment the process is started until `backup.backlog` is 0:
#      reported as files/s, objects/s and MB/s of originals, over the time from process start
#      (which includes the start-up, shown separately). Then `wani backup` and
#      `wani backup --verify` check that every file is in the bucket with its size and hash.
#   The script exits non-zero when a post or upload is not answered 201, a count or a check
#   differs, a command fails, or wani or Garage fail to start.
#
# Fairness notes
#   - wani, Garage and the Python client share the machine's CPUs; nothing is pinned.
#   - Garage runs with its defaults (no fsync of data or metadata), its data under the temp dir,
#     so an S3 round trip costs a loopback HTTP request and some local disk writes: the figures
#     are wani's own cost plus a fast S3, not a cloud provider's latency.
#   - wani's database is durable (each post's 201 follows its group commit's fsync).
#
# How to run (from anywhere; as root, or with python3 and curl already installed)
#   test/bench/backup.sh
# Settings, as environment variables:
#   POSTS=100000     posts in the snapshot database (threads included)
#   THREADS=1000     threads they are spread over (the board's thread_limit is 1000)
#   WORKERS=2        client processes posting the replies
#   CONNECTIONS=8    keep-alive connections per client process
#   FILES=400        files in the outbox run
#   IMAGE_SIZE=256   width and height of the noise PNGs
#   POLL_MS=50       /healthz polling interval
#   WANI_BIN=...     use this binary instead of building target/release/wani with cargo
#   GARAGE_BIN=...   the garage binary (else `garage` on the PATH, else ~/.cargo/bin/garage;
#                    `cargo install garage --locked --version 2.5.0` puts it there)
#   KEEP_TMP=1       keep the temp dir (data, configs, logs) and print its path
#
# Needs: garage, python3 (3.11 or later), curl (7.75 or later, for --aws-sigv4), and cargo
# unless WANI_BIN is given.

set -euo pipefail

POSTS=${POSTS:-100000}
THREADS=${THREADS:-1000}
WORKERS=${WORKERS:-2}
CONNECTIONS=${CONNECTIONS:-8}
FILES=${FILES:-400}
IMAGE_SIZE=${IMAGE_SIZE:-256}
POLL_MS=${POLL_MS:-50}
BOARD=bench
BUCKET=wani
REGION=garage

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init backup
LOAD=$HERE/backup_load.py
SCRIPT_START=$EPOCHREALTIME
GARAGE_PID=
BENCH_PID_VARS+=(GARAGE_PID)

# --- tools -------------------------------------------------------------------------------------
need_python
need curl curl
# The interpreter itself, not a version manager's shim, which can take a few hundred ms to
# start; the drain poller also runs without site (-S), so its first poll comes soon after wani's
# start.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
curl --help all 2>/dev/null | grep -q -- --aws-sigv4 || die "curl is too old for --aws-sigv4 (7.75 or later)"
[ "$THREADS" -le 1000 ] || die "THREADS must be at most 1000 (the board's thread_limit)"
[ "$POSTS" -ge "$THREADS" ] || die "POSTS must be at least THREADS"

if [ -n "${GARAGE_BIN:-}" ]; then
    GARAGE=$GARAGE_BIN
elif command -v garage >/dev/null; then
    GARAGE=$(command -v garage)
else
    GARAGE=${CARGO_HOME:-$HOME/.cargo}/bin/garage
fi
[ -x "$GARAGE" ] || die "no garage binary at $GARAGE (set GARAGE_BIN, or: cargo install garage --locked --version 2.5.0)"

# --- temp dir and cleanup ----------------------------------------------------------------------
bench_tmp

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
# field FILE KEY: the value of a `key=value` line printed by backup_load.py.
field() { awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$1"; }

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# --- build wani --------------------------------------------------------------------------------
build_wani

# --- Garage ------------------------------------------------------------------------------------
# A one-node cluster of its own, set up through its CLI as test/e2e/garage.rs does.
say "starting Garage ($("$GARAGE" --version 2>&1 | head -n1))"
mkdir -p "$TMP/garage"
GARAGE_CFG=$TMP/garage/garage.toml
RPC_PORT=$(free_port) || die "no free port"
S3_PORT=$(free_port) || die "no free port"
ADMIN_PORT=$(free_port) || die "no free port"
cat >"$GARAGE_CFG" <<EOF
metadata_dir = "$TMP/garage/meta"
data_dir = "$TMP/garage/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$RPC_PORT"
rpc_public_addr = "127.0.0.1:$RPC_PORT"
rpc_secret = "$(random_hex 32)"

[s3_api]
s3_region = "$REGION"
api_bind_addr = "127.0.0.1:$S3_PORT"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$ADMIN_PORT"
admin_token = "$(random_hex 32)"
EOF
NO_COLOR=1 "$GARAGE" -c "$GARAGE_CFG" server >"$TMP/garage/garage.log" 2>&1 </dev/null &
GARAGE_PID=$!
garage_cli() { NO_COLOR=1 "$GARAGE" -c "$GARAGE_CFG" "$@"; }
garage_must() {
    garage_cli "$@" >>"$TMP/garage/cli.log" 2>&1 ||
        { tail -n 40 "$TMP/garage/cli.log" "$TMP/garage/garage.log" >&2; die "garage $* failed"; }
}
up=0
for _ in $(seq 1 300); do
    if garage_cli status >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$GARAGE_PID" 2>/dev/null || { tail -n 40 "$TMP/garage/garage.log" >&2; die "garage exited at start"; }
    sleep 0.1
done
[ "$up" = 1 ] || { tail -n 40 "$TMP/garage/garage.log" >&2; die "garage did not answer within 30s"; }
# `node id -q` prints "<hex>@<rpc addr>"; `layout assign` wants the hex part.
NODE_ID=$(garage_cli node id -q 2>/dev/null | cut -d@ -f1)
[ -n "$NODE_ID" ] || die "garage node id printed nothing"
garage_must layout assign -z dc1 -c 1G "$NODE_ID"
garage_must layout apply --version 1
# Garage key ids are "GK" and 12 random bytes in hex; importing one gives known credentials.
KEY_ID=GK$(random_hex 12)
SECRET=$(random_hex 32)
garage_must key import --yes -n wani-bench "$KEY_ID" "$SECRET"
garage_must bucket create "$BUCKET"
garage_must bucket allow --read --write --owner "$BUCKET" --key "$KEY_ID"
S3_URL=http://127.0.0.1:$S3_PORT
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
# A signed listing succeeds once the port is bound and the tables answer.
s3_ready() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:$REGION:s3" \
        --user "$KEY_ID:$SECRET" -H "x-amz-content-sha256: $EMPTY_SHA256" \
        "$S3_URL/$BUCKET?list-type=2&max-keys=1")" = 200 ]
}
up=0
for _ in $(seq 1 300); do
    if s3_ready; then up=1; break; fi
    sleep 0.1
done
[ "$up" = 1 ] || { tail -n 40 "$TMP/garage/garage.log" >&2; die "garage's S3 API did not answer within 30s"; }

# --- configs -----------------------------------------------------------------------------------
board_toml() {
    # One client posts far faster than any person: flood control and the request budget are off.
    cat <<EOF
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0
[[boards]]
slug = "$BOARD"
title = "Bench"
bump_limit = 1000000
thread_limit = 1000
max_body_chars = 4000
max_files = 4
max_file_bytes = 20971520
max_post_bytes = 41943040
delete_window_secs = 0
EOF
}
s3_toml() { # PREFIX
    cat <<EOF

[s3]
endpoint = "$S3_URL"
region = "$REGION"
bucket = "$BUCKET"
prefix = "$1"
path_style = true
access_key_id = "$KEY_ID"
secret_access_key = "$SECRET"
snapshot_interval = "0"
EOF
}
{ board_toml; s3_toml db/; } >"$TMP/db-s3.toml"
board_toml >"$TMP/files-local.toml"
{ board_toml; s3_toml files/; } >"$TMP/files-s3.toml"

# Other work on the machine skews every figure: note how busy the CPUs are in the second before.
cpu_busy


# --- 1. snapshot and restore -------------------------------------------------------------------
say "1. snapshot and restore of $POSTS posts"
start_wani "$TMP/db-s3.toml" "$TMP/db" "$TMP/db.log"
say "posting $THREADS threads, then $((POSTS - THREADS)) replies ($WORKERS processes x $CONNECTIONS connections)"
"$PYTHON" "$LOAD" seed --port "$WANI_PORT" --board "$BOARD" --threads "$THREADS" --posts "$POSTS" \
    --workers "$WORKERS" --connections "$CONNECTIONS" >"$TMP/seed.txt" || die "seeding failed"
SEED_SECS=$(field "$TMP/seed.txt" seed_secs)
SEED_RATE=$(field "$TMP/seed.txt" posts_per_sec)
"$PYTHON" "$LOAD" count --port "$WANI_PORT" --board "$BOARD" >"$TMP/count-before.txt" || die "reading the catalog failed"
SEEDED_THREADS=$(field "$TMP/count-before.txt" threads)
SEEDED_POSTS=$(field "$TMP/count-before.txt" posts)
if [ "$SEEDED_THREADS" != "$THREADS" ] || [ "$SEEDED_POSTS" != "$POSTS" ]; then
    die "after seeding the catalog shows $SEEDED_THREADS threads holding $SEEDED_POSTS posts"
fi
curl -sSf "http://127.0.0.1:$WANI_PORT/api/boards/$BOARD/catalog" -o "$TMP/catalog-before.json" ||
    die "GET catalog failed"
DB_BYTES=$(stat -c %s "$TMP/db/wani.redb")
DB_DISK_BYTES=$(($(stat -c %b "$TMP/db/wani.redb") * $(stat -c %B "$TMP/db/wani.redb")))

say "wani backup (snapshot through the admin socket)"
t0=$(now)
"$WANI_BIN" backup --config "$TMP/db-s3.toml" --data "$TMP/db" >"$TMP/backup.txt" 2>&1 ||
    { cat "$TMP/backup.txt" >&2; die "wani backup failed"; }
SNAPSHOT_SECS=$(since "$t0")
sed -n 's/^snapshot uploaded: //p' "$TMP/backup.txt" >"$TMP/manifest.json"
manifest() { # KEY...: a value of the manifest, KEY SUBKEY for a nested one
    "$PYTHON" -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)' "$TMP/manifest.json" "$@" 2>/dev/null
}
SNAP_NAME=$(manifest name) || { cat "$TMP/backup.txt" >&2; die "no manifest in wani backup's output"; }
SNAP_BYTES=$(manifest bytes)
SNAP_ZBYTES=$(manifest compressed_bytes)
SNAP_POSTS=$(manifest counts posts)
[ "$SNAP_POSTS" = "$POSTS" ] || die "the snapshot's manifest counts $SNAP_POSTS posts, not $POSTS"

say "stopping wani, restoring into a new data directory"
stop_wani
STOP1_SECS=$STOP_SECS
mv "$TMP/db" "$TMP/db.old"
t0=$(now)
"$WANI_BIN" restore --config "$TMP/db-s3.toml" --data "$TMP/db.restored" >"$TMP/restore.txt" 2>&1 ||
    { cat "$TMP/restore.txt" >&2; die "wani restore failed"; }
RESTORE_SECS=$(since "$t0")
sed 's/^/    /' "$TMP/restore.txt" >&2

t0=$(now)
start_wani "$TMP/db-s3.toml" "$TMP/db.restored" "$TMP/db-restored.log"
RESTART_SECS=$(since "$t0")
"$PYTHON" "$LOAD" count --port "$WANI_PORT" --board "$BOARD" >"$TMP/count-after.txt" || die "reading the restored catalog failed"
AFTER_THREADS=$(field "$TMP/count-after.txt" threads)
AFTER_POSTS=$(field "$TMP/count-after.txt" posts)
curl -sSf "http://127.0.0.1:$WANI_PORT/api/boards/$BOARD/catalog" -o "$TMP/catalog-after.json" ||
    die "GET of the restored catalog failed"
CHECKS=()
FAILED=0
check() { # OK(0/1) TEXT
    if [ "$1" = 1 ]; then CHECKS+=("ok    $2"); else CHECKS+=("FAIL  $2"); FAILED=1; fi
    echo "check: ${CHECKS[-1]}" >&2
}
check "$([ "$AFTER_THREADS" = "$THREADS" ] && echo 1 || echo 0)" \
    "restored catalog lists $AFTER_THREADS threads (expected $THREADS)"
check "$([ "$AFTER_POSTS" = "$POSTS" ] && echo 1 || echo 0)" \
    "restored catalog's threads hold $AFTER_POSTS posts (expected $POSTS)"
check "$(cmp -s "$TMP/catalog-before.json" "$TMP/catalog-after.json" && echo 1 || echo 0)" \
    "restored catalog is byte for byte the one served before the snapshot"
stop_wani
RESTORED_DB_BYTES=$(stat -c %s "$TMP/db.restored/wani.redb")
rm -rf "$TMP/db.old" # the 100 000-post database is done with

# --- 2. outbox drain ---------------------------------------------------------------------------
say "2. outbox drain of $FILES files"
start_wani "$TMP/files-local.toml" "$TMP/files" "$TMP/files-local.log"
"$PYTHON" "$LOAD" upload --port "$WANI_PORT" --board "$BOARD" --count "$FILES" --size "$IMAGE_SIZE" \
    --connections 4 >"$TMP/upload.txt" || die "uploading failed"
stop_wani
STORED=$(find "$TMP/files/files" -type f | wc -l)
THUMBS=$(find "$TMP/files/thumbs" -type f | wc -l)
if [ "$STORED" != "$FILES" ] || [ "$THUMBS" != "$FILES" ]; then
    die "expected $FILES originals and thumbnails on disk, found $STORED and $THUMBS"
fi
ORIG_BYTES=$(find "$TMP/files/files" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
THUMB_BYTES=$(find "$TMP/files/thumbs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

say "restarting wani with [s3]; polling /healthz every ${POLL_MS} ms until the backlog is 0"
DRAIN_PORT=$(free_port) || die "no free port"
START=$EPOCHREALTIME
"$WANI_BIN" --listen "127.0.0.1:$DRAIN_PORT" --data "$TMP/files" --config "$TMP/files-s3.toml" \
    2>"$TMP/files-s3.log" &
# shellcheck disable=SC2034 # read by lib.sh's stop_wani
WANI_PID=$!
WANI_PORT=$DRAIN_PORT
"$PYTHON" -S "$LOAD" drain --port "$DRAIN_PORT" --start "$START" \
    --interval "$(awk -v m="$POLL_MS" 'BEGIN { print m / 1000 }')" >"$TMP/drain.txt" ||
    { tail -n 20 "$TMP/files-s3.log" >&2; die "the outbox did not drain"; }
DRAIN_SECS=$(field "$TMP/drain.txt" drain_secs)
FIRST_SECS=$(field "$TMP/drain.txt" first_answer_secs)
FIRST_BACKLOG=$(field "$TMP/drain.txt" first_backlog)
OBJECTS=$(field "$TMP/drain.txt" objects_done)
QUEUED=$(sed -n 's/.*queued \([0-9]*\) stored files for their first upload.*/\1/p' "$TMP/files-s3.log" | head -n1)
check "$([ "${QUEUED:-0}" = "$FILES" ] && echo 1 || echo 0)" \
    "the restart queued ${QUEUED:-0} files for upload (expected $FILES)"
check "$([ "$OBJECTS" = $((2 * FILES)) ] && echo 1 || echo 0)" \
    "the outbox uploaded $OBJECTS objects (expected $((2 * FILES)): originals and thumbnails)"
"$WANI_BIN" backup --config "$TMP/files-s3.toml" --data "$TMP/files" >"$TMP/backup2.txt" 2>&1 ||
    { cat "$TMP/backup2.txt" >&2; die "wani backup (files) failed"; }
t0=$(now)
verified=1
"$WANI_BIN" backup --verify --config "$TMP/files-s3.toml" --data "$TMP/files" >"$TMP/verify.txt" 2>&1 ||
    verified=0
VERIFY_SECS=$(since "$t0")
[ "$verified" = 1 ] || sed 's/^/    /' "$TMP/verify.txt" >&2
check "$verified" "wani backup --verify: every file in the bucket with its size and hash (${VERIFY_SECS}s)"
stop_wani

# --- report ------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
NOTICES=$(cat "$TMP"/*.log | grep -c ' ERROR \| WARN ' || true)
cpu_model=$(lscpu | awk -F': *' '/^Model name/ { print $2; exit }')
cpus=$(lscpu | awk -F': *' '/^CPU\(s\)/ { print $2; exit }')
mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
row() { printf '  %-48s %s\n' "$1" "$2"; }

echo
echo "wani backup benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: ${cpu_model:-unknown CPU}, $cpus CPUs, $mem_total RAM, kernel $(uname -r); temp dir on $(stat -f -c %T "$TMP")"
echo "CPU busy in the second before the runs (other work): ${BUSY_BEFORE}%"
echo "versions: $("$WANI_BIN" --version), $("$GARAGE" --version 2>&1 | head -n1), $(python3 --version)"
echo
echo "1. snapshot and restore"
row "posts (threads)" "$POSTS ($THREADS threads); posted in ${SEED_SECS}s, $SEED_RATE posts/s"
row "wani.redb on disk" "$(mb "$DB_BYTES") ($(mb "$DB_DISK_BYTES") of blocks)"
row "snapshot" "$SNAP_NAME"
row "snapshot raw bytes" "$(mb "$SNAP_BYTES") ($SNAP_BYTES)"
row "snapshot compressed (zstd)" "$(mb "$SNAP_ZBYTES") ($SNAP_ZBYTES), $(ratio "$SNAP_BYTES" "$SNAP_ZBYTES")x smaller"
row "snapshot time (wani backup, whole command)" "${SNAPSHOT_SECS}s"
row "restore time (wani restore, whole command)" "${RESTORE_SECS}s"
row "restored wani.redb" "$(mb "$RESTORED_DB_BYTES")"
row "stop (SIGTERM to exit) / restart to listening" "${STOP1_SECS}s / ${RESTART_SECS}s"
echo
echo "2. outbox drain (restart with [s3] until backlog 0, from process start)"
row "files (objects)" "$FILES ($((2 * FILES)): original + thumbnail each)"
row "originals / thumbnails" "$(mb "$ORIG_BYTES") / $(mb "$THUMB_BYTES")"
row "first /healthz answer" "${FIRST_SECS}s after start, backlog $FIRST_BACKLOG"
row "drained after" "${DRAIN_SECS}s"
row "files/s" "$(ratio "$FILES" "$DRAIN_SECS")"
row "objects/s" "$(ratio "$OBJECTS" "$DRAIN_SECS")"
row "MB/s of originals" "$(awk -v b="$ORIG_BYTES" -v s="$DRAIN_SECS" 'BEGIN { printf "%.1f", b / 1e6 / s }')"
row "(uploads before, for scale)" "$(field "$TMP/upload.txt" uploads_per_sec) uploads/s over HTTP"
echo
echo "checks"
printf '  %s\n' "${CHECKS[@]}"
echo "wani logs: $NOTICES lines at WARN or ERROR"
if [ "$NOTICES" != 0 ]; then
    grep -h ' ERROR \| WARN ' "$TMP"/*.log | head -n 10 | sed 's/^/    /'
fi
echo "script time: $(since "$SCRIPT_START")s"
[ "$FAILED" = 0 ] || die "a check failed"

#!/usr/bin/env bash
# Fuzzes the running server against its own OpenAPI document with Schemathesis, every check on.
#
#   test/schemathesis.sh            # uses target/release/wani, else target/debug/wani (built
#                                   # with `cargo build` when neither exists)
#   WANI_BIN=path/to/wani test/schemathesis.sh
#   MAX_EXAMPLES=50 test/schemathesis.sh
#
# Starts wani on a free loopback port with a throwaway data directory, installs Schemathesis
# from PyPI into a virtualenv under target/ (kept there for the next run), runs it against the
# served /api/openapi.json, and exits non-zero on any failure. The work is bounded by the number
# of examples per operation, not by time (with --max-time, Schemathesis fuzzes until the time is
# spent, so a busy machine would test less): a run on a busy machine takes longer but tests as
# much. MAX_TIME only stops a run that hangs, and a run it stops fails.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/schemathesis-venv"
version="${SCHEMATHESIS_VERSION:-4.32.5}"
max_examples="${MAX_EXAMPLES:-10}"
max_time="${MAX_TIME:-900}"

bin="${WANI_BIN:-}"
if [[ -z "$bin" ]]; then
    if [[ -x "$target/release/wani" ]]; then
        bin="$target/release/wani"
    else
        if [[ ! -x "$target/debug/wani" ]]; then
            (cd "$root" && cargo build --bin wani)
        fi
        bin="$target/debug/wani"
    fi
fi

if [[ ! -x "$venv/bin/st" ]] || ! "$venv/bin/st" --version 2>/dev/null | grep -q " $version\$"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work="$(mktemp -d)"
pid=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A config without proxies to trust: every request is one client, as the fuzzer is. Flood
# control and the request budget are off so that the fuzzer reaches the posting logic behind
# them (test/e2e/flood covers them).
cat >"$work/config.toml" <<'EOF'
trusted_proxies = []
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0

[[boards]]
slug = "b"
title = "Random"
EOF

"$bin" --config "$work/config.toml" --listen 127.0.0.1:0 --data "$work/data" 2>"$work/log" &
pid=$!
addr=""
for _ in $(seq 1 150); do
    addr="$(sed -n 's|.*listening on http://\([^/ ]*\).*|\1|p' "$work/log" | head -n 1)"
    [[ -n "$addr" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$work/log" >&2
        echo "wani exited before listening" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z "$addr" ]]; then
    cat "$work/log" >&2
    echo "wani did not report its address" >&2
    exit 1
fi
base="http://$addr"

# A thread and a reply, so that paths with numbers find something.
curl -fsS -o /dev/null -H 'content-type: application/json' \
    -d '{"body":"first","password":"pw"}' "$base/api/boards/b/threads"
curl -fsS -o /dev/null -H 'content-type: application/json' \
    -d '{"body":">>1 second"}' "$base/api/boards/b/threads/1/posts"

status=0
# From the throwaway directory, so Schemathesis's own cache (.schemathesis/) goes with it.
cd "$work"
# One worker: with two, the generator's threads parse Python source at the same time, and
# CPython 3.11's parser can then fail with "AST constructor recursion depth mismatch" (a
# SystemError inside the fuzzer, not a finding). test/run runs other suites beside this one.
timeout "$max_time" "$venv/bin/st" --config-file "$root/test/schemathesis.toml" run "$base/api/openapi.json" \
    --url "$base" \
    --checks all \
    --max-examples "$max_examples" \
    --request-timeout 5 \
    --seed 1 \
    --workers 1 \
    --no-color || status=$?
if [[ "$status" -eq 124 ]]; then
    echo "schemathesis did not finish within MAX_TIME=$max_time s" >&2
fi

if [[ "$status" -ne 0 ]]; then
    echo "--- the server's log (last lines):" >&2
    tail -n 20 "$work/log" >&2
fi
exit "$status"

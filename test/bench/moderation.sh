#!/usr/bin/env bash
# Moderation benchmark: posting throughput with 1 000 active bans and 100 word filters against
# none, in the same run.
#
# What it measures
#   Two fresh wani servers per round, identical but for the bans and filters: "none" holds
#   neither, "bans" holds BANS active bans given through POST /api/bans by the config admin,
#   mixed as a board would collect them:
#     40 % single IPv4 addresses, 20 % single IPv6 addresses, 15 % IPv4 ranges (/16 to /28),
#     15 % IPv6 ranges (/32 to /64), 10 % cloaks; one in five global, three in ten on /other/,
#     the rest on /bench/; one in three for a day, the rest permanent;
#   and FILTERS word filters (POST /api/filters and /api/boards/bench/filters), two in five
#   global, the rest on /bench/: half plain words, half regular expressions; half `reject`,
#   three in ten `replace`, one in five `reject_and_ban`; some on every field, some on the body
#   or the name and subject only.
#   None of them covers the posting client (127.0.0.1) or matches its reply, so every post is
#   checked against all of them and accepted: what is measured is the price of the checks, not
#   of a refusal.
#   On each server, wrk (test/bench/post.lua) posts durable replies into one thread, first with
#   1 connection, then with CONNECTIONS; each 201 is a reply committed to disk. The rounds
#   alternate none, bans, none, bans ... (ROUNDS of each), and the table gives each run's
#   posts/s and p99, then the mean of each kind and the ratio bans / none.
#   The goal (issue 14): posting with 1 000 bans and 100 filters at most 10 % slower than with
#   none. Before the runs the script checks that both apply: a post from inside one banned
#   network gets 403 `banned`, a post carrying a filtered word 403 `post_filtered`.
#
# How to run (from anywhere; as root, or with wrk, curl and python3 installed)
#   test/bench/moderation.sh
# Settings, as environment variables:
#   BANS=1000 FILTERS=100 ROUNDS=2 DURATION=10s CONNECTIONS=32 WRK_THREADS=2
#   WRK_TIMEOUT=10s     a reply slower than this is a socket error (wrk's default, 2s, is
#                       passed on a loaded machine)
#   WANI_BIN=...        use this binary instead of building target/release/wani with cargo
#   KEEP_TMP=1          keep the temp dir (data directories, logs)
# Output: progress on stderr; the table on stdout, ready to paste into readme.md.

set -euo pipefail

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init moderation

BANS=${BANS:-1000}
FILTERS=${FILTERS:-100}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}

need_python
need wrk wrk
need curl curl
build_wani
bench_tmp

cat >"$TMP/config.toml" <<'EOF'
# One client posts far faster than any person: flood control and the request budget are off.
flood_control = false
request_budget_per_minute = 0
request_budget_burst = 0

[[boards]]
slug = "bench"
title = "Bench"
bump_limit = 1000000
max_replies = 100000

[[boards]]
slug = "other"
title = "Other"

[accounts]
signup = "open"
admins = ["root"]
argon2_memory_kib = 1024
argon2_iterations = 1
EOF

# seed KIND: signs up root, gives the bans and filters (for KIND=bans), opens the thread; prints
# its number, an address inside the first banned range and a rejected word ("-" for none).
seed() {
    python3 - "$WANI_URL" "$1" "$BANS" "$FILTERS" <<'PY'
import http.client, json, random, sys, urllib.parse
url, kind, count, filters = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(host.hostname, host.port)
def call(method, path, body=None, headers=None):
    h = {"content-type": "application/json", **(headers or {})}
    conn.request(method, path, json.dumps(body) if body is not None else None, h)
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None), r
status, body, r = call("POST", "/auth/signup", {"username": "root", "password": "violet staple 42 orbit"})
assert status == 201, body
cookie = r.getheader("set-cookie").split(";")[0]
staff = {"cookie": cookie, "x-csrf-token": body["csrf"]}
rng = random.Random(14)
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
probe = None
filtered = None
if kind == "bans":
    for i in range(count):
        share = i % 20
        if share < 8:
            target = {"address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"}
        elif share < 12:
            target = {"address": f"2001:db8:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"}
        elif share < 15:
            target = {"address": f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.0/{rng.choice([16, 20, 24, 28])}"}
        elif share < 18:
            target = {"address": f"2a00:{rng.randrange(65536):x}:{rng.randrange(65536):x}::/{rng.choice([32, 40, 48, 56, 64])}"}
        else:
            target = {"cloak": "".join(rng.choice(alphabet) for _ in range(12))}
        body = {**target, "duration": 86400 if i % 3 == 0 else "permanent", "reason": f"bench ban {i}"}
        board = "other" if i % 10 in (1, 4, 7) else "bench"
        if i % 5 == 0:
            body["global"] = True
            if "cloak" in body:
                body["board"] = board
        else:
            body["board"] = board
        status, answer, _ = call("POST", "/api/bans", body, staff)
        assert status == 201, (body, answer)
        if probe is None and "/" in target.get("address", "") and board == "bench":
            probe = target["address"].split("/")[0].rstrip("0") + "1"
    for i in range(filters):
        word = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(7))
        if i % 2 == 0:
            body = {"pattern": f"{word}{i}"}
        else:
            body = {"pattern": rf"\b{word}\s*(now|today|{i})\b", "regex": True}
        # Filter 0 rejects: the probe below posts its word.
        share = i % 10
        if share < 5:
            body |= {"action": "reject", "message": f"bench filter {i}"}
        elif share < 8:
            body |= {"action": "replace", "replacement": "[removed]"}
        else:
            body |= {"action": "reject_and_ban", "message": f"bench filter {i}", "ban_secs": 3600}
        if i % 3 == 1:
            body["fields"] = ["body"]
        elif i % 3 == 2:
            body["fields"] = ["name", "subject"]
        path = "/api/filters" if i % 5 < 2 else "/api/boards/bench/filters"
        status, answer, _ = call("POST", path, body, staff)
        assert status == 201, (body, answer)
        if i == 0:
            filtered = body["pattern"]
status, answer, _ = call("POST", "/api/boards/bench/threads", {"body": "The thread the benchmark replies to."})
assert status == 201, answer
print(answer["no"], probe or "-", filtered or "-")
PY
}

# banned_probe: a post from a banned address is refused with 403 `banned`.
banned_probe() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
        -H "x-forwarded-for: $1" -d '{"body":"probe"}' "$WANI_URL/api/boards/bench/threads")
    [ "$code" = 403 ] || die "a post from banned $1 got $code, not 403"
}

# filtered_probe WORD: a post carrying a rejected word is refused with 403 `post_filtered`.
filtered_probe() {
    local answer
    answer=$(curl -s -H 'content-type: application/json' -d "{\"body\":\"say $1 please\"}" \
        "$WANI_URL/api/boards/bench/threads")
    case $answer in *post_filtered*) ;; *) die "a post with filtered $1 got: $answer" ;; esac
}

# run KIND ROUND: a fresh server, seeded; wrk with 1 then CONNECTIONS connections. Appends
# "KIND ROUND conns posts/s p99" lines to $TMP/results.
run() {
    local kind=$1 round=$2 data="$TMP/data-$1-$2" thread conns out rps p99 errors
    start_wani "$TMP/config.toml" "$data" "$TMP/wani-$kind-$round.log"
    say "round $round, $kind: seeding"
    local probe word
    read -r thread probe word < <(seed "$kind")
    [ "$probe" = - ] || banned_probe "$probe"
    [ "$word" = - ] || filtered_probe "$word"

    for conns in 1 "$CONNECTIONS"; do
        local threads=$WRK_THREADS
        [ "$conns" -ge "$threads" ] || threads=1
        say "round $round, $kind: wrk -c$conns -d$DURATION"
        out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency -s "$HERE/post.lua" \
            "$WANI_URL/api/boards/bench/threads/$thread/posts")
        errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ { print }')
        [ -z "$errors" ] || die "wrk saw errors with $kind: $errors"
        rps=$(echo "$out" | awk '/^Requests\/sec/ { print $2 }')
        p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
        echo "$kind $round $conns $rps $p99" >>"$TMP/results"
    done
    stop_wani
}

cpu_busy
for round in $(seq 1 "$ROUNDS"); do
    run none "$round"
    run bans "$round"
done

echo "Posting with $BANS active bans and $FILTERS word filters against none ($(machine); wrk $DURATION per run, durable replies into one thread; CPUs ${BUSY_BEFORE}% busy before):"
echo
echo "| round | bans | filters | connections | posts/s | p99 |"
echo "|---|---|---|---|---|---|"
while read -r kind round conns rps p99; do
    if [ "$kind" = bans ]; then
        echo "| $round | $BANS | $FILTERS | $conns | $rps | $p99 |"
    else
        echo "| $round | 0 | 0 | $conns | $rps | $p99 |"
    fi
done <"$TMP/results"
echo
for conns in 1 "$CONNECTIONS"; do
    awk -v c="$conns" -v n="$BANS" -v f="$FILTERS" '
        $3 == c && $1 == "none" { none += $4; nn++ }
        $3 == c && $1 == "bans" { bans += $4; nb++ }
        END {
            none /= nn; bans /= nb
            change = 100 * (bans - none) / none
            printf "- %d connection(s): %.0f posts/s with neither, %.0f with %d bans and %d filters: ratio %.3f (%.1f %% %s)\n",
                c, none, bans, n, f, bans / none, (change < 0 ? -change : change), (change < 0 ? "slower" : "faster")
        }' "$TMP/results"
done

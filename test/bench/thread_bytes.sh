#!/usr/bin/env bash
# Where the bytes of a thread document go, field by field, and what compression makes of it.
#
# What it does
#   1. Starts wani on a fresh data directory and seeds one thread of 301 posts over HTTP: the OP
#      (the long text of test/bench/http.sh) and 300 replies "Reply N. <REPLY>" under the names
#      "Anonymous 0" to "Anonymous 6", the kind of thread the HTTP benchmark reads.
#   2. GETs it as served (identity), and with `Accept-Encoding: gzip` and `zstd` (waiting until
#      the compressed copies are made), and checks that each decodes to the identity bytes.
#   3. Prints, for three shapes of the same posts, the bytes each field costs (key, value and
#      separator, summed over the posts) and its share of the document:
#        - "served": the document exactly as wani serves it;
#        - "every field": the same posts with every field written out, as wani served them
#          before empty fields and plain `html` were left out (null, [], false and the html
#          rebuilt from the body by the documented rule; key order as it was);
#        - "vichan-shaped": the same posts in the shape vichan's `res/N.json` gives them
#          (inc/api.php: no, com, name, time, sticky, locked, cyclical, resto; the OP also
#          sub, replies, images, omitted_posts, omitted_images, last_modified; `com` as vichan
#          marks up plain text, `<br/>` between lines; PHP's json_encode escaping `/` as `\/`).
#          An estimate from the published format, not vichan's own output.
#      and each shape's size gzipped (level 6 and 9) and zstd-compressed (level 19), for what
#      nginx would send with gzip_static from a pre-compressed file.
#
# How to run
#   test/bench/thread_bytes.sh             # builds target/release/wani
#   WANI_BIN=target/debug/wani test/bench/thread_bytes.sh
# Needs curl and python3 (3.11+, standard library; zstd figures need the `zstd` command, and are
# skipped without it).

set -euo pipefail
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init thread_bytes
need curl curl
need_python
bench_tmp
build_wani

BOARD=bench
REPLIES=300
cat >"$TMP/wani.toml" <<EOF
[[boards]]
slug = "$BOARD"
title = "Bench"
bump_limit = 1000000
max_body_chars = 4000
EOF
start_wani "$TMP/wani.toml" "$TMP/data" "$TMP/wani.log"
API=$WANI_URL/api/boards/$BOARD

LONG='Long post ahead. I rebuilt my old workstation over the weekend: new thermal paste, a quieter fan, a clean install.\nIt now idles ten degrees cooler and the noise is gone. The only thing left is the flaky USB port on the front panel. Ideas welcome; I would rather not replace the whole case for one port.'
REPLY='Agreed with the post above. I measured the same thing on two machines and got numbers within a few percent of each other.\nThe difference only shows under load, so test with real traffic before you decide.'

say "seeding one thread: OP + $REPLIES replies"
THREAD=$(curl -sSf -H 'Content-Type: application/json' \
    --data-binary "{\"subject\":\"The big thread\",\"body\":\"$LONG\"}" "$API/threads" |
    sed -n 's/.*"thread":\([0-9]*\).*/\1/p')
[ -n "$THREAD" ] || die "creating the thread failed"
for i in $(seq 1 "$REPLIES"); do
    printf '{"name":"Anonymous %d","body":"Reply %d. %s"}' "$((i % 7))" "$i" "$REPLY" |
        curl -sSf -o /dev/null -H 'Content-Type: application/json' --data-binary @- \
            "$API/threads/$THREAD/posts" || die "reply $i failed"
done

URL=$API/threads/$THREAD
curl -sSf "$URL" -o "$TMP/thread.json" || die "GET of the thread failed"
# The compressed copies are made just after the first read: wait for them.
for coding in gzip zstd; do
    for _ in $(seq 1 100); do
        enc=$(curl -sSf -D - -o "$TMP/thread.$coding" -H "Accept-Encoding: $coding" "$URL" |
            tr -d '\r' | sed -n 's/^content-encoding: //Ip')
        [ "$enc" = "$coding" ] && break
        sleep 0.1
    done
    [ "$enc" = "$coding" ] || die "the thread never came $coding-encoded"
done

python3 - "$TMP" <<'EOF'
import gzip, json, shutil, subprocess, sys

tmp = sys.argv[1]
served = open(f"{tmp}/thread.json", "rb").read()
gz = open(f"{tmp}/thread.gzip", "rb").read()
zs = open(f"{tmp}/thread.zstd", "rb").read()
assert gzip.decompress(gz) == served, "the gzip copy does not decode to the identity bytes"
have_zstd = shutil.which("zstd") is not None
if have_zstd:
    back = subprocess.run(["zstd", "-dc"], input=zs, capture_output=True, check=True).stdout
    assert back == served, "the zstd copy does not decode to the identity bytes"

doc = json.loads(served)
thread = doc["thread"]
posts = thread["posts"]

def dumps(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))

def plain_html(body):
    esc = (body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
           .replace('"', "&quot;").replace("'", "&#39;"))
    return esc.replace("\n", "<br>")

ORDER = ["no", "thread", "board", "created_at", "name", "subject", "body", "html", "sage",
         "files", "trip", "id", "backlinks", "cross_backlinks", "files_deleted"]
EMPTY = {"subject": None, "sage": False, "files": [], "trip": None, "id": None,
         "backlinks": [], "cross_backlinks": [], "files_deleted": False}

def every_field(p):
    full = {}
    for k in ORDER:
        if k in p:
            full[k] = p[k]
        elif k == "html":
            full[k] = plain_html(p["body"])
        else:
            full[k] = EMPTY[k]
    return full

def vichan(p, i):
    com = (p["html"] if "html" in p else
           p["body"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    com = com.replace("<br>", "<br/>")
    out = {"no": p["no"], "com": com, "name": p["name"], "time": p["created_at"]}
    if i == 0:
        out = {"no": p["no"], "sub": p.get("subject"), **{k: v for k, v in out.items() if k != "no"},
               "omitted_posts": 0, "omitted_images": 0, "replies": thread["replies"],
               "images": thread["images"]}
    out.update({"sticky": 0, "locked": 0, "cyclical": "0"})
    if i == 0:
        out["last_modified"] = thread["bumped_at"]
    out["resto"] = 0 if i == 0 else p["thread"]
    return out

def php_json(v):
    # json_encode: `/` as `\/`, non-ASCII as \uXXXX.
    return json.dumps(v, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")

head = {k: v for k, v in thread.items() if k != "posts"}
shapes = [
    ("served", [dict(p) for p in posts], lambda ps: dumps({"thread": {**head, "posts": ps}}), dumps),
    ("every field", [every_field(p) for p in posts],
     lambda ps: dumps({"thread": {**head, "posts": ps}}), dumps),
    ("vichan-shaped", [vichan(p, i) for i, p in enumerate(posts)],
     lambda ps: php_json({"posts": ps}), php_json),
]

def zstd19(data):
    if not have_zstd:
        return None
    return len(subprocess.run(["zstd", "-19", "-c", "-q"], input=data, capture_output=True,
                              check=True).stdout)

print(f"thread of {len(posts)} posts; served identity {len(served)} B, "
      f"gzip {len(gz)} B, zstd {len(zs)} B (wani's cached copies)")
print()
sizes = {}
for name, ps, whole, enc in shapes:
    text = whole(ps).encode()
    if name == "served":
        assert text == served, "re-serializing the served document changed it"
    sizes[name] = len(text)
    fields = {}
    present = {}
    for p in ps:
        for k, v in p.items():
            fields[k] = fields.get(k, 0) + len(enc(k)) + 1 + len(enc(v).encode()) + 1
            present[k] = present.get(k, 0) + 1
    structure = len(text) - sum(fields.values())
    z = zstd19(text)
    print(f"{name}: {len(text)} B ({len(text) / 1000:.1f} kB), {len(text) / len(ps):.0f} B a post; "
          f"gzip -6 {len(gzip.compress(text, 6))} B, gzip -9 {len(gzip.compress(text, 9))} B"
          + (f", zstd -19 {z} B" if z else ""))
    print(f"  {'field':<16} {'bytes':>8} {'share':>7} {'posts':>6}")
    for k, b in sorted(fields.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<16} {b:>8} {100 * b / len(text):>6.1f}% {present[k]:>6}")
    print(f"  {'(the rest)':<16} {structure:>8} {100 * structure / len(text):>6.1f}%")
    print()
print(f"served / every field: {sizes['served'] / sizes['every field']:.2f}; "
      f"served / vichan-shaped: {sizes['served'] / sizes['vichan-shaped']:.2f}")
EOF

#!/bin/sh
# Browser tests of the web client: real Chromium driven by playwright-core, against a real
# wani (debug build) on a free loopback port with a fresh data directory.
#
# Installs what is missing: Debian's chromium and ffmpeg (apt-get), and from npm, into
# target/browser-node/, playwright-core, axe-core and typescript (for `tsc --noEmit --checkJs`
# of the client); never a browser download. Screenshots go to target/browser-screenshots/.
# Usage: test/browser.sh [test/browser/FILE.test.mjs ...]
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
if ! command -v chromium >/dev/null 2>&1 || ! command -v ffmpeg >/dev/null 2>&1; then
    echo "installing chromium and ffmpeg (apt-get), for the browser and video tests"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium ffmpeg >/dev/null
fi
deps="$root/target/browser-node"
if [ ! -d "$deps/node_modules/playwright-core" ] || [ ! -d "$deps/node_modules/axe-core" ] ||
    [ ! -d "$deps/node_modules/typescript" ]; then
    echo "installing playwright-core, axe-core and typescript (npm) into $deps"
    mkdir -p "$deps"
    [ -f "$deps/package.json" ] || echo '{"private": true}' > "$deps/package.json"
    # No browser download: the tests drive Debian's chromium.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$deps" --no-audit --no-fund \
        playwright-core@1.65 axe-core@4.14 typescript@5 >/dev/null
fi

# The client's JSDoc types.
node "$deps/node_modules/typescript/bin/tsc" -p test/browser/tsconfig.json

cargo build --quiet
export WANI_BIN="$root/target/debug/wani"
export WANI_NODE_MODULES="$deps/node_modules"
export WANI_SHOTS="$root/target/browser-screenshots"
rm -rf "$WANI_SHOTS"
if [ "$#" -eq 0 ]; then
    set -- test/browser/*.test.mjs
fi
status=0
node --test --test-concurrency=1 "$@" || status=$?
echo "screenshots: $WANI_SHOTS"
exit $status

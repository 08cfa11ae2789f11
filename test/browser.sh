#!/usr/bin/env bash
# Browser tests of the web client: real Chromium (its headless shell) driven by playwright-core
# and a Firefox smoke run driven by puppeteer-core (WebDriver BiDi), against a real wani (debug
# build) on a free loopback port with a fresh data directory. Before them: ESLint, Prettier's
# check and `tsc --noEmit --checkJs` of the client and the tests.
#
# Installs what is missing: Debian's chromium, chromium-headless-shell, firefox-esr and ffmpeg
# (apt-get), and from npm, into target/browser-node/, pinned versions of playwright-core,
# puppeteer-core, axe-core, typescript, eslint and prettier; never a browser download.
# Screenshots go to target/browser-screenshots/.
# Each test file starts its own server and browser, so files run side by side: BROWSER_JOBS at a
# time (default 2), the largest first.
# Usage: test/browser.sh [test/browser/FILE.test.mjs ...]
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
# The tests drive chromium-headless-shell (Debian's Chromium without the browser's interface,
# see harness.mjs); the web benchmark drives chromium.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromium-headless-shell >/dev/null 2>&1 ||
    ! command -v firefox-esr >/dev/null 2>&1 || ! command -v ffmpeg >/dev/null 2>&1; then
    echo "installing chromium, chromium-headless-shell, firefox-esr and ffmpeg (apt-get), for the browser and video tests"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-headless-shell firefox-esr ffmpeg >/dev/null
fi
deps="$root/target/browser-node"
# Exact versions: a new release of a linter or formatter must not fail a run by itself.
# puppeteer-core stays on 24, the last line that runs on Debian's Node 20.
packages="playwright-core@1.65.1 puppeteer-core@24.43.1 axe-core@4.14.1 typescript@5.9.3
    eslint@10.15.0 @eslint/js@10.0.1 globals@17.14.0 prettier@3.10.1"
stamp="$deps/installed"
# The list on one line, as the stamp holds it.
read -r -d '' -a package_list <<<"$packages" || true
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${package_list[*]}" ]; then
    echo "installing ${package_list[*]} (npm) into $deps"
    mkdir -p "$deps"
    [ -f "$deps/package.json" ] || echo '{"private": true}' > "$deps/package.json"
    # No browser download: the tests drive Debian's chromium and firefox-esr.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$deps" \
        --no-audit --no-fund --save-exact "${package_list[@]}" >/dev/null
    echo "${package_list[*]}" >"$stamp"
fi
export WANI_NODE_MODULES="$deps/node_modules"

# Lint, formatting and the JSDoc types of the client and the tests (not the vendored libraries),
# and the formatting of the client's stylesheets.
sources=()
for file in src/web/client/*.js test/browser/*.mjs test/bench/web.mjs; do
    case "$file" in
    src/web/client/preact-htm.js | src/web/client/qrcode.js) ;;
    *) sources+=("$file") ;;
    esac
done
node "$deps/node_modules/eslint/bin/eslint.js" -c test/browser/eslint.config.mjs "${sources[@]}"
node "$deps/node_modules/prettier/bin/prettier.cjs" --config test/browser/prettier.json \
    --check "${sources[@]}" src/web/client/*.css
node "$deps/node_modules/typescript/bin/tsc" -p test/browser/tsconfig.json

# WANI_BIN names the binary to test (test/run passes the one its tests built); by default the
# debug build, built first.
if [ -z "${WANI_BIN:-}" ]; then
    cargo build --quiet
    WANI_BIN="$root/target/debug/wani"
fi
export WANI_BIN
export WANI_SHOTS="$root/target/browser-screenshots"
rm -rf "$WANI_SHOTS"
if [ "$#" -eq 0 ]; then
    # The largest files (the most tests) first, so that the run does not end with one long file
    # still going while the other job slot is idle.
    mapfile -t files < <(ls -S test/browser/*.test.mjs)
    set -- "${files[@]}"
fi
status=0
node --test --test-concurrency="${BROWSER_JOBS:-2}" "$@" || status=$?
echo "screenshots: $WANI_SHOTS"
exit $status

#!/bin/sh
# Web client benchmark: sizes and paint timings in headless Chromium (see test/bench/web.mjs).
# Uses the release build (WANI_BIN overrides it) and the browser-test dependencies, which
# test/browser.sh installs.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
deps="$root/target/browser-node"
[ -d "$deps/node_modules/playwright-core" ] || { echo "run test/browser.sh once first"; exit 1; }
if [ -z "${WANI_BIN:-}" ]; then
    cargo build --release --quiet
    WANI_BIN="$root/target/release/wani"
fi
export WANI_BIN WANI_NODE_MODULES="$deps/node_modules"
node test/bench/web.mjs

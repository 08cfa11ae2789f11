#!/usr/bin/env bash
# Flood benchmark: what one flooding client can still do against a release wani, with flood
# control off (as before it existed) and on (the defaults). test/bench/flood.py does the work
# and says what it measures.
#
# How to run (from anywhere; needs python3 3.11 or later):
#   test/bench/flood.sh
#   WANI_BIN=target/release/wani test/bench/flood.sh    # skip the build
# Output: the Markdown table on stdout, ready to paste into readme.md.

set -euo pipefail

# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init flood
need_python
build_wani
python3 "$HERE/flood.py" "$WANI_BIN"

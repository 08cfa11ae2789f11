#!/usr/bin/env bash
# What a captcha costs the server: verifying a proof of work, drawing and encoding a text
# captcha picture, and issuing challenges past the store's bound. Release build; prints one line
# each. The client's side (solving a proof of work with WebCrypto) is test/bench/captcha_pow.mjs.
#
#   test/bench/captcha.sh            # release build
#   PROFILE=dev test/bench/captcha.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=(--release)
[[ ${PROFILE:-release} == dev ]] && profile=()
cargo test "${profile[@]}" --lib antispam::captcha::bench -- --ignored --nocapture 2>&1 \
    | grep -E '^(pow|text|issuing)'

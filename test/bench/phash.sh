#!/usr/bin/env bash
# Perceptual hash benchmark: how well file bans by likeness separate copies from other pictures,
# and what the hash costs.
#
# What it measures (examples/phash.rs, built optimised)
#   - The 64-bit dHash of each fixture photo's thumbnail, computed by the server's own thumbnail
#     path (src/media), and the Hamming distance of every pair of distinct photos: the
#     false-positive side (a pair within `file_ban_distance` would be refused as the other).
#   - For each photo, generated variations made with the image crate: JPEG at quality 95, 75,
#     50 and 20; resized to 50 % and 20 %; cropped by 4 and 16 pixels a side; converted to PNG
#     and lossless WebP (at half size); touched up (a 40x40 red square and 200 white pixels).
#     Their distance from the original's hash, and how many fall within thresholds 4 to 14: the
#     detection rate.
#   - The cost added to an upload: the dHash of a 250x156 RGB thumbnail (what every upload now
#     computes), and checking a hash against 1 000, 10 000 and 100 000 banned hashes by linear
#     scan with popcount.
#
# How to run (from anywhere)
#   test/bench/phash.sh
# Settings, as environment variables:
#   PROFILE=release   the cargo profile; `dev` with CARGO_PROFILE_DEV_OPT_LEVEL=2 gives the same
#                     code optimised like the release build, on a machine where the release
#                     dependencies are not built yet
set -euo pipefail
cd "$(dirname "$0")/../.."
PROFILE=${PROFILE:-release}
cargo run --quiet --profile "$PROFILE" --example phash

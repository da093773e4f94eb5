#!/usr/bin/env bash
# A full `cargo bench` (micro + sweep, about 14 minutes on 2 cores) saving criterion baselines
# named after the short commit, so a later commit can be compared with it:
#   scripts/bench.sh              # saves baseline "<short commit>"
#   scripts/bench.sh NAME         # saves baseline NAME
#   scripts/compare.sh OLD NEW    # compares two saved baselines (or two run folders)
# Extra arguments after NAME go to cargo bench (e.g. `--bench sweep`).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-$(git rev-parse --short HEAD)}
shift || true
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  echo "note: the work tree has uncommitted changes; baseline '$name' includes them" >&2
fi
cargo bench "$@" -- --save-baseline "$name"
echo "saved criterion baseline '$name' under target/criterion/*/*/$name"

#!/usr/bin/env bash
# Compares two measurements:
#   scripts/compare.sh results/A results/B [--fail-above PCT]   two `fanout sweep` run folders:
#       NEW/OLD of wall time, peak RSS and p99 per point, flagged beyond the repeats' noise
#   scripts/compare.sh BASELINE_A BASELINE_B                     two criterion baselines saved by
#       scripts/bench.sh: critcmp's table (installed from crates.io if missing). critcmp prints
#       every value as a time: in the peak_rss group read ns as bytes (1 ms = 1,000,000 bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
old=$1 new=$2
shift 2
if [ -e "$old" ] || [ -e "$new" ]; then
  cargo build --release -q -p fanout
  exec target/release/fanout compare "$old" "$new" "$@"
fi
for b in "$old" "$new"; do
  if ! compgen -G "target/criterion/*/*/*/$b" >/dev/null && ! compgen -G "target/criterion/*/*/$b" >/dev/null; then
    echo "no run folder or criterion baseline named '$b' (save one with scripts/bench.sh $b)" >&2
    exit 2
  fi
done
command -v critcmp >/dev/null || cargo install --locked critcmp
exec critcmp "$old" "$new"

#!/usr/bin/env bash
# How far `fanout ab` can be trusted on this machine, measured:
#   1. A/A: this build against itself (identical sides), ROUNDS rounds of several strategies
#      and concurrencies; every verdict is a false alarm.
#   2. Slowdown: NEW spends more CPU per request than OLD — by default the same build with
#      `--cpu-us 1` (a busy loop per response), or a build of its own (SLOW_OLD=git:A
#      SLOW_NEW=git:B SLOW_NEW_ARGS=""); TRIES tries of ROUNDS rounds each, how many found NEW
#      worse in CPU per request, and the effect the tries measured.
# Usage: scripts/ab-calibration.sh OUT_DIR   (about 8 minutes on 2 cores, builds aside)
# Environment: ROUNDS (20), TRIES (10), AA (1; 0 skips the A/A), SLOW_OLD (.), SLOW_NEW (.),
# SLOW_NEW_ARGS ("--cpu-us 1"), SLOW_POINT ("-s async_semaphore -c 100").
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/ab-calibration.sh OUT_DIR}
rounds=${ROUNDS:-20}
tries=${TRIES:-10}
slow_old=${SLOW_OLD:-.}
slow_new=${SLOW_NEW:-.}
slow_new_args=${SLOW_NEW_ARGS-"--cpu-us 1"}
slow_point=${SLOW_POINT:-"-s async_semaphore -c 100"}
cargo build --release -p fanout
fanout=target/release/fanout
mkdir -p "$out"
git rev-parse --short HEAD > "$out/commit"

if [ "${AA:-1}" != 0 ]; then
  echo "== A/A: $rounds rounds" >&2
  "$fanout" ab . . --strategies thread_raw,async_raw,thread_pool,async_semaphore,async_hyper \
    --concurrency 10,100 -n 2000 --rounds "$rounds" --args "--delay-ms 0" --out "$out/aa" \
    > /dev/null
fi

for i in $(seq 1 "$tries"); do
  echo "== slowdown try $i of $tries: $slow_old against $slow_new $slow_new_args" >&2
  # shellcheck disable=SC2086 # the point's flags are words
  "$fanout" ab "$slow_old" "$slow_new" $slow_point -n 20000 --rounds "$rounds" \
    --args "--delay-ms 0" --new-args "$slow_new_args" --out "$out/slowdown-$i" > /dev/null
done

# The tally, from the reports' JSON.
python3 - "$out" "$tries" <<'PY'
import json, sys, pathlib
out, tries = pathlib.Path(sys.argv[1]), int(sys.argv[2])
lines = []
if (out / "aa" / "ab.json").exists():
    aa = json.loads((out / "aa" / "ab.json").read_text())
    flagged = [r for r in aa["rows"] if r["verdict"] != "unclear"]
    lines.append(f"A/A: {len(flagged)} of {len(aa['rows'])} comparisons with a verdict "
                 f"({len({r['point'] for r in flagged})} of {len({r['point'] for r in aa['rows']})} points), "
                 f"{aa['rounds']} rounds, threshold {aa['threshold']:.0%}.")
    for f in ["wall", "cpu_per_request", "peak_rss", "p99"]:
        rows = [r for r in aa["rows"] if r["figure"] == f]
        widest = max((r["high"] / r["low"] - 1) / 2 for r in rows)
        lines.append(f"  {f}: widest interval ±{widest:.1%}")
found, ratios = 0, []
for i in range(1, tries + 1):
    s = json.loads((out / f"slowdown-{i}" / "ab.json").read_text())
    cpu = next(r for r in s["rows"] if r["figure"] == "cpu_per_request")
    ratios.append(cpu["ratio"])
    found += cpu["verdict"] == "worse"
rounds = json.loads((out / "slowdown-1" / "ab.json").read_text())["rounds"]
lines.append(f"Slowdown, {rounds} rounds: found worse in CPU per request in {found} of {tries} tries; "
             f"NEW / OLD {min(ratios):.3f}–{max(ratios):.3f} (median {sorted(ratios)[len(ratios)//2]:.3f}).")
(out / "calibration.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PY

#!/usr/bin/env bash
# What the counting allocator costs: each point run with heap counting off
# (FANOUT_HEAP_COUNTS=0) and on, in alternating pairs, then `fanout compare OFF ON`
# (NEW/OLD = counted / not counted, flagged beyond the repeats' noise). Points: C = 100 at
# delay 0 with N = 20,000 (the most allocations per second), and C = 10,000 with the default
# workload.
# Wall and CPU on this noisy machine cannot resolve a few percent; so the script also counts
# the worker's instructions with callgrind (when valgrind is installed), which repeat to
# about 1%: one worker, 2,000 requests at C = 100, delay 0, counting off and on.
#   scripts/heap-count-cost.sh [ROUNDS] [OUT_DIR]       defaults: 5 rounds, /tmp/fanout-heap-cost
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
out=${2:-/tmp/fanout-heap-cost}
cargo build --release -q -p fanout
fanout=target/release/fanout
rm -rf "$out" && mkdir -p "$out"
for round in $(seq "$rounds"); do
  for workload in "-c 100 --delay-ms 0 -n 20000" "-c 10000"; do
    for s in thread_pool async_semaphore thread_raw async_raw; do
      # shellcheck disable=SC2206 # the workload's words are meant to split
      point=(run --json -s "$s" $workload)
      FANOUT_HEAP_COUNTS=0 "$fanout" "${point[@]}" >>"$out/off.jsonl" 2>/dev/null
      "$fanout" "${point[@]}" >>"$out/on.jsonl" 2>/dev/null
    done
  done
  echo "round $round of $rounds done" >&2
done
"$fanout" compare "$out/off.jsonl" "$out/on.jsonl"

command -v valgrind >/dev/null || { echo "valgrind not installed: no instruction counts" >&2; exit 0; }
server_out="$out/server.out"
FANOUT_ROLE=server RUST_LOG=warn "$fanout" --addr 127.0.0.1:0 >"$server_out" &
server=$!
trap 'kill $server' EXIT
until grep -q "listening on" "$server_out" 2>/dev/null; do sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$server_out")
echo
echo "| strategy | instructions, counting off | on | on/off |"
echo "|---|---:|---:|---:|"
for s in thread_pool async_semaphore thread_raw async_raw; do
  job="{\"strategy\":\"$s\",\"job\":{\"url\":\"$url/get?delay_ms=0&bytes=32\",\"concurrency\":100,\"requests\":2000,\"settings\":{\"timeout_ms\":30000,\"stack_kib\":2048,\"tokio_workers\":2,\"body_bytes\":32}}}"
  count() {
    FANOUT_HEAP_COUNTS=$1 FANOUT_ROLE=worker FANOUT_JOB="$job" \
      valgrind --tool=callgrind --callgrind-out-file=/dev/null "$fanout" 2>&1 >/dev/null |
      sed -n 's/.*Collected : //p'
  }
  off=$(count 0) on=$(count 1)
  echo "| $s | $off | $on | $(awk "BEGIN { printf \"%.3f\", $on / $off }") |"
done

#!/usr/bin/env bash
# Soak (not in CI): the heaviest points — thread_pool and async_semaphore at C = 10,000 — in a
# loop against one mock server for SECONDS (default 600), sampling the server's RSS and open
# file descriptors after every point. Both should stay flat: nothing leaks per connection.
# Usage: scripts/soak.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-600}
ulimit -n "$(ulimit -Hn)"
cargo build --release -q -p mock-server -p fanout
out=$(mktemp)
target/release/mock-server --addr 127.0.0.1:0 >"$out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^listening on ' "$out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$out")
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
fds() { ls "/proc/$server/fd" | wc -l; }
echo "server $url (pid $server): RSS $(rss) kB, $(fds) fds at start"
echo "point,elapsed_s,ok,errors,server_rss_kb,server_fds"
start=$(date +%s) i=0
while (( $(date +%s) - start < duration )); do
  strategy=$([ $((i % 2)) = 0 ] && echo thread_pool || echo async_semaphore)
  line=$(target/release/fanout run --json -s "$strategy" -c 10000 --url "$url" 2>/dev/null || true)
  summary=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r.get("ok",0), sum(r.get("errors",{}).values()))' "$line" 2>/dev/null || echo "0 ?")
  sleep 1  # let closed connections leave the server before sampling
  echo "$strategy,$(( $(date +%s) - start )),${summary// /,},$(rss),$(fds)"
  i=$((i + 1))
done
echo "server at end: RSS $(rss) kB, $(fds) fds after $i points"

#!/usr/bin/env bash
# The HTTP/2 floor beside h2load (nghttp2) on one mock server in one run: ok requests/s at
# C = 100 streams on one connection, delay 0, N = 200,000, for async_h2_floor (the h2 crate
# alone), async_h2 (reqwest) and `h2load -n 200000 -c 1 -m 100`; medians of ROUNDS rounds, each
# round all three in turn, and each one's ratio to h2load. h2load comes from Debian's
# nghttp2-client (installed with apt-get when missing). Needs python3. Not run by CI.
#   scripts/vs-h2load.sh [ROUNDS]                               default 3
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v h2load >/dev/null || { apt-get install -y -q nghttp2-client >/dev/null; }
cargo build --release -q -p fanout
fanout=target/release/fanout
out=$(mktemp -d)
FANOUT_ROLE=server RUST_LOG=warn "$fanout" --addr 127.0.0.1:0 >"$out/server" &
server=$!
trap 'kill $server; rm -rf "$out"' EXIT
until grep -q "listening on" "$out/server" 2>/dev/null; do sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$out/server")

for round in $(seq "$rounds"); do
  for s in async_h2_floor async_h2; do
    line=$("$fanout" run --json -s "$s" -c 100 -n 200000 --delay-ms 0 --time-limit-s 120 --url "$url" 2>/dev/null || true)
    echo "$s $line" >>"$out/rows"
  done
  rps=$(h2load -n 200000 -c 1 -m 100 "$url/get?delay_ms=0&bytes=32" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p')
  succeeded=$(h2load -n 1 -c 1 "$url/get?delay_ms=0&bytes=32" | grep -c "1 succeeded" || true)
  echo "h2load {\"status\": \"measured\", \"throughput_rps\": $rps, \"sanity\": $succeeded}" >>"$out/rows"
  echo "round $round of $rounds done" >&2
done

python3 - "$out/rows" <<'PY'
import json, statistics, sys
rps = {}
for line in open(sys.argv[1]):
    name, raw = line.split(" ", 1)
    try:
        r = json.loads(raw)
    except ValueError:
        continue
    if r.get("status") != "measured":
        continue
    if name != "h2load" and r.get("ok") != r.get("requests"):
        continue  # a run that lost requests is not a throughput
    rps.setdefault(name, []).append(r["throughput_rps"])
base = statistics.median(rps.get("h2load", [float("nan")]))
print("| client | ok req/s at C = 100 streams, one connection, D = 0, N = 200,000 | / h2load | rounds |")
print("|---|---:|---:|---:|")
for name in ["async_h2_floor", "async_h2", "h2load"]:
    v = rps.get(name, [])
    if v:
        m = statistics.median(v)
        print(f"| {name} | {m:,.0f} | {m / base:.2f} | {len(v)} |")
PY

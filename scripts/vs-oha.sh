#!/usr/bin/env bash
# Every strategy beside oha, a dedicated Rust load generator, on one mock server in one run:
#   - throughput at C = 100, delay 0, N = 20,000: ok requests/s, and that over oha's;
#   - the ramp at C = 10,000, N = 10,000, delay 100 ms: the most requests the server saw in
#     flight, over C (10,000 connects must all land within the first 100 ms to reach 1.0).
# Medians of ROUNDS rounds, each round every strategy and oha once, in turn. oha is installed
# from crates.io when missing (about 4 minutes). Needs curl and python3. Not run by CI.
#   scripts/vs-oha.sh [ROUNDS]                              default 3
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v oha >/dev/null || cargo install --locked oha
cargo build --release -q -p fanout
fanout=target/release/fanout
out=$(mktemp -d)
FANOUT_ROLE=server RUST_LOG=warn "$fanout" --addr 127.0.0.1:0 >"$out/server" &
server=$!
trap 'kill $server; rm -rf "$out"' EXIT
until grep -q "listening on" "$out/server" 2>/dev/null; do sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$out/server")

peak_in_flight() { curl -s "$url/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["peak_in_flight"])'; }
strategies=$("$fanout" list | awk '{print $1}')
for round in $(seq "$rounds"); do
  for s in $strategies; do
    for point in "throughput -c 100 -n 20000 --delay-ms 0" "ramp -c 10000 -n 10000 --delay-ms 100"; do
      set -- $point
      kind=$1; shift
      line=$("$fanout" run --json -s "$s" "$@" --time-limit-s 30 --url "$url" 2>/dev/null || true)
      echo "$kind $s $line" >>"$out/rows"
    done
  done
  curl -s -X POST "$url/stats/reset" >/dev/null
  oha --no-tui --output-format json -n 20000 -c 100 "$url/get?delay_ms=0&bytes=32" >"$out/oha.json"
  echo "throughput oha $(python3 -c 'import json,sys; print(json.dumps({"status": "measured", "throughput_rps": json.load(open(sys.argv[1]))["summary"]["requestsPerSec"]}))' "$out/oha.json")" >>"$out/rows"
  curl -s -X POST "$url/stats/reset" >/dev/null
  oha --no-tui --output-format json -n 10000 -c 10000 "$url/get?delay_ms=100&bytes=32" >/dev/null
  echo "ramp oha {\"status\": \"measured\", \"server\": {\"peak_in_flight\": $(peak_in_flight)}}" >>"$out/rows"
  echo "round $round of $rounds done" >&2
done

python3 - "$out/rows" <<'PY'
import json, statistics, sys
rps, ramp = {}, {}
for line in open(sys.argv[1]):
    kind, name, raw = line.split(" ", 2)
    try:
        r = json.loads(raw)
    except ValueError:
        continue
    if r.get("status") != "measured":
        continue
    if kind == "throughput":
        rps.setdefault(name, []).append(r["throughput_rps"])
    elif r.get("server"):
        ramp.setdefault(name, []).append(r["server"]["peak_in_flight"])
oha = statistics.median(rps.get("oha", [float("nan")]))
print("| strategy | ok req/s at C = 100, D = 0 | / oha | server peak in flight at C = 10,000, D = 100 ms | / C |")
print("|---|---:|---:|---:|---:|")
for name in list(dict.fromkeys(list(rps) + list(ramp))):
    r = statistics.median(rps[name]) if name in rps else None
    p = statistics.median(ramp[name]) if name in ramp else None
    print(f"| {name} | {r:,.0f} | {r / oha:.2f} |" if r else f"| {name} | – | – |", end="")
    print(f" {p:,.0f} | {p / 10000:.2f} |" if p else " – | – |")
PY

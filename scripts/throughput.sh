#!/usr/bin/env bash
# Throughput beside the dedicated load generators, on one mock server in one run: each client's own
# CPU per request (user + system of its process over its ok requests) and ok requests/s
# at C = 100, delay 0, for every strategy beside oha (`-n 20000 -c 100`) and wrk (`-t 2 -c 100
# -d 5s`: wrk runs for a duration, not N), and over HTTP/2 for async_h2_floor and async_h2 beside
# h2load (`-n 200000 -c 1 -m 100`: 100 streams on one connection). Medians of ROUNDS rounds, each
# round everything once, in turn; a fanout run that lost requests, or a generator run with errors,
# is left out (and counted), and each client's lowest and highest round is shown beside its
# median. Writes OUT/rows.txt (every raw line) and OUT/README.md (the tables, the machine, the
# commit). oha is installed by scripts/peers.sh, wrk and h2load from Debian
# (apt-get, as root) when missing. Needs python3. Neither CI nor the README's commands run it.
#   scripts/throughput.sh [ROUNDS] [OUT]          defaults: 3, results/YYYY-MM-DD-throughput
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
out=$(realpath -m "${2:-results/$(date -u +%F)-throughput}")
peers=$(realpath -m "${FANOUT_PEERS_DIR:-target/peers}")
oha=${OHA:-$peers/bin/oha}
[ -x "$oha" ] || oha=$(command -v oha || true)
[ -n "$oha" ] || { echo "oha not found: run scripts/peers.sh (or set OHA)" >&2; exit 1; }
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
command -v h2load >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
cargo build --release -q -p fanout
fanout=target/release/fanout
mkdir -p "$out"
# The run's facts (commit, toolchain, machine) as fanout's own run folders keep them.
"$fanout" facts >"$out/facts.json"
rows="$out/rows.txt"
: >"$rows"
log=$(mktemp)
FANOUT_ROLE=server RUST_LOG=warn "$fanout" --addr 127.0.0.1:0 >"$log" &
server=$!
trap 'kill $server; rm -f "$log"' EXIT
until grep -q "listening on" "$log" 2>/dev/null; do sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$log")
get="$url/get?delay_ms=0&bytes=32"

strategies=$("$fanout" list | awk 'NF && $1 !~ /^peer/ && $1 != "peers" {print $1}')
for round in $(seq "$rounds"); do
  for s in $strategies; do
    echo "h1 $s $("$fanout" run --json -s "$s" -c 100 -n 20000 --delay-ms 0 --time-limit-s 60 --url "$url" 2>/dev/null || echo '{}')" >>"$rows"
  done
  echo "h1 oha $(scripts/metered.py "$oha" --no-tui --output-format json -n 20000 -c 100 "$get" | scripts/generator_row.py oha)" >>"$rows"
  echo "h1 wrk $(scripts/metered.py wrk -t 2 -c 100 -d 5s "$get" | scripts/generator_row.py wrk)" >>"$rows"
  for s in async_h2_floor async_h2; do
    echo "h2 $s $("$fanout" run --json -s "$s" -c 100 -n 200000 --delay-ms 0 --time-limit-s 120 --url "$url" 2>/dev/null || echo '{}')" >>"$rows"
  done
  echo "h2 h2load $(scripts/metered.py h2load -n 200000 -c 1 -m 100 "$get" | scripts/generator_row.py h2load)" >>"$rows"
  echo "round $round of $rounds done" >&2
done

scripts/throughput_report.py "$rows" "$out/README.md" "$rounds" "$("$fanout" --version)" "$(git describe --always --dirty)"

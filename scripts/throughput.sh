#!/usr/bin/env bash
# Throughput beside the dedicated load generators, on one mock server in one run: ok requests/s
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
  echo "h1 oha $("$oha" --no-tui --output-format json -n 20000 -c 100 "$get" | python3 -c '
import json, sys
s = json.load(sys.stdin)
codes = s.get("statusCodeDistribution", {})
print(json.dumps({"tool": "oha", "throughput_rps": s["summary"]["requestsPerSec"], "ok": codes.get("200", 0), "errors": sum(s.get("errorDistribution", {}).values()) + sum(v for k, v in codes.items() if k != "200")}))')" >>"$rows"
  echo "h1 wrk $(wrk -t 2 -c 100 -d 5s "$get" | python3 -c '
import json, re, sys
t = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s*([0-9.]+)", t).group(1))
errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)", t))
print(json.dumps({"tool": "wrk", "throughput_rps": rps, "errors": errors, "raw": t}))')" >>"$rows"
  for s in async_h2_floor async_h2; do
    echo "h2 $s $("$fanout" run --json -s "$s" -c 100 -n 200000 --delay-ms 0 --time-limit-s 120 --url "$url" 2>/dev/null || echo '{}')" >>"$rows"
  done
  echo "h2 h2load $(h2load -n 200000 -c 1 -m 100 "$get" | python3 -c '
import json, re, sys
t = sys.stdin.read()
rps = float(re.search(r"finished in .*?, ([0-9.]+) req/s", t).group(1))
ok = int(re.search(r"(\d+) succeeded", t).group(1))
code = re.search(r"status codes: (\d+) 2xx", t)
print(json.dumps({"tool": "h2load", "throughput_rps": rps, "ok": ok, "errors": 200000 - (int(code.group(1)) if code else 0), "raw": t}))')" >>"$rows"
  echo "round $round of $rounds done" >&2
done

python3 - "$rows" "$out/README.md" "$rounds" "$("$fanout" --version)" "$(git rev-parse --short HEAD)" <<'PY'
import json, platform, statistics, sys
rows, readme, rounds, version, commit = sys.argv[1:]
rps, left_out = {}, {}
for line in open(rows):
    proto, name, raw = line.rstrip("\n").split(" ", 2)
    r = json.loads(raw)
    whole = r.get("status") == "measured" and r.get("ok") == r.get("requests") if "tool" not in r else r.get("errors", 0) == 0
    key = (proto, name)
    if whole:
        rps.setdefault(key, []).append(r["throughput_rps"])
    else:
        left_out[key] = left_out.get(key, 0) + 1
def table(proto, base, title):
    lines = [title, "", f"| client | ok req/s (median) | lowest–highest round | / {base} | rounds | left out |", "|---|---:|---:|---:|---:|---:|"]
    b = statistics.median(rps.get((proto, base), [float("nan")]))
    for (p, name), v in rps.items():
        if p != proto:
            continue
        m = statistics.median(v)
        lines.append(f"| {name} | {m:,.0f} | {min(v):,.0f}–{max(v):,.0f} | {m / b:.2f} | {len(v)} | {left_out.get((p, name), 0)} |")
    for (p, name), n in left_out.items():
        if p == proto and (p, name) not in rps:
            lines.append(f"| {name} | – | – | – | 0 | {n} |")
    return lines
with open(readme, "w") as f:
    f.write("\n".join([
        "# Throughput beside oha, wrk and h2load",
        "",
        f"Made by `scripts/throughput.sh {rounds}` at commit {commit} ({version}) on {platform.node()}, "
        f"{platform.machine()}, Linux {platform.release()}; one mock server for everything, every client in turn "
        "each round; medians of the rounds, and the lowest and highest round: two clients differ only where those "
        "ranges do not overlap. `rows.txt` holds every raw line. A fanout run that lost requests, or a "
        "generator run with errors, is left out and counted.",
        "",
        *table("h1", "oha", "## HTTP/1.1: C = 100 connections, delay 0 (fanout and oha: N = 20,000; wrk: 5 s)"),
        "",
        "wrk's ratio to oha is in its row: oha / wrk both measure the same server.",
        "",
        *table("h2", "h2load", "## HTTP/2: 100 streams, delay 0, N = 200,000 (h2load: one connection, `-m 100`)"),
        "",
    ]))
print(open(readme).read())
PY

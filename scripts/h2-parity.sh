#!/usr/bin/env bash
# The HTTP/2 floor beside h2load on either server: `async_h2_floor` (C = 100, N = 200,000,
# delay 0), h2load (`-n 200000 -c 1 -m 100`) and the h2 crate with tokio alone
# (examples/bare_h2.rs: the floor's streams without fanout's driver, tally, checks or
# counting allocator, so the gap splits into the h2 crate's and fanout's) against the server fanout starts
# (`FANOUT_ROLE=server fanout`, its counting allocator included) and against the `mock-server`
# binary, in alternating rounds; each client's own CPU per request (the floor's worker from its
# point, h2load's process from scripts/metered.py) beside requests/s, and each server's CPU time
# over each run (utime + stime from /proc), so a server that was the bottleneck shows. Writes OUT/rows.txt and OUT/README.md
# (medians of the rounds, the commit). h2load from Debian (apt-get, as root) when missing.
# Neither CI nor the README's commands run it.
#   scripts/h2-parity.sh [ROUNDS] [OUT]          defaults: 5, results/YYYY-MM-DD-h2-parity
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
out=$(realpath -m "${2:-results/$(date -u +%F)-h2-parity}")
command -v h2load >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
cargo build --release -q -p fanout -p mock-server
cargo build --release -q -p fanout --example bare_h2
fanout=target/release/fanout
mkdir -p "$out"
# The run's facts (commit, toolchain, machine) as fanout's own run folders keep them.
"$fanout" facts >"$out/facts.json"
rows="$out/rows.txt"
: >"$rows"
role_log=$(mktemp)
bin_log=$(mktemp)
FANOUT_ROLE=server RUST_LOG=warn "$fanout" --addr 127.0.0.1:0 >"$role_log" &
role=$!
RUST_LOG=warn target/release/mock-server --addr 127.0.0.1:0 --delay-ms 0 >"$bin_log" &
bin=$!
trap 'kill $role $bin; rm -f "$role_log" "$bin_log"' EXIT
until grep -q "listening on" "$role_log" 2>/dev/null && grep -q "listening on" "$bin_log" 2>/dev/null; do sleep 0.1; done
role_url=$(sed -n 's/^listening on //p' "$role_log")
bin_url=$(sed -n 's/^listening on //p' "$bin_log")
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }

for round in $(seq "$rounds"); do
  for server in "role $role_url $role" "binary $bin_url $bin"; do
    set -- $server
    before=$(cpu "$3")
    floor=$("$fanout" run --json -s async_h2_floor -c 100 -n 200000 --delay-ms 0 --time-limit-s 120 --url "$2" 2>/dev/null || echo '{}')
    middle=$(cpu "$3")
    h2load=$(scripts/metered.py h2load -n 200000 -c 1 -m 100 "$2/get?delay_ms=0&bytes=32" | scripts/generator_row.py h2load)
    after=$(cpu "$3")
    bare=$(scripts/metered.py target/release/examples/bare_h2 "$2/get?delay_ms=0&bytes=32" 200000 100 | scripts/generator_row.py bare_h2)
    python3 - "$round" "$1" "$floor" "$h2load" "$before" "$middle" "$after" "$bare" >>"$rows" <<'PY'
import json, re, sys
round_, server, floor, h2load, before, middle, after, bare = sys.argv[1:]
f = json.loads(floor)
h = json.loads(h2load)
b = json.loads(bare)
# Each client's own CPU per ok request, µs: the floor's worker (wait4) less its meter's
# sampling thread, h2load's process.
per_request = lambda r: (r["cpu_user_s"] + r["cpu_sys_s"] - (r.get("meter_cpu_s") or 0.0)) / r["ok"] * 1e6 if r.get("ok") and r.get("cpu_user_s") is not None else None
print(json.dumps({
    "round": int(round_), "server": server,
    "floor_rps": f.get("throughput_rps"), "floor_ok": f.get("ok"),
    "floor_cpu_us_per_request": per_request(f),
    "floor_server_cpu_s": round(float(middle) - float(before), 2),
    "h2load_rps": h.get("throughput_rps"),
    "h2load_ok": h.get("ok"),
    "h2load_cpu_us_per_request": per_request(h),
    "h2load_server_cpu_s": round(float(after) - float(middle), 2),
    "bare_rps": b.get("throughput_rps"),
    "bare_ok": b.get("ok"),
    "bare_cpu_us_per_request": per_request(b),
}))
PY
  done
  echo "round $round of $rounds done" >&2
done

python3 - "$rows" "$out/README.md" "$(git describe --always --dirty)" "$rounds" <<'PY'
import json, statistics, sys
rows_path, readme, commit, rounds = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_path)]
ok = lambda r, who: r[f"{who}_ok"] == 200000
med = lambda xs: statistics.median(xs) if xs else float("nan")
span = lambda xs: f"{med(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})" if xs else "–"
lines = [
    "# The HTTP/2 floor beside h2load, on either server",
    "",
    f"`scripts/h2-parity.sh {rounds}` on commit {commit}: `async_h2_floor` (C = 100, N = 200,000, delay 0), "
    "h2load (`-n 200000 -c 1 -m 100`) and `examples/bare_h2.rs` (the h2 crate and tokio alone: "
    "the floor's streams on one connection without fanout's request driver, tally, response "
    "check or counting allocator), alternating, against the server fanout starts "
    "(`FANOUT_ROLE=server`) and the `mock-server` binary. Medians of the rounds; a run that "
    "lost requests is left out. Each client's own CPU per request (user + system of its process "
    "over its ok requests; the median and, in brackets, the lowest and highest round) compares "
    "the clients; requests per second are the pair's, on cores the client shares with the "
    "server. Server CPU: the server's CPU seconds over the run.",
    "",
    f"## HTTP/2, 100 streams on one connection, delay 0, N = 200,000: medians of {rounds} rounds",
    "",
    "| server | floor CPU µs / request | h2load CPU µs / request | floor / h2load (CPU) | floor req/s | h2load req/s | floor / h2load (req/s) | server CPU s, floor | server CPU s, h2load | rounds |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]
split = [
    "",
    "## Where the floor's extra CPU lies: the h2 crate and tokio, or fanout",
    "",
    "| server | h2load CPU µs / request | bare h2 CPU µs / request | floor CPU µs / request | bare / h2load (the h2 crate and tokio) | floor / bare (fanout) | floor / h2load |",
    "|---|---:|---:|---:|---:|---:|---:|",
]
for server in ("role", "binary"):
    mine = [r for r in rows if r["server"] == server]
    floor = [r["floor_rps"] for r in mine if ok(r, "floor")]
    h2 = [r["h2load_rps"] for r in mine if ok(r, "h2load")]
    cpu = lambda who: [r[f"{who}_cpu_us_per_request"] for r in mine if ok(r, who) and r.get(f"{who}_cpu_us_per_request")]
    floor_cpu, h2_cpu, bare_cpu = cpu("floor"), cpu("h2load"), cpu("bare")
    lines.append(
        f"| {server} | {span(floor_cpu)} | {span(h2_cpu)} | {med(floor_cpu) / med(h2_cpu):.2f} | "
        f"{med(floor):,.0f} | {med(h2):,.0f} | {med(floor) / med(h2):.2f} | "
        f"{med([r['floor_server_cpu_s'] for r in mine]):.2f} | {med([r['h2load_server_cpu_s'] for r in mine]):.2f} | {len(mine)} |"
    )
    split.append(
        f"| {server} | {span(h2_cpu)} | {span(bare_cpu)} | {span(floor_cpu)} | "
        f"{med(bare_cpu) / med(h2_cpu):.2f} | {med(floor_cpu) / med(bare_cpu):.2f} | {med(floor_cpu) / med(h2_cpu):.2f} |"
    )
lines += split
open(readme, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY

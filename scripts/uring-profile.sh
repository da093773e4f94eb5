#!/usr/bin/env bash
# Why io_uring's floor serves fewer requests/s than epoll's here: uring_raw beside async_raw at
# C = 100, delay 0, N = 20,000 (the throughput run's point), on one mock server, alternating
# ROUNDS rounds. Each run is counted by `perf stat` (task clock, context switches, and the
# system calls each model makes: io_uring_enter; epoll_wait, recvfrom, sendto, read, write),
# per request; then one longer run of each worker is sampled by `perf record` (cpu-clock, with
# call graphs) and its hottest symbols listed. The counts include the harness process that meters the
# worker (it wakes every 2 ms), the same for both. Writes OUT/README.md (the tables, the
# machine, the commit) and OUT/rows.txt (every raw line). Needs perf (Debian's linux-perf) with
# the syscalls tracepoints, and python3. Neither CI nor the README's commands run it.
#   scripts/uring-profile.sh [ROUNDS] [OUT]          defaults: 5, results/YYYY-MM-DD-uring-profile
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
out=$(realpath -m "${2:-results/$(date -u +%F)-uring-profile}")
command -v perf >/dev/null || { echo "perf not found (Debian: apt-get install linux-perf)" >&2; exit 1; }
perf stat -e syscalls:sys_enter_io_uring_enter true >/dev/null 2>&1 ||
  { echo "perf cannot read the syscalls tracepoints here (run as root, tracefs mounted)" >&2; exit 1; }
cargo build --release -q -p fanout
fanout=target/release/fanout
mkdir -p "$out"
# The run's facts (commit, toolchain, machine) as fanout's own run folders keep them.
"$fanout" facts >"$out/facts.json"
rows="$out/rows.txt"
: >"$rows"
log=$(mktemp)
work=$(mktemp -d)
FANOUT_ROLE=server RUST_LOG=warn "$fanout" --addr 127.0.0.1:0 >"$log" &
server=$!
trap 'kill $server; rm -rf "$log" "$work"' EXIT
until grep -q "listening on" "$log" 2>/dev/null; do sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$log")

events=task-clock,context-switches,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_read,syscalls:sys_enter_write
strategies="async_raw uring_raw"
point=(-c 100 -n 20000 --delay-ms 0 --time-limit-s 60 --url "$url")
for round in $(seq "$rounds"); do
  for s in $strategies; do
    json=$(perf stat -x, -o "$work/stat" -e "$events" -- "$fanout" run --json -s "$s" "${point[@]}" 2>/dev/null || echo '{}')
    echo "run $s $json" >>"$rows"
    sed "s/^/stat $s /" "$work/stat" >>"$rows"
  done
done
for s in $strategies; do
  # Only the worker is sampled: perf attaches to it once the harness has started it (N =
  # 100,000, so the start it misses is a small part).
  "$fanout" run -s "$s" -c 100 -n 100000 --delay-ms 0 --time-limit-s 60 --url "$url" >/dev/null 2>&1 &
  harness=$!
  # The worker is the child with threads of its own (the harness starts short-lived helpers too).
  worker=""
  until [ -n "$worker" ]; do
    for child in $(pgrep -P "$harness" || true); do
      threads=$(awk '/^Threads:/ {print $2}' "/proc/$child/status" 2>/dev/null || echo 0)
      [ "${threads:-0}" -ge 3 ] && worker=$child
    done
    sleep 0.01
  done
  perf record -q -e cpu-clock -g -p "$worker" -o "$work/$s.data" >/dev/null 2>&1 || true
  wait "$harness" || true
  perf report -i "$work/$s.data" --no-children --sort sym --stdio --percent-limit 1.5 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -15 | sed "s/^/top $s /" >>"$rows"
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
python3 - "$rows" "$rounds" "$commit" "$(uname -srm)" "$(nproc)" >"$out/README.md" <<'EOF'
import json, statistics, sys
rows, rounds, commit, kernel, cores = sys.argv[1:]
runs, stats, top = {}, {}, {}
current = {}
for line in open(rows):
    kind, s, rest = line.rstrip("\n").split(" ", 2)
    if kind == "run":
        r = json.loads(rest or "{}")
        runs.setdefault(s, []).append(r)
        current[s] = {}
        stats.setdefault(s, []).append(current[s])
    elif kind == "stat":
        f = rest.split(",")
        if len(f) > 2 and f[0] not in ("", "<not counted>", "<not supported>"):
            current[s][f[2]] = float(f[0])
    elif kind == "top":
        top.setdefault(s, []).append(rest.strip())

names = list(runs)
def ok(r):
    return r.get("ok", 0) if r.get("requests") and r.get("ok") == r.get("requests") else None
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
print("# io_uring's floor beside epoll's: where the time goes\n")
print(f"Made by `scripts/uring-profile.sh {rounds}` at commit {commit} on {kernel}, {cores} cores; "
      "C = 100, delay 0, N = 20,000 against one mock server, the strategies alternating; medians "
      "of the rounds whose every request was ok; every round ran under `perf stat`. Counts are per "
      "request and include the harness that meters the worker (the same for both); two strategies' "
      "requests/s differ only where their ranges do not overlap. `rows.txt` holds every raw line.\n")
cols = [("ok req/s (lowest–highest round)", lambda r, c: r.get("throughput_rps")),
        ("CPU µs / request (task clock)", lambda r, c: c.get("task-clock", 0) * 1e3 / r["requests"] if c.get("task-clock") else None),
        ("context switches / request", lambda r, c: c.get("context-switches", 0) / r["requests"]),
        ("io_uring_enter / request", lambda r, c: c.get("syscalls:sys_enter_io_uring_enter", 0) / r["requests"]),
        ("epoll_wait / request", lambda r, c: c.get("syscalls:sys_enter_epoll_wait", 0) / r["requests"]),
        ("recvfrom + read / request", lambda r, c: (c.get("syscalls:sys_enter_recvfrom", 0) + c.get("syscalls:sys_enter_read", 0)) / r["requests"]),
        ("sendto + write / request", lambda r, c: (c.get("syscalls:sys_enter_sendto", 0) + c.get("syscalls:sys_enter_write", 0)) / r["requests"])]
print("## C = 100, delay 0, N = 20,000: per request, medians of the rounds\n")
print("| strategy | rounds | " + " | ".join(c[0] for c in cols) + " |")
print("|---|---:|" + "---:|" * len(cols))
for s in names:
    good = [(r, c) for r, c in zip(runs[s], stats[s]) if ok(r) is not None]
    cells = []
    for i, (_, f) in enumerate(cols):
        values = [v for v in (f(r, c) for r, c in good) if v is not None]
        m = med(values)
        cell = "–" if m is None else (f"{m:,.0f}" if m >= 100 else f"{m:.2f}")
        if i == 0 and values:
            # Requests/s spread widely round to round here: the range says what is noise.
            cell += f" ({min(values):,.0f}–{max(values):,.0f})"
        cells.append(cell)
    print(f"| {s} | {len(good)} | " + " | ".join(cells) + " |")
print("\nThe worker process alone is sampled below (N = 100,000, perf attached once it started); "
      "the harness and the server are not.\n")
print("## The worker's hottest symbols: share of its cpu-clock samples, self time, one sampled run each\n")
print("| strategy | symbol | share |")
print("|---|---|---:|")
for s in names:
    for t in top.get(s, []):
        share, rest = t.split(None, 1)
        print(f"| {s} | `{rest.strip()}` | {share} |")
EOF
echo "wrote $out/README.md"

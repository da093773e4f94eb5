#!/usr/bin/env python3
"""The report of scripts/throughput.sh, from its rows.txt: per client, the median and range over
the rounds of its own CPU per ok request and of ok requests per second, beside the generator it
is set against; runs that lost requests left out and counted.

    scripts/throughput_report.py ROWS README ROUNDS VERSION COMMIT
"""
import json, platform, statistics, sys
rows, readme, rounds, version, commit = sys.argv[1:]
# Per client, per whole round: requests/s, its own CPU per ok request (µs) and voluntary
# context switches per ok request; a fanout point and a generator row name them alike.
runs, left_out = {}, {}
for line in open(rows):
    proto, name, raw = line.rstrip("\n").split(" ", 2)
    r = json.loads(raw)
    if "tool" in r:
        whole = r.get("exit") == 0 and r.get("errors") == 0 and r.get("ok", 0) > 0
    else:
        whole = r.get("status") == "measured" and r.get("ok") == r.get("requests")
    key = (proto, name)
    if not whole:
        left_out[key] = left_out.get(key, 0) + 1
        continue
    cpu = r.get("cpu_user_s")
    # A fanout worker's own meter (its sampling thread) is not the client's work.
    meter = r.get("meter_cpu_s") or 0.0
    runs.setdefault(key, []).append({
        "rps": r["throughput_rps"],
        "cpu_us": None if cpu is None else (cpu + r["cpu_sys_s"] - meter) / r["ok"] * 1e6,
        "ctx": None if r.get("ctx_voluntary") is None else r["ctx_voluntary"] / r["ok"],
    })
def spread(vs, fmt):
    vs = [v for v in vs if v is not None]
    if not vs:
        return "–", "–", float("nan")
    m = statistics.median(vs)
    return fmt.format(m), f"{fmt.format(min(vs))}–{fmt.format(max(vs))}", m
def table(proto, base, title):
    lines = [title, "",
             f"| client | CPU µs / request | lowest–highest | / {base} | ok req/s | lowest–highest | / {base} | voluntary switches / request | rounds | left out |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    b = runs.get((proto, base), [])
    b_cpu = spread([r["cpu_us"] for r in b], "{:.1f}")[2]
    b_rps = spread([r["rps"] for r in b], "{:,.0f}")[2]
    for (p, name), rs in runs.items():
        if p != proto:
            continue
        cpu, cpu_range, cpu_m = spread([r["cpu_us"] for r in rs], "{:.1f}")
        rps, rps_range, rps_m = spread([r["rps"] for r in rs], "{:,.0f}")
        ctx = spread([r["ctx"] for r in rs], "{:.2f}")[0]
        lines.append(f"| {name} | {cpu} | {cpu_range} | {cpu_m / b_cpu:.2f} | {rps} | {rps_range} | {rps_m / b_rps:.2f} | {ctx} | {len(rs)} | {left_out.get((p, name), 0)} |")
    for (p, name), n in left_out.items():
        if p == proto and (p, name) not in runs:
            lines.append(f"| {name} | – | – | – | – | – | – | – | 0 | {n} |")
    return lines
with open(readme, "w") as f:
    f.write("\n".join([
        "# Throughput beside oha, wrk and h2load, by each client's own CPU per request",
        "",
        f"Made by `scripts/throughput.sh {rounds}` at commit {commit} ({version}) on {platform.node()}, "
        f"{platform.machine()}, Linux {platform.release()}; one mock server for everything, every client in turn "
        "each round; medians of the rounds, and the lowest and highest round: two clients differ only where those "
        "ranges do not overlap. `rows.txt` holds every raw line. A fanout run that lost requests, or a "
        "generator run with errors, is left out and counted.",
        "",
        "Clients are compared by their own CPU per request: user + system time of the client's process "
        "(a fanout point's worker, from wait4, less its meter's sampling thread; a generator's, from "
        "`scripts/metered.py`) over the requests it got answered; each includes its process's start. Requests per second are measured on cores the client shares with the server, so they "
        "measure the pair; they stand beside it.",
        "",
        *table("h1", "wrk", "## HTTP/1.1: C = 100 connections, delay 0 (fanout and oha: N = 20,000; wrk: 5 s)"),
        "",
        *table("h2", "h2load", "## HTTP/2: 100 streams, delay 0, N = 200,000 (h2load: one connection, `-m 100`)"),
        "",
    ]))
print(open(readme).read())

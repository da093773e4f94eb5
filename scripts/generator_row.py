#!/usr/bin/env python3
"""Reads one line of scripts/metered.py (a load generator's run) on stdin and prints the row the
comparison scripts keep for it: its requests per second, requests ok and in error, and its own
CPU and context switches (named as a fanout point names them). One parser per generator, shared
by scripts/throughput.sh and scripts/h2-parity.sh.

    scripts/metered.py oha ... | scripts/generator_row.py oha|wrk|h2load|bare_h2
"""
import json
import re
import sys


def oha(out: str) -> dict:
    s = json.loads(out)
    codes = s.get("statusCodeDistribution", {})
    ok = codes.get("200", 0)
    errors = sum(s.get("errorDistribution", {}).values()) + sum(v for k, v in codes.items() if k != "200")
    return {"throughput_rps": s["summary"]["requestsPerSec"], "ok": ok, "errors": errors}


def wrk(out: str) -> dict:
    # wrk runs for a duration: its requests are what it counted in that time.
    rps = float(re.search(r"Requests/sec:\s*([0-9.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)", out))
    return {"throughput_rps": rps, "ok": total - errors, "errors": errors}


def h2load(out: str) -> dict:
    rps = float(re.search(r"finished in .*?, ([0-9.]+) req/s", out).group(1))
    total = int(re.search(r"requests: (\d+) total", out).group(1))
    code = re.search(r"status codes: (\d+) 2xx", out)
    ok = int(code.group(1)) if code else 0
    return {"throughput_rps": rps, "ok": ok, "errors": total - ok}


def bare_h2(out: str) -> dict:
    # fanout's examples/bare_h2.rs prints its row as JSON.
    return {k: v for k, v in json.loads(out).items() if k in ("throughput_rps", "ok", "errors")}


def main() -> int:
    tool = sys.argv[1]
    run = json.loads(sys.stdin.read())
    row = {"tool": tool}
    try:
        row.update({"oha": oha, "wrk": wrk, "h2load": h2load, "bare_h2": bare_h2}[tool](run["stdout"]))
    except (AttributeError, KeyError, ValueError) as e:
        row.update({"ok": 0, "errors": None, "unreadable": f"{type(e).__name__}: {e}"})
    for k in ("exit", "cpu_user_s", "cpu_sys_s", "ctx_voluntary", "ctx_involuntary"):
        row[k] = run[k]
    row["raw"] = run["stdout"] + run["stderr"]
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())

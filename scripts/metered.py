#!/usr/bin/env python3
"""Runs a command and prints one JSON line: its stdout and stderr, and what it cost the machine
in its own process tree, from wait4's rusage of its children (the same figures a fanout point
records: cpu_user_s, cpu_sys_s, ctx_voluntary, ctx_involuntary). For the load generators the
scripts compare fanout with (oha, wrk, h2load), so each client is compared by its own CPU per
request, not by requests per second on cores it shares with the server.

    scripts/metered.py CMD [ARG ...]
"""
import json
import resource
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: scripts/metered.py CMD [ARG ...]", file=sys.stderr)
        return 2
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "exit": done.returncode,
        "cpu_user_s": round(after.ru_utime - before.ru_utime, 6),
        "cpu_sys_s": round(after.ru_stime - before.ru_stime, 6),
        "ctx_voluntary": after.ru_nvcsw - before.ru_nvcsw,
        "ctx_involuntary": after.ru_nivcsw - before.ru_nivcsw,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

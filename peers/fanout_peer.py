"""The peer protocol for fanout's Python peers: arguments in, one JSON line out.

fanout runs `python PEER.py URL C N TIMEOUT_MS`. `run(work)` times `work(job, outcomes)` (the
timed region: client built, every request, teardown), prints ok, errors by kind, every ok
request's latency, resident memory before and CPU of the timed region, then waits for stdin
to close so fanout reads the peak memory before the process exits.
"""

import errno
import json
import os
import resource
import sys
import threading
import time
from dataclasses import dataclass

ERRNO_KINDS = {
    errno.EMFILE: "too_many_open_files",
    errno.ENFILE: "too_many_open_files",
    errno.ECONNREFUSED: "connection_refused",
    errno.ECONNRESET: "connection_reset",
    errno.EPIPE: "connection_reset",
    errno.EADDRNOTAVAIL: "addr_not_available",
}


@dataclass
class Job:
    url: str
    concurrency: int
    requests: int
    timeout_s: float


class Outcomes:
    """Ok count, errors by kind and latencies, safe to share between threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.errors = {}
        self.latencies_ms = []
        self.first_error = None

    def record(self, status, started):
        latency_ms = (time.perf_counter() - started) * 1000
        with self.lock:
            if status == 200:
                self.ok += 1
                self.latencies_ms.append(round(latency_ms, 3))
            else:
                self._error(f"http_{status}")

    def fail(self, exc):
        with self.lock:
            if self.first_error is None:
                self.first_error = exc
            self._error(kind(exc))

    def _error(self, key):
        self.errors[key] = self.errors.get(key, 0) + 1


# Exceptions that say a body ended before its Content-Length: aiohttp's ClientPayloadError
# (ContentLengthError), http.client's IncompleteRead (under requests), and by their message
# h11's under httpx ("peer closed connection without sending complete message body").
TRUNCATED_NAMES = ("payloaderror", "contentlengtherror", "incompleteread")
TRUNCATED_MESSAGES = ("incomplete", "without sending complete message body")


def kind(exc):
    """fanout's error kind for an exception: by its class, or the first errno in its chain; a
    body cut short with no errno behind it is truncated."""
    seen = set()
    stack = [exc]
    truncated = False
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        name = type(e).__name__.lower()
        if isinstance(e, TimeoutError) or "timeout" in name:
            return "timeout"
        if isinstance(e, RuntimeError) and "can't start new thread" in str(e):
            return "thread_spawn"
        if isinstance(e, OSError) and e.errno in ERRNO_KINDS:
            return ERRNO_KINDS[e.errno]
        message = str(e).lower()
        truncated = (
            truncated
            or any(t in name for t in TRUNCATED_NAMES)
            or any(t in message for t in TRUNCATED_MESSAGES)
        )
        # Libraries wrap the OS error: aiohttp in .os_error, urllib3 in .reason, all in args.
        stack.extend([e.__cause__, e.__context__, getattr(e, "os_error", None), getattr(e, "reason", None)])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    if truncated:
        return "truncated"
    return "io" if isinstance(exc, OSError) else "other"


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run(work, versions):
    url, c, n, timeout_ms = sys.argv[1:5]
    job = Job(url, int(c), int(n), int(timeout_ms) / 1000)
    outcomes = Outcomes()
    report = {"versions": {"python": sys.version.split()[0], **versions}}
    report["rss_before_bytes"] = rss_bytes()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    try:
        work(job, outcomes)
    except BaseException as e:  # the requests not recorded count as not run
        report["strategy_error"] = f"{type(e).__name__}: {e}"
    wall_s = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    if outcomes.first_error is not None:
        print(f"first error: {outcomes.first_error!r}", file=sys.stderr)
    report.update(
        ok=outcomes.ok,
        errors=outcomes.errors,
        wall_s=wall_s,
        latencies_ms=outcomes.latencies_ms,
        timed_cpu_user_s=usage.ru_utime - usage_before.ru_utime,
        timed_cpu_sys_s=usage.ru_stime - usage_before.ru_stime,
    )
    print(json.dumps(report), flush=True)
    sys.stdin.read()
    # Threads stuck in a request must not keep the process alive.
    os._exit(0)

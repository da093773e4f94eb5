// The peer protocol for fanout's Node.js peers (docs/peers.md): `node PEER.mjs URL C N
// TIMEOUT_MS` in, one JSON line out. `run(work, versions)` times `work(job, outcomes)` (the
// timed region: client built, every request, teardown), prints ok, errors by kind, every ok
// request's latency, resident memory before and CPU of the timed region, then waits for stdin
// to close so fanout reads the peak memory before the process exits.
import process from "node:process";

// fanout's error kinds for the errno and library codes Node's clients report.
const CODE_KINDS = {
  ECONNREFUSED: "connection_refused",
  ECONNRESET: "connection_reset",
  EPIPE: "connection_reset",
  EMFILE: "too_many_open_files",
  ENFILE: "too_many_open_files",
  EADDRNOTAVAIL: "addr_not_available",
  ETIMEDOUT: "timeout",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "truncated",
};

/** fanout's error kind for `error`: a timeout, else the first code in its chain of causes.
 * `inBody`: it ended a body being read. There undici reports a reset as often as not as the
 * socket closed ("other side closed", UND_ERR_SOCKET, no errno), as it reports a body cut
 * short by a close: it cannot tell the two apart, so both are a body cut short (`truncated`;
 * its peer file says `reset_reads_as_truncated`), an ECONNRESET it does report included, so
 * that a reset counts in one class whichever way undici saw it. */
export function kind(error, inBody = false) {
  for (let e = error; e; e = e.cause) {
    if (e.name === "TimeoutError" || e.name === "AbortError") return "timeout";
    const kind = CODE_KINDS[e.code] ?? (e.code === "UND_ERR_SOCKET" ? "connection_reset" : null);
    if (kind === "connection_reset" && inBody) return "truncated";
    if (kind) return kind;
  }
  return "other";
}

/** Ok count, errors by kind and every ok request's latency. */
export class Outcomes {
  ok = 0;
  errors = {};
  latenciesMs = [];
  firstError = null;

  record(status, started) {
    if (status === 200) {
      this.ok += 1;
      this.latenciesMs.push(Math.round((performance.now() - started) * 1000) / 1000);
    } else {
      this.fail(`http_${status}`);
    }
  }

  fail(kind, error) {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    if (error && !this.firstError) this.firstError = error;
  }
}


/** Runs the timed region `work(job, outcomes)` and prints the protocol's line. */
export async function run(work, versions) {
  const [url, c, n, timeoutMs] = process.argv.slice(2);
  const job = { url, concurrency: Number(c), requests: Number(n), timeoutMs: Number(timeoutMs) };
  if (!url || !(job.concurrency >= 1) || !(job.requests >= 0) || !(job.timeoutMs > 0)) {
    console.error(`usage: ${process.argv[1]} URL C N TIMEOUT_MS (C at least 1)`);
    process.exit(2);
  }
  const outcomes = new Outcomes();
  const report = { versions: { node: process.versions.node, ...versions } };
  report.rss_before_bytes = process.memoryUsage.rss();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await work(job, outcomes);
  } catch (e) {
    // The requests not recorded count as not run.
    report.strategy_error = `${e.name}: ${e.message}`;
  }
  const wall_s = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // One line, as the other peers print it (an undici error's own print runs to dozens).
  const first = outcomes.firstError;
  if (first) console.error(`first error: ${first}${first.cause ? ` (cause: ${first.cause})` : ""}`);
  Object.assign(report, {
    ok: outcomes.ok,
    errors: outcomes.errors,
    wall_s,
    latencies_ms: outcomes.latenciesMs,
    timed_cpu_user_s: cpu.user / 1e6,
    timed_cpu_sys_s: cpu.system / 1e6,
  });
  process.stdout.write(JSON.stringify(report) + "\n");
  // Wait for fanout to close stdin, then leave whatever is still open behind.
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

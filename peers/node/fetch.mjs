// fanout's Node.js fetch peer: the global fetch (undici, Node's built-in client) with its
// default keep-alive pool, C async workers each awaiting one request after another until N
// are taken, every request under AbortSignal.timeout. HTTP/1.1.
import { kind, run } from "./peer.mjs";

async function work(job, outcomes) {
  let left = job.requests;
  async function worker() {
    while (left > 0) {
      left -= 1;
      const started = performance.now();
      let inBody = false;
      try {
        const response = await fetch(job.url, { signal: AbortSignal.timeout(job.timeoutMs) });
        inBody = true;
        await response.arrayBuffer();
        outcomes.record(response.status, started);
      } catch (e) {
        outcomes.fail(kind(e, inBody), e);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.requests) }, worker));
}

await run(work, { undici: process.versions.undici });

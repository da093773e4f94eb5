// fanout's Node.js HTTP/2 peer: node:http2 over cleartext with prior knowledge (h2c), C async
// workers each awaiting one stream after another until N are taken, on as many sessions as
// the server's SETTINGS_MAX_CONCURRENT_STREAMS asks (ceil(C / limit), as fanout's h2 floor
// opens), every stream cancelled at its deadline. A session that fails or goes away is
// dialled again; a stream it refused unprocessed (REFUSED_STREAM, or sent after its GOAWAY)
// is sent again on the next, as the floor does.
import http2 from "node:http2";
import { kind, run } from "./peer.mjs";

const { NGHTTP2_CANCEL, NGHTTP2_PROTOCOL_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;
/** How many times a refused stream is sent again on the next session. */
const RESENDS = 3;

/** A session to `origin`, once its SETTINGS have arrived (or why none could be had). */
function connect(origin) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin);
    session.once("remoteSettings", () => resolve(session));
    session.once("error", reject);
    // Later errors reach the streams on the session: keep them from crashing the process.
    session.on("error", () => {});
    session.on("goaway", () => (session.goneAway = true));
  });
}

/** An error of fanout's kind `kind`. */
function failed(kind, message) {
  return Object.assign(new Error(message), { kind });
}

/** One stream: resolves with its status once its body is read to its end; rejects with an
 * error whose `kind` is fanout's, `refused` when the server did not process it. */
function exchange(session, path, deadline) {
  return new Promise((resolve, reject) => {
    let stream;
    try {
      stream = session.request({ ":path": path });
    } catch (e) {
      // The session closed or went away before the stream was sent.
      return reject(Object.assign(failed("connection_reset", e.message), { refused: true }));
    }
    let status = 0;
    let length = null;
    let received = 0;
    const timer = setTimeout(() => {
      stream.close(NGHTTP2_CANCEL);
      reject(failed("timeout", "deadline"));
    }, Math.max(0, deadline - performance.now()));
    stream.on("response", (headers) => {
      status = headers[":status"];
      length = headers["content-length"] === undefined ? null : Number(headers["content-length"]);
    });
    stream.on("data", (chunk) => (received += chunk.length));
    stream.on("end", () => {
      clearTimeout(timer);
      if (status) resolve(status);
    });
    stream.on("close", () => {
      clearTimeout(timer);
      if (status && stream.rstCode === 0 && stream.readableEnded) return;
      if (stream.rstCode === NGHTTP2_REFUSED_STREAM || (!status && session.goneAway)) {
        return reject(Object.assign(failed("connection_reset", "refused"), { refused: true }));
      }
      // A body shorter than its Content-Length: nghttp2 resets the stream itself with
      // PROTOCOL_ERROR. Any other reset (the server's, its connection's) is a reset.
      if (stream.rstCode === NGHTTP2_PROTOCOL_ERROR && length !== null && received < length) {
        return reject(failed("truncated", `${received} of ${length} bytes`));
      }
      reject(failed("connection_reset", `stream closed (code ${stream.rstCode})`));
    });
    stream.on("error", () => {}); // its outcome is decided on close
  });
}

async function work(job, outcomes) {
  const url = new URL(job.url);
  const path = url.pathname + url.search;
  const first = await connect(url.origin);
  const limit = first.remoteSettings.maxConcurrentStreams || Infinity;
  const workers = Math.min(job.concurrency, job.requests);
  // Session k carries workers k·limit … (k+1)·limit − 1; one found gone is dialled again.
  const sessions = [Promise.resolve(first)];
  for (let k = 1; k < Math.ceil(workers / limit); k++) sessions.push(connect(url.origin));
  async function usable(k) {
    const session = await sessions[k].catch(() => null);
    if (session && !session.closed && !session.destroyed && !session.goneAway) return session;
    if ((await sessions[k].catch(() => null)) === session) sessions[k] = connect(url.origin);
    return sessions[k];
  }
  let left = job.requests;
  async function worker(i) {
    const k = Math.floor(i / limit);
    while (left > 0) {
      left -= 1;
      const started = performance.now();
      const deadline = started + job.timeoutMs;
      for (let resends = 0; ; resends++) {
        try {
          outcomes.record(await exchange(await usable(k), path, deadline), started);
        } catch (e) {
          if (e.refused && resends < RESENDS) continue;
          outcomes.fail(e.kind ?? kind(e), e);
        }
        break;
      }
    }
  }
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  await Promise.all(sessions.map((s) => s.then((s) => s.close(), () => {})));
}

await run(work, { nghttp2: process.versions.nghttp2 });

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

/** A session to `origin`, once its SETTINGS have arrived; or why none could be had by
 * `deadline` (a `performance.now()` time): its error, a close, or the deadline. */
function connect(origin, deadline) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin);
    const timer = setTimeout(() => {
      session.destroy();
      reject(failed("timeout", "connecting"));
    }, Math.max(0, deadline - performance.now()));
    session.once("remoteSettings", () => {
      clearTimeout(timer);
      resolve(session);
    });
    session.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    session.once("close", () => {
      clearTimeout(timer);
      reject(failed("connection_reset", "closed before its SETTINGS"));
    });
    // Later errors reach the streams on the session: keep them from crashing the process.
    session.on("error", () => {});
    // Streams past its last one were not processed (RFC 9113 §6.8): they may go again.
    session.on("goaway", (_code, lastStreamID) => (session.lastStreamID = lastStreamID));
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
      const pastGoaway = session.lastStreamID !== undefined && stream.id > session.lastStreamID;
      if (stream.rstCode === NGHTTP2_REFUSED_STREAM || (!status && pastGoaway)) {
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
  const dial = (deadline) => connect(url.origin, deadline);
  let first;
  try {
    first = await dial(performance.now() + job.timeoutMs);
  } catch (e) {
    // No connection: every request fails with its kind, as fanout's h2 floor fails them.
    for (let i = 0; i < job.requests; i++) outcomes.fail(e.kind ?? kind(e), e);
    return;
  }
  const limit = first.remoteSettings.maxConcurrentStreams || Infinity;
  const workers = Math.min(job.concurrency, job.requests);
  // Session k carries workers k·limit … (k+1)·limit − 1; one found gone is dialled again.
  const sessions = [Promise.resolve(first)];
  for (let k = 1; k < Math.ceil(workers / limit); k++) {
    sessions.push(dial(performance.now() + job.timeoutMs));
  }
  /** Session k, dialled again by `deadline` when it is gone. */
  async function usable(k, deadline) {
    const session = await sessions[k].catch(() => null);
    const gone = !session || session.closed || session.destroyed || session.lastStreamID !== undefined;
    if (!gone) return session;
    // The first worker to find it gone dials the next; the others wait for that one.
    if ((await sessions[k].catch(() => null)) === session) sessions[k] = dial(deadline);
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
          outcomes.record(await exchange(await usable(k, deadline), path, deadline), started);
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

//! The HTTP/2 floor's client: the `h2` crate alone on one connection (prior knowledge, plain
//! TCP), each request a stream, its body read with the flow-control window given back as it
//! arrives; the same checks as every client's, and h2's errors in fanout's kinds. What
//! reqwest and hyper add over this is theirs.

use h2::client::SendRequest;
use hyper::body::Bytes;
use tokio::net::TcpStream;

use super::plain_url::PlainUrl;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// A stream's receive window: hyper's client default.
pub const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
/// The connection's receive window: hyper's client default.
pub const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;

/// What every stream of a job asks for: its URL, parsed once.
pub type Target = PlainUrl;

/// One open connection: its sender (cloned by each slot on it) and the streams the server
/// lets it have open at once.
pub struct Opened {
    /// The connection's sender.
    pub sender: SendRequest<Bytes>,
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS.
    pub max_streams: usize,
}

/// Opens a connection, waits for the server's SETTINGS (the first frame it sends, so in by the
/// time it answers a PING), and spawns its task (which reads and writes the socket for every
/// stream on it).
pub async fn connect(target: &Target) -> Result<Opened, ErrorKind> {
    let io = |e: std::io::Error| ErrorKind::from_io(&e);
    let stream = TcpStream::connect(&target.authority).await.map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    // hyper's windows (what reqwest's `async_h2` runs with), so the two differ in the library
    // alone: h2's own default connection window (64 KiB) also sets a budget of buffered small
    // DATA frames that 10,000 responses at once exhaust (the connection ends with
    // ENHANCE_YOUR_CALM "too_many_data_frames").
    let kind = |e: h2::Error| h2_error_kind(&e);
    let (sender, mut connection) = h2::client::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake(stream)
        .await
        .map_err(kind)?;
    let mut ping = connection.ping_pong().ok_or(ErrorKind::Other)?;
    tokio::select! {
        ended = &mut connection => {
            // It ended before answering: its error, or a close with nothing said.
            return Err(ended.err().map_or(ErrorKind::ConnectionReset, kind));
        }
        pong = ping.ping(h2::Ping::opaque()) => {
            pong.map_err(kind)?;
        }
    }
    let max_streams = connection.max_concurrent_send_streams();
    tokio::spawn(connection);
    Ok(Opened {
        sender,
        max_streams,
    })
}

/// One request as a stream on the slot's `sender` (a clone of the connection's, kept by the
/// slot), within the job's timeout, recorded in `tally`.
pub async fn get(sender: &mut SendRequest<Bytes>, target: &Target, job: &Job, tally: &Tally) {
    let Some(due) = super::runtime::begin(job, tally).await else {
        return;
    };
    // Latency counts from the due time (at --rate; in closed loop, now); the timeout from
    // the send.
    let _in_flight = tally.start();
    let outcome = tokio::time::timeout(job.timeout(), exchange(sender, target, job))
        .await
        .unwrap_or(Err(ErrorKind::Timeout));
    // The CPU work counts in the latency, as in every client.
    let outcome = outcome.map(|()| job.spend_cpu());
    tally.record(due.elapsed(), outcome);
}

async fn exchange(
    sender: &mut SendRequest<Bytes>,
    target: &Target,
    job: &Job,
) -> Result<(), ErrorKind> {
    let kind = |e: h2::Error| h2_error_kind(&e);
    // Waits for room under the server's stream limit.
    std::future::poll_fn(|cx| sender.poll_ready(cx))
        .await
        .map_err(kind)?;
    let mut request = hyper::Request::new(());
    *request.uri_mut() = target.uri.clone();
    let (response, _) = sender.send_request(request, true).map_err(kind)?;
    let response = response.await.map_err(kind)?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    // A small body is one DATA frame: checked where it lies, copied only when it is not.
    let mut first: Option<Bytes> = None;
    let mut more = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(kind)?;
        // Give the window back, or a long body stalls the connection's other streams.
        let _ = body.flow_control().release_capacity(chunk.len());
        match &first {
            None => first = Some(chunk),
            Some(head) => {
                if more.is_empty() {
                    more.extend_from_slice(head);
                }
                more.extend_from_slice(&chunk);
            }
        }
    }
    match (&first, more.is_empty()) {
        (Some(head), true) => job.check_response(status, head),
        (None, _) => job.check_response(status, &[]),
        (Some(_), false) => job.check_response(status, &more),
    }
}

/// fanout's kind of an h2 error: its I/O cause where it has one; a stream or connection the
/// peer reset or went away from is a reset.
pub fn h2_error_kind(e: &h2::Error) -> ErrorKind {
    if let Some(io) = e.get_io() {
        return ErrorKind::from_io(io);
    }
    if e.is_reset() || e.is_go_away() || e.is_remote() {
        return ErrorKind::ConnectionReset;
    }
    ErrorKind::Other
}

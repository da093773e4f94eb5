//! The HTTP/2 floor's client: the `h2` crate alone on one connection (prior knowledge, plain
//! TCP), each request a stream, its body read with the flow-control window given back as it
//! arrives; the same checks as every client's, and h2's errors in fanout's kinds. What
//! reqwest and hyper add over this is theirs.

use std::sync::Arc;

use h2::client::SendRequest;
use hyper::body::Bytes;

use super::plain_url::PlainUrl;
use super::request::exchange::{AsyncExchange, Outcome};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

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
    let stream = target.dial().await.map_err(io)?;
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

/// The lines for `slots` slots: a first connection, and as many more as the slots need under
/// the stream limit its server set (ceil(slots / limit)). A first connection that cannot be
/// opened is its error; a later one is a setup error in `tally`, its slots sharing the
/// connections open so far.
pub async fn lines(
    target: &Target,
    slots: usize,
    tally: &crate::model::tally::Tally,
) -> Result<Lines, ErrorKind> {
    let first = connect(target).await?;
    let per_line = first.max_streams.max(1);
    let mut lines = vec![Arc::new(Line::new(first.sender))];
    for _ in 1..slots.div_ceil(per_line) {
        match connect(target).await {
            Ok(more) => lines.push(Arc::new(Line::new(more.sender))),
            Err(kind) => tally.setup_error(kind),
        }
    }
    Ok(Lines { lines, per_line })
}

/// A pool's lines, and how many slots share one.
pub struct Lines {
    lines: Vec<Arc<Line>>,
    per_line: usize,
}

impl Lines {
    /// The line slot number `slot` sends on: each carries `per_line` slots, the streams its
    /// server allows.
    pub fn line(&self, slot: usize) -> Arc<Line> {
        Arc::clone(&self.lines[(slot / self.per_line) % self.lines.len()])
    }
}

/// One of a pool's connections, redialled when it ends (reset, or GOAWAY from its server):
/// the slots on it hold clones of the sender in use, and the first slot to find it gone
/// opens the next.
pub struct Line {
    /// The sender in use and its generation (how many connections came before it).
    current: tokio::sync::Mutex<(u64, SendRequest<Bytes>)>,
}

impl Line {
    /// A line on an open connection.
    pub fn new(sender: SendRequest<Bytes>) -> Self {
        Self {
            current: tokio::sync::Mutex::new((0, sender)),
        }
    }

    /// The sender in use, and its generation.
    pub async fn sender(&self) -> Held {
        self.current.lock().await.clone()
    }

    /// A sender past `dead`, the generation a slot found gone: the one another slot already
    /// opened, or a new connection (the dead one again, when it cannot be opened: its next
    /// request fails and tries again).
    pub async fn redial(&self, dead: u64, target: &Target) -> Held {
        let mut current = self.current.lock().await;
        if current.0 == dead
            && let Ok(opened) = connect(target).await
        {
            *current = (dead + 1, opened.sender);
        }
        current.clone()
    }
}

/// A slot's hold on its line: the generation of the connection it uses, and its sender.
pub type Held = (u64, SendRequest<Bytes>);

/// How many times a request refused by a connection going away is sent again on the next.
const RESENDS: usize = 3;

/// A slot's exchange on one of the pool's lines: each request a stream on the line's
/// connection (the one in use when the slot holds none). A connection found gone is
/// redialled; a request it refused unprocessed (GOAWAY before its stream, RFC 9113 §6.8) is
/// sent again on the next one, as hyper's client does. A hedge is a second stream on the
/// same connection: the loser's future dropped (by the async driver; `thread_h2`'s threads cannot
/// drop another's), h2 resets its stream (RST_STREAM CANCEL),
/// which the server counts as a request its client abandoned; it counts against the
/// server's stream limit like any other.
#[derive(Clone, Copy)]
pub struct OnLine<'a> {
    /// The line the slot sends on.
    pub line: &'a Line,
    /// What it asks for.
    pub target: &'a Target,
}

impl AsyncExchange for OnLine<'_> {
    type Conn = Held;
    async fn exchange(&self, conn: &mut Option<Held>, job: &Job) -> Outcome {
        let held = match conn {
            Some(held) => held,
            None => conn.insert(self.line.sender().await),
        };
        let mut outcome = Err(Ended::Refused(ErrorKind::ConnectionReset));
        for _ in 0..=RESENDS {
            outcome = exchange(&mut held.1, self.target, job).await;
            if matches!(outcome, Err(Ended::Refused(_) | Ended::Connection(_))) {
                // Boxed: a redial holds a whole handshake's future, which would otherwise
                // make every request's future that much larger (the floor's: 5,208 bytes,
                // 1,592 with this box and the hedge's; every task in flight holds one).
                *held = Box::pin(self.line.redial(held.0, self.target)).await;
            }
            if !matches!(outcome, Err(Ended::Refused(_))) {
                break;
            }
        }
        outcome.map(|()| true).map_err(|ended| match ended {
            Ended::Stream(kind) | Ended::Connection(kind) | Ended::Refused(kind) => kind,
        })
    }
    fn spare(&self, conn: &Option<Held>) -> Option<Held> {
        conn.clone()
    }
}

/// How a stream failed: on its own, with its connection, or refused unprocessed by a
/// connection going away.
enum Ended {
    Stream(ErrorKind),
    Connection(ErrorKind),
    Refused(ErrorKind),
}

impl Ended {
    /// An error before the request was sent: the server never processed it.
    fn before_sending(e: h2::Error) -> Self {
        match Self::from(e) {
            Self::Connection(kind) => Self::Refused(kind),
            other => other,
        }
    }
}

impl From<h2::Error> for Ended {
    fn from(e: h2::Error) -> Self {
        let kind = h2_error_kind(&e);
        // A stream past a GOAWAY's last one, or reset REFUSED_STREAM: the server did not
        // process it (RFC 9113 §6.8, §8.7), so it may go again, on the next connection.
        let refused =
            e.is_reset() && e.is_remote() && e.reason() == Some(h2::Reason::REFUSED_STREAM);
        if e.is_go_away() || refused {
            return Self::Refused(kind);
        }
        // An I/O error ends every stream of the connection, and its next ones.
        if e.is_io() {
            Self::Connection(kind)
        } else {
            Self::Stream(kind)
        }
    }
}

impl From<ErrorKind> for Ended {
    fn from(kind: ErrorKind) -> Self {
        Self::Stream(kind)
    }
}

async fn exchange(
    sender: &mut SendRequest<Bytes>,
    target: &Target,
    job: &Job,
) -> Result<(), Ended> {
    // Waits for room under the server's stream limit.
    std::future::poll_fn(|cx| sender.poll_ready(cx))
        .await
        .map_err(Ended::before_sending)?;
    let mut request = hyper::Request::new(());
    *request.uri_mut() = target.uri.clone();
    let (response, _) = sender
        .send_request(request, true)
        .map_err(Ended::before_sending)?;
    let response = response.await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    // A small body is one DATA frame: checked where it lies, copied only when it is not.
    let mut first: Option<Bytes> = None;
    let mut more = Vec::new();
    // The frame that ends the stream ends the loop: no poll more to be told so.
    while !body.is_end_stream()
        && let Some(chunk) = body.data().await
    {
        let chunk = chunk?;
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
    let checked = match (&first, more.is_empty()) {
        (Some(head), true) => job.check_response(status, head),
        (None, _) => job.check_response(status, &[]),
        (Some(_), false) => job.check_response(status, &more),
    };
    Ok(checked?)
}

/// fanout's kind of an h2 error: its I/O cause where it has one; a stream h2 itself reset for
/// a protocol error is a truncation (a body that ends short of its `content-length` is the
/// one such error a server well-formed otherwise causes: h2 checks the length of every
/// stream); a stream or connection the peer reset or went away from is a reset.
pub fn h2_error_kind(e: &h2::Error) -> ErrorKind {
    if let Some(io) = e.get_io() {
        return ErrorKind::from_io(io);
    }
    if e.is_reset() && !e.is_remote() && e.reason() == Some(h2::Reason::PROTOCOL_ERROR) {
        return ErrorKind::Truncated;
    }
    if e.is_reset() || e.is_go_away() || e.is_remote() {
        return ErrorKind::ConnectionReset;
    }
    ErrorKind::Other
}

/// The kind of the first h2 error in `e`'s chain (hyper's and reqwest's wrap h2's, whose
/// I/O cause they do not give as a source).
pub fn kind_in_chain(e: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return Some(h2_error_kind(h2));
        }
        current = err.source();
    }
    None
}

//! The floor strategies' HTTP/1.1 client: no client library, one keep-alive connection per
//! slot, the request bytes built once per run, and the response read through one fixed
//! [`RAW_BUFFER_BYTES`] buffer: the head parsed with `httparse`, the body checked against the
//! expected pattern as it streams through. What is left of a request's cost is the model's.
//!
//! [`ResponseReader`] is the codec with no I/O of its own; [`RawBlocking`] and [`RawAsync`]
//! are the same exchange on a blocking socket ([`BlockingSocket`]: std's, or may's
//! coroutine socket) and a tokio socket, twins line by line; the request drivers
//! (`super::request`) do the rest of a request's life.

use std::io;
use std::marker::PhantomData;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::destinations::Destinations;
use super::request::blocking::Threads;
use super::request::exchange::{AsyncExchange, Exchange, Outcome, Stopper, World};
use super::url_error::UrlError;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// The one buffer a connection reads its responses through.
pub const RAW_BUFFER_BYTES: usize = 1024;

/// What a raw client sends: the request bytes and where, from the job's URL, built once.
#[derive(Debug, Clone)]
pub struct RawRequest {
    destinations: Destinations,
    bytes: Vec<u8>,
}

impl RawRequest {
    /// The GET of the job's URL (`http://HOST:PORT/PATH`; HTTP/1.1, keep-alive).
    pub fn for_job(job: &Job) -> Result<Self, UrlError> {
        let rest = job.url().strip_prefix("http://").ok_or_else(|| {
            UrlError::refused(job.url(), "the raw client speaks plain http:// only")
        })?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let addr = authority
            .to_socket_addrs()
            .map_err(|e| UrlError::failed(job.url(), "no address", e))?
            .next()
            .ok_or_else(|| UrlError::refused(job.url(), "no address"))?;
        let bytes = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n").into_bytes();
        Ok(Self {
            destinations: Destinations::of_job(job).unwrap_or_else(|| Destinations::one(addr)),
            bytes,
        })
    }

    /// Where the next new connection goes (each call takes the next turn).
    pub fn next_addr(&self) -> SocketAddr {
        self.destinations.next()
    }

    /// Where its new connections go, shared.
    pub fn destinations(&self) -> &Destinations {
        &self.destinations
    }

    /// The request's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Where a response stands after the bytes just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// More bytes are needed.
    More,
    /// The response is complete and as expected; `keep_alive` when the connection can carry
    /// the next request.
    Done {
        /// The server did not ask to close the connection.
        keep_alive: bool,
    },
}

/// Reads one response through a fixed buffer: status 200, a `Content-Length` body equal to
/// the expected pattern, nothing after it. Anything else is an error kind, never a panic.
#[derive(Debug)]
pub struct ResponseReader {
    buf: [u8; RAW_BUFFER_BYTES],
    /// Bytes of the head read so far (while the head is incomplete).
    filled: usize,
    /// Once the head is read: body bytes checked so far, and the body's length.
    body: Option<(usize, usize)>,
    keep_alive: bool,
    expected_len: usize,
}

impl ResponseReader {
    /// A reader for a response whose body must be `expected_len` bytes of the pattern.
    pub fn new(expected_len: usize) -> Self {
        Self {
            buf: [0; RAW_BUFFER_BYTES],
            filled: 0,
            body: None,
            keep_alive: true,
            expected_len,
        }
    }

    /// Where the next read goes.
    pub fn space(&mut self) -> &mut [u8] {
        match self.body {
            None => &mut self.buf[self.filled..],
            Some(_) => &mut self.buf[..],
        }
    }

    /// Takes `n` bytes just read into [`ResponseReader::space`]; 0 means the peer closed:
    /// before any byte of the response, the connection ended under it (reset); after some,
    /// the response was truncated.
    pub fn advance(&mut self, n: usize) -> Result<Step, ErrorKind> {
        if n == 0 {
            let started = self.filled > 0 || self.body.is_some();
            return Err(if started {
                ErrorKind::Truncated
            } else {
                ErrorKind::ConnectionReset
            });
        }
        match self.body {
            None => {
                self.filled += n;
                self.head()
            }
            Some((checked, len)) => self.check_body(checked, len, 0, n),
        }
    }

    fn head(&mut self) -> Result<Step, ErrorKind> {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&self.buf[..self.filled]) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if self.filled < self.buf.len() => {
                return Ok(Step::More);
            }
            // A head larger than the buffer, or not HTTP.
            Ok(httparse::Status::Partial) | Err(_) => return Err(ErrorKind::BadResponse),
        };
        let status = response.code.unwrap_or(0);
        let mut content_length = None;
        for header in response.headers.iter() {
            let value = std::str::from_utf8(header.value).unwrap_or("").trim();
            if header.name.eq_ignore_ascii_case("content-length") {
                content_length = Some(value.parse::<usize>().map_err(|_| ErrorKind::BadResponse)?);
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(ErrorKind::BadResponse); // chunked: not what the server sends
            } else if header.name.eq_ignore_ascii_case("connection") {
                self.keep_alive = !value.eq_ignore_ascii_case("close");
            }
        }
        if response.version != Some(1) {
            self.keep_alive = false;
        }
        if status != 200 {
            return Err(ErrorKind::HttpStatus(status));
        }
        let len = content_length.ok_or(ErrorKind::BadResponse)?;
        if len != self.expected_len {
            return Err(ErrorKind::BodyMismatch);
        }
        self.check_body(0, len, head_len, self.filled)
    }

    /// Checks `buf[from..to]` as the body's bytes from `checked` on.
    fn check_body(
        &mut self,
        checked: usize,
        len: usize,
        from: usize,
        to: usize,
    ) -> Result<Step, ErrorKind> {
        let chunk = &self.buf[from..to];
        if checked + chunk.len() > len {
            return Err(ErrorKind::BadResponse); // bytes after the body
        }
        let expected = (checked..).map(mock_server::response_body_byte);
        if !chunk.iter().copied().eq(expected.take(chunk.len())) {
            return Err(ErrorKind::BodyMismatch);
        }
        let checked = checked + chunk.len();
        self.body = Some((checked, len));
        Ok(if checked == len {
            Step::Done {
                keep_alive: self.keep_alive,
            }
        } else {
            Step::More
        })
    }
}

/// A blocking socket the raw codec speaks over, how an exchange on it is held to its
/// deadline, and how its world waits: std's socket blocks the OS thread and bounds each
/// read and write by what is left (SO_RCVTIMEO, SO_SNDTIMEO); may's parks only the coroutine,
/// and a keeper thread shuts it down at the deadline (and its sleep parks the coroutine too).
pub trait BlockingSocket: io::Read + io::Write + AsRawFd + Sized {
    /// Where a thread or coroutine blocked on it waits, and where its hedges run.
    type World: World;
    /// What holds one exchange to its deadline while it runs.
    type Bound;
    /// Opens a connection to `addr`, connected by `deadline` (std's) or connecting, so that
    /// the exchange's first write waits for it within the exchange's bound (may's).
    fn connect(addr: &SocketAddr, deadline: Instant) -> io::Result<Self>;
    /// Sets TCP_NODELAY.
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
    /// Starts bounding the exchange about to run by `deadline`.
    fn bound(&self, deadline: Instant) -> Self::Bound;
    /// Before each read: bounds it by what is left of the deadline, or fails when none is.
    fn before_read(&self, bound: &Self::Bound) -> io::Result<()>;
    /// Before each write, the same.
    fn before_write(&self, bound: &Self::Bound) -> io::Result<()>;
    /// Ends the bound: true when the deadline cut the exchange off (its outcome is then a
    /// timeout, whatever error the cut caused, and the connection is not reused).
    fn unbound(bound: Self::Bound) -> bool;
}

/// What is left until `deadline`, or the timeout error a socket gives when nothing is.
pub fn left_until(deadline: Instant) -> io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut))
}

impl BlockingSocket for TcpStream {
    type World = Threads;
    type Bound = Instant;
    fn connect(addr: &SocketAddr, deadline: Instant) -> io::Result<Self> {
        TcpStream::connect_timeout(addr, left_until(deadline)?)
    }
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on)
    }
    fn bound(&self, deadline: Instant) -> Instant {
        deadline
    }
    fn before_read(&self, deadline: &Instant) -> io::Result<()> {
        self.set_read_timeout(Some(left_until(*deadline)?))
    }
    fn before_write(&self, deadline: &Instant) -> io::Result<()> {
        self.set_write_timeout(Some(left_until(*deadline)?))
    }
    fn unbound(_: Instant) -> bool {
        false // a read or write past the deadline already failed as a timeout
    }
}

/// The raw codec as a blocking client's exchange, on std's sockets (threads) or may's
/// (coroutines): the request's bytes, built once, shared by every slot.
#[derive(Debug)]
pub struct RawBlocking<S> {
    request: Arc<RawRequest>,
    socket: PhantomData<fn() -> S>,
}

impl<S> Clone for RawBlocking<S> {
    fn clone(&self) -> Self {
        Self {
            request: Arc::clone(&self.request),
            socket: PhantomData,
        }
    }
}

impl<S> RawBlocking<S> {
    /// The exchange sending `request`.
    pub fn new(request: &Arc<RawRequest>) -> Self {
        Self {
            request: Arc::clone(request),
            socket: PhantomData,
        }
    }
}

impl<S: BlockingSocket + Send + 'static> Exchange for RawBlocking<S> {
    type Conn = S;
    type World = S::World;
    fn open(&self, conn: &mut Option<S>, deadline: Instant) -> Result<(), ErrorKind> {
        if conn.is_none() {
            *conn = Some(connect_blocking(&self.request.next_addr(), deadline)?);
        }
        Ok(())
    }
    fn exchange(&self, conn: &mut Option<S>, job: &Job, deadline: Instant) -> Outcome {
        exchange_blocking(conn, &self.request, job, deadline)
    }
    fn stopper(conn: &S) -> Option<Stopper> {
        Some(Stopper::of(conn.as_raw_fd()))
    }
}

/// The raw codec as an async client's exchange on tokio's sockets: the twin of
/// [`RawBlocking`].
#[derive(Debug, Clone)]
pub struct RawAsync {
    request: Arc<RawRequest>,
}

impl RawAsync {
    /// The exchange sending `request`.
    pub fn new(request: &Arc<RawRequest>) -> Self {
        Self {
            request: Arc::clone(request),
        }
    }
}

impl AsyncExchange for RawAsync {
    type Conn = tokio::net::TcpStream;
    async fn exchange(&self, conn: &mut Option<tokio::net::TcpStream>, job: &Job) -> Outcome {
        exchange_async(conn, &self.request, job).await
    }
}

/// Sends the request and reads its response by `deadline`, connecting first when the slot
/// has no connection; `Ok(keep_alive)`.
pub fn exchange_blocking<S: BlockingSocket>(
    conn: &mut Option<S>,
    request: &RawRequest,
    job: &Job,
    deadline: Instant,
) -> Result<bool, ErrorKind> {
    let stream = match conn {
        Some(stream) => stream,
        None => conn.insert(connect_blocking(&request.next_addr(), deadline)?),
    };
    let bound = stream.bound(deadline);
    let outcome = send_and_read(stream, &bound, request, job);
    match (S::unbound(bound), outcome) {
        (false, outcome) => outcome,
        (true, Ok(_)) => Ok(false), // answered just in time, on a socket now shut down
        (true, Err(_)) => Err(ErrorKind::Timeout),
    }
}

/// A new blocking connection to `addr`, connected by `deadline` (as [`BlockingSocket::connect`]
/// does), with TCP_NODELAY.
pub fn connect_blocking<S: BlockingSocket>(
    addr: &SocketAddr,
    deadline: Instant,
) -> Result<S, ErrorKind> {
    let io = |e: io::Error| ErrorKind::from_io(&e);
    let stream = S::connect(addr, deadline).map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    Ok(stream)
}

/// The exchange itself, each read and write within `bound`.
fn send_and_read<S: BlockingSocket>(
    stream: &mut S,
    bound: &S::Bound,
    request: &RawRequest,
    job: &Job,
) -> Result<bool, ErrorKind> {
    let io = |e: io::Error| ErrorKind::from_io(&e);
    stream.before_write(bound).map_err(io)?;
    stream.write_all(&request.bytes).map_err(io)?;
    let mut reader = ResponseReader::new(job.body_len());
    loop {
        stream.before_read(bound).map_err(io)?;
        let n = stream.read(reader.space()).map_err(io)?;
        if let Step::Done { keep_alive } = reader.advance(n)? {
            return Ok(keep_alive);
        }
    }
}

/// The twin of [`exchange_blocking`]; its driver bounds it by the job's timeout.
async fn exchange_async(
    conn: &mut Option<tokio::net::TcpStream>,
    request: &RawRequest,
    job: &Job,
) -> Result<bool, ErrorKind> {
    let io = |e: io::Error| ErrorKind::from_io(&e);
    let stream = match conn {
        Some(stream) => stream,
        None => {
            let stream = tokio::net::TcpStream::connect(request.next_addr())
                .await
                .map_err(io)?;
            stream.set_nodelay(true).map_err(io)?;
            conn.insert(stream)
        }
    };
    stream.write_all(&request.bytes).await.map_err(io)?;
    let mut reader = ResponseReader::new(job.body_len());
    loop {
        let n = stream.read(reader.space()).await.map_err(io)?;
        if let Step::Done { keep_alive } = reader.advance(n)? {
            return Ok(keep_alive);
        }
    }
}

/// Hands out N requests to the slots, one at a time, with no N-sized queue.
#[derive(Debug)]
pub struct Countdown(std::sync::atomic::AtomicUsize);

impl Countdown {
    /// N requests to hand out.
    pub fn new(requests: usize) -> Self {
        Self(std::sync::atomic::AtomicUsize::new(requests))
    }

    /// Takes one request; false when none is left.
    pub fn take(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Takes every request left and fails it as `kind`: with nobody to do them (no slot, no
    /// connection), they fail rather than vanish.
    pub fn fail_rest(&self, tally: &crate::model::tally::Tally, kind: ErrorKind) {
        while self.take() {
            tally.fail(kind);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK_HEAD: &str =
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 32\r\n\r\n";

    /// Feeds `response` to a reader expecting 32 bytes, `chunk` bytes per read, then EOF.
    fn read(response: &[u8], chunk: usize) -> Result<Step, ErrorKind> {
        let mut reader = ResponseReader::new(32);
        for piece in response.chunks(chunk) {
            let space = reader.space();
            if space.len() < piece.len() {
                return Err(ErrorKind::Other); // the test fed more than a read could take
            }
            space[..piece.len()].copy_from_slice(piece);
            if let Step::Done { keep_alive } = reader.advance(piece.len())? {
                return Ok(Step::Done { keep_alive });
            }
        }
        reader.advance(0)
    }

    fn ok(extra_headers: &str) -> Vec<u8> {
        let head = OK_HEAD.replace("\r\n\r\n", &format!("\r\n{extra_headers}\r\n"));
        let mut bytes = head.into_bytes();
        bytes.extend(mock_server::response_body(32));
        bytes
    }

    #[test]
    fn a_good_response_is_read_whole_or_a_byte_at_a_time() {
        for chunk in [1, 7, 1024] {
            assert_eq!(
                read(&ok(""), chunk),
                Ok(Step::Done { keep_alive: true }),
                "{chunk}"
            );
        }
        let closing = read(&ok("connection: close\r\n"), 1024);
        assert_eq!(closing, Ok(Step::Done { keep_alive: false }));
    }

    #[test]
    fn bad_responses_get_a_kind_of_their_own() {
        let mut wrong_body = ok("");
        *wrong_body.last_mut().expect("body") = b'!';
        let mut trailing = ok("");
        trailing.extend(b"HTTP/1.1 200 OK\r\n");
        let not_found = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n20\r\n";
        let no_length = "HTTP/1.1 200 OK\r\n\r\nabc";
        let huge_head = format!("HTTP/1.1 200 OK\r\nx: {}\r\n\r\n", "y".repeat(2000));
        let cases: &[(&[u8], ErrorKind)] = &[
            (&wrong_body, ErrorKind::BodyMismatch),
            (&trailing, ErrorKind::BadResponse),
            (not_found.as_bytes(), ErrorKind::HttpStatus(404)),
            (chunked.as_bytes(), ErrorKind::BadResponse),
            (no_length.as_bytes(), ErrorKind::BadResponse),
            (huge_head.as_bytes(), ErrorKind::BadResponse),
            (b"garbage\r\n\r\n", ErrorKind::BadResponse),
            // Cut off after some of the response: truncated; before any of it: reset.
            (b"HTTP/1.1 200 OK\r\ncontent-le", ErrorKind::Truncated),
            (&ok("")[..80], ErrorKind::Truncated),
            (b"", ErrorKind::ConnectionReset),
        ];
        for (response, kind) in cases {
            assert_eq!(
                read(response, 1024),
                Err(*kind),
                "{}",
                String::from_utf8_lossy(response)
            );
        }
        let short_body = OK_HEAD.replace("32", "31");
        assert_eq!(
            read(short_body.as_bytes(), 1024),
            Err(ErrorKind::BodyMismatch)
        );
    }

    #[test]
    fn the_request_is_built_once_from_the_url() {
        let at = |url: &str| Job::new(url.into(), 1, 2, Default::default());
        let job = at("http://127.0.0.1:8000/get?delay_ms=100&bytes=32");
        let request = RawRequest::for_job(&job).expect("request");
        assert_eq!(request.next_addr(), "127.0.0.1:8000".parse().expect("addr"));
        assert_eq!(
            String::from_utf8_lossy(&request.bytes),
            "GET /get?delay_ms=100&bytes=32 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"
        );
        let err = RawRequest::for_job(&at("https://127.0.0.1:8000/get")).expect_err("https");
        assert!(err.to_string().contains("plain http:// only"), "{err}");
    }

    #[test]
    fn the_countdown_hands_out_each_request_once() {
        let work = Countdown::new(3);
        assert_eq!((0..5).filter(|_| work.take()).count(), 3);
    }
}

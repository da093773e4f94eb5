//! The raw codec on compio's completion-based sockets: the twin of `raw::get_async`, line by
//! line, but the kernel owns each buffer while it fills it — so a read lands in the slot's
//! own owned buffer and is copied (at most [`RAW_BUFFER_BYTES`] bytes) into the codec's.

use std::io;
use std::rc::Rc;

use compio::BufResult;
use compio::buf::{IntoInner as _, IoBuf as _};
use compio::io::{AsyncRead as _, AsyncWriteExt as _};
use compio::net::TcpStream;

use super::raw::{RAW_BUFFER_BYTES, RawRequest, ResponseReader, Step};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// A slot's connection and the buffers the kernel reads and writes through.
pub struct UringConn {
    stream: Option<TcpStream>,
    /// The request's bytes, shared by the slot's writes (compio takes a buffer it owns).
    request: Rc<[u8]>,
    /// Where the kernel puts each read; `None` while a read owns it.
    read_buf: Option<Vec<u8>>,
}

impl UringConn {
    /// A slot with no connection yet, sending `request`.
    pub fn new(request: &RawRequest) -> Self {
        Self {
            stream: None,
            request: request.bytes().into(),
            read_buf: Some(Vec::with_capacity(RAW_BUFFER_BYTES)),
        }
    }
}

/// The twin of `raw::get_async` on compio.
pub async fn get(conn: &mut UringConn, request: &RawRequest, job: &Job, tally: &Tally) {
    let Some(due) = job.due(tally) else {
        return;
    };
    compio::time::sleep_until(due).await;
    // Latency counts from the due time (at --rate; in closed loop, now); the timeout from
    // the send.
    let in_flight = tally.start();
    let exchange = exchange(conn, request, job);
    let outcome = compio::time::timeout(job.timeout(), exchange)
        .await
        .unwrap_or(Err(ErrorKind::Timeout));
    if !matches!(outcome, Ok(true)) {
        conn.stream = None;
    }
    // The CPU work counts in the latency, as in the library clients.
    let outcome = outcome.map(|_| job.spend_cpu());
    in_flight.record(due.elapsed(), outcome);
}

/// The twin of `raw::exchange_async`; its caller bounds it by the job's timeout.
async fn exchange(
    conn: &mut UringConn,
    request: &RawRequest,
    job: &Job,
) -> Result<bool, ErrorKind> {
    let io = |e: io::Error| ErrorKind::from_io(&e);
    let stream = match &mut conn.stream {
        Some(stream) => stream,
        None => {
            let stream = TcpStream::connect(request.addr()).await.map_err(io)?;
            stream.set_nodelay(true).map_err(io)?;
            conn.stream.insert(stream)
        }
    };
    let BufResult(sent, _) = stream.write_all(Rc::clone(&conn.request)).await;
    sent.map_err(io)?;
    let mut reader = ResponseReader::new(job.body_len());
    loop {
        // A read cancelled by the timeout takes its buffer with it: the next gets a new one.
        let mut buf = conn
            .read_buf
            .take()
            .unwrap_or_else(|| Vec::with_capacity(RAW_BUFFER_BYTES));
        buf.clear();
        let space = reader.space();
        let BufResult(read, buf) = stream.read(buf.slice(..space.len())).await;
        let buf = buf.into_inner();
        let n = read.map_err(io)?;
        space[..n].copy_from_slice(&buf[..n]);
        conn.read_buf = Some(buf);
        if let Step::Done { keep_alive } = reader.advance(n)? {
            return Ok(keep_alive);
        }
    }
}

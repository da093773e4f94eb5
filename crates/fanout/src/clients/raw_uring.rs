//! The raw codec on compio's completion-based sockets: the twin of `raw::RawAsync`, line by
//! line, but the kernel owns each buffer while it fills it — so a read lands in the slot's
//! own owned buffer and is copied (at most [`RAW_BUFFER_BYTES`] bytes) into the codec's.

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use compio::BufResult;
use compio::buf::{IntoInner as _, IoBuf as _};
use compio::io::{AsyncRead as _, AsyncWriteExt as _};
use compio::net::TcpStream;

use super::destinations::Destinations;
use super::raw::{RAW_BUFFER_BYTES, RawRequest, ResponseReader, Step};
use super::request::exchange::{AsyncExchange, Outcome};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// The raw codec as a slot's exchange on compio: the request's bytes and the buffer the
/// kernel reads through, the slot's own (compio's types stay on their thread).
pub struct RawUring {
    /// The request's bytes, shared by the slot's writes (compio takes a buffer it owns).
    request: Rc<[u8]>,
    /// Where the kernel puts each read; `None` while a read owns it.
    read_buf: Cell<Option<Vec<u8>>>,
    /// Where its new connections go (each takes the next address).
    destinations: Destinations,
}

impl RawUring {
    /// A slot's exchange sending `request`.
    pub fn new(request: &RawRequest) -> Self {
        Self {
            request: request.bytes().into(),
            read_buf: Cell::new(Some(Vec::with_capacity(RAW_BUFFER_BYTES))),
            destinations: request.destinations().clone(),
        }
    }
}

impl AsyncExchange for RawUring {
    type Conn = TcpStream;
    async fn exchange(&self, conn: &mut Option<TcpStream>, job: &Job) -> Outcome {
        exchange(self, conn, job).await
    }
}

/// The twin of `raw::exchange_async`; its driver bounds it by the job's timeout.
async fn exchange(slot: &RawUring, conn: &mut Option<TcpStream>, job: &Job) -> Outcome {
    let io = |e: io::Error| ErrorKind::from_io(&e);
    let stream = match conn {
        Some(stream) => stream,
        None => {
            let stream = TcpStream::connect(slot.destinations.next())
                .await
                .map_err(io)?;
            stream.set_nodelay(true).map_err(io)?;
            conn.insert(stream)
        }
    };
    let BufResult(sent, _) = stream.write_all(Rc::clone(&slot.request)).await;
    sent.map_err(io)?;
    let mut reader = ResponseReader::new(job.body_len());
    loop {
        // A read cancelled by the timeout takes its buffer with it: the next gets a new one.
        let mut buf = slot
            .read_buf
            .take()
            .unwrap_or_else(|| Vec::with_capacity(RAW_BUFFER_BYTES));
        buf.clear();
        let space = reader.space();
        let BufResult(read, buf) = stream.read(buf.slice(..space.len())).await;
        let buf = buf.into_inner();
        let n = read.map_err(io)?;
        space[..n].copy_from_slice(&buf[..n]);
        slot.read_buf.set(Some(buf));
        if let Step::Done { keep_alive } = reader.advance(n)? {
            return Ok(keep_alive);
        }
    }
}

//! The raw codec on smol's sockets (async-io's `Async<TcpStream>`): the twin of
//! `raw::RawAsync`, line by line, on a second readiness-based runtime.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use async_io::Async;
use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};

use super::raw::{RawRequest, ResponseReader, Step};
use super::request::exchange::{AsyncExchange, Outcome};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// The raw codec as an async client's exchange on smol's sockets: the twin of
/// `raw::RawAsync`.
#[derive(Debug, Clone)]
pub struct RawSmol {
    request: Arc<RawRequest>,
}

impl RawSmol {
    /// The exchange sending `request`.
    pub fn new(request: &Arc<RawRequest>) -> Self {
        Self {
            request: Arc::clone(request),
        }
    }
}

impl AsyncExchange for RawSmol {
    type Conn = Async<TcpStream>;
    async fn exchange(&self, conn: &mut Option<Async<TcpStream>>, job: &Job) -> Outcome {
        exchange(conn, &self.request, job).await
    }
}

/// The twin of `raw::exchange_async`; its driver bounds it by the job's timeout.
async fn exchange(
    conn: &mut Option<Async<TcpStream>>,
    request: &RawRequest,
    job: &Job,
) -> Result<bool, ErrorKind> {
    let io = |e: io::Error| ErrorKind::from_io(&e);
    let stream = match conn {
        Some(stream) => stream,
        None => {
            let stream = Async::<TcpStream>::connect(request.next_addr())
                .await
                .map_err(io)?;
            stream.get_ref().set_nodelay(true).map_err(io)?;
            conn.insert(stream)
        }
    };
    stream.write_all(request.bytes()).await.map_err(io)?;
    let mut reader = ResponseReader::new(job.body_len());
    loop {
        let n = stream.read(reader.space()).await.map_err(io)?;
        if let Step::Done { keep_alive } = reader.advance(n)? {
            return Ok(keep_alive);
        }
    }
}

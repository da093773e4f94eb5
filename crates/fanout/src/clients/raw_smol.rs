//! The raw codec on smol's sockets (async-io's `Async<TcpStream>`): the twin of
//! `raw::get_async`, line by line, on a second readiness-based runtime.

use std::io;
use std::net::TcpStream;
use std::time::Instant;

use async_io::{Async, Timer};
use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _, FutureExt as _};

use super::raw::{RawRequest, ResponseReader, Step};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// The twin of `raw::get_async` on smol.
pub async fn get(
    conn: &mut Option<Async<TcpStream>>,
    request: &RawRequest,
    job: &Job,
    tally: &Tally,
) {
    let Some(due) = job.due(tally) else {
        return;
    };
    if due > Instant::now() {
        Timer::at(due).await;
    }
    // Latency counts from the due time (at --rate; in closed loop, now); the timeout from
    // the send.
    let in_flight = tally.start();
    let sent = in_flight.sent();
    let timeout = async {
        Timer::after(job.timeout()).await;
        (Err(ErrorKind::Timeout), 0)
    };
    let attempts = async {
        let mut retries = 0;
        loop {
            let outcome = if job.settings.hedging() {
                hedged(conn, request, job, tally, sent).await
            } else {
                exchange(conn, request, job).await
            };
            if !matches!(outcome, Ok(true)) {
                *conn = None;
            }
            match job.retry_wait(tally, retries, &outcome, sent) {
                Some(wait) => drop(Timer::after(wait).await),
                None => break (outcome, retries),
            }
            retries += 1;
        }
    };
    let (outcome, retries) = attempts.or(timeout).await;
    if !matches!(outcome, Ok(true)) {
        *conn = None;
    }
    if retries > 0 && outcome.is_ok() {
        tally.retry_recovered();
    }
    // The CPU work counts in the latency, as in the library clients.
    let outcome = outcome.map(|_| job.spend_cpu());
    in_flight.record(due.elapsed(), outcome);
}

/// The twin of `raw::hedged_async`: the exchange, and unanswered at its hedge moment (within
/// the budget) the same request on a connection of its own; the first answer wins, the other
/// future is dropped, its socket closed.
async fn hedged(
    conn: &mut Option<Async<TcpStream>>,
    request: &RawRequest,
    job: &Job,
    tally: &Tally,
    sent: Instant,
) -> Result<bool, ErrorKind> {
    let mut first = Box::pin(exchange(conn, request, job));
    let waited = async {
        hedge_moment(job, tally, sent).await;
        None
    };
    if let Some(outcome) = async { Some((&mut first).await) }.or(waited).await {
        return outcome;
    }
    if !tally.hedge(job.settings.hedge_max_extra) {
        return first.await;
    }
    let mut spare = None;
    let (hedge_won, outcome) = {
        let second = exchange(&mut spare, request, job);
        let original = async { (false, (&mut first).await) };
        original.or(async { (true, second.await) }).await
    };
    if !hedge_won {
        return outcome;
    }
    // The hedge answered first: the original goes, with its connection mid-request.
    drop(first);
    tally.hedge_won();
    *conn = spare;
    outcome
}

/// The twin of `runtime::hedge_moment` on smol's timers.
async fn hedge_moment(job: &Job, tally: &Tally, sent: Instant) {
    while let Some(wait) = job.hedge_wait(tally, sent) {
        Timer::after(wait).await;
    }
}

/// The twin of `raw::exchange_async`; its caller bounds it by the job's timeout.
async fn exchange(
    conn: &mut Option<Async<TcpStream>>,
    request: &RawRequest,
    job: &Job,
) -> Result<bool, ErrorKind> {
    let io = |e: io::Error| ErrorKind::from_io(&e);
    let stream = match conn {
        Some(stream) => stream,
        None => {
            let stream = Async::<TcpStream>::connect(request.addr())
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

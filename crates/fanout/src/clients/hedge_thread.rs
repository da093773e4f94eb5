//! Hedging on OS threads (`thread_raw`, `--hedge-after-ms`): a request unanswered after the
//! hedge delay goes again from a thread of its own, on a connection of its own. The first
//! answer wins, and the loser is stopped the one way a thread blocked in `read` can be: the
//! winner shuts its socket down, which wakes the read. A thread and a socket per hedge is what
//! a hedge costs this model; the twin of `raw::hedged_async`, where dropping a future is the
//! whole cancellation.

use std::cell::Cell;
use std::io::{self, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::raw::{self, BlockingSocket as _, RawRequest, left_until};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// One request on the slot's connection, hedged when the job says so, recorded in `tally`.
pub fn get(
    conn: &mut Option<TcpStream>,
    request: &Arc<RawRequest>,
    job: &Arc<Job>,
    tally: &Arc<Tally>,
) {
    raw::get_blocking_with(conn, job, tally, |conn, sent| {
        if job.settings.hedging() {
            hedged(conn, request, job, tally, sent)
        } else {
            raw::exchange_blocking(conn, request, job, sent)
        }
    });
}

/// What the original and its hedge share: who answered first, and the hedge's socket.
#[derive(Debug, Default)]
struct Race {
    state: Mutex<RaceState>,
}

#[derive(Debug, Default)]
struct RaceState {
    /// Set once, by whichever copy ended first.
    winner: Option<Winner>,
    /// A handle on the hedge's socket, for the original to shut when it wins.
    hedge_socket: Option<TcpStream>,
}

#[derive(Debug)]
enum Winner {
    Original,
    /// The hedge's outcome, and its connection for the slot to keep.
    Hedge(Result<bool, ErrorKind>, Option<TcpStream>),
}

impl Race {
    fn lock(&self) -> std::sync::MutexGuard<'_, RaceState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The exchange on the slot's connection, its reads bounded by the next look at its hedge
/// moment ([`Job::hedge_at`]); unanswered by then and within the budget, a hedge thread
/// races it. The hedge can go only once the original is sent (a blocking connect cannot be
/// interrupted).
fn hedged(
    conn: &mut Option<TcpStream>,
    request: &Arc<RawRequest>,
    job: &Arc<Job>,
    tally: &Arc<Tally>,
    sent: Instant,
) -> Result<bool, ErrorKind> {
    let race = Arc::new(Race::default());
    let deadline = sent + job.timeout();
    // When to look again whether the hedge is due ([`Job::hedge_wait`]), until it has gone;
    // never past the deadline.
    let next_look = |wait: Duration| Some(Instant::now() + wait).filter(|at| *at < deadline);
    let pending = Cell::new(next_look(job.hedge_wait(tally, sent).unwrap_or_default()));
    let io = |e: io::Error| ErrorKind::from_io(&e);
    let original = (|| {
        let stream = match conn {
            Some(stream) => stream,
            None => conn.insert(raw::connect_blocking(&request.addr(), deadline)?),
        };
        stream.before_write(&deadline).map_err(io)?;
        stream.write_all(request.bytes()).map_err(io)?;
        let before_read = |stream: &TcpStream| {
            if pending.get().is_some_and(|at| Instant::now() >= at) {
                match job.hedge_wait(tally, sent) {
                    None => {
                        pending.set(None);
                        launch(stream, &race, request, job, tally, sent);
                    }
                    Some(wait) => pending.set(next_look(wait)),
                }
            }
            let until = pending.get().unwrap_or(deadline);
            stream.set_read_timeout(Some(left_until(until)?))
        };
        // A read cut off at the hedge's moment reads on, the hedge launched first.
        let at_hedge =
            |e: &io::Error| ErrorKind::from_io(e) == ErrorKind::Timeout && pending.get().is_some();
        raw::read_response(stream, job, before_read, at_hedge)
    })();
    let mut race = race.lock();
    match race.winner.take() {
        Some(Winner::Hedge(outcome, spare)) => {
            // The hedge answered first and shut this copy's socket: its connection is the
            // slot's now.
            tally.hedge_won();
            *conn = spare;
            outcome
        }
        None | Some(Winner::Original) => {
            race.winner = Some(Winner::Original);
            if let Some(hedge) = race.hedge_socket.take() {
                let _ = hedge.shutdown(Shutdown::Both); // wakes the loser's read
            }
            original
        }
    }
}

/// Sends the hedge, if the budget allows, from a thread of its own; `original` is the
/// original's socket, for the hedge to shut if it answers first.
fn launch(
    original: &TcpStream,
    race: &Arc<Race>,
    request: &Arc<RawRequest>,
    job: &Arc<Job>,
    tally: &Arc<Tally>,
    sent: Instant,
) {
    if !tally.hedge(job.settings.hedge_max_extra) {
        return;
    }
    let Ok(original) = original.try_clone() else {
        tally.hedge_not_started(ErrorKind::TooManyOpenFiles);
        return;
    };
    let (race, request, job, hedge_tally) = (
        Arc::clone(race),
        Arc::clone(request),
        Arc::clone(job),
        Arc::clone(tally),
    );
    let spawned = thread::Builder::new()
        .stack_size(job.stack_bytes())
        .spawn(move || hedge(&race, &original, &request, &job, &hedge_tally, sent));
    if spawned.is_err() {
        tally.hedge_not_started(ErrorKind::ThreadSpawn);
    }
}

/// The hedge thread: the same request on a connection of its own, within the original's
/// deadline. Its socket is published before it sends, so the original can stop it.
fn hedge(
    race: &Race,
    original: &TcpStream,
    request: &RawRequest,
    job: &Job,
    tally: &Tally,
    sent: Instant,
) {
    let _running = tally.hedge_thread();
    let mut spare = None;
    let outcome = (|| {
        let stream: TcpStream = raw::connect_blocking(&request.addr(), sent + job.timeout())?;
        let handle = stream.try_clone().map_err(|e| ErrorKind::from_io(&e))?;
        {
            let mut race = race.lock();
            if race.winner.is_some() {
                return Err(ErrorKind::Other); // lost while connecting: never sent
            }
            race.hedge_socket = Some(handle);
        }
        spare = Some(stream);
        raw::exchange_blocking(&mut spare, request, job, sent)
    })();
    let mut race = race.lock();
    if race.winner.is_none() {
        let keep = matches!(outcome, Ok(true)).then_some(spare).flatten();
        race.winner = Some(Winner::Hedge(outcome, keep));
        drop(race);
        let _ = original.shutdown(Shutdown::Both); // wakes the original's read
    }
}

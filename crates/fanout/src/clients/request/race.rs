//! A blocking request and its hedge racing: the original on its slot's thread (or
//! coroutine), the hedge on one of its own, launched by the alarm at the hedge's moment. The
//! first answer wins; the loser is stopped the one way a blocked read can be — its socket
//! shut down — where its client lets the driver at the socket, and otherwise runs on to its
//! own end, counted as running. A thread and a connection per hedge is what a hedge costs
//! this family; the twin of the async driver's race, where dropping a future is the whole
//! cancellation.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::alarm::{self, AlarmId};
use super::exchange::{Exchange, Outcome, Stopper, World as _, caught};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// What the original and its hedge share.
pub struct Race<C> {
    state: Mutex<State<C>>,
}

struct State<C> {
    /// Set once, by whichever copy ended first.
    winner: Option<Winner<C>>,
    /// The original's socket while it runs, for a winning hedge to shut.
    original: Option<Stopper>,
    /// The hedge's socket while it runs, for a winning original to shut.
    hedge: Option<Stopper>,
    /// The alarm that looks at the hedge next, until it has gone.
    alarm: Option<AlarmId>,
}

/// Who answered first.
pub enum Winner<C> {
    /// The original: the slot keeps its own outcome.
    Original,
    /// The hedge: its outcome, when it answered, and its connection for the slot to keep.
    Hedge(Outcome, Instant, Option<C>),
}

impl<C: Send + 'static> Race<C> {
    fn lock(&self) -> MutexGuard<'_, State<C>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A race for an original about to run on a connection that `original` can stop.
    pub fn new(original: Option<Stopper>) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                winner: None,
                original,
                hedge: None,
                alarm: None,
            }),
        })
    }

    /// The original has ended: the hedge's result if it won first (the original's socket
    /// already shut by it), else the original wins and a hedge still running is stopped. The
    /// stoppers are taken back before the caller may close a socket.
    pub fn original_ended(&self) -> Winner<C> {
        let mut state = self.lock();
        state.original = None;
        if let Some(alarm) = state.alarm.take() {
            alarm::cancel(alarm);
        }
        match state.winner.take() {
            Some(Winner::Hedge(outcome, answered, conn)) => Winner::Hedge(outcome, answered, conn),
            None | Some(Winner::Original) => {
                state.winner = Some(Winner::Original);
                if let Some(hedge) = state.hedge.take() {
                    hedge.stop(); // wakes the loser's read
                }
                Winner::Original
            }
        }
    }
}

/// Sets the alarm that looks at the hedge of a request sent at `sent`: at its moment
/// ([`Job::hedge_wait`], asked again while the estimate it rests on waits for answers), and
/// within the budget, the hedge goes on a thread (or coroutine) of its own.
pub fn watch<E: Exchange>(
    race: &Arc<Race<E::Conn>>,
    client: &E,
    job: &Arc<Job>,
    tally: &Arc<Tally>,
    sent: Instant,
) {
    let deadline = sent + job.timeout();
    let Some(wait) = job.hedge_wait(tally, sent) else {
        return launch(race, client, job, tally, sent);
    };
    let when = Instant::now() + wait;
    if when >= deadline {
        return; // the deadline comes first: no hedge
    }
    let (race2, client, job2, tally2) = (
        Arc::clone(race),
        client.clone(),
        Arc::clone(job),
        Arc::clone(tally),
    );
    let mut state = race.lock();
    if state.winner.is_some() {
        return;
    }
    let set = alarm::at(when, move || {
        if race2.lock().winner.is_none() {
            watch(&race2, &client, &job2, &tally2, sent);
        }
    });
    match set {
        Some(alarm) => state.alarm = Some(alarm),
        None => tally.hedge_not_started(ErrorKind::ThreadSpawn),
    }
}

/// Sends the hedge, if the budget allows, apart from the original.
fn launch<E: Exchange>(
    race: &Arc<Race<E::Conn>>,
    client: &E,
    job: &Arc<Job>,
    tally: &Arc<Tally>,
    sent: Instant,
) {
    if race.lock().winner.is_some() || !tally.hedge(job.settings.hedge_max_extra) {
        return;
    }
    let (race, client, hedge_job, hedge_tally) = (
        Arc::clone(race),
        client.clone(),
        Arc::clone(job),
        Arc::clone(tally),
    );
    let body = Box::new(move || hedge(&race, &client, &hedge_job, &hedge_tally, sent));
    if let Err(kind) = E::World::spawn(job, body) {
        tally.hedge_not_started(kind);
    }
}

/// The hedge: the same request on a connection of its own, within the original's deadline.
/// Its socket is published before it sends, so the original can stop it.
fn hedge<E: Exchange>(race: &Race<E::Conn>, client: &E, job: &Job, tally: &Tally, sent: Instant) {
    let _running = tally.hedge_thread();
    let deadline = sent + job.timeout();
    let mut spare = None;
    let opened = caught(|| client.open(&mut spare, deadline));
    {
        let mut state = race.lock();
        if state.winner.is_some() {
            return; // lost while connecting: never sent
        }
        state.hedge = spare.as_ref().and_then(E::stopper);
    }
    let outcome = opened.and_then(|()| caught(|| client.exchange(&mut spare, job, deadline)));
    let answered = Instant::now();
    let mut state = race.lock();
    state.hedge = None;
    if state.winner.is_none() {
        let keep = matches!(outcome, Ok(true)).then_some(spare).flatten();
        state.winner = Some(Winner::Hedge(outcome, answered, keep));
        if let Some(original) = state.original.take() {
            original.stop(); // wakes the original's read
        }
    }
}

//! The HTTP/2 floor's connections seen from OS threads: each thread polls its own stream's
//! exchange (the floor's, [`OnLine`]) and blocks in `Handle::block_on` while one tokio thread
//! drives every connection's I/O and timers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::runtime::Handle;
use tokio::sync::Notify;

use super::h2_conn::{Held, Line, OnLine, Target};
use super::request::blocking::Threads;
use super::request::exchange::{AsyncExchange, Exchange, Outcome};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// A thread's exchange on one of the pool's lines, bounded by the request's deadline (its
/// stream reset there, as the floor's driver resets one it drops). A hedge's loser cannot
/// be stopped from another thread (no [`Exchange::stopper`]): it runs on to its own end or
/// its deadline, counted meanwhile in [`Exchanges`].
#[derive(Clone)]
pub struct BlockingOnLine {
    /// The line the thread sends on.
    pub line: Arc<Line>,
    /// What it asks for.
    pub target: Arc<Target>,
    /// The runtime whose thread drives the connections.
    pub runtime: Handle,
    /// The exchanges running, that thread must drive to their end.
    pub exchanges: Arc<Exchanges>,
}

impl Exchange for BlockingOnLine {
    type Conn = Held;
    type World = Threads;
    fn exchange(&self, conn: &mut Option<Held>, job: &Job, deadline: Instant) -> Outcome {
        let _running = self.exchanges.start();
        let on_line = OnLine {
            line: &self.line,
            target: &self.target,
        };
        self.runtime.block_on(async {
            tokio::time::timeout_at(deadline.into(), on_line.exchange(conn, job))
                .await
                .unwrap_or(Err(ErrorKind::Timeout))
        })
    }
}

/// The exchanges running on any thread — a slot's, or a hedge's that outlives its slot.
#[derive(Debug, Default)]
pub struct Exchanges {
    running: AtomicUsize,
    none_left: Notify,
}

impl Exchanges {
    /// Counts one running until the guard is dropped.
    fn start(&self) -> Running<'_> {
        self.running.fetch_add(1, Ordering::AcqRel);
        Running(self)
    }

    /// Once no exchange runs.
    pub async fn ended(&self) {
        loop {
            // Made before the count is read, so a last exchange ending in between wakes it.
            let none_left = self.none_left.notified();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            none_left.await;
        }
    }
}

/// One exchange running.
struct Running<'a>(&'a Exchanges);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.none_left.notify_waiters();
        }
    }
}

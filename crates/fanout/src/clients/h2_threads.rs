//! The HTTP/2 floor's connections seen from OS threads: each thread blocks on one stream at a
//! time while one tokio thread drives every connection — what a blocking codebase gets from
//! an HTTP/2 client (reqwest's blocking client runs the same way, its runtime on a thread of
//! its own). The stream exchange is the floor's ([`OnLine`]).

use std::sync::Arc;
use std::time::Instant;

use tokio::runtime::Handle;

use super::h2_conn::{Held, Line, OnLine, Target};
use super::request::blocking::Threads;
use super::request::exchange::{AsyncExchange, Exchange, Outcome};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// A thread's exchange on one of the pool's lines: the floor's, blocked on with the driving
/// runtime's handle and bounded by the request's deadline (the stream reset at it, as the
/// floor's driver does when it drops a request).
#[derive(Clone)]
pub struct Blocking {
    /// The line the thread sends on.
    pub line: Arc<Line>,
    /// What it asks for.
    pub target: Arc<Target>,
    /// The runtime whose thread drives the connections (its I/O and timers).
    pub runtime: Handle,
}

impl Exchange for Blocking {
    type Conn = Held;
    type World = Threads;
    fn exchange(&self, conn: &mut Option<Held>, job: &Job, deadline: Instant) -> Outcome {
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

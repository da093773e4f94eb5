//! What a client gives the drivers: one request on a slot's connection, blocking
//! ([`Exchange`]) or async ([`AsyncExchange`]), and what the driver may do around it.

use std::future::Future;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// One exchange's result: `Ok(true)` when the slot's connection can carry the next request,
/// `Ok(false)` when the response was good but the connection must go.
pub type Outcome = Result<bool, ErrorKind>;

/// Where a blocking client waits and runs a hedge: OS threads, or may's coroutines (which
/// park the coroutine, not the thread).
pub trait World {
    /// Waits `for_how_long` without holding anything else up.
    fn sleep(for_how_long: Duration);
    /// Runs `body` apart from the caller (a thread of the job's stack size, or a coroutine);
    /// the kind of limit that refused it, if one did.
    fn spawn(job: &Job, body: Box<dyn FnOnce() + Send>) -> Result<(), ErrorKind>;
}

/// A blocking client's exchange. Cloned into a hedge's thread, so cheap to clone.
pub trait Exchange: Clone + Send + 'static {
    /// What a slot keeps between requests (a socket; `()` for a client that pools its own).
    type Conn: Send + 'static;
    /// Where the client blocks.
    type World: World;
    /// Opens the slot's connection, by `deadline`, when the client keeps it in the slot and
    /// it has none; a client that pools its own has nothing to do.
    fn open(&self, _conn: &mut Option<Self::Conn>, _deadline: Instant) -> Result<(), ErrorKind> {
        Ok(())
    }
    /// Sends the job's request on `conn` and reads its response whole, every read and write
    /// within `deadline`.
    fn exchange(&self, conn: &mut Option<Self::Conn>, job: &Job, deadline: Instant) -> Outcome;
    /// What stops an exchange running on `conn` from another thread, where the client allows
    /// it (its socket); `None` where it does not: the exchange then runs on to its own end.
    fn stopper(_conn: &Self::Conn) -> Option<Stopper> {
        None
    }
}

/// An async client's exchange; the driver bounds it by the job's timeout and drops it to
/// cancel it.
pub trait AsyncExchange {
    /// What a slot keeps between requests (a socket, a stream's sender; `()` for a client
    /// that pools its own).
    type Conn;
    /// Sends the job's request on `conn` (opening it when there is none) and reads its
    /// response whole.
    fn exchange(&self, conn: &mut Option<Self::Conn>, job: &Job) -> impl Future<Output = Outcome>;
    /// The connection a hedge of a request on `conn` goes on: a new one (`None`) unless the
    /// client multiplexes, where it is another stream on the same connection.
    fn spare(&self, _conn: &Option<Self::Conn>) -> Option<Self::Conn> {
        None
    }
    /// The job's CPU work for one ok response (`--cpu-us`), where the client does it: inline
    /// on the task by default.
    fn work(&self, job: &Job) -> impl Future<Output = Result<(), ErrorKind>> {
        job.spend_cpu();
        std::future::ready(Ok(()))
    }
}

/// Shuts a socket down for reading and writing, which wakes a thread or coroutine blocked on
/// it. It holds the descriptor only: the driver takes it back before the socket may close,
/// so it never shuts a descriptor the OS has handed to someone else.
#[derive(Debug, Clone, Copy)]
pub struct Stopper(RawFd);

impl Stopper {
    /// The stopper of the socket `fd`.
    pub fn of(fd: RawFd) -> Self {
        Self(fd)
    }

    /// Shuts the socket down; a socket already shut or reset is no error.
    pub fn stop(self) {
        let _ = nix::sys::socket::shutdown(self.0, nix::sys::socket::Shutdown::Both);
    }
}

/// `exchange`, a panic inside the client counted as its request's error instead of taking
/// the thread (and, for a slot, every request after it) down with it.
pub fn caught<T>(exchange: impl FnOnce() -> Result<T, ErrorKind>) -> Result<T, ErrorKind> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(exchange))
        .unwrap_or(Err(ErrorKind::Panic))
}

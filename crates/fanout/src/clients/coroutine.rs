//! may's stackful coroutines for the raw codec: may's socket as a [`BlockingSocket`] (it
//! parks the coroutine, not the thread; the deadline keeper bounds its exchanges), and the
//! scheduler configured from the job.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd as _, FromRawFd as _, IntoRawFd as _};
use std::time::{Duration, Instant};

use may::net::TcpStream;
use socket2::{Domain, Protocol, Socket, Type};

use super::deadline_keeper::{self, Armed};
use super::raw::{BlockingSocket, left_until};
use super::request::exchange::World;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// may's coroutines: a blocked coroutine parks, its worker thread runs others; a hedge gets a
/// coroutine of the job's coroutine stack size.
#[derive(Debug, Clone, Copy)]
pub struct Coroutines;

impl World for Coroutines {
    /// A wait of zero (a closed loop's due time is now; a retry's jitter may draw 0) does not
    /// reach may: may's sleep hands the coroutine to its timer thread and then writes the
    /// coroutine's cancel state, and a zero timer fires at once — the coroutine can run on,
    /// finish and be freed elsewhere before that write (a use after free that corrupted the
    /// heap of a test process running `coroutine_raw` against a refused port beside other
    /// strategies: 6 of 400 runs). A longer wait narrows that race without closing it: the
    /// thread must then be held off between two statements for longer than the wait and
    /// the coroutine's remaining request together.
    fn sleep(for_how_long: Duration) {
        if !for_how_long.is_zero() {
            may::coroutine::sleep(for_how_long);
        }
    }
    fn spawn(job: &Job, body: Box<dyn FnOnce() + Send>) -> Result<(), ErrorKind> {
        spawn(job.coroutine_stack_bytes(), body)
            .map(drop)
            .map_err(|_| ErrorKind::StackMap)
    }
}

/// Spawns `body` as a coroutine of `stack_bytes`; an error where may could not map its stack
/// (its generator panics when the mmap fails, at vm.max_map_count: caught here, so a point
/// says so instead of aborting).
pub fn spawn<T: Send + 'static>(
    stack_bytes: usize,
    body: impl FnOnce() -> T + Send + 'static,
) -> Result<may::coroutine::JoinHandle<T>, ErrorKind> {
    let stack_words = stack_bytes / size_of::<usize>();
    let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        #[allow(
            unsafe_code,
            reason = "may's spawn is unsafe: a coroutine must not hold a thread-local across a switch, nor overflow its stack; the raw codec and the request driver do neither (the codec's one buffer is 1 KiB)"
        )]
        // SAFETY: see the reason above.
        unsafe {
            may::coroutine::Builder::new()
                .stack_size(stack_words)
                .spawn(body)
        }
    }));
    match spawned {
        Ok(Ok(handle)) => Ok(handle),
        Ok(Err(_)) | Err(_) => Err(ErrorKind::StackMap),
    }
}

impl BlockingSocket for TcpStream {
    type World = Coroutines;
    type Bound = Armed;
    /// A non-blocking connect handed to may: the exchange's first write parks the coroutine
    /// until it completes (or fails), within the exchange's bound. may's own
    /// `connect_timeout` would arm one of the I/O timers fanout builds may without.
    fn connect(addr: &SocketAddr, deadline: Instant) -> io::Result<Self> {
        left_until(deadline)?;
        let socket = Socket::new(
            Domain::for_address(*addr),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.set_nonblocking(true)?;
        match socket.connect(&(*addr).into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => {}
            Err(e) => return Err(e),
        }
        let fd = socket.into_raw_fd();
        #[allow(unsafe_code, reason = "may takes a socket by its file descriptor only")]
        // SAFETY: `fd` is an open TCP socket just released by its owner; may now owns it.
        Ok(unsafe { TcpStream::from_raw_fd(fd) })
    }
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on)
    }
    fn bound(&self, deadline: Instant) -> Armed {
        deadline_keeper::arm(self.as_raw_fd(), deadline)
    }
    fn before_read(&self, _: &Armed) -> io::Result<()> {
        Ok(()) // the keeper ends a read past the deadline
    }
    fn before_write(&self, _: &Armed) -> io::Result<()> {
        Ok(())
    }
    fn unbound(armed: Armed) -> bool {
        armed.disarm()
    }
}

/// Configures may's scheduler for `job` before its first coroutine starts it: the tokio
/// strategies' worker count, and workers left unpinned (may pins each worker to a core by
/// default; tokio does not, and on a machine shared with the server pinning would be a
/// difference of placement, not of model). [`runtime`] says the same for the report.
pub fn configure(job: &Job) {
    let config = may::config();
    config
        .set_workers(job.tokio_workers())
        .set_stack_size(job.coroutine_stack_bytes() / size_of::<usize>());
    config.set_worker_pin(false);
}

/// The report's words for may's scheduler as [`configure`] sets it: `workers` worker
/// threads, a coroutine stack of `stack_bytes`.
pub fn runtime(workers: usize, stack_bytes: usize) -> String {
    format!(
        "may {} scheduler: {workers} worker threads (unpinned), a {} KiB stack per coroutine above a guard page; its pool maps {} coroutines' stacks at start (may's default) and keeps as many for reuse; may's I/O timers built out, a keeper thread shuts a socket down at its exchange's deadline",
        env!("FANOUT_VERSION_MAY"),
        stack_bytes / 1024,
        may::config().get_pool_capacity()
    )
}

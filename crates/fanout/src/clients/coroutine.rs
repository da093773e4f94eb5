//! may's stackful coroutines for the raw codec: may's socket as a [`BlockingSocket`] (it
//! parks the coroutine, not the thread), and the scheduler configured from the job.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use may::net::TcpStream;

use super::raw::BlockingSocket;
use crate::model::job::Job;

impl BlockingSocket for TcpStream {
    fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<Self> {
        TcpStream::connect_timeout(addr, timeout)
    }
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }
    fn sleep(for_how_long: Duration) {
        may::coroutine::sleep(for_how_long);
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
        "may {} scheduler: {workers} worker threads (unpinned), a {} KiB stack per coroutine above a guard page; its pool maps {} coroutines' stacks at start (may's default) and keeps as many for reuse",
        env!("FANOUT_VERSION_MAY"),
        stack_bytes / 1024,
        may::config().get_pool_capacity()
    )
}

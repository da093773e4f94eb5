//! `thread_pool`: C long-lived threads pull requests from a crossbeam channel.

use std::sync::Arc;
use std::thread;

use super::StrategyError;
use crate::client::{get_blocking, ureq_agent};
use crate::job::{ErrorKind, Job, Tally};

/// Queues N requests, then C worker threads take them one at a time until the queue is empty.
/// Each worker has an Agent keeping its one connection (see [`crate::client::ureq_agent`] for why not one
/// shared Agent). A worker the OS refuses leaves a smaller pool (recorded as a setup error);
/// the others still serve every request.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let (queue, work) = crossbeam_channel::bounded::<()>(job.requests);
    for _ in 0..job.requests {
        let _ = queue.send(());
    }
    drop(queue); // workers stop when the queue is empty
    thread::scope(|scope| {
        let mut workers = 0;
        // Never more workers than requests (the same bound as `InFlight::of`).
        for _ in 0..job.concurrency.min(job.requests) {
            let work = &work;
            let spawned = thread::Builder::new()
                .stack_size(job.stack_bytes())
                .spawn_scoped(scope, move || {
                    let agent = ureq_agent(job, 1);
                    while work.recv().is_ok() {
                        get_blocking(&agent, job, tally);
                    }
                });
            match spawned {
                Ok(_) => workers += 1,
                Err(_) => tally.setup_error(ErrorKind::ThreadSpawn),
            }
        }
        if workers == 0 {
            // Nobody to do the work: the requests fail rather than vanish.
            while work.recv().is_ok() {
                tally.fail(ErrorKind::ThreadSpawn);
            }
        }
    }); // joins every worker
    Ok(())
}

//! What the thread strategies share: their slots, threads of the job's stack size.

use std::thread::{self, Scope};

use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// Spawns min(C, N) slots in `scope` (never more than requests: the same bound as
/// `Point::in_flight`), slot `i` a thread of the job's stack size running `slot(i)`. A thread
/// the OS refuses is a setup error and leaves fewer slots; how many there are is returned
/// (with none, the caller fails the requests: failed, not vanished). The scope joins them.
pub(super) fn spawn_slots<'scope, F>(
    scope: &'scope Scope<'scope, '_>,
    job: &Job,
    tally: &Tally,
    slot: impl Fn(usize) -> F,
) -> usize
where
    F: FnOnce() + Send + 'scope,
{
    let mut spawned = 0;
    for i in 0..job.concurrency.min(job.requests) {
        let thread = thread::Builder::new()
            .stack_size(job.stack_bytes())
            .spawn_scoped(scope, slot(i));
        match thread {
            Ok(_) => spawned += 1,
            Err(_) => tally.setup_error(ErrorKind::ThreadSpawn),
        }
    }
    spawned
}

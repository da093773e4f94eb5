//! smol's pieces as a runtime: one async-executor run on the job's worker threads, and
//! async-io's reactor (epoll) driven by whichever of them is parked, or its own thread.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use async_executor::Executor;
use event_listener::Event;

use super::request::tasks::Timer;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// smol's timers (async-io's), for the async request driver.
#[derive(Debug, Clone, Copy)]
pub struct Smol;

impl Timer for Smol {
    type Alarm = futures::future::Map<async_io::Timer, fn(std::time::Instant)>;
    async fn sleep(for_how_long: std::time::Duration) {
        async_io::Timer::after(for_how_long).await;
    }
    fn alarm(at: std::time::Instant) -> Self::Alarm {
        futures::FutureExt::map(async_io::Timer::at(at), drop)
    }
}

/// The report's words for [`run_tasks`] on `workers` threads.
pub fn described(workers: usize) -> String {
    format!(
        "smol: async-executor {} on {workers} threads, async-io {}'s reactor (epoll)",
        env!("FANOUT_VERSION_ASYNC_EXECUTOR"),
        env!("FANOUT_VERSION_ASYNC_IO")
    )
}

/// Runs `tasks` on one executor shared by the job's worker threads until all have ended; a
/// task that panicked counts as its request's error.
pub fn run_tasks<Fut>(job: &Job, tasks: impl IntoIterator<Item = Fut>, tally: &Tally)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let executor = Executor::new();
    let handles: Vec<_> = tasks.into_iter().map(|t| executor.spawn(t)).collect();
    let (finished, event) = (AtomicBool::new(false), Event::new());
    // The other workers run the executor until the first has seen every task end.
    let until_finished = || async {
        while !finished.load(Ordering::Acquire) {
            let listener = event.listen();
            if finished.load(Ordering::Acquire) {
                break;
            }
            listener.await;
        }
    };
    thread::scope(|scope| {
        for _ in 1..job.tokio_workers() {
            let (executor, until_finished) = (&executor, &until_finished);
            scope.spawn(move || async_io::block_on(executor.run(until_finished())));
        }
        async_io::block_on(executor.run(async {
            for handle in handles {
                if handle.fallible().await.is_none() {
                    tally.fail(ErrorKind::Panic);
                }
            }
        }));
        finished.store(true, Ordering::Release);
        event.notify(usize::MAX);
    });
}

//! compio's thread-per-core runtimes on io_uring: one runtime per worker thread, each
//! running its share of the slots; whether io_uring is available here at all, and why not.

use std::future::Future;
use std::io;
use std::thread;

use compio::runtime::Runtime;

use super::request::tasks::Timer;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// A compio runtime on io_uring, or why not. compio is built with its io_uring driver only,
/// so a refused `io_uring_setup` is an error here, never a silent fall back to epoll.
///
/// The ring is set up for one thread that submits and reaps: `SINGLE_ISSUER`,
/// `DEFER_TASKRUN` (completion work runs when the runtime enters the kernel to wait, not by
/// interrupting it) and `COOP_TASKRUN`. compio's default ring interrupts the thread for every
/// completion's task work; profiled at C = 100, delay 0, that return to user mode was the
/// worker's hottest symbol (`scripts/uring-profile.sh`).
pub fn runtime() -> io::Result<Runtime> {
    let mut ring = compio::driver::ProactorBuilder::new();
    ring.single_issuer(true)
        .defer_taskrun(true)
        .coop_taskrun(true)
        .taskrun_flag(true);
    let runtime = compio::runtime::RuntimeBuilder::new()
        .with_proactor(ring)
        .build()?;
    if runtime.driver_type().is_iouring() {
        Ok(runtime)
    } else {
        Err(io::Error::other(format!(
            "compio chose its {:?} driver, not io_uring",
            runtime.driver_type()
        )))
    }
}

/// compio's timers, for the async request driver.
#[derive(Debug, Clone, Copy)]
pub struct Compio;

impl Timer for Compio {
    // compio's timer future has no name to give.
    type Alarm = std::pin::Pin<Box<dyn Future<Output = ()>>>;
    fn sleep(for_how_long: std::time::Duration) -> impl Future<Output = ()> {
        compio::time::sleep(for_how_long)
    }
    fn alarm(at: std::time::Instant) -> Self::Alarm {
        Box::pin(compio::time::sleep_until(at))
    }
}

/// Why io_uring cannot run here (`None` when it can): the kernel's answer to a ring set up
/// the way the strategies set theirs, with `kernel.io_uring_disabled` as the machine has it.
pub fn unavailable() -> Option<String> {
    let why = runtime().err()?;
    let sysctl = crate::os::sysctl("kernel.io_uring_disabled")
        .map(|v| format!("kernel.io_uring_disabled = {v}"))
        .unwrap_or_else(|| "kernel.io_uring_disabled unreadable".into());
    Some(format!(
        "io_uring is unavailable here ({why}; {sysctl}, or a seccomp policy refuses io_uring_setup)"
    ))
}

/// The report's words for the runtimes [`spread`] runs on `workers` threads.
pub fn described(workers: usize) -> String {
    format!(
        "compio {}: {workers} threads, each its own runtime on the io_uring driver (checked as it ran; no polling fallback built), its ring set up SINGLE_ISSUER | DEFER_TASKRUN | COOP_TASKRUN | TASKRUN_FLAG",
        env!("FANOUT_VERSION_COMPIO")
    )
}

/// Runs `slots` slot tasks spread evenly over the job's worker threads, each thread with
/// its own runtime on io_uring and its own `per_thread()` state (a client: compio's types
/// stay on the thread that made them); `slot(&state)` makes each slot's task. A thread whose
/// runtime or state cannot be built runs nothing, and its error is returned once all have
/// ended.
pub fn spread<S, Fut>(
    job: &Job,
    slots: usize,
    tally: &Tally,
    per_thread: impl Fn() -> io::Result<S> + Sync,
    slot: impl Fn(&S) -> Fut + Sync,
) -> io::Result<()>
where
    Fut: Future<Output = ()> + 'static,
{
    let workers = job.tokio_workers().min(slots.max(1));
    let (per_thread, slot) = (&per_thread, &slot);
    let ended: Vec<io::Result<()>> = thread::scope(|scope| {
        let threads: Vec<_> = (0..workers)
            .map(|i| {
                let share = slots / workers + usize::from(i < slots % workers);
                scope.spawn(move || {
                    let runtime = runtime()?;
                    runtime.block_on(async {
                        let state = per_thread()?;
                        let tasks: Vec<_> = (0..share)
                            .map(|_| compio::runtime::spawn(slot(&state)))
                            .collect();
                        for task in tasks {
                            if task.await.is_err() {
                                tally.fail(ErrorKind::Panic);
                            }
                        }
                        Ok(())
                    })
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a runtime thread panicked")))
            })
            .collect()
    });
    ended.into_iter().collect()
}

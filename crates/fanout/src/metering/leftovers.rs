//! Reads what the worker holds (open files, threads, resident memory, live heap) before its
//! timed region and again once the strategy has returned, waiting for what it closes late.

use std::time::{Duration, Instant};

use super::alloc::HeapCounts;
use crate::model::leftovers::{Held, Leftovers};
use crate::os;

/// How often the worker looks again while its sockets and threads go.
const LOOK_EVERY: Duration = Duration::from_millis(10);
/// Open files and threads unchanged this long: what is left stays.
const STILL_FOR: Duration = Duration::from_millis(100);

/// What this process holds now.
pub fn held_now() -> Held {
    let pid = std::process::id();
    Held {
        open_fds: os::open_fd_count(pid),
        threads: os::process_status(pid).map(|s| s.threads),
        rss_bytes: os::rss_bytes().unwrap_or(0),
        heap_live_bytes: HeapCounts::now().map(|h| h.live_bytes),
    }
}

/// What is left of `before` once open files and threads are back to it, once they have
/// held still for [`STILL_FOR`], or after [`Leftovers::SETTLE_MS`]: a runtime may close its
/// sockets and end its threads just after its strategy returned; what is still there then
/// stayed (a runtime's process-wide files need not cost every point the whole wait).
pub fn settle(before: Held) -> Leftovers {
    let started = Instant::now();
    let most = Duration::from_millis(Leftovers::SETTLE_MS);
    let mut last = None;
    let mut still_since = started;
    loop {
        let left = Leftovers {
            before,
            after: held_now(),
            settled_ms: started.elapsed().as_secs_f64() * 1e3,
        };
        let counts = (left.after.open_fds, left.after.threads);
        if last != Some(counts) {
            last = Some(counts);
            still_since = Instant::now();
        }
        if left.released() || still_since.elapsed() >= STILL_FOR || started.elapsed() >= most {
            return left;
        }
        std::thread::sleep(LOOK_EVERY);
    }
}

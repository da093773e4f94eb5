//! Reads what the worker holds (open files, threads, resident memory, live heap) before its
//! timed region and again once the strategy has returned, waiting for what it closes late.

use std::time::{Duration, Instant};

use super::alloc::HeapCounts;
use crate::model::leftovers::{Held, Leftovers};
use crate::os;

/// How often the worker looks again while its sockets and threads go.
const LOOK_EVERY: Duration = Duration::from_millis(10);

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

/// What is left of `before` once open files and threads are back to it, or after
/// [`Leftovers::SETTLE_MS`]: a runtime may close its sockets and end its threads just after
/// its strategy returned; what is still there then stayed.
pub fn settle(before: Held) -> Leftovers {
    let started = Instant::now();
    let most = Duration::from_millis(Leftovers::SETTLE_MS);
    loop {
        let left = Leftovers {
            before,
            after: held_now(),
            settled_ms: started.elapsed().as_secs_f64() * 1e3,
        };
        if left.released() || started.elapsed() >= most {
            return left;
        }
        std::thread::sleep(LOOK_EVERY);
    }
}

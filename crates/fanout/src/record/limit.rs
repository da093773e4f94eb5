//! Which OS limit (`model::limit`) stopped a point, named from what the point left: its errors
//! by kind, or — for a worker the runtime aborted — the last words on its stderr, how it
//! ended, and the threads it had reached against the limits the machine has. A point that hits
//! a wall is data that names the wall, with the `sysctl` (or limit) that moves it.

use mock_server::StatsSnapshot;

use crate::metering::outside::WorkerEnd;
use crate::model::error_kind::ErrorKind;
use crate::model::limit::Limit;
use crate::model::tally::TallySummary;
use crate::os::machine::Limits;

/// The limit a point's requests ran into, from their error kinds (the first that applies),
/// or the server's failed accepts.
pub fn from_errors(tally: &TallySummary, server: Option<&StatsSnapshot>) -> Option<Limit> {
    let hit = |kind: &ErrorKind| {
        let key = kind.key();
        tally.errors.contains_key(&key) || tally.setup_errors.contains_key(&key)
    };
    // In the order the limits are met: a socket's file before its port, a stack's map
    // before its thread.
    let by_errors = [
        ErrorKind::TooManyOpenFiles,
        ErrorKind::AddrNotAvailable,
        ErrorKind::StackMap,
        ErrorKind::ThreadSpawn,
    ]
    .iter()
    .filter(|kind| hit(kind))
    .find_map(|kind| Limit::of_error(*kind));
    by_errors.or_else(|| {
        let server = server?;
        if server.accept_errors > 0 {
            Some(Limit::ServerOpenFiles)
        } else if server.connection_limit_waits > 0 && tally.errors.values().sum::<u64>() > 0 {
            // Requests failed while connects waited at the server's connection limit.
            Some(Limit::ServerConnections)
        } else {
            None
        }
    })
}

/// Whether `peak_threads` came within 10% of max_map_count / (mappings per thread): the
/// threads' mappings had all but spent the map count (`None`: a figure is missing).
fn out_of_maps(
    peak_threads: Option<u64>,
    limits: &Limits,
    maps_per_thread: Option<f64>,
) -> Option<bool> {
    let (threads, maps, per) = (peak_threads?, limits.max_map_count?, maps_per_thread?);
    Some(threads as f64 * per >= maps as f64 * 0.9)
}

/// `limit` told apart where the kernel's answer is the same: a thread spawn refused
/// ([`Limit::Threads`], EAGAIN) by a process whose threads had all but spent the map count is
/// the map count refusing the new stack's mapping, not a thread limit.
pub fn thread_limit_or_maps(
    limit: Limit,
    peak_threads: Option<u64>,
    limits: &Limits,
    maps_per_thread: Option<f64>,
) -> Limit {
    match limit {
        Limit::Threads if out_of_maps(peak_threads, limits, maps_per_thread) == Some(true) => {
            Limit::MaxMapCount
        }
        other => other,
    }
}

/// The limit that ended a worker process, from its stderr's last words, how it ended and the
/// `peak_threads` it reached, against the machine's `limits` and the mappings a thread holds
/// here (`maps_per_thread`, measured: `os::parked`); `None` when nothing says.
pub fn from_end(
    end: &WorkerEnd,
    stderr_tail: &str,
    peak_threads: Option<u64>,
    limits: &Limits,
    maps_per_thread: Option<f64>,
) -> Option<Limit> {
    if let Some(limit) = Limit::said_in(stderr_tail) {
        return Some(limit);
    }
    let said = |words: &str| stderr_tail.contains(words);
    // std aborts a thread whose signal stack cannot be mapped; an mmap refused near the map
    // count is the map count, not memory.
    if said("failed to allocate an alternative stack") || said("Cannot allocate memory") {
        return Some(
            if out_of_maps(peak_threads, limits, maps_per_thread) == Some(true) {
                Limit::MaxMapCount
            } else {
                Limit::Memory
            },
        );
    }
    // A SIGKILL fanout did not send (it kills only at the time limit): the OOM killer.
    let killed = match end {
        WorkerEnd::Exited(status) => {
            use std::os::unix::process::ExitStatusExt as _;
            status.signal() == Some(nix::sys::signal::Signal::SIGKILL as i32)
        }
        WorkerEnd::KilledAtLimit(_) => false,
    };
    killed.then_some(Limit::Memory)
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::ExitStatus;

    use super::*;

    fn limits() -> Limits {
        Limits {
            max_map_count: Some(65_530),
            ..Limits::default()
        }
    }

    #[test]
    fn a_spawn_refused_near_the_map_count_is_the_map_count_not_a_thread_limit() {
        // thread_pool at C = 20,000: 16,365 threads of 4 mappings each, against 65,530.
        let near = thread_limit_or_maps(Limit::Threads, Some(16_365), &limits(), Some(4.0));
        assert_eq!(near, Limit::MaxMapCount);
        let far = thread_limit_or_maps(Limit::Threads, Some(9), &limits(), Some(4.0));
        assert_eq!(far, Limit::Threads);
        let unknown = thread_limit_or_maps(Limit::Threads, None, &limits(), Some(4.0));
        assert_eq!(unknown, Limit::Threads, "no peak: as the kernel answered");
        let files = thread_limit_or_maps(Limit::OpenFiles, Some(16_365), &limits(), Some(4.0));
        assert_eq!(files, Limit::OpenFiles);
    }

    #[test]
    fn an_aborted_worker_is_classified_by_its_last_words_and_what_it_reached() {
        let abort = ExitStatus::from_raw(6); // SIGABRT
        let end = WorkerEnd::Exited(abort);
        let words = "thread '<unnamed>' failed to allocate an alternative stack: Cannot allocate memory (os error 12)\nfatal runtime error";
        assert_eq!(
            from_end(&end, words, Some(16_369), &limits(), Some(4.0)),
            Some(Limit::MaxMapCount)
        );
        assert_eq!(
            from_end(&end, words, Some(200), &limits(), Some(4.0)),
            Some(Limit::Memory),
            "far from the map count: memory"
        );
        let eagain = "failed to spawn thread: Os { code: 11, kind: WouldBlock, message: \"Resource temporarily unavailable\" }";
        assert_eq!(
            from_end(&end, eagain, Some(9), &limits(), Some(4.0)),
            Some(Limit::Threads)
        );
        let oom = WorkerEnd::Exited(ExitStatus::from_raw(9));
        assert_eq!(
            from_end(&oom, "", None, &limits(), Some(4.0)),
            Some(Limit::Memory)
        );
        assert_eq!(
            from_end(&end, "panicked at src/x.rs", None, &limits(), Some(4.0)),
            None
        );
    }

    #[test]
    fn requests_refused_by_the_os_name_their_limit() {
        let mut tally = TallySummary::default();
        assert_eq!(from_errors(&tally, None), None);
        let refusing = StatsSnapshot {
            accept_errors: 5,
            ..StatsSnapshot::default()
        };
        assert_eq!(
            from_errors(&tally, Some(&refusing)),
            Some(Limit::ServerOpenFiles)
        );
        tally.setup_errors = [("thread_spawn".to_owned(), 3)].into();
        assert_eq!(from_errors(&tally, None), Some(Limit::Threads));
        tally.errors = [("too_many_open_files".to_owned(), 11)].into();
        assert_eq!(from_errors(&tally, Some(&refusing)), Some(Limit::OpenFiles));
    }
}

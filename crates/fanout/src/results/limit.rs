//! Which OS limit stopped a point, named from what the point left: its errors by kind, or —
//! for a worker the runtime aborted — the last words on its stderr, how it ended, and the
//! threads it had reached against the limits the machine has. A point that hits a wall is data
//! that names the wall, with the `sysctl` (or limit) that moves it.

use std::fmt;

use serde::{Deserialize, Serialize};

use mock_server::StatsSnapshot;

use crate::metering::outside::WorkerEnd;
use crate::model::error_kind::ErrorKind;
use crate::model::tally::TallySummary;
use crate::os::machine::Limits;

/// An OS limit a point ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// `vm.max_map_count`: memory mappings per process (a Rust thread holds four: its stack,
    /// the guard, the signal stack and its guard; a may coroutine two: its stack and guard).
    MaxMapCount,
    /// Threads: `kernel.threads-max`, `kernel.pid_max`, a cgroup's `pids.max` or
    /// `RLIMIT_NPROC` (the kernel answers EAGAIN to all of them alike).
    Threads,
    /// The open-file limit (`RLIMIT_NOFILE`): one descriptor per connection.
    OpenFiles,
    /// Local ports (`net.ipv4.ip_local_port_range`): one per connection to one server.
    LocalPorts,
    /// Memory: the kernel's OOM killer, or an allocation refused.
    Memory,
    /// The server's open files: it is a process of its own under the same limit, and refused
    /// connections it could not accept.
    ServerOpenFiles,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MaxMapCount => "vm.max_map_count (sysctl -w vm.max_map_count=N raises it)",
            Self::Threads => {
                "threads (kernel.threads-max, kernel.pid_max, the cgroup's pids.max or ulimit -u)"
            }
            Self::OpenFiles => "open files (ulimit -n; the hard limit caps it)",
            Self::LocalPorts => "local ports (sysctl -w net.ipv4.ip_local_port_range=\"LOW HIGH\")",
            Self::Memory => "memory (the OOM killer, or an allocation refused)",
            Self::ServerOpenFiles => "the server's open files (its own ulimit -n)",
        })
    }
}

/// The limit a point's requests ran into, from their error kinds (the first that applies),
/// or the server's failed accepts.
pub fn from_errors(tally: &TallySummary, server: Option<&StatsSnapshot>) -> Option<Limit> {
    let hit = |kind: ErrorKind| {
        let key = kind.key();
        tally.errors.contains_key(&key) || tally.setup_errors.contains_key(&key)
    };
    if hit(ErrorKind::TooManyOpenFiles) {
        Some(Limit::OpenFiles)
    } else if hit(ErrorKind::AddrNotAvailable) {
        Some(Limit::LocalPorts)
    } else if hit(ErrorKind::StackMap) {
        Some(Limit::MaxMapCount)
    } else if hit(ErrorKind::ThreadSpawn) {
        Some(Limit::Threads)
    } else if server.is_some_and(|s| s.accept_errors > 0) {
        Some(Limit::ServerOpenFiles)
    } else {
        None
    }
}

/// The limit that ended a worker process, from its stderr's last words, how it ended and the
/// `peak_threads` it reached, against the machine's `limits`; `None` when nothing says.
pub fn from_end(
    end: &WorkerEnd,
    stderr_tail: &str,
    peak_threads: Option<u64>,
    limits: &Limits,
) -> Option<Limit> {
    let said = |words: &str| stderr_tail.contains(words);
    if said("Too many open files") {
        return Some(Limit::OpenFiles);
    }
    if said("Resource temporarily unavailable") {
        return Some(Limit::Threads);
    }
    // std aborts a thread whose signal stack cannot be mapped; an mmap refused near
    // max_map_count / 4 threads is the map count, not memory.
    let out_of_maps = || {
        let (threads, maps) = (peak_threads?, limits.max_map_count?);
        Some(threads * 4 * 10 >= maps * 9)
    };
    if said("failed to allocate an alternative stack") || said("Cannot allocate memory") {
        return Some(if out_of_maps() == Some(true) {
            Limit::MaxMapCount
        } else {
            Limit::Memory
        });
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
    fn an_aborted_worker_is_classified_by_its_last_words_and_what_it_reached() {
        let abort = ExitStatus::from_raw(6); // SIGABRT
        let end = WorkerEnd::Exited(abort);
        let words = "thread '<unnamed>' failed to allocate an alternative stack: Cannot allocate memory (os error 12)\nfatal runtime error";
        assert_eq!(
            from_end(&end, words, Some(16_369), &limits()),
            Some(Limit::MaxMapCount)
        );
        assert_eq!(
            from_end(&end, words, Some(200), &limits()),
            Some(Limit::Memory),
            "far from the map count: memory"
        );
        let eagain = "failed to spawn thread: Os { code: 11, kind: WouldBlock, message: \"Resource temporarily unavailable\" }";
        assert_eq!(
            from_end(&end, eagain, Some(9), &limits()),
            Some(Limit::Threads)
        );
        let oom = WorkerEnd::Exited(ExitStatus::from_raw(9));
        assert_eq!(from_end(&oom, "", None, &limits()), Some(Limit::Memory));
        assert_eq!(
            from_end(&end, "panicked at src/x.rs", None, &limits()),
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

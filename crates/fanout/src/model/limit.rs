//! The OS limits that cap concurrency, in one vocabulary: each limit's name and what raises
//! it, the machine's value of it, and how it is recognised — in a request's error kind, in a
//! worker's last words — for the preflight (`run::preflight`), the classifier of what stopped
//! a point (`record::limit`) and the docs.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error_kind::ErrorKind;
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
    /// The listen backlog (`net.core.somaxconn`, `net.ipv4.tcp_max_syn_backlog`): connects
    /// past it wait for SYN retries, whole seconds.
    ListenBacklog,
    /// The server's connection limit (its profile's `max_connections`): past it, connects
    /// wait in the listen backlog until a connection closes.
    ServerConnections,
}

/// Whose a limit is: what a reader would have to change to move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// This machine's setting (a hard limit, its memory): the same model elsewhere may go on.
    Machine,
    /// The kernel's (a sysctl): any process here meets it.
    Kernel,
    /// The server's (its own limits, a process of its own).
    Server,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Machine => "this machine's",
            Self::Kernel => "the kernel's",
            Self::Server => "the server's",
        })
    }
}

/// Whose the limit is, what it is and what raises it: `this machine's open-file limit (ulimit
/// -n; the hard limit caps it)`.
impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.owner(), self.what(), self.raise())
    }
}

impl Limit {
    /// Whose it is.
    pub fn owner(self) -> Owner {
        match self {
            Self::OpenFiles | Self::Memory => Owner::Machine,
            Self::MaxMapCount | Self::Threads | Self::LocalPorts | Self::ListenBacklog => {
                Owner::Kernel
            }
            Self::ServerOpenFiles | Self::ServerConnections => Owner::Server,
        }
    }

    /// What it is, in a few words.
    pub fn what(self) -> &'static str {
        match self {
            Self::MaxMapCount => "vm.max_map_count",
            Self::Threads => "thread limits",
            Self::OpenFiles => "open-file limit",
            Self::LocalPorts => "local port range",
            Self::Memory => "memory",
            Self::ServerOpenFiles => "open files",
            Self::ServerConnections => "connection limit",
            Self::ListenBacklog => "listen backlog",
        }
    }

    /// What raises it.
    pub fn raise(self) -> &'static str {
        match self {
            Self::MaxMapCount => "sysctl -w vm.max_map_count=N raises it",
            Self::Threads => {
                "kernel.threads-max, kernel.pid_max, the cgroup's pids.max or ulimit -u"
            }
            Self::OpenFiles => "ulimit -n; the hard limit caps it",
            Self::LocalPorts => "sysctl -w net.ipv4.ip_local_port_range=\"LOW HIGH\"",
            Self::Memory => "the OOM killer, or an allocation refused",
            Self::ServerOpenFiles => "its own ulimit -n",
            Self::ServerConnections => "--max-connections, or its profile",
            Self::ListenBacklog => "sysctl -w net.core.somaxconn=N net.ipv4.tcp_max_syn_backlog=N",
        }
    }

    /// As [`Display`](fmt::Display), with the machine's value where known: `this machine's
    /// open-file limit, 20000 (ulimit -n; the hard limit caps it)`.
    pub fn described(self, value: Option<u64>) -> String {
        match value {
            Some(v) => format!("{} {}, {v} ({})", self.owner(), self.what(), self.raise()),
            None => self.to_string(),
        }
    }

    /// The limit a request's error kind names, if it names one.
    pub fn of_error(kind: ErrorKind) -> Option<Self> {
        match kind {
            ErrorKind::TooManyOpenFiles => Some(Self::OpenFiles),
            ErrorKind::AddrNotAvailable => Some(Self::LocalPorts),
            ErrorKind::StackMap => Some(Self::MaxMapCount),
            ErrorKind::ThreadSpawn => Some(Self::Threads),
            _ => None,
        }
    }

    /// The limit a process's last words name unambiguously (the OS's own message), if any.
    /// An mmap refused ("Cannot allocate memory") is the map count or memory: telling which
    /// takes the threads it reached (`record::limit::from_end`).
    pub fn said_in(words: &str) -> Option<Self> {
        if words.contains("Too many open files") {
            Some(Self::OpenFiles)
        } else if words.contains("Resource temporarily unavailable") {
            Some(Self::Threads)
        } else {
            None
        }
    }

    /// The machine's value of it (for threads, the smallest of the limits that cap them);
    /// `None` where it is not a number or is not read.
    pub fn value(self, limits: &Limits) -> Option<u64> {
        match self {
            Self::OpenFiles | Self::ServerOpenFiles => limits.open_files_soft,
            Self::Threads => [
                limits.threads_max,
                limits.pid_max,
                limits.cgroup_pids_max,
                limits.nproc_soft,
            ]
            .into_iter()
            .flatten()
            .min(),
            Self::MaxMapCount => limits.max_map_count,
            Self::LocalPorts => limits.local_port_count(),
            Self::ListenBacklog => limits.somaxconn,
            Self::Memory | Self::ServerConnections => None,
        }
    }
}

/// A kernel setting raised for a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RaisedLimit {
    /// Its dotted name (`kernel.pid_max`).
    pub setting: String,
    /// Its value before the run, put back after it.
    pub was: u64,
    /// Its value during the run (`set` in the runs of commit 62e0b3f, the first to record it).
    #[serde(alias = "set")]
    pub to: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_is_recognised_by_its_error_and_its_words_and_read_from_the_machine() {
        assert_eq!(
            Limit::of_error(ErrorKind::TooManyOpenFiles),
            Some(Limit::OpenFiles)
        );
        assert_eq!(Limit::of_error(ErrorKind::Timeout), None);
        assert_eq!(
            Limit::said_in("spawn: Resource temporarily unavailable (os error 11)"),
            Some(Limit::Threads)
        );
        assert_eq!(Limit::said_in("Cannot allocate memory"), None);
        let limits = Limits {
            threads_max: Some(192_731),
            pid_max: Some(32_768),
            local_ports: Some((32_768, 60_999)),
            ..Limits::default()
        };
        assert_eq!(Limit::Threads.value(&limits), Some(32_768));
        assert_eq!(Limit::LocalPorts.value(&limits), Some(28_232));
        assert_eq!(Limit::Memory.value(&limits), None);
        assert_eq!(
            Limit::OpenFiles.described(Some(20_000)),
            "this machine's open-file limit, 20000 (ulimit -n; the hard limit caps it)"
        );
        assert_eq!(Limit::MaxMapCount.owner(), Owner::Kernel);
        assert!(
            Limit::ServerConnections
                .to_string()
                .starts_with("the server's")
        );
        // Points written before a limit was added still read.
        let old: Limit = serde_json::from_str("\"max_map_count\"").expect("reads");
        assert_eq!(old, Limit::MaxMapCount);
    }
}

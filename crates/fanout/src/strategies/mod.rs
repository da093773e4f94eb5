//! The strategies: one module each, one `pub fn run(job, tally)` each, and [`ALL`], the facts
//! about each as data (name, what it models, what it holds in flight, what it needs from the
//! OS). A pitfall is measured like any strategy; its figures are what show the pitfall.
//!
//! A [`Point`] carries its `&'static Strategy`, resolved once when the point is built or read
//! (by name in JSON: [`Strategy`] serializes as its name).

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::job::{ErrorKind, Job, Tally};
use crate::peers;
use crate::workload::{Point, Protocol};

pub mod async_buffered;
pub mod async_cpu_offload;
pub mod async_current_thread;
pub mod async_h2;
pub mod async_raw;
pub mod async_semaphore;
pub mod async_spawn_blocking;
pub mod pitfall_blocking_in_async;
pub mod pitfall_client_per_request;
pub mod pitfall_unbounded;
pub mod sequential;
pub mod thread_per_request;
pub mod thread_pool;
pub mod thread_raw;

/// A failure that stops a strategy before it can run its requests.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The tokio runtime could not be built.
    #[error("building the tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The reqwest client could not be built.
    #[error("building the reqwest client: {0}")]
    Client(#[source] reqwest::Error),
    /// A peer runs as a program of its own, not in fanout's worker.
    #[error("{0} is a peer: it runs as a program of its own")]
    Peer(&'static str),
    /// The raw client cannot send to this URL.
    #[error("the raw client's request: {0}")]
    RawRequest(String),
}

/// Every strategy's entry point.
pub type RunFn = fn(&Arc<Job>, &Arc<Tally>) -> Result<(), StrategyError>;

/// How many requests a strategy holds in flight, by design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlight {
    /// One at a time.
    One,
    /// At most C.
    Concurrency,
    /// About the tokio worker count, whatever C is (blocking calls stall the workers).
    Workers,
    /// All N at once.
    All,
    /// Python's default executor, whatever C is: `min(32, CPUs + 4)` threads (Python 3.8+'s
    /// rule, with this machine's CPU count).
    PythonDefaultExecutor,
}

impl InFlight {
    /// Requests in flight by design at `point`.
    pub fn of(self, point: &Point) -> usize {
        let n = match self {
            Self::One => 1,
            Self::Concurrency => point.concurrency,
            Self::Workers => point.settings.tokio_workers,
            Self::All => point.requests,
            Self::PythonDefaultExecutor => {
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                (cpus + 4).min(32)
            }
        };
        n.clamp(1, point.requests.max(1))
    }
}

/// A strategy: its name (part of the interface: criterion IDs, JSON, charts), what it models,
/// what it needs, and its entry point.
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// Name: criterion IDs, JSON, charts and the README's table use it.
    pub name: &'static str,
    /// What it models, in one line.
    pub models: &'static str,
    /// Requests it holds in flight by design.
    pub in_flight: InFlight,
    /// One OS thread per request in flight (so threads, not tasks, are what C costs).
    pub os_threads: bool,
    /// Opens a new connection for every request (none is reused): N connections in all.
    pub connection_per_request: bool,
    /// The HTTP client it runs on: what it can speak follows (HTTP/2 and TLS).
    pub client: ClientLib,
    /// The protocol it always speaks, whatever `--protocol` says (`async_h2`).
    pub protocol: Option<Protocol>,
    /// What runs it.
    pub worker: Worker,
}

impl Strategy {
    /// Why this strategy cannot run on this machine (a peer not installed, and what installs
    /// it), if it cannot.
    pub fn missing(&self) -> Option<String> {
        match self.worker {
            Worker::InProcess(_) => None,
            Worker::Peer(program) => peers::missing(program),
        }
    }

    /// Runs the strategy in this process; a peer cannot be (it is a program of its own).
    pub fn run(&self, job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
        match self.worker {
            Worker::InProcess(run) => run(job, tally),
            Worker::Peer(_) => Err(StrategyError::Peer(self.name)),
        }
    }
}

/// The HTTP client a strategy runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientLib {
    /// ureq (blocking): HTTP/1.1, TLS with rustls.
    Ureq,
    /// reqwest (hyper, async): HTTP/1.1 and HTTP/2, TLS with rustls.
    Reqwest,
    /// fanout's own minimal HTTP/1.1 codec: plain HTTP/1.1 only.
    Raw,
    /// A program of its own (the peer protocol passes a URL: HTTP/1.1, no certificate).
    Peer,
}

impl ClientLib {
    /// Speaks HTTP/2 (`--protocol h2`).
    pub fn speaks_h2(self) -> bool {
        self == Self::Reqwest
    }

    /// Speaks HTTPS trusting a given certificate (`--tls`).
    pub fn speaks_tls(self) -> bool {
        matches!(self, Self::Ureq | Self::Reqwest)
    }
}

/// What runs a strategy's points.
#[derive(Debug, Clone, Copy)]
pub enum Worker {
    /// Its entry point, in fanout's own worker process.
    InProcess(RunFn),
    /// A program of another language or tool (`peers`).
    Peer(crate::peers::Program),
}

/// Two strategies are the same when their names are.
impl PartialEq for Strategy {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

impl<'de> Deserialize<'de> for &'static Strategy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        parse(&name).map_err(serde::de::Error::custom)
    }
}

/// All strategies, in the order of the README's table.
pub const ALL: &[Strategy] = &[
    Strategy {
        name: "sequential",
        models: "one ureq Agent, one request after another (the synchronous baseline)",
        in_flight: InFlight::One,
        os_threads: false,
        client: ClientLib::Ureq,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(sequential::run),
    },
    Strategy {
        name: "thread_per_request",
        models: "a new OS thread per request, at most C alive (threading.Thread per URL)",
        in_flight: InFlight::Concurrency,
        os_threads: true,
        client: ClientLib::Ureq,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(thread_per_request::run),
    },
    Strategy {
        name: "thread_pool",
        models: "C long-lived threads pull from a crossbeam channel, shared Agent (ThreadPoolExecutor)",
        in_flight: InFlight::Concurrency,
        os_threads: true,
        client: ClientLib::Ureq,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(thread_pool::run),
    },
    Strategy {
        name: "async_semaphore",
        models: "tokio multi-thread, N tasks, Semaphore(C), shared reqwest Client (asyncio + Semaphore)",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Reqwest,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(async_semaphore::run),
    },
    Strategy {
        name: "async_buffered",
        models: "one stream, buffer_unordered(C), shared Client (idiomatic Rust; no task per request)",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Reqwest,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(async_buffered::run),
    },
    Strategy {
        name: "async_current_thread",
        models: "tokio current-thread runtime, N tasks, Semaphore(C) (asyncio's single thread)",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Reqwest,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(async_current_thread::run),
    },
    Strategy {
        name: "async_spawn_blocking",
        models: "tokio spawn_blocking(ureq), blocking pool sized to C (asyncio.to_thread)",
        in_flight: InFlight::Concurrency,
        os_threads: true,
        client: ClientLib::Ureq,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(async_spawn_blocking::run),
    },
    Strategy {
        name: "async_cpu_offload",
        models: "async_semaphore with each response's CPU work (--cpu-us) in spawn_blocking, off the runtime workers",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Reqwest,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(async_cpu_offload::run),
    },
    Strategy {
        name: "async_h2",
        models: "async_semaphore over HTTP/2: C streams on as few connections as the client opens (one reqwest Client, h2c)",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Reqwest,
        protocol: Some(Protocol::H2),
        connection_per_request: false,
        worker: Worker::InProcess(async_h2::run),
    },
    Strategy {
        name: "thread_raw",
        models: "the threads' floor: C threads, one keep-alive socket each, no client library",
        in_flight: InFlight::Concurrency,
        os_threads: true,
        client: ClientLib::Raw,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(thread_raw::run),
    },
    Strategy {
        name: "async_raw",
        models: "the tasks' floor: C tokio tasks, one keep-alive socket each, no client library",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Raw,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(async_raw::run),
    },
    Strategy {
        name: "pitfall_unbounded",
        models: "all N tasks at once, no limit (gather() with no semaphore)",
        in_flight: InFlight::All,
        os_threads: false,
        client: ClientLib::Reqwest,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(pitfall_unbounded::run),
    },
    Strategy {
        name: "pitfall_blocking_in_async",
        models: "ureq called inside async tasks: in flight = tokio workers (requests.get in a coroutine)",
        in_flight: InFlight::Workers,
        os_threads: false,
        client: ClientLib::Ureq,
        protocol: None,
        connection_per_request: false,
        worker: Worker::InProcess(pitfall_blocking_in_async::run),
    },
    Strategy {
        name: "pitfall_client_per_request",
        models: "a new reqwest Client per request: a new connection each (a fresh session per request)",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Reqwest,
        protocol: None,
        connection_per_request: true,
        worker: Worker::InProcess(pitfall_client_per_request::run),
    },
];

/// The strategy or peer named `name`.
pub fn find(name: &str) -> Option<&'static Strategy> {
    ALL.iter()
        .find(|s| s.name == name)
        .or_else(|| peers::find(name))
}

/// The strategy or peer named `name`, or an error naming the valid ones.
pub fn parse(name: &str) -> Result<&'static Strategy, String> {
    let name = name.trim();
    find(name).ok_or_else(|| unknown(name, ""))
}

/// An unknown name's error, listing the valid ones (after `groups` in a list: `all, peers, `).
fn unknown(name: &str, groups: &str) -> String {
    let peers: Vec<_> = peers::BUILT_IN.iter().map(|p| p.name).collect();
    format!(
        "unknown strategy {name:?}; valid: {groups}{}, {} (or peer:NAME with {}NAME naming a program)",
        names(),
        peers.join(", "),
        peers::CUSTOM_VAR_PREFIX
    )
}

/// Parses a comma-separated list of names, where `all` stands for every strategy and `peers`
/// for every installed peer; an unknown name is an error listing the valid ones.
pub fn parse_list(raw: &str) -> Result<Vec<&'static Strategy>, String> {
    let mut list = Vec::new();
    for name in raw.split(',').map(str::trim) {
        match name {
            "all" => list.extend(ALL.iter()),
            "peers" => {
                let installed = peers::installed();
                if installed.is_empty() {
                    return Err(format!(
                        "\"peers\": no peer is installed; {} installs them",
                        peers::INSTALL
                    ));
                }
                list.extend(installed);
            }
            _ => list.push(find(name).ok_or_else(|| unknown(name, "all, peers, "))?),
        }
    }
    Ok(list)
}

/// Where `strategy` goes in tables and legends: the strategies in the order of [`ALL`], then
/// the built-in peers, then any other peer.
pub fn order(strategy: &Strategy) -> usize {
    ALL.iter()
        .chain(peers::BUILT_IN)
        .position(|s| s == strategy)
        .unwrap_or(usize::MAX)
}

/// The strategies and peers `points` hold, each once, in table order.
pub fn present<'a>(points: impl IntoIterator<Item = &'a Point>) -> Vec<&'static Strategy> {
    let mut present: Vec<&'static Strategy> = Vec::new();
    for p in points {
        if !present.contains(&p.strategy) {
            present.push(p.strategy);
        }
    }
    present.sort_by_key(|s| (order(s), s.name));
    present
}

/// The valid names, comma-separated, for error messages.
pub fn names() -> String {
    ALL.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// Waits for every task; a task that panicked counts as its request's error.
async fn join_all(mut tasks: tokio::task::JoinSet<()>, tally: &Tally) {
    while let Some(joined) = tasks.join_next().await {
        if joined.is_err() {
            tally.fail(ErrorKind::Panic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_lists_are_parsed_and_unknown_names_listed_with_the_valid_ones() {
        assert_eq!(parse_list("all").map(|s| s.len()), Ok(ALL.len()));
        let two = parse_list("thread_pool, async_buffered").expect("two");
        let names: Vec<_> = two.iter().map(|s| s.name).collect();
        assert_eq!(names, ["thread_pool", "async_buffered"]);
        let err = parse_list("thread_pool,nope").expect_err("unknown");
        assert!(
            err.contains("\"nope\"") && err.contains("sequential"),
            "{err}"
        );
    }

    #[test]
    fn a_strategy_is_written_and_read_by_its_name() {
        let pool = parse("thread_pool").expect("known");
        assert_eq!(
            serde_json::to_string(pool).expect("json"),
            "\"thread_pool\""
        );
        let back: &'static Strategy = serde_json::from_str("\"thread_pool\"").expect("read");
        assert!(std::ptr::eq(back, pool));
        let err = serde_json::from_str::<&'static Strategy>("\"nope\"").expect_err("unknown");
        assert!(
            err.to_string().contains("unknown strategy \"nope\""),
            "{err}"
        );
    }
}

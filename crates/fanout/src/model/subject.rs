//! What can be measured — a strategy of fanout's or a peer program — seen through one small
//! face: the facts tables, charts, plans and the harness need, as data. A strategy adds its
//! entry point (`strategies`), a peer its program (`peers`); a point refers to its subject.

use super::settings::Protocol;

/// The facts of a strategy or a peer.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    /// Name: criterion IDs, JSON, charts and the README's table use it.
    pub name: &'static str,
    /// What it models, in one line.
    pub models: &'static str,
    /// Requests it holds in flight by design.
    pub holds: Holds,
    /// What holds each request in flight: an OS thread, a task (a future), or a stackful
    /// coroutine — what C costs is C of them.
    pub held_by: HeldBy,
    /// What schedules them: the OS alone, or a runtime in the process.
    pub runs_on: RunsOn,
    /// Opens a new connection for every request (none is reused): N connections in all.
    pub connection_per_request: bool,
    /// The HTTP client it runs on: what it can speak follows (HTTP/2 and TLS).
    pub client: ClientLib,
    /// The protocol it always speaks, whatever `--protocol` says (`async_h2`).
    pub protocol: Option<Protocol>,
    /// A strategy, a pitfall (measured like any strategy: its figures show the pitfall), or
    /// a peer program.
    pub kind: Kind,
    /// Its place in its model's family, for the strategies the answer sets side by side: a
    /// model's floor (no client library) and the library strategy beside it.
    pub family: Option<Family>,
}

/// A strategy's place in its model's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The model, as the answer names it (`OS threads`, `tokio tasks`).
    pub model: &'static str,
    /// This strategy's part in it.
    pub part: Part,
}

/// What a strategy is to its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The model's floor: its own cost, with no client library in between.
    Floor,
    /// The model with a client library: its excess over the floor is the library's.
    Library,
}

impl Subject {
    /// Whether it speaks `protocol`: the one it always speaks, else what its client can.
    pub fn speaks(&self, protocol: Protocol) -> bool {
        match (self.protocol, protocol) {
            (Some(own), _) => own == protocol,
            (None, Protocol::H1) => self.client.speaks_h1(),
            (None, Protocol::H2) => self.client.speaks_h2(),
        }
    }
}

/// Two subjects are the same when their names are.
impl PartialEq for Subject {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// What holds a request in flight while it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeldBy {
    /// An OS thread, blocked in the kernel: its kernel stack, task struct and user stack.
    Thread,
    /// A task: a future (its state machine on the heap) polled by a few runtime threads.
    Task,
    /// A stackful coroutine (may's, Go's goroutines): a stack of its own, mapped in user
    /// space, switched by a scheduler on a few OS threads.
    Coroutine,
}

/// What schedules the requests in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsOn {
    /// std's threads: the kernel's scheduler, no runtime.
    Threads,
    /// tokio: readiness-based I/O (epoll), a multi-thread or current-thread runtime.
    Tokio,
    /// smol: async-executor's tasks on a few threads, async-io's reactor (epoll).
    Smol,
    /// may: stackful coroutines switched on a few worker threads, readiness-based I/O.
    May,
    /// compio: completion-based I/O on io_uring, one runtime per thread (thread-per-core).
    Compio,
    /// A peer program's own runtime (Python's, Go's, oha's tokio).
    Own,
}

/// What kind of subject, and so what runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One of fanout's strategies, run in fanout's own worker process.
    Strategy,
    /// A strategy that shows a mistake (drawn dashed in charts), and what it gets wrong.
    Pitfall(Pitfall),
    /// A program of another language or tool, run as the worker (drawn dotted).
    Peer,
}

impl Kind {
    /// A pitfall's facts, if it is one.
    pub fn pitfall(self) -> Option<Pitfall> {
        match self {
            Self::Pitfall(p) => Some(p),
            Self::Strategy | Self::Peer => None,
        }
    }
}

/// What a pitfall gets wrong: the mistake, the strategy that gets it right, and where the
/// mistake's cost shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pitfall {
    /// The mistake, as a sentence's subject ("blocking calls inside async tasks").
    pub mistake: &'static str,
    /// The strategy it spoils, by name (a test holds it to the catalog).
    pub spoils: &'static str,
    /// Where its cost shows.
    pub costs: Cost,
    /// Why it costs that, in a few words.
    pub because: &'static str,
}

/// Where a pitfall's cost shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Its wall time.
    Wall,
    /// Its peak resident memory.
    PeakRss,
}

/// How many requests a subject holds in flight, by design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// One at a time.
    One,
    /// At most C.
    Concurrency,
    /// About the tokio worker count, whatever C is (blocking calls stall the workers).
    Workers,
    /// All N at once.
    All,
    /// A pool sized by the machine whatever C is: `min(most, cores + add)` threads (Python's
    /// default executor is `min(32, cores + 4)`).
    CoresPlus {
        /// Threads beyond the core count.
        add: usize,
        /// The pool's cap.
        most: usize,
    },
}

impl Holds {
    /// Requests in flight by design at concurrency C with `requests` in all and
    /// `tokio_workers` runtime workers (between 1 and N).
    pub fn of(self, concurrency: usize, requests: usize, tokio_workers: usize) -> usize {
        let n = match self {
            Self::One => 1,
            Self::Concurrency => concurrency,
            Self::Workers => tokio_workers,
            Self::All => requests,
            Self::CoresPlus { add, most } => crate::os::cores().saturating_add(add).min(most),
        };
        n.clamp(1, requests.max(1))
    }
}

/// The HTTP client a subject runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientLib {
    /// ureq (blocking): HTTP/1.1, TLS with rustls.
    Ureq,
    /// reqwest (hyper, async): HTTP/1.1 and HTTP/2, TLS with rustls.
    Reqwest,
    /// fanout's own minimal HTTP/1.1 codec: plain HTTP/1.1 only.
    Raw,
    /// hyper's `client::conn` alone: plain HTTP/1.1 only.
    Hyper,
    /// The `h2` crate alone: plain HTTP/2 with prior knowledge only.
    H2,
    /// cyper (hyper's client on compio), built without TLS: plain HTTP/1.1 only.
    Cyper,
    /// A program of its own (the peer protocol passes a URL: HTTP/1.1, no certificate).
    Peer,
}

impl ClientLib {
    /// Whether fanout's strategies on it spread new connections over the server's loopback
    /// addresses (`clients::destinations`): cyper dials its URL's address, and a peer is a
    /// program of its own.
    pub fn spreads_connections(self) -> bool {
        !matches!(self, Self::Cyper | Self::Peer)
    }

    /// Its name in prose: the crate, or what it is.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ureq => "ureq",
            Self::Reqwest => "reqwest",
            Self::Raw => "fanout's raw HTTP/1.1 codec",
            Self::Hyper => "hyper",
            Self::H2 => "h2",
            Self::Cyper => "cyper",
            Self::Peer => "its own",
        }
    }

    /// Over HTTP/2, keeps one connection to a server whatever its stream limit, queueing the
    /// requests past the limit inside the client (hyper's pool, so reqwest's: hyper#2197,
    /// reqwest#976): in flight at most the server's SETTINGS_MAX_CONCURRENT_STREAMS.
    pub fn keeps_one_h2_connection(self) -> bool {
        self == Self::Reqwest
    }

    /// Speaks HTTP/2 (`--protocol h2`).
    pub fn speaks_h2(self) -> bool {
        matches!(self, Self::Reqwest | Self::H2)
    }

    /// Speaks HTTP/1.1 (`--protocol h1`).
    pub fn speaks_h1(self) -> bool {
        self != Self::H2
    }

    /// Speaks HTTPS trusting a given certificate (`--tls`).
    pub fn speaks_tls(self) -> bool {
        matches!(self, Self::Ureq | Self::Reqwest)
    }
}

/// A subject shows as its name in text.
impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A subject is written as its name (criterion IDs, JSON); reading it back is the catalog's
/// (`planning::catalog`), which knows every name.
impl serde::Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

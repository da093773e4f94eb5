//! What a peer is: its facts (the [`Subject`] face it shares with the strategies) and the
//! program that runs it.

use crate::model::subject::Subject;

/// A peer: its facts and its program.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Its facts: name, model, what it holds in flight.
    pub subject: Subject,
    /// How it is started and read.
    pub program: Program,
}

/// How a peer is started and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// A script in `peers/`, run by the Python of `target/peers/venv`.
    Python(&'static str),
    /// The Go peer, built by `scripts/peers.sh` into `target/peers/bin/`.
    Go,
    /// oha (`target/peers/bin/oha` or on PATH): its own arguments, its JSON read by an adapter.
    Oha,
    /// A program speaking the protocol, named by a `FANOUT_PEER_<NAME>` variable.
    Custom(&'static str),
}

//! What a peer is: its facts (the [`Subject`] face it shares with the strategies), the program
//! that runs it, and what that program takes and prints.

use crate::model::settings::Protocol;
use crate::model::subject::{ClientLib, HeldBy, Holds, Kind, RunsOn, Subject};

/// Prefix of every peer's name: `peer:py_aiohttp`.
pub const PREFIX: &str = "peer:";

/// A peer: its facts and its program.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Its facts: name, model, what it holds in flight.
    pub subject: Subject,
    /// How it is started.
    pub program: Program,
    /// The offered rates it can take (`--rate`).
    pub takes: Takes,
    /// What it prints, and so how its output is read.
    pub prints: Prints,
    /// Whether its client reports a connection reset during the body as a body cut short (it
    /// cannot tell the two apart), so a reset counts as `truncated` for it, as for ureq.
    pub reset_reads_as_truncated: bool,
}

impl Peer {
    /// A peer from its file's facts: its name, what it models, what it holds in flight and
    /// what holds each request; the facts every peer shares (its own runtime and client, its
    /// connections kept) filled in.
    pub const fn new(
        name: &'static str,
        models: &'static str,
        holds: Holds,
        held_by: HeldBy,
        program: Program,
        takes: Takes,
        prints: Prints,
    ) -> Self {
        Self {
            subject: Subject {
                name,
                models,
                holds,
                held_by,
                runs_on: RunsOn::Own,
                client: ClientLib::Peer,
                protocol: None,
                connection_per_request: false,
                kind: Kind::Peer,
                family: None,
            },
            program,
            takes,
            prints,
            reset_reads_as_truncated: false,
        }
    }

    /// The same peer, speaking `protocol` only, whatever `--protocol` says.
    pub const fn speaking(mut self, protocol: Protocol) -> Self {
        self.subject.protocol = Some(protocol);
        self
    }

    /// The same peer, whose client reports a reset during the body as a truncation.
    pub const fn reset_reads_as_truncated(mut self) -> Self {
        self.reset_reads_as_truncated = true;
        self
    }
}

/// How a peer is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// A program speaking the protocol, named by a `FANOUT_PEER_<NAME>` variable.
    Custom(&'static str),
    /// A program described by a file (`described.rs`): every shipped peer, and a user's own.
    Described(&'static Command),
}

/// A described peer's command line, and what installs its program.
#[derive(Debug, PartialEq, Eq)]
pub struct Command {
    /// The program (its `{dir}` and `{peers}` filled) and its arguments, with `{url}`, `{c}`,
    /// `{n}`, `{timeout_ms}`, `{rate}`, `{dir}` and `{peers}` to fill.
    pub argv: Vec<String>,
    /// The arguments that give it an offered rate, `{rate}` to fill (requests a second),
    /// put before the others when a point has one; empty when it takes none.
    pub rate_args: Vec<String>,
    /// A command that prints what it runs with, a `name version` per line (`{dir}` and
    /// `{peers}` filled), for SETUP.md; empty when its line says so itself.
    pub version_argv: Vec<String>,
    /// The folder of the file that describes it.
    pub dir: String,
    /// What installs the program, for the reason a point is skipped without it.
    pub install: String,
}

/// The offered rates a peer can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// None: it stays closed-loop (the peer protocol has no rate).
    ClosedLoop,
    /// A constant rate (oha's `-q` with `--latency-correction`), not a ramp.
    ConstantRate,
}

/// What a peer prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prints {
    /// The peer protocol's JSON line (the last line that parses).
    ProtocolLine,
    /// oha's JSON document (`--output-format json`), read by `oha.rs`'s adapter.
    OhaJson,
}

/// `template` with each `{name}` of `values` replaced by its value, in one pass (a value is
/// never read again for placeholders); an unknown `{…}` is left as it is.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, value) = values.iter().find(|(n, _)| *n == name)?;
            Some((value, close))
        });
        match known {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

//! Peers: client programs in other languages and tools — the articles' own Python, Go, the
//! oha load generator, Node.js and Java — run as a point's worker and metered from outside
//! exactly like fanout's own (see `metering::outside`). Each is a file in `peers/`
//! (`described.rs`) beside its program, installed by `scripts/peers.sh` under
//! `target/peers/`; none is needed to build or test fanout.
//!
//! The peer protocol: fanout runs the peer's command with the request URL, requests in
//! flight at most, requests in all and the per-request timeout in it (a `FANOUT_PEER_<NAME>`
//! program gets them as `URL C N TIMEOUT_MS`). The peer prints one JSON line on
//! stdout (the last line that parses counts):
//!
//! - required: `ok` (requests answered 200), `errors` (`{kind: count}`, fanout's kinds where
//!   they apply: `timeout`, `connection_refused`, `connection_reset`, `too_many_open_files`,
//!   `addr_not_available`, `thread_spawn`, `truncated` (a body shorter than its Content-Length),
//!   `http_CODE`, `io`, `other`), `wall_s` (its timed region: client and pool built, every
//!   request, teardown; not the interpreter's start-up);
//! - optional: `latencies_ms` (every ok request's latency: fanout computes the percentiles as it
//!   does its own) or `latency_ms` (`{p50, p90, p99, max}`), `rss_before_bytes` (resident memory
//!   just before the timed region), `timed_cpu_user_s` / `timed_cpu_sys_s` (CPU of the timed
//!   region), `versions` (`{name: version}`), `strategy_error` (why it stopped early).
//!
//! After its line a peer may read stdin to its end: fanout closes it once it has read the
//! peer's peak memory, which is then exact. Requests a peer did not account for count as
//! `not_run` errors (ok + errors = N, always); more outcomes than requests fail the point.
//!
//! A user's peer is described by a file (`described.rs`, docs/peers.md) or named by a
//! `FANOUT_PEER_<NAME>` variable.
//!
//! The files: `peer.rs` (what a peer is), `install.rs` (where the programs are, the command),
//! `protocol.rs` (the line), `oha.rs` (oha's JSON read as a line), `versions.rs`, `error.rs` (why a peer
//! could not be run or read); this one is the registry.

pub mod described;
pub mod error;
pub mod install;
pub mod oha;
pub mod peer;
pub mod protocol;
pub mod versions;

use std::process::Command;
use std::sync::Mutex;

use crate::model::job::Job;
use crate::model::rate::RateProfile;
use crate::model::subject::{HeldBy, Holds};
use crate::model::worker_report::WorkerReport;
use error::PeerError;
use peer::{Peer, Prints, Program, Takes};

pub use peer::PREFIX;
/// A variable `FANOUT_PEER_<NAME>` naming a program adds `peer:<name>` (any protocol-speaking
/// program: a test's fake, your own client).
pub const CUSTOM_VAR_PREFIX: &str = "FANOUT_PEER_";

/// Every peer shipped with fanout: the files of the repository's `peers/` (Python, Go, oha,
/// Node.js and Java), in the catalog's order.
pub fn all() -> impl Iterator<Item = &'static Peer> {
    described::shipped().iter().copied()
}

/// The peer named `name` (`peer:NAME`): shipped as a file in `peers/`, described by a file in
/// the folder `FANOUT_PEER_FILES` names (`described.rs`), or a program named by
/// `FANOUT_PEER_<NAME>`.
pub fn find(name: &str) -> Option<&'static Peer> {
    match described::find(name) {
        Ok(Some(peer)) => return Some(peer),
        // A file that is not a peer's description names nothing (the catalog says why).
        Err(_) => return None,
        Ok(None) => {}
    }
    let short = name.strip_prefix(PREFIX)?;
    if short.is_empty() || !short.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let var = format!("{CUSTOM_VAR_PREFIX}{}", short.to_ascii_uppercase());
    let program = std::env::var(var).ok().filter(|p| !p.trim().is_empty())?;
    Some(custom(name, program))
}

/// A peer of a custom program, made once per name and kept for the process's life: points
/// refer to their subject as `&'static`, and a process names few peers (a leak bounded by the
/// names in its environment).
fn custom(name: &str, program: String) -> &'static Peer {
    static MADE: Mutex<Vec<&'static Peer>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = made.iter().find(|p| p.subject.name == name) {
        return peer;
    }
    let program: &'static str = Box::leak(program.into_boxed_str());
    let peer = Box::leak(Box::new(Peer::new(
        Box::leak(name.to_owned().into_boxed_str()),
        Box::leak(format!("a custom peer: {program}").into_boxed_str()),
        Holds::Concurrency,
        HeldBy::Task,
        Program::Custom(program),
        Takes::ClosedLoop,
        Prints::ProtocolLine,
    )));
    made.push(peer);
    peer
}

/// The versions of what the installed shipped peers run with, for SETUP.md: each version
/// command asked once (the Python peers share one interpreter and its packages).
pub fn versions() -> std::collections::BTreeMap<String, String> {
    let mut asked: Vec<&Vec<String>> = Vec::new();
    let mut versions = std::collections::BTreeMap::new();
    for peer in all() {
        let Program::Described(command) = peer.program else {
            continue;
        };
        if !command.version_argv.is_empty() && !asked.contains(&&command.version_argv) {
            asked.push(&command.version_argv);
            versions.extend(versions::of(command));
        }
    }
    versions
}

/// The shipped peers whose programs are installed.
pub fn installed() -> Vec<&'static Peer> {
    all()
        .filter(|p| install::locate(p.program).is_ok())
        .collect()
}

/// The command that runs `job` with `peer`'s program, or why it cannot run here.
pub fn command(peer: &Peer, job: &Job) -> Result<Command, PeerError> {
    install::command(peer.program, job)
}

/// Why `peer` cannot run at `rate`, if it cannot: from what it takes.
pub fn cannot_take(peer: &Peer, rate: &RateProfile) -> Option<String> {
    let name = peer.subject.name;
    match (peer.takes, rate) {
        (Takes::ConstantRate, RateProfile::Constant(_)) => None,
        (Takes::ConstantRate, RateProfile::Ramp(_)) => Some(format!(
            "{name} takes a constant rate only (its rate_arguments), not a ramp"
        )),
        (Takes::ClosedLoop, _) => {
            let takers: Vec<_> = rate_takers().map(|p| p.subject.name).collect();
            Some(format!(
                "{name} is a peer that stays closed-loop (no --rate; the peers that take one: {})",
                takers.join(", ")
            ))
        }
    }
}

/// The shipped peers that take an offered rate.
pub fn rate_takers() -> impl Iterator<Item = &'static Peer> {
    all().filter(|p| p.takes != Takes::ClosedLoop)
}

/// Why `peer` cannot run here (not installed, and what installs it), if it cannot.
pub fn missing(peer: &Peer) -> Option<String> {
    install::locate(peer.program).err()
}

/// The worker report of `peer`'s `stdout` for a job of `requests` requests, or why there is
/// none.
pub fn read_report(peer: &Peer, stdout: &str, requests: u64) -> Result<WorkerReport, PeerError> {
    match peer.prints {
        Prints::ProtocolLine => protocol::last_line(&peer.subject, stdout, requests),
        Prints::OhaJson => {
            // One JSON document over many lines, with no versions in it.
            let mut line = oha::line(stdout)?;
            if let Program::Described(command) = peer.program {
                line.versions = versions::of(command);
            }
            protocol::to_report(&peer.subject, line, requests)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oha() -> &'static Peer {
        find("peer:oha").expect("oha")
    }

    #[test]
    fn ohas_json_is_read_as_a_protocol_line() {
        // The fields read here, as oha 1.16 prints them (pretty-printed, times in seconds).
        let output = r#"{
  "summary": {"successRate": 0.9, "total": 0.5, "slowest": 0.2, "fastest": 0.1},
  "latencyPercentiles": {"p10": 0.1, "p50": 0.11, "p90": 0.15, "p99": 0.19, "p99.9": null},
  "statusCodeDistribution": {"200": 7, "503": 1},
  "errorDistribution": {"connection closed before message completed": 1, "timeout": 1,
    "error reading a body from connection: end of file before message length reached": 1,
    "error reading a body from connection": 1}
}"#;
        // The last: what oha 1.16 prints for a body cut short by a reset or a close, measured
        // against the mock server's `reset` and `truncate` faults.
        let r = read_report(oha(), output, 13).expect("read");
        assert_eq!(r.tally.ok, 7);
        let errors: Vec<_> = r
            .tally
            .errors
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        assert_eq!(
            errors,
            [
                ("connection_reset", 1),
                ("http_503", 1),
                ("not_run", 1),
                ("timeout", 1),
                ("truncated", 2)
            ]
        );
        assert_eq!(r.wall_s, 0.5);
        assert!((r.tally.latency_ms.p99 - 190.0).abs() < 1e-9);
        assert!((r.tally.latency_ms.max - 200.0).abs() < 1e-9);
        assert!(read_report(oha(), "oha: error", 10).is_err());
    }

    #[test]
    fn a_peer_is_found_by_name_and_a_custom_one_only_through_its_variable() {
        assert!(find("peer:py_aiohttp").is_some());
        // No FANOUT_PEER_UNIT_TEST_UNSET in the environment; a name no variable can carry.
        assert!(find("peer:unit_test_unset").is_none());
        assert!(find("peer:bad name").is_none());
        assert!(
            find("py_aiohttp").is_none(),
            "peers are named with their prefix"
        );
    }
}

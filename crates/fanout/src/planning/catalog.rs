//! The catalog of what can be measured: fanout's strategies, then the peers, found by name
//! (a point's JSON names its subject; `--strategies` lists them), put in table order, and
//! told apart by what runs them.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::point::Point;
use crate::clients;
use crate::model::subject::{RunsOn, Subject};
use crate::peers::described::FILES_VAR;
use crate::peers::install::INSTALL;
use crate::peers::peer::Peer;
use crate::peers::{self, CUSTOM_VAR_PREFIX};
use crate::strategies::{self, strategy::Strategy};

/// What runs a subject's points.
#[derive(Debug, Clone, Copy)]
pub enum Runner {
    /// A strategy: fanout's own worker process runs its entry point.
    InProcess(&'static Strategy),
    /// A peer: its program is the worker.
    Peer(&'static Peer),
}

/// The strategy or peer named `name`.
pub fn find(name: &str) -> Option<&'static Subject> {
    strategies::find(name)
        .map(|s| &s.subject)
        .or_else(|| peers::find(name).map(|p| &p.subject))
}

/// What runs `subject`'s points (`None` for a subject the catalog does not hold).
pub fn runner(subject: &Subject) -> Option<Runner> {
    strategies::find(subject.name)
        .map(Runner::InProcess)
        .or_else(|| peers::find(subject.name).map(Runner::Peer))
}

/// Why `point` is not run within `limit`, if it is not: too slow by design, a protocol its
/// client cannot speak, or a peer that is not installed.
pub fn cannot_run(point: &Point, limit: Duration) -> Option<String> {
    point
        .too_slow(limit)
        .or_else(|| point.unsupported())
        .or_else(|| match runner(point.strategy)? {
            // A runtime the machine refuses is skipped with the reason, never failed.
            Runner::InProcess(s) if s.subject.runs_on == RunsOn::Compio => {
                clients::uring::unavailable()
            }
            Runner::InProcess(_) => None,
            Runner::Peer(_) if point.settings.hedging() => {
                Some("a peer does not hedge (--hedge-after-ms, --hedge-after)".into())
            }
            Runner::Peer(_) if point.settings.max_retries > 0 => {
                Some("a peer does not retry (--retries)".into())
            }
            Runner::Peer(peer) => peers::missing(peer),
        })
}

/// The strategy or peer named `name`, or an error naming the valid ones.
pub fn parse(name: &str) -> Result<&'static Subject, String> {
    let name = name.trim();
    find(name).ok_or_else(|| why_unknown(name, ""))
}

/// Why `name` names nothing: the fault of its peer file, if it has one that is not a peer's
/// description; else the names that are valid (after `groups`).
fn why_unknown(name: &str, groups: &str) -> String {
    match peers::described::find(name) {
        Err(why) => why,
        Ok(_) => unknown(name, groups),
    }
}

/// An unknown name's error, listing the valid ones (after `groups` in a list: `all, peers, `).
fn unknown(name: &str, groups: &str) -> String {
    let peers: Vec<_> = peers::all().map(|p| p.subject.name).collect();
    format!(
        "unknown strategy {name:?}; valid: {groups}{}, {} (or peer:NAME: NAME.json in the folder {FILES_VAR} names, or {CUSTOM_VAR_PREFIX}NAME naming a program)",
        names(),
        peers.join(", "),
    )
}

/// Parses a comma-separated list of names, where `all` stands for every strategy and `peers`
/// for every installed peer; an unknown name is an error listing the valid ones.
pub fn parse_list(raw: &str) -> Result<Vec<&'static Subject>, String> {
    let mut list = Vec::new();
    for name in raw.split(',').map(str::trim) {
        match name {
            "all" => list.extend(strategies::ALL.iter().map(|s| &s.subject)),
            "peers" => {
                let installed = peers::installed();
                if installed.is_empty() {
                    return Err(format!(
                        "\"peers\": no peer is installed; {INSTALL} installs them"
                    ));
                }
                list.extend(installed.into_iter().map(|p| &p.subject));
            }
            _ => list.push(find(name).ok_or_else(|| why_unknown(name, "all, peers, "))?),
        }
    }
    Ok(list)
}

/// Where `subject` goes in tables and legends: the strategies in registry order, then the
/// shipped peers, then any other peer.
pub fn order(subject: &Subject) -> usize {
    subjects().position(|s| s == subject).unwrap_or(usize::MAX)
}

/// Every strategy (built in, then added), then every shipped peer: the table order.
pub fn subjects() -> impl Iterator<Item = &'static Subject> {
    let strategies = strategies::every().map(|s| &s.subject);
    strategies.chain(peers::all().map(|p| &p.subject))
}

/// The subjects `points` hold, each once, in table order.
pub fn present<'a>(points: impl IntoIterator<Item = &'a Point>) -> Vec<&'static Subject> {
    let mut present: Vec<&'static Subject> = Vec::new();
    for p in points {
        if !present.contains(&p.strategy) {
            present.push(p.strategy);
        }
    }
    present.sort_by_key(|s| (order(s), s.name));
    present
}

/// The strategies' names, comma-separated, for error messages.
pub fn names() -> String {
    let names: Vec<_> = strategies::every().map(|s| s.subject.name).collect();
    names.join(", ")
}

/// A subject is read by its name, through the catalog: an unknown name fails to parse.
impl<'de> Deserialize<'de> for &'static Subject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_lists_are_parsed_and_unknown_names_listed_with_the_valid_ones() {
        assert_eq!(
            parse_list("all").map(|s| s.len()),
            Ok(strategies::ALL.len())
        );
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
    fn a_subject_is_written_and_read_by_its_name() {
        let pool = parse("thread_pool").expect("known");
        assert_eq!(
            serde_json::to_string(pool).expect("json"),
            "\"thread_pool\""
        );
        let back: &'static Subject = serde_json::from_str("\"thread_pool\"").expect("read");
        assert!(std::ptr::eq(back, pool));
        let err = serde_json::from_str::<&'static Subject>("\"nope\"").expect_err("unknown");
        assert!(
            err.to_string().contains("unknown strategy \"nope\""),
            "{err}"
        );
    }

    #[test]
    fn every_subject_has_a_runner_of_its_kind() {
        use crate::model::subject::Kind;
        let all = strategies::ALL.iter().map(|s| &s.subject);
        for subject in all.chain(peers::all().map(|p| &p.subject)) {
            let runner = runner(subject).expect(subject.name);
            match (subject.kind, runner) {
                (Kind::Peer, Runner::Peer(_)) => {}
                (Kind::Strategy | Kind::Pitfall(_), Runner::InProcess(_)) => {}
                (kind, _) => panic!("{}: {kind:?} run the other way", subject.name),
            }
        }
    }

    #[test]
    fn every_pitfall_spoils_a_strategy_of_the_catalog() {
        let pitfalls: Vec<_> = subjects().filter_map(|s| s.kind.pitfall()).collect();
        assert!(!pitfalls.is_empty());
        for p in pitfalls {
            let spoiled = find(p.spoils).expect(p.spoils);
            assert!(
                spoiled.kind.pitfall().is_none(),
                "{} is a pitfall",
                p.spoils
            );
        }
    }
}

//! Every strategy meets each fault that fails a request — a stall, a reset, a truncation, a
//! 5xx — and records each one the server injected in that fault's outcome class, nothing lost:
//! ok + errors = N, and the class's count equals the server's (over HTTP/2 a reset takes the
//! other streams of its connection too: at least the server's). A connection the server
//! closes or sends away (close, GOAWAY) costs no request.

use std::sync::Arc;

use fanout::model::job::Job;
use fanout::model::settings::{Protocol, Settings};
use fanout::model::tally::Tally;
use fanout::results::findings::faults::expected;
use fanout::strategies;
use mock_server::{Fault, FaultKind};

mod common;
use common::Server;

const C: usize = 8;
const N: usize = 32;
const DELAY_MS: u64 = 20;
const TIMEOUT_MS: u64 = 800;

/// Runs `name` against a server of its own with `fault` on a seeded quarter of requests;
/// checks the accounting and returns (the class's count, the server's count, failures).
fn run(name: &str, kind: FaultKind, protocol: Protocol) -> (u64, u64, u64) {
    let server = Server::start(&[]);
    let strategy = strategies::find(name).expect("known strategy");
    let fault = Fault {
        p: 0.25,
        seed: 3,
        ..Fault::every(kind)
    };
    let url = format!(
        "{}/get?delay_ms={DELAY_MS}&bytes=32{}",
        server.url,
        fault.to_query()
    );
    let settings = Settings {
        timeout_ms: TIMEOUT_MS,
        stack_kib: 256,
        tokio_workers: 2,
        protocol,
        ..Settings::default()
    };
    let job = Arc::new(Job::new(url, C, N, settings));
    let tally = Arc::new(Tally::default());
    (strategy.run)(&job, &tally).expect("strategy runs");
    let summary = tally.summary();
    let failed: u64 = summary.errors.values().sum();
    assert_eq!(
        summary.ok + failed,
        N as u64,
        "{name} {}: {summary:?}",
        kind.name()
    );
    let injected = server.stats().faults.of(kind);
    if kind == FaultKind::Stall {
        // Each timeout says when it came back: at the deadline or after.
        let after = summary.timed_out_after_ms;
        assert!(after.p50 >= TIMEOUT_MS as f64, "{name}: {after:?}");
    }
    let protocol = strategy.subject.protocol.unwrap_or(protocol);
    let class = expected(kind, fault.code, strategy.subject.client, protocol).class();
    let seen = class.map_or(0, |c| summary.errors.get(&c.key()).copied().unwrap_or(0));
    (seen, injected, failed)
}

/// The strategies that speak `protocol`, the pitfalls and `sequential` left out (their
/// serial waits make a stall cost seconds, and they share their clients with others here).
fn speaking(protocol: Protocol) -> Vec<&'static str> {
    strategies::ALL
        .iter()
        .map(|s| &s.subject)
        .filter(|s| match (protocol, s.protocol) {
            (Protocol::H1, own) => own.is_none() && s.client.speaks_h1(),
            (Protocol::H2, Some(own)) => own == Protocol::H2,
            (Protocol::H2, None) => s.client.speaks_h2(),
        })
        .filter(|s| !s.name.starts_with("pitfall_") && s.name != "sequential")
        .map(|s| s.name)
        .collect()
}

#[test]
fn over_http1_every_fault_reaches_every_strategy_as_its_class_one_for_one() {
    for name in speaking(Protocol::H1) {
        for kind in [
            FaultKind::Reset,
            FaultKind::Truncate,
            FaultKind::Status,
            FaultKind::Stall,
        ] {
            let (seen, injected, failed) = run(name, kind, Protocol::H1);
            assert!(injected > 0, "{name} {}: the seed hits some", kind.name());
            assert_eq!(seen, injected, "{name} {}", kind.name());
            assert_eq!(
                failed,
                injected,
                "{name} {}: nothing else failed",
                kind.name()
            );
        }
        for kind in [FaultKind::Close, FaultKind::Goaway] {
            let (_, injected, failed) = run(name, kind, Protocol::H1);
            assert!(injected > 0);
            assert_eq!(failed, 0, "{name} {}: reconnects, loses none", kind.name());
        }
    }
}

#[test]
fn over_http2_a_reset_takes_its_connections_streams_and_a_goaway_costs_none() {
    for name in speaking(Protocol::H2) {
        for kind in [
            FaultKind::RstStream,
            FaultKind::Truncate,
            FaultKind::Status,
            FaultKind::Stall,
        ] {
            let (seen, injected, failed) = run(name, kind, Protocol::H2);
            assert!(injected > 0, "{name} {}", kind.name());
            assert_eq!(
                (seen, failed),
                (injected, injected),
                "{name} {}",
                kind.name()
            );
        }
        let (seen, injected, failed) = run(name, FaultKind::Reset, Protocol::H2);
        assert!(
            injected > 0 && seen >= injected,
            "{name} reset: {seen} of {injected}"
        );
        assert_eq!(seen, failed, "{name} reset: every failure a reset");
        for kind in [FaultKind::Close, FaultKind::Goaway] {
            let (_, injected, failed) = run(name, kind, Protocol::H2);
            assert!(injected > 0);
            assert_eq!(failed, 0, "{name} {}: sent again, loses none", kind.name());
        }
    }
}

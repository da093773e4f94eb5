//! Every strategy meets each fault that fails a request — a stall, a reset, a truncation, a
//! 5xx — and records each one the server injected in that fault's outcome class, nothing lost:
//! ok + errors = N, and the class's count equals the server's (over HTTP/2 a reset takes the
//! other streams of its connection too: at least the server's). A connection the server
//! closes or sends away (close, GOAWAY) costs no request. And a strategy whose requests timed
//! out leaves no socket or thread behind once it returns.

use std::sync::Arc;

use fanout::analysis::findings::faults::{expected, reset_class};
use fanout::model::job::Job;
use fanout::model::settings::{Protocol, Settings};
use fanout::model::tally::Tally;
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
    let class = expected(kind, fault.code, reset_class(&strategy.subject), protocol).class();
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

/// `fanout run --json` of `strategy` at C against `server`, a quarter of its requests stalled
/// past a 300 ms deadline: its point.
fn stalled_point(server: &Server, strategy: &str, c: usize) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(["run", "--json", "-s", strategy, "-c", &c.to_string()])
        .args([
            "-n",
            &(4 * c).to_string(),
            "--delay-ms",
            "20",
            "--timeout-ms",
            "300",
        ])
        .args([
            "--fault",
            "stall",
            "--fault-p",
            "0.25",
            "--url",
            &server.url,
        ])
        .output()
        .expect("fanout run");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    })
}

/// Open files and threads a point's strategy left behind once it returned.
fn left(point: &serde_json::Value) -> (i64, i64) {
    let held = |when: &str, what: &str| point["leftovers"][when][what].as_i64().expect(what);
    (
        held("after", "open_fds") - held("before", "open_fds"),
        held("after", "threads") - held("before", "threads"),
    )
}

#[test]
fn a_strategy_whose_requests_timed_out_leaves_no_socket_or_thread_behind() {
    let server = Server::start(&[]);
    // A thread per request: each thread ends and each socket closes with its deadline.
    let threads = stalled_point(&server, "thread_raw", 20);
    assert!(threads["errors"]["timeout"].as_u64() > Some(0), "{threads}");
    assert_eq!(left(&threads), (0, 0), "{}", threads["leftovers"]);
    // Tasks: the runtime's threads go with it; what it keeps open for the process's life
    // (tokio's signal socket pair) is the same at 10 as at 40 in flight, so no request's.
    let few = left(&stalled_point(&server, "async_raw", 10));
    let more = left(&stalled_point(&server, "async_raw", 40));
    assert_eq!(few.1, 0, "no thread left");
    assert_eq!(few, more, "what stays does not grow with C");
}

//! Retries (`--retries`): a request whose attempt met a reset or a 5xx goes again after a
//! backoff, and the client's counts still add up against the server's — every fault injected
//! is a request failed or an attempt retried, ok + errors = N; a budget bounds the retries; a
//! timeout is not retried; every strategy retries (the request drivers do), a peer is
//! skipped.

use std::sync::Arc;
use std::time::Duration;

use fanout::model::job::Job;
use fanout::model::settings::{Protocol, Settings};
use fanout::model::subject::{ClientLib, RunsOn};
use fanout::model::tally::{Tally, TallySummary};
use fanout::planning::catalog;
use fanout::planning::point::Point;
use fanout::strategies;
use mock_server::{Fault, FaultKind};

mod common;
use common::Server;

const C: usize = 8;
const N: usize = 64;

/// `name` over `protocol` against `kind` on a seeded half of requests, with `settings`: its
/// tally and the faults the server injected.
fn retried(
    name: &str,
    protocol: Protocol,
    kind: FaultKind,
    settings: Settings,
) -> (TallySummary, u64) {
    let server = Server::start(&[]);
    let fault = Fault {
        p: 0.5,
        seed: 5,
        ..Fault::every(kind)
    };
    let url = format!("{}/get?delay_ms=5&bytes=32{}", server.url, fault.to_query());
    let settings = Settings {
        timeout_ms: 5_000,
        stack_kib: 256,
        tokio_workers: 2,
        protocol,
        ..settings
    };
    let job = Arc::new(Job::new(url, C, N, settings));
    let tally = Arc::new(Tally::default());
    (strategies::find(name).expect("known").run)(&job, &tally).expect("runs");
    let summary = tally.summary();
    let failed: u64 = summary.errors.values().sum();
    assert_eq!(summary.ok + failed, N as u64, "{name}: {summary:?}");
    (summary, server.stats().faults.of(kind))
}

fn with_retries(retries: u32, budget: Option<f64>) -> Settings {
    Settings {
        max_retries: retries,
        retry_budget: budget,
        retry_backoff_ms: 2,
        ..Settings::default()
    }
}

#[test]
fn on_every_strategy_a_reset_or_a_5xx_is_retried_and_every_fault_is_a_failure_or_a_retry() {
    for strategy in strategies::ALL {
        let name = strategy.subject.name;
        if strategy.subject.protocol == Some(Protocol::H2) {
            continue; // a reset takes every stream of its connection: the test below
        }
        if strategy.subject.runs_on == RunsOn::Compio
            && let Some(why) = fanout::clients::uring::unavailable()
        {
            fanout::os::skip::skipped(&format!("retries {name}"), &why);
            continue;
        }
        for kind in [FaultKind::Reset, FaultKind::Status] {
            let (tally, injected) = retried(name, Protocol::H1, kind, with_retries(5, None));
            let r = tally.retries;
            let failed: u64 = tally.errors.values().sum();
            // Over HTTP/1.1 a fault fails one attempt: retried, or the request's last.
            assert_eq!(
                failed + r.sent,
                injected,
                "{name} {}: {tally:?}",
                kind.name()
            );
            // ureq calls a connection reset mid-body a stream that ended early (truncated),
            // which is not retried: the request was served.
            if kind == FaultKind::Reset && strategy.subject.client == ClientLib::Ureq {
                assert_eq!(tally.errors.get("truncated"), Some(&injected), "{name}");
                continue;
            }
            assert!(
                r.sent >= 1 && r.recovered >= 1,
                "{name} {}: {tally:?}",
                kind.name()
            );
            assert!(
                tally.ok > N as u64 / 2,
                "{name}: retries mended most: {tally:?}"
            );
        }
    }
}

#[test]
fn over_http2_a_reset_is_retried_with_every_stream_it_took() {
    for name in ["async_h2_floor", "async_h2"] {
        let (tally, injected) =
            retried(name, Protocol::H2, FaultKind::Reset, with_retries(5, None));
        let r = tally.retries;
        let failed: u64 = tally.errors.values().sum();
        assert!(
            failed + r.sent >= injected,
            "{name}: {tally:?} for {injected} resets"
        );
        assert!(r.recovered >= 1, "{name}: {r:?}");
    }
}

#[test]
fn the_retry_budget_caps_the_retries_and_counts_what_it_refused() {
    // At most 10% of the requests sent so far: at most 6 of 64, and the rest of the half
    // that met a reset fail.
    let (tally, _) = retried(
        "async_raw",
        Protocol::H1,
        FaultKind::Reset,
        with_retries(5, Some(10.0)),
    );
    let r = tally.retries;
    assert!(r.sent <= N as u64 / 10, "{r:?}");
    assert!(r.refused >= 1, "{r:?}");
}

#[test]
fn a_timeout_is_not_retried() {
    let settings = Settings {
        timeout_ms: 300,
        ..with_retries(5, None)
    };
    let server = Server::start(&[]);
    let fault = Fault {
        p: 0.5,
        seed: 5,
        ..Fault::every(FaultKind::Stall)
    };
    let url = format!("{}/get?delay_ms=5&bytes=32{}", server.url, fault.to_query());
    let job = Arc::new(Job::new(url, C, N, settings));
    let tally = Arc::new(Tally::default());
    (strategies::find("async_raw").expect("known").run)(&job, &tally).expect("runs");
    let summary = tally.summary();
    assert!(
        summary.errors.get("timeout").copied().unwrap_or(0) >= 1,
        "{summary:?}"
    );
    assert_eq!(summary.retries.sent, 0, "{summary:?}");
}

#[test]
fn a_peer_is_skipped_under_the_flag_and_no_strategy_is() {
    let settings = with_retries(2, None);
    let mut point = Point::new(catalog::find("peer:go").expect("known"), 10);
    point.settings = settings.clone();
    let why = catalog::cannot_run(&point, Duration::from_secs(60)).expect("skipped");
    assert!(why.contains("does not retry"), "{why}");
    for strategy in strategies::ALL {
        let name = strategy.subject.name;
        let mut point = Point::new(catalog::find(name).expect("known"), 10);
        point.settings = Settings {
            protocol: strategy.subject.protocol.unwrap_or(Protocol::H1),
            ..settings.clone()
        };
        let why = catalog::cannot_run(&point, Duration::from_secs(60));
        assert!(
            why.as_ref().is_none_or(|why| !why.contains("retry")),
            "{name}: {why:?}"
        );
    }
    let mut point = Point::new(catalog::find("async_raw").expect("known"), 10);
    point.settings = Settings {
        retry_budget: Some(5.0),
        ..Settings::default()
    };
    let err = point.validate().expect_err("a budget with no retries");
    assert!(err.to_string().contains("--retries"), "{err}");
}

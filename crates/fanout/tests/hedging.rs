//! Hedging (`--hedge-after-ms`), from the request drivers, on every strategy: a request not
//! answered in time goes again (a connection of its own, or a stream), the first answer wins
//! and the other copy is cancelled where the client lets it be, run out where it does not, as
//! the server sees; a budget bounds the hedges; a peer, which does not hedge, is skipped.

use std::sync::Arc;
use std::time::Duration;

use fanout::model::job::Job;
use fanout::model::settings::{Protocol, Settings};
use fanout::model::subject::{ClientLib, HeldBy, RunsOn};
use fanout::model::tally::Tally;
use fanout::planning::catalog;
use fanout::planning::point::Point;
use fanout::strategies::{self, strategy::Strategy};
use mock_server::Straggler;

mod common;
use common::Server;

const C: usize = 4;
const N: usize = 40;

/// `name` over `protocol`: N requests of 10 ms, a quarter of them stragglers of 500 ms,
/// hedged after 100 ms within `budget` percent of the requests sent: its tally and what the
/// server saw.
fn hedged(
    name: &str,
    protocol: Protocol,
    budget: Option<f64>,
) -> (
    fanout::model::tally::TallySummary,
    mock_server::StatsSnapshot,
) {
    let settings = Settings {
        hedge_after_ms: Some(100),
        hedge_max_extra: budget,
        protocol,
        ..Settings::default()
    };
    hedged_with(name, C, N, settings)
}

/// `name` with `settings` at `c` and `n`, against the straggler mixture of [`hedged`].
fn hedged_with(
    name: &str,
    c: usize,
    n: usize,
    settings: Settings,
) -> (
    fanout::model::tally::TallySummary,
    mock_server::StatsSnapshot,
) {
    let server = Server::start(&[]);
    let straggler = Straggler {
        p: 0.25,
        x: 50.0,
        seed: 1,
    };
    let url = format!(
        "{}/get?delay_ms=10&bytes=32{}",
        server.url,
        straggler.to_query()
    );
    let settings = Settings {
        timeout_ms: 5_000,
        tokio_workers: 2,
        ..settings
    };
    let job = Arc::new(Job::new(url, c, n, settings));
    let tally = Arc::new(Tally::default());
    (strategies::find(name).expect("known").run)(&job, &tally).expect("runs");
    // The losers' sockets close as their futures drop; the server notes each as it sees the
    // EOF, and has seen them all once nothing is in flight there.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut stats = server.stats();
    // A thread's loser ends once its winner has shut its socket.
    while (stats.in_flight > 0 || tally.summary().hedges.running_at_end > 0)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
        stats = server.stats();
    }
    (tally.summary(), stats)
}

/// The protocol `strategy` speaks: HTTP/2 for the HTTP/2 strategies, HTTP/1.1 otherwise.
fn protocol_of(strategy: &Strategy) -> Protocol {
    strategy.subject.protocol.unwrap_or(Protocol::H1)
}

/// Whether the driver can stop a losing copy of `strategy`'s request: every async client
/// (its future dropped) and the raw codec (its socket shut down), but not ureq, whose call
/// gives no handle on the socket it blocks in, nor `thread_h2`, whose thread blocks on a
/// stream of a connection others share (shutting the socket would end their streams too).
fn stops_its_loser(strategy: &Strategy) -> bool {
    let blocks_on_a_shared_stream =
        strategy.subject.client == ClientLib::H2 && strategy.subject.held_by == HeldBy::Thread;
    strategy.subject.client != ClientLib::Ureq && !blocks_on_a_shared_stream
}

#[test]
fn every_strategy_hedges_and_the_server_sees_each_loser_cancelled_or_run_out() {
    // A second connection from a second task or thread (HTTP/1.1), a second stream on the
    // same connection (HTTP/2); the client libraries through their own pools.
    for strategy in strategies::ALL {
        let name = strategy.subject.name;
        if strategy.subject.runs_on == RunsOn::Compio
            && let Some(why) = fanout::clients::uring::unavailable()
        {
            fanout::os::skip::skipped(&format!("hedging {name}"), &why);
            continue;
        }
        hedge_races(strategy);
    }
}

fn hedge_races(strategy: &Strategy) {
    let name = strategy.subject.name;
    let (tally, server) = hedged(name, protocol_of(strategy), None);
    assert_eq!(tally.ok, N as u64, "{name}: {tally:?}");
    assert!(
        server.stragglers >= 1,
        "the mixture slowed some: {server:?}"
    );
    let h = tally.hedges;
    assert!(h.sent >= 1 && h.won <= h.sent, "{name}: {h:?}");
    assert_eq!(h.refused, 0, "no budget, nothing refused");
    assert_eq!(h.running_at_end, 0, "{name}: every loser ended");
    assert!(
        tally.setup_errors.is_empty(),
        "{name}: {:?}",
        tally.setup_errors
    );
    // Every copy that reached the server was either served or abandoned by its client.
    let arrived = server.requests_served + server.requests_cancelled;
    assert!(arrived <= N as u64 + h.sent, "{name}: {server:?} {h:?}");
    if stops_its_loser(strategy) {
        // A loser cancelled is one of the abandoned.
        assert!(
            server.requests_cancelled >= 1 && server.requests_cancelled <= h.sent,
            "{name}: {server:?} {h:?}"
        );
    } else {
        // A loser that cannot be stopped runs on and is served: more served than requests.
        assert_eq!(server.requests_cancelled, 0, "{name}: {server:?}");
        assert!(
            server.requests_served > N as u64,
            "{name}: {server:?} {h:?}"
        );
    }
}

#[test]
fn the_budget_caps_the_hedges_and_counts_what_it_refused() {
    // 5% of the requests sent so far (a hedge is not one of them): at most 2 of 40.
    let (tally, _) = hedged("async_raw", Protocol::H1, Some(5.0));
    assert_eq!(tally.ok, N as u64);
    assert!(tally.hedges.sent <= 2, "{:?}", tally.hedges);
}

#[test]
fn a_peer_is_skipped_under_the_flag_and_no_strategy_is() {
    let settings = Settings {
        hedge_after_ms: Some(50),
        ..Settings::default()
    };
    let mut point = Point::new(catalog::find("peer:go").expect("known"), 10);
    point.settings = settings.clone();
    let why = catalog::cannot_run(&point, Duration::from_secs(60)).expect("skipped");
    assert!(why.contains("does not hedge"), "{why}");
    for strategy in strategies::ALL {
        let name = strategy.subject.name;
        let mut point = Point::new(catalog::find(name).expect("known"), 10);
        point.settings = Settings {
            protocol: protocol_of(strategy),
            ..settings.clone()
        };
        let why = catalog::cannot_run(&point, Duration::from_secs(60));
        assert!(
            why.as_ref().is_none_or(|why| !why.contains("hedge")),
            "{name}: {why:?}"
        );
    }
}

#[test]
fn a_percentile_hedge_waits_for_a_rounds_answers_then_hedges_the_slow() {
    // 400 requests of 10 ms, a quarter 500 ms, 100 at once, hedged after the median so far:
    // known once 100 have answered.
    let settings = Settings {
        hedge_after_percentile: Some(50.0),
        ..Settings::default()
    };
    let (tally, server) = hedged_with("async_raw", 100, 400, settings);
    assert_eq!(tally.ok, 400, "{tally:?}");
    let h = tally.hedges;
    assert!(
        h.sent >= 1 && h.won >= 1,
        "the stragglers were hedged: {h:?}"
    );
    assert!(
        h.sent <= 400 - fanout::model::tally::HEDGE_ESTIMATE_MIN,
        "not those answered before the estimate: {h:?}"
    );
    assert!(server.requests_cancelled >= 1, "{server:?}");
}

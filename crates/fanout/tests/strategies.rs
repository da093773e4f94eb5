//! Every strategy against a real mock server at small scale: every request ok, and the server
//! saw the concurrency the strategy promises (bounded: exactly C) or its pitfall's signature.

use std::sync::Arc;

use fanout::model::job::Job;
use fanout::model::settings::Settings;
use fanout::model::subject::Holds;
use fanout::model::tally::{Tally, TallySummary};
use fanout::strategies;
use mock_server::StatsSnapshot;

mod common;
use common::Server;

const C: usize = 20;
const N: usize = 60;
/// Long enough that all C requests of a round are in flight before the first one ends.
const DELAY_MS: u64 = 200;
const WORKERS: usize = 2;

/// Small stacks and the test's worker count.
fn settings(timeout_ms: u64) -> Settings {
    // The rest from the defaults (a 32-byte body), so a setting added later needs no change.
    Settings {
        timeout_ms,
        stack_kib: 256,
        tokio_workers: WORKERS,
        ..Settings::default()
    }
}

/// Runs `name` with `requests` requests; returns what the tally and the server saw.
fn run(name: &str, requests: usize) -> (TallySummary, StatsSnapshot) {
    let server = Server::start(&[]);
    let strategy = strategies::find(name).expect("known strategy");
    let job = Arc::new(Job::new(
        format!("{}/get?delay_ms={DELAY_MS}&bytes=32", server.url),
        C,
        requests,
        settings(30_000),
    ));
    let tally = Arc::new(Tally::default());
    (strategy.run)(&job, &tally).expect("strategy runs");
    let summary = tally.summary();
    assert_eq!(summary.ok, requests as u64, "{name}: {summary:?}");
    assert!(summary.errors.is_empty(), "{name}: {:?}", summary.errors);
    let seen = server.stats();
    assert_eq!(seen.requests_served, requests as u64, "{name}");
    (summary, seen)
}

fn check_bounded(name: &str) -> StatsSnapshot {
    let (summary, seen) = run(name, N);
    assert_eq!(seen.peak_in_flight, C as u64, "{name} in flight");
    assert!(
        summary.latency_ms.p50 >= DELAY_MS as f64,
        "{name}: {summary:?}"
    );
    seen
}

/// Every strategy in the registry, run here: the server saw what its facts say it holds.
#[test]
fn every_strategy_holds_in_flight_what_its_facts_say() {
    for strategy in strategies::ALL {
        let s = &strategy.subject;
        // Few requests for the ones that hold few at once: their rounds are many.
        let n = match s.holds {
            Holds::One | Holds::Workers => 8,
            _ => N,
        };
        let (_, seen) = run(s.name, n);
        let designed = s.holds.of(C, n, WORKERS) as u64;
        match s.holds {
            // Blocking calls stall the workers: at most one request per worker.
            Holds::Workers => assert!(
                (1..=designed).contains(&seen.peak_in_flight),
                "{}: {seen:?}",
                s.name
            ),
            _ => assert_eq!(seen.peak_in_flight, designed, "{}: {seen:?}", s.name),
        }
    }
}

#[test]
fn sequential_has_one_request_in_flight_on_one_connection() {
    let (_, seen) = run("sequential", 8);
    assert_eq!(seen.peak_in_flight, 1);
    assert_eq!(seen.connections_accepted, 1);
}

#[test]
fn thread_per_request_holds_c_and_reuses_one_connection_per_slot() {
    let seen = check_bounded("thread_per_request");
    assert_eq!(seen.connections_accepted, C as u64);
}

#[test]
fn thread_pool_holds_c_and_reuses_one_connection_per_worker() {
    let seen = check_bounded("thread_pool");
    assert_eq!(seen.connections_accepted, C as u64);
}

#[test]
fn async_spawn_blocking_holds_c_with_a_connection_per_pool_thread() {
    let seen = check_bounded("async_spawn_blocking");
    assert_eq!(seen.connections_accepted, C as u64);
}

#[test]
fn async_cpu_offload_holds_c_and_reuses_connections() {
    let seen = check_bounded("async_cpu_offload");
    assert!(seen.connections_accepted < N as u64, "{seen:?}");
}

#[test]
fn async_semaphore_holds_c_and_reuses_connections() {
    let seen = check_bounded("async_semaphore");
    assert!(seen.connections_accepted < N as u64, "{seen:?}");
}

#[test]
fn async_buffered_holds_c_and_reuses_connections() {
    let seen = check_bounded("async_buffered");
    assert!(seen.connections_accepted < N as u64, "{seen:?}");
}

#[test]
fn async_current_thread_holds_c_and_reuses_connections() {
    let seen = check_bounded("async_current_thread");
    assert!(seen.connections_accepted < N as u64, "{seen:?}");
}

#[test]
fn thread_raw_holds_c_on_one_connection_per_thread() {
    let seen = check_bounded("thread_raw");
    assert_eq!(seen.connections_accepted, C as u64);
}

#[test]
fn async_raw_holds_c_on_one_connection_per_task() {
    let seen = check_bounded("async_raw");
    assert_eq!(seen.connections_accepted, C as u64);
}

/// A server of one canned answer on every connection: `None` answers nothing, ever.
fn canned(answer: Option<&'static [u8]>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            if let Some(answer) = answer {
                use std::io::Write as _;
                let _ = stream.write_all(answer);
            }
            open.push(stream); // kept open: the client must not wait for a close
        }
    });
    format!("http://127.0.0.1:{port}/get")
}

#[test]
fn the_raw_clients_count_bad_and_missing_answers_and_never_hang() {
    let chunked = canned(Some(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n20\r\n",
    ));
    let silent = canned(None);
    for name in ["thread_raw", "async_raw", "coroutine_raw"] {
        for (url, kind) in [(&chunked, "bad_response"), (&silent, "timeout")] {
            let job = Arc::new(Job::new(url.clone(), 2, 4, settings(300)));
            let tally = Arc::new(Tally::default());
            let strategy = strategies::find(name).expect("known strategy");
            (strategy.run)(&job, &tally).expect("strategy runs");
            let summary = tally.summary();
            assert_eq!(summary.ok, 0, "{name}");
            assert_eq!(summary.errors.get(kind), Some(&4), "{name}: {summary:?}");
        }
    }
}

#[test]
fn pitfall_unbounded_puts_all_n_in_flight() {
    let (_, seen) = run("pitfall_unbounded", N);
    assert_eq!(seen.peak_in_flight, N as u64);
}

#[test]
fn pitfall_blocking_in_async_holds_only_the_worker_count() {
    let (_, seen) = run("pitfall_blocking_in_async", 12);
    assert!(seen.peak_in_flight <= WORKERS as u64, "{seen:?}");
    assert!(seen.peak_in_flight >= 1);
}

#[test]
fn pitfall_client_per_request_opens_a_connection_per_request() {
    let (_, seen) = run("pitfall_client_per_request", N);
    assert!(seen.peak_in_flight <= C as u64, "{seen:?}");
    assert_eq!(seen.connections_accepted, N as u64);
}

#[test]
fn a_server_with_nothing_listening_is_counted_as_refused_for_every_request() {
    // A port held bound but not listening for the whole test: no other test's server can
    // take it, and every connection to it is refused.
    let held =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    held.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bound");
    let port = held
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("its address")
        .port();
    for name in [
        "thread_per_request",
        "thread_pool",
        "async_semaphore",
        "async_buffered",
        "thread_raw",
        "async_raw",
        "coroutine_raw",
        "async_hyper",
        "async_h2_floor",
    ] {
        let job = Arc::new(Job::new(
            format!("http://127.0.0.1:{port}/get"),
            4,
            12,
            settings(5_000),
        ));
        let tally = Arc::new(Tally::default());
        let strategy = strategies::find(name).expect("known strategy");
        (strategy.run)(&job, &tally).expect("strategy runs");
        let summary = tally.summary();
        assert_eq!(summary.ok, 0, "{name}");
        assert_eq!(
            summary.errors.get("connection_refused"),
            Some(&12),
            "{name}: {summary:?}"
        );
    }
}

#[test]
fn a_url_that_does_not_parse_stops_every_strategy_before_any_request() {
    // One behaviour for every client: the strategy stops with the URL's error, no request is
    // counted as sent (the worker then counts all N as not run).
    for strategy in strategies::ALL {
        let name = strategy.subject.name;
        let job = Arc::new(Job::new("http://[::1/get".into(), 2, 4, settings(1_000)));
        let tally = Arc::new(Tally::default());
        let stopped = (strategy.run)(&job, &tally);
        assert!(
            matches!(stopped, Err(strategies::strategy::StrategyError::Url(_))),
            "{name}: {stopped:?}"
        );
        let summary = tally.summary();
        assert_eq!(summary.ok, 0, "{name}");
        assert!(summary.errors.is_empty(), "{name}: {summary:?}");
    }
}

#[test]
fn every_http1_strategy_reconnects_when_the_server_closes_at_its_keepalive_limit() {
    // Three responses per connection, then `Connection: close`: a client reopens, no
    // request fails, and the server counts a connection per three requests at least.
    let server = Server::start(&["--keepalive-requests", "3"]);
    for strategy in strategies::ALL {
        let subject = &strategy.subject;
        if !subject.client.speaks_h1() || subject.protocol.is_some() {
            continue;
        }
        let job = Arc::new(Job::new(
            format!("{}/get?delay_ms=10", server.url),
            4,
            24,
            settings(10_000),
        ));
        let tally = Arc::new(Tally::default());
        (strategy.run)(&job, &tally).expect("strategy runs");
        let summary = tally.summary();
        assert_eq!(summary.ok, 24, "{}: {summary:?}", subject.name);
        assert!(summary.errors.is_empty(), "{}: {summary:?}", subject.name);
    }
    let seen = server.stats();
    assert!(seen.keepalive_closes > 0, "{seen:?}");
}

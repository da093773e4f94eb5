//! HTTP/2 and TLS end to end: `async_h2` carries C requests in flight as streams over one
//! connection, the server's stream limit caps what one connection carries, a strategy that
//! speaks HTTP/1.1 only is skipped under `--protocol h2` with the reason; over `--tls` both
//! clients trust the server's own certificate, a client that does not gets `tls_certificate`
//! errors, and a client per request pays a handshake per request by the server's count.

mod common;

use common::Server;

use serde_json::Value;

/// `fanout run --json` of `strategy` at C = 20, N = 40, D = 100 ms with `extra` flags.
fn run(strategy: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["-s", strategy, "-c", "20", "-n", "40", "--delay-ms", "100"];
    args.extend_from_slice(extra);
    let ran = common::run_json(&args);
    assert!(!ran.report.is_null(), "no report: {}", ran.stderr);
    (ran.code, ran.report)
}

#[test]
fn async_h2_carries_c_requests_in_flight_as_streams_on_one_connection() {
    let (code, r) = run("async_h2", &[]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["protocol"], "h2");
    assert_eq!(r["ok"], 40);
    assert_eq!(r["server"]["peak_in_flight"], 20, "{r}");
    // One connection carries them; under load hyper's pool has been seen to race a second
    // one while the first was still connecting (never one per request).
    let connections = r["server"]["connections_accepted"].as_u64().expect("count");
    assert!((1..=2).contains(&connections), "{r}");
    // The same strategy over HTTP/1.1 needs a connection per request in flight.
    let (_, h1) = run("async_semaphore", &[]);
    assert_eq!(h1["protocol"], "h1");
    assert_eq!(h1["server"]["connections_accepted"], 20, "{h1}");
}

#[test]
fn the_h2_floor_carries_c_requests_as_streams_on_exactly_one_connection() {
    let (code, r) = run("async_h2_floor", &[]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["protocol"], "h2");
    assert_eq!(r["ok"], 40, "{r}");
    assert_eq!(r["server"]["peak_in_flight"], 20, "{r}");
    assert_eq!(r["server"]["connections_accepted"], 1, "{r}");
    // hyper without reqwest, its HTTP/1.1 twin: a connection per slot.
    let (code, h1) = run("async_hyper", &[]);
    assert_eq!(code, Some(0), "{h1}");
    assert_eq!(h1["server"]["peak_in_flight"], 20, "{h1}");
    assert_eq!(h1["server"]["connections_accepted"], 20, "{h1}");
    assert!(
        h1["client_config"]["client"]
            .as_str()
            .is_some_and(|c| c.starts_with("hyper "))
    );
}

#[test]
fn the_servers_stream_limit_caps_what_one_connection_carries() {
    // reqwest (hyper's pool) keeps one connection and queues past the limit: at most 5 of
    // its 20 in flight by the server's count.
    let server = Server::start(&["--h2-max-streams", "5"]);
    let (code, r) = run("async_h2", &["--url", &server.url]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["ok"], 40, "every request served, in turn: {r}");
    let seen = &r["server"];
    let connections = seen["connections_accepted"].as_u64().expect("connections");
    let peak = seen["peak_in_flight"].as_u64().expect("peak");
    assert!(peak <= 5 * connections, "{seen}");
    assert!(peak < 20, "the limit held requests back: {seen}");
    assert_eq!(
        seen["limits"]["h2_max_streams"], 5,
        "the server says its limit: {seen}"
    );
}

#[test]
fn the_h2_floor_opens_enough_connections_for_c_under_the_servers_stream_limit() {
    // The server fanout starts, its limit set by fanout's own flag: 20 slots under 8 streams
    // per connection need three, and the server sees all 20 at once.
    let (code, r) = run("async_h2_floor", &["--h2-max-streams", "8"]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["ok"], 40, "{r}");
    assert_eq!(
        r["h2_max_streams"], 8,
        "the point records what it asked: {r}"
    );
    assert_eq!(r["server"]["peak_in_flight"], 20, "{r}");
    assert_eq!(r["server"]["connections_accepted"], 3, "{r}");
    // Server flags go to the server fanout starts, never to one at --url.
    let server = Server::start(&[]);
    let ran = common::run_json(&[
        "-s",
        "async_h2_floor",
        "-c",
        "2",
        "--url",
        &server.url,
        "--profile",
        "go",
    ]);
    assert_ne!(ran.code, Some(0));
    assert!(
        ran.stderr.contains("the server at --url runs with its own"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_strategy_speaking_http1_only_is_skipped_under_h2_with_the_reason() {
    let (code, r) = run("thread_pool", &["--protocol", "h2"]);
    assert_eq!(code, Some(2));
    assert_eq!(r["status"], "skipped");
    assert_eq!(r["reason"], "thread_pool speaks HTTP/1.1 only");
    // A reqwest strategy follows the flag.
    let (code, r) = run("async_buffered", &["--protocol", "h2"]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["server"]["connections_accepted"], 1, "{r}");
}

#[test]
fn over_tls_both_clients_trust_the_servers_certificate_and_handshake_once_per_connection() {
    for strategy in ["thread_pool", "async_semaphore"] {
        let (code, r) = run(strategy, &["--tls"]);
        assert_eq!(code, Some(0), "{r}");
        assert_eq!(r["tls"], true);
        assert_eq!(r["ok"], 40, "{strategy}: {r}");
        assert_eq!(
            r["server"]["tls_handshakes"], 20,
            "{strategy}: one per connection: {r}"
        );
        assert!(
            r["client_config"]["tls"]
                .as_str()
                .is_some_and(|t| t.contains("rustls"))
        );
    }
    // A client per request pays a handshake per request.
    let (_, r) = run("pitfall_client_per_request", &["--tls"]);
    assert_eq!(r["ok"], 40, "{r}");
    assert_eq!(r["server"]["tls_handshakes"], 40, "{r}");
    // HTTP/2 over TLS by ALPN: one connection, one handshake.
    let (_, r) = run("async_h2", &["--tls"]);
    assert_eq!(r["ok"], 40, "{r}");
    assert_eq!(r["server"]["tls_handshakes"], 1, "{r}");
    // The raw clients speak plain HTTP only.
    let (code, r) = run("async_raw", &["--tls"]);
    assert_eq!((code, r["status"].as_str()), (Some(2), Some("skipped")));
}

#[test]
fn a_client_that_does_not_trust_the_certificate_gets_tls_certificate_errors() {
    // A TLS server of the test's own: its certificate is not given to the clients.
    let server = Server::start(&["--tls"]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    for strategy in ["thread_pool", "async_semaphore"] {
        let (code, r) = run(strategy, &["--tls", "--url", &server.url]);
        assert_eq!(code, Some(0), "measured, every request an error: {r}");
        assert_eq!(r["ok"], 0, "{r}");
        assert_eq!(r["errors"]["tls_certificate"], 40, "{strategy}: {r}");
        // Nor does the harness trust it: the server's view is missing, not made up.
        assert!(r["server"].is_null(), "{r}");
    }
}

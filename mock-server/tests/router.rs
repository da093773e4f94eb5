//! Router tests through `oneshot`: every endpoint's answer and every bad-input case.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use mock_server::{AppState, Config, Stats, StatsSnapshot, app, response_body};
use tower::ServiceExt;

fn state() -> AppState {
    AppState {
        config: Config {
            default_delay_ms: 0,
            max_delay_ms: 1_000,
            max_bytes: 4_096,
            ..Config::default()
        },
        stats: Arc::new(Stats::default()),
    }
}

async fn call(state: &AppState, method: Method, uri: &str) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("valid request");
    let response = app(state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.to_vec())
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, String) {
    let (status, body) = call(state, Method::GET, uri).await;
    (status, String::from_utf8(body).expect("utf-8 body"))
}

#[tokio::test]
async fn get_answers_the_default_body_and_honours_bytes_and_status() {
    let s = state();
    for uri in ["/get", "/"] {
        let (status, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_bytes(), response_body(32));
    }
    let (status, body) = get(&s, "/get?bytes=100&status=503&delay_ms=5&jitter_ms=2").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body.as_bytes(), response_body(100));
    let (status, body) = get(&s, "/get?bytes=0").await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn httpbin_endpoints_answer_like_httpbin() {
    let s = state();
    let (status, body) = get(&s, "/delay/0.01").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["delay_s"], 0.01);
    assert_eq!(json["url"], "/delay/0.01");

    assert_eq!(get(&s, "/status/418").await.0, StatusCode::IM_A_TEAPOT);
    assert_eq!(get(&s, "/status/204").await.0, StatusCode::NO_CONTENT);

    let (status, body) = get(&s, "/bytes/10").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "abcdefghij"));

    let (status, body) = get(&s, "/health").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
}

#[tokio::test]
async fn every_bad_parameter_is_a_400_naming_it_and_its_range() {
    let s = state();
    let cases = [
        (
            "/get?delay_ms=abc",
            "delay_ms must be an integer from 0 to 1000, got \"abc\"",
        ),
        (
            "/get?delay_ms=-5",
            "delay_ms must be an integer from 0 to 1000, got \"-5\"",
        ),
        (
            "/get?delay_ms=1001",
            "delay_ms must be an integer from 0 to 1000, got \"1001\"",
        ),
        (
            "/get?jitter_ms=x",
            "jitter_ms must be an integer from 0 to 1000, got \"x\"",
        ),
        (
            "/get?delay_dist=pareto",
            "delay_dist must be one of uniform, lognormal, got \"pareto\"",
        ),
        (
            "/get?delay_dist=lognormal&sigma=4",
            "sigma must be a number from 0.05 to 3, got \"4\"",
        ),
        (
            "/get?connect_delay_ms=-20",
            "connect_delay_ms must be an integer from 0 to 1000, got \"-20\"",
        ),
        (
            "/get?bytes=4097",
            "bytes must be an integer from 0 to 4096, got \"4097\"",
        ),
        (
            "/get?bytes=-1",
            "bytes must be an integer from 0 to 4096, got \"-1\"",
        ),
        (
            "/get?status=99",
            "status must be an integer from 200 to 599, got \"99\"",
        ),
        (
            "/get?status=600",
            "status must be an integer from 200 to 599, got \"600\"",
        ),
        (
            "/get?status=ok",
            "status must be an integer from 200 to 599, got \"ok\"",
        ),
        (
            "/delay/abc",
            "seconds must be a number from 0 to 1, got \"abc\"",
        ),
        (
            "/delay/-1",
            "seconds must be a number from 0 to 1, got \"-1\"",
        ),
        (
            "/delay/2",
            "seconds must be a number from 0 to 1, got \"2\"",
        ),
        (
            "/delay/NaN",
            "seconds must be a number from 0 to 1, got \"NaN\"",
        ),
        (
            "/status/1000",
            "code must be an integer from 200 to 599, got \"1000\"",
        ),
        (
            "/status/abc",
            "code must be an integer from 200 to 599, got \"abc\"",
        ),
        (
            "/bytes/99999",
            "n must be an integer from 0 to 4096, got \"99999\"",
        ),
        (
            "/bytes/-3",
            "n must be an integer from 0 to 4096, got \"-3\"",
        ),
    ];
    for (uri, message) in cases {
        let (status, body) = get(&s, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(body, format!("{message}\n"), "{uri}");
    }
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let s = state();
    let (status, body) = get(&s, "/nope").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, "not found: /nope\n")
    );
    assert_eq!(
        call(&s, Method::POST, "/get").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        call(&s, Method::GET, "/stats/reset").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn stats_count_measured_requests_but_not_themselves_and_reset_zeroes_them() {
    let s = state();
    get(&s, "/get").await;
    get(&s, "/get?delay_ms=2").await;
    get(&s, "/get?bytes=99999").await; // a 400 is still a request served
    get(&s, "/stats").await;
    let (status, body) = get(&s, "/stats").await;
    assert_eq!(status, StatusCode::OK);
    let stats: StatsSnapshot = serde_json::from_str(&body).expect("stats json");
    assert_eq!(stats.requests_served, 3);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.peak_in_flight, 1);
    assert_eq!(stats.delay_overshoot_us.count, 1);

    let (status, body) = call(&s, Method::POST, "/stats/reset").await;
    assert_eq!(status, StatusCode::OK);
    let stats: StatsSnapshot = serde_json::from_slice(&body).expect("stats json");
    // Every counter zeroed; the server's own cost and its configuration stay told.
    let counters = StatsSnapshot {
        peak_rss_bytes: None,
        cpu_s: None,
        open_fds: None,
        profile: None,
        limits: None,
        ..stats
    };
    assert_eq!(counters, StatsSnapshot::default());
    assert_eq!(stats.profile, Some(mock_server::Profile::Default));
    assert_eq!(stats.limits.map(|l| l.h2_max_streams), Some(128));
}

#[tokio::test]
async fn a_stall_its_client_waits_out_is_answered_late_with_the_body_asked_for() {
    let s = AppState {
        config: Config {
            max_delay_ms: 50,
            ..state().config
        },
        ..state()
    };
    let (status, body) = get(&s, "/get?bytes=5&fault=stall").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "abcde"));
    let stats = s.stats.snapshot();
    assert_eq!(
        (stats.faults.stall, stats.stall_held_us.count),
        (1, 0),
        "answered, not abandoned"
    );
}

#[tokio::test]
async fn a_straggler_share_slows_the_drawn_requests_and_stats_counts_them() {
    let s = state();
    let query = "/get?delay_ms=1&straggler_p=0.2&straggler_x=3&straggler_seed=5";
    let mut counts = Vec::new();
    for _ in 0..2 {
        s.stats.reset();
        for _ in 0..100 {
            assert_eq!(get(&s, query).await.0, StatusCode::OK);
        }
        counts.push(s.stats.snapshot().stragglers);
    }
    let drawn = (0..100)
        .filter(|&n| mock_server::draw::hits(5, n, 0.2))
        .count() as u64;
    assert_eq!(counts, [drawn, drawn], "the seed's draw, the same twice");
    // A straggler waits its delay times X: it cannot answer sooner.
    let started = std::time::Instant::now();
    let (status, _) = get(&s, "/get?delay_ms=100&straggler_p=1&straggler_x=3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn the_servers_default_straggler_share_reaches_requests_that_name_none() {
    let mut s = state();
    s.config.straggler = Some(mock_server::Straggler {
        p: 1.0,
        x: 2.0,
        seed: 0,
    });
    assert_eq!(get(&s, "/get?delay_ms=1").await.0, StatusCode::OK);
    assert_eq!(s.stats.snapshot().stragglers, 1);
}

#[tokio::test]
async fn bad_straggler_parameters_are_a_400_naming_them() {
    let s = state();
    for (query, says) in [
        ("straggler_p=-1", "straggler_p must be a number from 0 to 1"),
        (
            "straggler_p=0.1&straggler_x=0",
            "straggler_x must be a number from 1 to 1000",
        ),
        (
            "straggler_p=0.1&straggler_seed=x",
            "straggler_seed must be an integer",
        ),
    ] {
        let (status, body) = get(&s, &format!("/get?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(body.contains(says), "{query}: {body}");
    }
}

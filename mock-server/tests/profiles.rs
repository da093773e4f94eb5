//! The profiles' limits hold on real sockets: a connection closes after its keep-alive
//! requests (HTTP/1.1 and HTTP/2), an idle HTTP/1.1 connection is closed after the keep-alive
//! timeout, no more connections are open than allowed, and `/stats` says the profile, the
//! limits and the server's own cost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mock_server::{AppState, Config, Profile, ServerLimits, Stats, StatsSnapshot, listener, run};

/// Starts the server with `limits` on 127.0.0.1:0 inside this test's runtime.
async fn start(limits: ServerLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = listener::bind("127.0.0.1:0".parse().expect("addr"), 4096).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState {
        config: Config {
            profile: Profile::Nginx,
            limits,
            ..Config::default()
        },
        stats: Arc::new(Stats::default()),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        run(listener, state, shutdown, Duration::from_secs(5))
            .await
            .expect("serve");
    });
    (addr, stop)
}

/// `/stats` on a connection of its own (closed after), so it adds one connection accepted.
async fn stats(addr: SocketAddr) -> StatsSnapshot {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let body = client
        .get(format!("http://{addr}/stats"))
        .send()
        .await
        .expect("GET /stats")
        .bytes()
        .await
        .expect("body");
    serde_json::from_slice(&body).expect("stats json")
}

/// `n` requests one after another through `client`, each ok.
async fn one_by_one(client: &reqwest::Client, addr: SocketAddr, n: usize) {
    for _ in 0..n {
        let response = client
            .get(format!("http://{addr}/get?bytes=3"))
            .send()
            .await
            .expect("a response");
        assert_eq!(response.status(), 200);
        assert_eq!(&response.bytes().await.expect("body")[..], b"abc");
    }
}

fn limited(keepalive_requests: Option<u64>) -> ServerLimits {
    ServerLimits {
        h2_max_streams: 128,
        keepalive_requests,
        ..ServerLimits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closes_after_its_keepalive_requests_on_either_protocol() {
    // HTTP/1.1 by `Connection: close` on the last response, HTTP/2 by GOAWAY.
    for http2 in [false, true] {
        let (addr, _stop) = start(limited(Some(2))).await;
        let builder = reqwest::Client::builder();
        let builder = if http2 {
            builder.http2_prior_knowledge()
        } else {
            builder.http1_only()
        };
        let client = builder.build().expect("client");
        one_by_one(&client, addr, 6).await;
        let s = stats(addr).await;
        // Six requests two per connection: three connections ended by the server (and the
        // stats client's fourth). hyper's pool may also dial one it then does not use (a
        // connect raced against a pooled connection: about one run in ten over HTTP/1.1,
        // before the faults too), so the connections are counted at least.
        assert_eq!(
            (s.requests_served, s.keepalive_closes),
            (6, 3),
            "HTTP/2 {http2}: {s:?}"
        );
        assert!(s.connections_accepted >= 4, "HTTP/2 {http2}: {s:?}");
        assert_eq!(s.profile, Some(Profile::Nginx));
        assert_eq!(s.limits.and_then(|l| l.keepalive_requests), Some(2));
        assert!(s.cpu_s.is_some(), "the server's own CPU: {s:?}");
        if cfg!(target_os = "linux") {
            assert!(s.peak_rss_bytes.is_some_and(|b| b > 0), "{s:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http1_connection_is_closed_after_the_keepalive_timeout() {
    let (addr, _stop) = start(ServerLimits {
        keepalive_timeout_ms: Some(100),
        ..limited(None)
    })
    .await;
    let client = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client");
    one_by_one(&client, addr, 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    one_by_one(&client, addr, 1).await;
    // The first connection timed out idle: the second request came on a new one.
    let s = stats(addr).await;
    assert_eq!(s.connections_accepted, 3, "{s:?}");
    let (unlimited, _stop) = start(limited(None)).await;
    one_by_one(&client, unlimited, 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    one_by_one(&client, unlimited, 1).await;
    assert_eq!(
        stats(unlimited).await.connections_accepted,
        2,
        "kept without a limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_connections_are_open_than_the_limit_and_the_rest_wait() {
    // Idle connections close after 100 ms: kept alive (as the client's pool keeps them),
    // the two served first would hold both slots until the client let them go.
    let (addr, _stop) = start(ServerLimits {
        max_connections: Some(2),
        keepalive_timeout_ms: Some(100),
        ..limited(None)
    })
    .await;
    let client = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client");
    // Four at once, each 300 ms: two are served, the other two wait to be accepted until the
    // first two connections have closed idle.
    let requests = (0..4).map(|_| {
        let client = client.clone();
        async move {
            let r = client
                .get(format!("http://{addr}/get?delay_ms=300"))
                .send()
                .await
                .expect("a response");
            assert_eq!(r.status(), 200);
        }
    });
    futures::future::join_all(requests).await;
    let s = stats(addr).await;
    assert!(s.peak_connections_open <= 2, "{s:?}");
    assert_eq!(s.peak_in_flight, 2, "{s:?}");
    assert!(s.connection_limit_waits >= 1, "{s:?}");
    assert_eq!(s.requests_served, 4, "{s:?}");
}

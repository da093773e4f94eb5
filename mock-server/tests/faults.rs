//! Each injected fault does on a real socket what its kind says, and `/stats` counts it: a
//! reset is an RST after half the body, a truncation a FIN after half, a stall no answer until
//! the client goes (the server noting how long it held it), a trickle a byte at a time, a
//! close a `Connection: close`, an accept stall a listener that waits; over HTTP/2 a reset
//! takes every stream of its connection while an RST_STREAM takes one. Bad fault parameters
//! are a 400 naming them, and a server-wide default reaches every request that names none.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mock_server::{AppState, Config, Fault, FaultKind, Stats, StatsSnapshot, listener, run};

/// Starts the server with `fault` as its default on 127.0.0.1:0 inside this test's runtime.
async fn start(fault: Option<Fault>) -> SocketAddr {
    // reqwest's TLS needs a provider where the workspace's features leave it to the caller.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = listener::bind("127.0.0.1:0".parse().expect("addr"), 4096).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState {
        config: Config {
            fault,
            max_delay_ms: 10_000,
            ..Config::default()
        },
        stats: Arc::new(Stats::default()),
    };
    tokio::spawn(async move {
        run(
            listener,
            state,
            std::future::pending(),
            Duration::from_secs(1),
        )
        .await
        .expect("serve");
    });
    addr
}

async fn stats(addr: SocketAddr) -> StatsSnapshot {
    let body = reqwest::get(format!("http://{addr}/stats"))
        .await
        .expect("GET /stats")
        .bytes()
        .await
        .expect("body");
    serde_json::from_slice(&body).expect("stats json")
}

/// How a raw exchange ended.
#[derive(Debug)]
enum End {
    /// The whole response as its `Content-Length` said.
    Complete,
    /// The server closed the connection (FIN) before that.
    Fin,
    /// A read failed: an RST, or the client's own timeout.
    Failed(std::io::Error),
}

/// The length a complete response head promises, and where its body starts.
fn promised(got: &[u8]) -> Option<(usize, usize)> {
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))?
        .trim()
        .parse()
        .ok()?;
    Some((head_end, len))
}

/// What a raw HTTP/1.1 GET of `path` read, and how it ended.
fn raw_get(addr: SocketAddr, path: &str, timeout: Duration) -> (Vec<u8>, End) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(timeout)).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        if let Some((body_at, len)) = promised(&got)
            && got.len() >= body_at + len
        {
            return (got, End::Complete);
        }
        match stream.read(&mut buf) {
            Ok(0) => return (got, End::Fin),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, End::Failed(e)),
        }
    }
}

/// The same in a blocking task, so the server's runtime goes on meanwhile.
async fn get(addr: SocketAddr, path: &str, timeout: Duration) -> (String, End) {
    let path = path.to_owned();
    let (got, end) = tokio::task::spawn_blocking(move || raw_get(addr, &path, timeout))
        .await
        .expect("joined");
    (String::from_utf8_lossy(&got).into_owned(), end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_is_an_rst_after_half_the_body_and_a_truncation_a_fin() {
    let addr = start(None).await;
    let (got, end) = get(addr, "/get?bytes=32&fault=reset", Duration::from_secs(5)).await;
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
    assert!(got.contains("content-length: 32"), "{got}");
    assert!(
        got.ends_with("\r\n\r\nabcdefghijklmnop"),
        "half the body: {got}"
    );
    let End::Failed(err) = end else {
        panic!("an RST, not {end:?}")
    };
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");

    let (got, end) = get(addr, "/get?bytes=32&fault=truncate", Duration::from_secs(5)).await;
    assert!(got.contains("content-length: 32"), "{got}");
    assert!(
        got.ends_with("\r\n\r\nabcdefghijklmnop"),
        "half the body: {got}"
    );
    assert!(matches!(end, End::Fin), "a FIN, not {end:?}");

    let (got, _) = get(
        addr,
        "/get?fault=status&fault_code=502",
        Duration::from_secs(5),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 502"), "{got}");
    let (got, end) = get(addr, "/get?fault=close", Duration::from_secs(5)).await;
    assert!(got.contains("connection: close"), "{got}");
    assert!(matches!(end, End::Complete), "answered whole: {end:?}");

    let s = stats(addr).await;
    let f = s.faults;
    assert_eq!(
        (f.reset, f.truncate, f.status, f.close),
        (1, 1, 1, 1),
        "{f:?}"
    );
    assert_eq!(f.total(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_holds_until_the_client_goes_and_the_server_notes_how_long() {
    let addr = start(None).await;
    let (got, end) = get(addr, "/get?fault=stall", Duration::from_millis(300)).await;
    assert_eq!(got, "", "no answer");
    let End::Failed(err) = end else {
        panic!("the client gave up, not {end:?}")
    };
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    // The client's socket is closed now: the server sees it go and drops the request.
    let mut s = stats(addr).await;
    let waited = Instant::now();
    while s.stall_held_us.count == 0 && waited.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        s = stats(addr).await;
    }
    assert_eq!(s.faults.stall, 1);
    assert_eq!(s.stall_held_us.count, 1, "{s:?}");
    assert!(
        s.stall_held_us.max >= 300_000,
        "held at least the client's 300 ms: {s:?}"
    );
    assert_eq!(s.requests_cancelled, 1);
    assert_eq!(s.in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickle_sends_a_byte_at_a_time_and_an_accept_stall_stops_the_listener() {
    let addr = start(None).await;
    let started = Instant::now();
    let (got, end) = get(
        addr,
        "/get?bytes=5&fault=trickle&fault_trickle_ms=40&fault_seed=1",
        Duration::from_secs(5),
    )
    .await;
    // Five gaps of 40 ms at least before the last byte: a behaviour, not a speed.
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(got.ends_with("\r\n\r\nabcde"), "{got}");
    assert!(matches!(end, End::Complete), "{end:?}");

    let (got, _) = get(
        addr,
        "/get?fault=accept_stall&fault_stall_ms=400",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        got.starts_with("HTTP/1.1 200"),
        "the request itself is answered: {got}"
    );
    let started = Instant::now();
    let (got, _) = get(addr, "/get", Duration::from_secs(5)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "a new connection waited for the listener"
    );
    let f = stats(addr).await.faults;
    assert_eq!((f.trickle, f.accept_stall), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_hits_that_many_requests_and_the_same_seed_the_same_count() {
    let addr = start(None).await;
    let client = reqwest::Client::new();
    let mut counts = Vec::new();
    for _ in 0..2 {
        client
            .post(format!("http://{addr}/stats/reset"))
            .send()
            .await
            .expect("reset");
        let mut statuses = 0;
        for _ in 0..400 {
            let r = client
                .get(format!(
                    "http://{addr}/get?fault=status&fault_p=0.1&fault_seed=9"
                ))
                .send()
                .await
                .expect("answered");
            statuses += u64::from(r.status() == 503);
        }
        let injected = stats(addr).await.faults.status;
        assert_eq!(injected, statuses, "the server counts what it sent");
        counts.push(injected);
    }
    assert_eq!(counts[0], counts[1], "the same seed, the same requests");
    assert!(
        (20..=60).contains(&counts[0]),
        "about 10% of 400: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_default_fault_reaches_requests_that_name_none() {
    let addr = start(Some(Fault {
        code: 500,
        ..Fault::every(FaultKind::Status)
    }))
    .await;
    let (got, _) = get(addr, "/get", Duration::from_secs(5)).await;
    assert!(got.starts_with("HTTP/1.1 500"), "{got}");
    let (got, _) = get(
        addr,
        "/get?fault=status&fault_code=599",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        got.starts_with("HTTP/1.1 599"),
        "a request's own fault wins: {got}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_fault_parameters_are_a_400_naming_them() {
    let addr = start(None).await;
    for (query, says) in [
        ("fault=explode", "fault must be one of"),
        (
            "fault=reset&fault_p=2",
            "fault_p must be a number from 0 to 1",
        ),
        (
            "fault=trickle&fault_trickle_ms=0",
            "fault_trickle_ms must be an integer from 1",
        ),
        (
            "fault=status&fault_code=404",
            "fault_code must be an integer from 500 to 599",
        ),
    ] {
        let (got, _) = get(addr, &format!("/get?{query}"), Duration::from_secs(5)).await;
        assert!(got.starts_with("HTTP/1.1 400"), "{query}: {got}");
        assert!(got.contains(says), "{query}: {got}");
    }
    assert_eq!(stats(addr).await.faults.total(), 0);
}

/// Nine plain requests in flight on `client`'s one connection (300 ms each), then one asking
/// for `fault` (answered, and cut, at once): the plain ones' outcomes, and whether the faulty
/// one failed.
async fn nine_beside(
    client: &reqwest::Client,
    addr: SocketAddr,
    fault: &str,
) -> (Vec<reqwest::Result<axum::body::Bytes>>, bool) {
    let plain: Vec<_> = (0..9)
        .map(|_| {
            let c = client.clone();
            let u = format!("http://{addr}/get?delay_ms=300");
            tokio::spawn(async move { c.get(u).send().await?.bytes().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let faulty = async {
        let url = format!("http://{addr}/get?delay_ms=0&fault={fault}");
        client.get(url).send().await?.bytes().await
    };
    let failed = faulty.await.is_err();
    let mut outcomes = Vec::new();
    for p in plain {
        outcomes.push(p.await.expect("joined"));
    }
    (outcomes, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http2_a_reset_takes_every_stream_of_its_connection_and_rst_stream_one() {
    let addr = start(None).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let (plain, failed) = nine_beside(&client, addr, "reset").await;
    assert!(failed, "the resetting request fails");
    let lost = plain.iter().filter(|p| p.is_err()).count();
    assert_eq!(lost, 9, "every stream on the connection went with it");
    let (plain, failed) = nine_beside(&client, addr, "rst_stream").await;
    assert!(failed, "the reset stream fails");
    assert!(
        plain.iter().all(Result::is_ok),
        "the other streams are answered"
    );
    let f = stats(addr).await.faults;
    assert_eq!((f.reset, f.rst_stream), (1, 1));
}

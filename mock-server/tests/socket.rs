//! Real sockets: many requests in flight at once, malformed input, and the binary's contract
//! (first stdout line, graceful stop on SIGTERM).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mock_server::{AppState, Config, Stats, StatsSnapshot, listener, run};

/// Starts the server on 127.0.0.1:0 inside this test's runtime; returns its address and the
/// sender that stops it.
async fn start() -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    // In a workspace build reqwest may come without a crypto provider of its own (fanout
    // brings ring): give it the process default, as fanout does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = listener::bind("127.0.0.1:0".parse().expect("addr"), 4096).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState {
        config: Config::default(),
        stats: Arc::new(Stats::default()),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(async move {
        run(listener, state, shutdown, Duration::from_secs(10))
            .await
            .expect("serve");
    });
    (addr, stop, task)
}

async fn stats(client: &reqwest::Client, addr: SocketAddr) -> StatsSnapshot {
    let body = client
        .get(format!("http://{addr}/stats"))
        .send()
        .await
        .expect("GET /stats")
        .bytes()
        .await
        .expect("stats body");
    serde_json::from_slice(&body).expect("stats json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_delayed_requests_are_all_in_flight_at_once() {
    const IN_FLIGHT: usize = 1_000;
    let (addr, stop, task) = start().await;
    let client = reqwest::Client::new();
    // The delay is long enough for all connections to be set up while the first still waits.
    let url = format!("http://{addr}/get?delay_ms=3000");
    let requests = (0..IN_FLIGHT).map(|_| {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let response = client.get(url).send().await.expect("send");
            assert_eq!(response.status(), 200);
            response.bytes().await.expect("body").len()
        })
    });
    for length in futures::future::join_all(requests).await {
        assert_eq!(length.expect("task"), 32);
    }
    let seen = stats(&client, addr).await;
    assert_eq!(seen.requests_served, IN_FLIGHT as u64);
    assert_eq!(seen.peak_in_flight, IN_FLIGHT as u64);
    assert!(seen.peak_connections_open >= IN_FLIGHT as u64);
    assert_eq!(seen.connections_accepted, seen.peak_connections_open);
    assert_eq!(seen.delay_overshoot_us.count, IN_FLIGHT as u64);
    assert_eq!(seen.in_flight, 0);
    stop.send(()).expect("server running");
    task.await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bytes_and_huge_headers_leave_it_serving() {
    let (addr, stop, task) = start().await;
    let garbage: Vec<&[u8]> = vec![
        b"\x00\x01\x02\xff\xfe garbage\r\n\r\n",
        b"GET /get HTTP/9.9\r\n\r\n",
        b"GET /get HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GE",
        b"\r\n\r\n\r\n",
    ];
    let huge_header = format!(
        "GET /get HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    tokio::task::spawn_blocking(move || {
        for bytes in garbage.iter().copied().chain([huge_header.as_bytes()]) {
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            // The server may close before reading everything: a write error is fine.
            let _ = stream.write_all(bytes);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            let answer = String::from_utf8_lossy(&answer);
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
                "a malformed request got: {answer}"
            );
        }
    })
    .await
    .expect("raw client");
    let client = reqwest::Client::new();
    let response = client
        .get(format!("http://{addr}/get"))
        .send()
        .await
        .expect("still serving");
    assert_eq!(response.status(), 200);
    stop.send(()).expect("server running");
    task.await.expect("server task");
}

/// The mock-server binary started with `args` (stderr quiet) and the address its first line
/// announces.
fn spawn_announced(args: &[&str]) -> (std::process::Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-server"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mock-server");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    let addr = first
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .expect("resolved address");
    (child, addr)
}

/// `GET /health` on a connection of its own to `addr`, closed after: the whole answer.
fn health_at(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn the_binary_announces_its_address_first_and_stops_cleanly_on_sigterm() {
    let (mut child, addr) = spawn_announced(&["--addr", "127.0.0.1:0", "--delay-ms", "1"]);
    assert_ne!(addr.port(), 0, "the real port, not the one asked for");

    let answer = health_at(addr);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit after SIGTERM: {status}");
}

#[test]
fn with_loopback_addresses_one_port_serves_at_each_of_them_and_not_beyond() {
    let (mut child, addr) =
        spawn_announced(&["--addr", "127.0.0.1:0", "--loopback-addresses", "3"]);
    let at = |last: u8| SocketAddr::from(([127, 0, 0, last], addr.port()));
    for last in 1..=3 {
        let answer = health_at(at(last));
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "127.0.0.{last}: {answer}"
        );
    }
    let beyond = TcpStream::connect(at(4));
    assert!(beyond.is_err(), "127.0.0.4 was not asked for: {beyond:?}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn bad_command_lines_are_refused_with_the_reason() {
    for (args, reason) in [
        (
            &["--delay-ms", "abc"][..],
            "invalid value 'abc' for '--delay-ms",
        ),
        (&["--workers", "0"][..], "--workers"),
        (
            &["--delay-ms", "70000"][..],
            "--delay-ms 70000 is above --max-delay-ms 60000",
        ),
        (
            &["--addr", "nowhere"][..],
            "invalid value 'nowhere' for '--addr",
        ),
        (
            &["--addr", "127.255.255.250:0", "--loopback-addresses", "9"][..],
            "9 loopback addresses from 127.255.255.250 leave 127.0.0.0/8",
        ),
        (
            &["--addr", "[::1]:0", "--loopback-addresses", "2"][..],
            "need an IPv4 loopback address to start from",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mock-server"))
            .args(args)
            .output()
            .expect("run mock-server");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_delay_is_paid_by_the_first_request_on_each_connection_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, stop, task) = start().await;
    // Two connections of our own (no client pool to race with), three requests in turn on each.
    let request = b"GET /get?delay_ms=0&connect_delay_ms=300&bytes=3 HTTP/1.1\r\nhost: x\r\n\r\n";
    let mut latencies = Vec::new();
    for _ in 0..2 {
        let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
        for _ in 0..3 {
            let start = std::time::Instant::now();
            conn.write_all(request).await.expect("write");
            // Read up to the end of the 3-byte body "abc".
            let mut seen = Vec::new();
            while !seen.ends_with(b"\r\n\r\nabc") {
                let mut buf = [0u8; 512];
                let n = conn.read(&mut buf).await.expect("read");
                assert!(n > 0, "closed: {}", String::from_utf8_lossy(&seen));
                seen.extend_from_slice(&buf[..n]);
            }
            assert!(
                seen.starts_with(b"HTTP/1.1 200"),
                "{}",
                String::from_utf8_lossy(&seen)
            );
            latencies.push(start.elapsed());
        }
    }
    let s = stats(&reqwest::Client::new(), addr).await;
    // Six requests, two connections (and the stats client's): two paid it (each payment is
    // counted), the four later requests on the same connections did not.
    assert_eq!(
        (s.connections_accepted, s.connections_delayed),
        (3, 2),
        "{s:?}"
    );
    // A first request waited the whole delay.
    assert!(latencies[0] >= Duration::from_millis(300), "{latencies:?}");
    assert!(latencies[3] >= Duration::from_millis(300), "{latencies:?}");
    let _ = stop.send(());
    task.await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_http2_preface_ends_that_connection_and_the_server_goes_on() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, stop, task) = start().await;
    let mut bad = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The HTTP/2 preface, then a frame header that is no frame: a SETTINGS frame claiming
    // 16 MiB on stream 7.
    bad.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\x04\x00\x00\x00\x00\x07garbage")
        .await
        .expect("write");
    let mut rest = Vec::new();
    // The server answers with its own frames (GOAWAY among them) and closes.
    let read = tokio::time::timeout(Duration::from_secs(10), bad.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the server closed the bad connection");
    // Another client is served as before, over HTTP/1.1 and over HTTP/2.
    let h1 = reqwest::Client::new();
    let response = h1
        .get(format!("http://{addr}/get"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let response = h2
        .get(format!("http://{addr}/get"))
        .send()
        .await
        .expect("GET over h2");
    assert_eq!(
        (response.status().as_u16(), response.version()),
        (200, reqwest::Version::HTTP_2)
    );
    let _ = stop.send(());
    task.await.expect("server task");
}

//! The h2 crate and tokio alone: the lower bound of the HTTP/2 floor (`async_h2_floor`). C
//! tasks on a current-thread runtime take N requests as streams on one connection, as the floor
//! does, with its windows and its reading of each body; without fanout's request driver
//! (deadline, retries, hedge), tally, response check or counting allocator. A load generator
//! as h2load is, metered from outside (`scripts/metered.py`), so `scripts/h2-parity.sh` can
//! split the floor's cost from h2load's into what the h2 crate and tokio take and what
//! fanout adds. Prints one JSON line: requests per second, ok, errors.
//!
//! ```text
//! cargo run --release -p fanout --example bare_h2 -- URL N C
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use fanout::clients::h2_conn::{CONNECTION_WINDOW, STREAM_WINDOW};
use h2::client::SendRequest;
use hyper::body::Bytes;

const USAGE: &str = "usage: bare_h2 URL N C   (URL: http://HOST:PORT/PATH, spoken as HTTP/2 with prior knowledge; N requests; C streams in flight)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, n, c] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (Ok(uri), Ok(n), Ok(c)) = (
        url.parse::<hyper::Uri>(),
        n.parse::<usize>(),
        c.parse::<usize>(),
    ) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let Some(authority) = uri.authority().map(|a| a.to_string()) else {
        eprintln!("bare_h2: {url} names no host and port\n{USAGE}");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bare_h2: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let (ok, errors) = match runtime.block_on(run(uri, &authority, n, c.max(1))) {
        Ok(counts) => counts,
        Err(e) => {
            eprintln!("bare_h2: {authority}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"throughput_rps\": {:.1}, \"ok\": {ok}, \"errors\": {errors}}}",
        ok as f64 / seconds
    );
    ExitCode::SUCCESS
}

/// One connection, C tasks on it until N requests are taken; the requests ok and in error.
async fn run(
    uri: hyper::Uri,
    authority: &str,
    n: usize,
    c: usize,
) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let stream = tokio::net::TcpStream::connect(authority).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = h2::client::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake::<_, Bytes>(stream)
        .await?;
    tokio::spawn(connection);
    let left = Arc::new(AtomicUsize::new(n));
    let ok = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..c.min(n) {
        let (mut sender, uri) = (sender.clone(), uri.clone());
        let (left, ok) = (Arc::clone(&left), Arc::clone(&ok));
        tasks.spawn(async move {
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
                .is_ok()
            {
                if stream_ok(&mut sender, &uri).await.unwrap_or(false) {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    tasks.join_all().await;
    let ok = ok.load(Ordering::Relaxed);
    Ok((ok, n - ok))
}

/// One request as a stream: whether it answered 200 with a body, read as the floor reads it
/// (the window given back as each frame arrives).
async fn stream_ok(sender: &mut SendRequest<Bytes>, uri: &hyper::Uri) -> Result<bool, h2::Error> {
    std::future::poll_fn(|cx| sender.poll_ready(cx)).await?;
    let mut request = hyper::Request::new(());
    *request.uri_mut() = uri.clone();
    let (response, _) = sender.send_request(request, true)?;
    let response = response.await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut bytes = 0;
    while !body.is_end_stream()
        && let Some(chunk) = body.data().await
    {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes += chunk.len();
    }
    Ok(status == 200 && bytes > 0)
}

//! Micro-benchmarks: what one OS thread and one tokio task cost to spawn and join and to switch
//! to, and what one keep-alive request at delay 0 costs through ureq (blocking) and reqwest
//! (async) against the mock server, which runs as its own process.
//!
//! Groups: `spawn_join/{os_thread,tokio_task_current_thread,tokio_task_multi_thread}/{1,1000}`,
//! `ping_pong/{os_threads_crossbeam,tokio_tasks_current_thread,tokio_tasks_multi_thread}`,
//! `request/{ureq_blocking,reqwest_current_thread}`. 100 samples, 0.3 s warm-up, 1.5 s
//! measurement each: the whole file runs in about half a minute.

use std::hint::black_box;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use fanout::run::harness::current_exe;
use fanout::run::role::play_role;
use fanout::run::server::ServerProcess;

/// Spawned at once in the batch variant of `spawn_join`.
const BATCH: u64 = 1_000;
/// Worker threads of the multi-thread runtime (as the strategies default to: the cores).
const WORKERS: usize = 2;

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current-thread runtime")
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("multi-thread runtime")
}

fn spawn_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_join");
    let (single, multi) = (current_thread(), multi_thread());
    for count in [1, BATCH] {
        group.throughput(Throughput::Elements(count));
        group.bench_with_input(BenchmarkId::new("os_thread", count), &count, |b, &n| {
            b.iter(|| {
                let handles: Vec<_> = (0..n)
                    .map(|i| {
                        thread::Builder::new()
                            .spawn(move || black_box(i))
                            .expect("spawn a thread")
                    })
                    .collect();
                handles.into_iter().for_each(|h| {
                    h.join().expect("join");
                });
            });
        });
        for (name, runtime) in [
            ("tokio_task_current_thread", &single),
            ("tokio_task_multi_thread", &multi),
        ] {
            group.bench_with_input(BenchmarkId::new(name, count), &count, |b, &n| {
                b.iter(|| {
                    runtime.block_on(async {
                        let handles: Vec<_> = (0..n)
                            .map(|i| tokio::spawn(async move { black_box(i) }))
                            .collect();
                        for h in handles {
                            h.await.expect("join");
                        }
                    });
                });
            });
        }
    }
    group.finish();
}

/// Round trips between two threads over crossbeam channels.
fn threads_round_trips(iters: u64) -> Duration {
    let (ping_tx, ping_rx) = crossbeam_channel::bounded::<u64>(1);
    let (pong_tx, pong_rx) = crossbeam_channel::bounded::<u64>(1);
    let echo = thread::Builder::new()
        .spawn(move || {
            while let Ok(v) = ping_rx.recv() {
                if pong_tx.send(v).is_err() {
                    break;
                }
            }
        })
        .expect("spawn the echo thread");
    let start = Instant::now();
    for i in 0..iters {
        ping_tx.send(i).expect("echo alive");
        black_box(pong_rx.recv().expect("echo alive"));
    }
    let elapsed = start.elapsed();
    drop(ping_tx);
    echo.join().expect("join");
    elapsed
}

/// Round trips between two tasks over tokio channels, on `runtime`.
fn tasks_round_trips(runtime: &tokio::runtime::Runtime, iters: u64) -> Duration {
    runtime.block_on(async {
        let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(1);
        let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(1);
        let echo = tokio::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                if pong_tx.send(v).await.is_err() {
                    break;
                }
            }
        });
        // The ping side is a task too, so both ends are switched to by the scheduler.
        let pinger = tokio::spawn(async move {
            let start = Instant::now();
            for i in 0..iters {
                ping_tx.send(i).await.expect("echo alive");
                black_box(pong_rx.recv().await.expect("echo alive"));
            }
            start.elapsed()
        });
        let elapsed = pinger.await.expect("pinger");
        echo.await.expect("echo");
        elapsed
    })
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong");
    group.throughput(Throughput::Elements(1));
    group.bench_function("os_threads_crossbeam", |b| {
        b.iter_custom(threads_round_trips)
    });
    let (single, multi) = (current_thread(), multi_thread());
    group.bench_function("tokio_tasks_current_thread", |b| {
        b.iter_custom(|iters| tasks_round_trips(&single, iters));
    });
    group.bench_function("tokio_tasks_multi_thread", |b| {
        b.iter_custom(|iters| tasks_round_trips(&multi, iters));
    });
    group.finish();
}

fn request(c: &mut Criterion, base_url: &str) {
    let url = format!("{base_url}/get?delay_ms=0&bytes=32");
    let mut group = c.benchmark_group("request");
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .input_buffer_size(fanout::clients::ureq_agent::UREQ_BUFFER_BYTES)
            .output_buffer_size(fanout::clients::ureq_agent::UREQ_BUFFER_BYTES)
            .proxy(None)
            .build(),
    );
    group.bench_function("ureq_blocking", |b| {
        b.iter(|| {
            let mut response = agent.get(&url).call().expect("GET");
            assert_eq!(response.status(), 200);
            black_box(response.body_mut().read_to_vec().expect("body"));
        });
    });
    let runtime = current_thread();
    // reqwest is built without a crypto provider of its own in this workspace (fanout brings
    // ring for both clients): give it the process default, as fanout does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    group.bench_function("reqwest_current_thread", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = client.get(&url).send().await.expect("GET");
                assert_eq!(response.status(), 200);
                black_box(response.bytes().await.expect("body"));
            });
        });
    });
    group.finish();
}

fn main() -> ExitCode {
    // Re-executed as the mock server: play that role and stop.
    if let Some(code) = play_role() {
        return code;
    }
    let exe = current_exe().expect("locating this benchmark's executable");
    let server =
        match ServerProcess::start(&exe, &fanout::run::server::ServerFlags::default(), 1, None) {
            Ok(server) => server,
            Err(e) => {
                eprintln!("micro: {e}");
                return ExitCode::FAILURE;
            }
        };
    // 100 samples over 0.3 s of warm-up and 1.5 s of measurement each (criterion's defaults
    // are 3 and 5): these take µs, so 1.5 s holds thousands of iterations a sample, and the
    // time saved counts towards a fresh `cargo bench`'s 15 minutes. 10,000 bootstrap resamples (criterion's
    // default is 100,000), as the sweep takes: the analysis and its charts scale with them.
    let mut criterion = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_millis(1_500))
        .nresamples(10_000)
        .configure_from_args();
    spawn_join(&mut criterion);
    ping_pong(&mut criterion);
    request(&mut criterion, server.url());
    criterion.final_summary();
    ExitCode::SUCCESS
}

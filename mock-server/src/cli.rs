//! The `mock-server` command line: parse, raise the open-file limit, bind, announce, serve.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;

use crate::tls as mock_tls;
use crate::{
    AppState, Config, FaultFlags, ServerFlags, Stats, StragglerFlags, listener, run_with_tls,
};

/// How long requests in flight may finish after SIGINT/SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// HTTP delay server for concurrency benchmarks. First stdout line: `listening on http://ADDR`
/// (`https://` with --tls).
#[derive(Debug, Clone, Parser)]
#[command(name = "mock-server", version)]
pub struct Args {
    /// Address to bind (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    /// Delay of `/get` and `/health` when the request names none, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Tokio worker threads (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub workers: Option<u32>,
    /// Listen on this many loopback addresses, one port: --addr's and the ones after it
    /// (127.0.0.1, 127.0.0.2, …). Each is a destination of its own for a client, with its own
    /// ephemeral ports and its own TIME_WAIT sockets, so connections spread over them never
    /// wait for one destination's ports.
    // At most 4,096: with --tls each address is a name of the certificate, which must stay
    // well under a TLS handshake message's 64 KiB.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub loopback_addresses: u32,
    /// Listen backlog asked for; the kernel caps it at net.core.somaxconn.
    #[arg(long, default_value_t = 65_535, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub backlog: u32,
    /// Largest delay a request may ask for, in milliseconds (at most a day).
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(0..=86_400_000))]
    pub max_delay_ms: u64,
    /// Largest response body a request may ask for, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(0..=1 << 30))]
    pub max_bytes: u64,
    /// The profile and its limits.
    #[command(flatten)]
    pub server: ServerFlags,
    /// A fault for every `/get` that names none of its own.
    #[command(flatten)]
    pub fault: FaultFlags,
    /// A straggler share for every `/get` that names none of its own.
    #[command(flatten)]
    pub straggler: StragglerFlags,
    /// Serve HTTPS with a self-signed certificate made at start (HTTP/2 by ALPN too).
    #[arg(long)]
    pub tls: bool,
    /// With --tls: write the certificate (PEM) here, for clients to trust.
    #[arg(long, requires = "tls")]
    pub tls_ca_out: Option<std::path::PathBuf>,
    /// Stop, as on SIGTERM, when stdin reaches its end: for a parent that starts the server
    /// on a pipe, so that the server never outlives it (a parent that crashes closes the pipe).
    #[arg(long)]
    pub exit_when_stdin_closes: bool,
}

impl Args {
    fn config(&self) -> anyhow::Result<Config> {
        if self.delay_ms > self.max_delay_ms {
            bail!(
                "--delay-ms {} is above --max-delay-ms {}",
                self.delay_ms,
                self.max_delay_ms
            );
        }
        Ok(Config {
            default_delay_ms: self.delay_ms,
            max_delay_ms: self.max_delay_ms,
            max_bytes: self.max_bytes,
            profile: self.server.profile,
            limits: self.server.limits(),
            fault: self.fault.fault().map_err(anyhow::Error::msg)?,
            straggler: self.straggler.straggler(),
        })
    }
}

/// Runs the server until SIGINT or SIGTERM. Logs go to stderr (`RUST_LOG`, default `info`).
pub fn main(args: Args) -> anyhow::Result<()> {
    let config = args.config()?;
    init_logging();
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::info!("open-file limit: {n}"),
        Err(e) => tracing::warn!("could not raise the open-file limit: {e}"),
    }
    let workers = match args.workers {
        Some(n) => n as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    runtime.block_on(async {
        let ips = listener::loopback_run(args.addr.ip(), args.loopback_addresses)
            .map_err(|e| anyhow::anyhow!("--loopback-addresses: {e}"))?;
        let listeners = listener::bind_all(&ips, args.addr.port(), args.backlog)
            .with_context(|| format!("binding {} at {} address(es)", args.addr, ips.len()))?;
        let addr = listeners[0].local_addr()?;
        let tls = match args.tls {
            false => None,
            true => {
                let tls = mock_tls::Tls::self_signed(&ips)?;
                if let Some(path) = &args.tls_ca_out {
                    std::fs::write(path, tls.ca_pem()).with_context(|| {
                        format!("writing the certificate to {}", path.display())
                    })?;
                }
                Some(tls)
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let somaxconn = listener::somaxconn();
        let effective = somaxconn.map_or(args.backlog, |cap| args.backlog.min(cap));
        // The harness reads this line to learn the port: keep it first and exact.
        println!("listening on {scheme}://{addr}");
        tracing::info!(
            "listening at {} address(es) from {}; backlog asked {}, net.core.somaxconn {}, effective {effective}; workers {workers}; \
             default delay {} ms; profile {}: {}; default fault {}",
            ips.len(),
            ips[0],
            args.backlog,
            somaxconn.map_or("unknown".to_owned(), |n| n.to_string()),
            config.default_delay_ms,
            config.profile.name(),
            config.limits,
            config.fault.map_or("none".to_owned(), |f| f
                .to_query()
                .trim_start_matches('&')
                .to_owned()),
        );
        let state = AppState {
            config,
            stats: Arc::new(Stats::default()),
        };
        let stop = shutdown_signal(args.exit_when_stdin_closes);
        run_with_tls(listeners, state, tls, stop, SHUTDOWN_GRACE).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// SIGINT, SIGTERM or, with `stdin_closes`, the end of stdin.
async fn shutdown_signal(stdin_closes: bool) {
    tokio::select! {
        () = signalled() => {}
        () = stdin_closed(), if stdin_closes => tracing::info!("stdin closed"),
    }
    tracing::info!("shutting down");
}

/// Resolves when stdin reaches its end (or cannot be read). A plain thread reads it: a read
/// blocked in tokio's blocking pool would hold the runtime's shutdown up.
async fn stdin_closed() {
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = closed.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = on_close.await;
        }
        Err(e) => {
            tracing::warn!("cannot watch stdin, so the server may outlive its parent: {e}");
            std::future::pending::<()>().await;
        }
    }
}

async fn signalled() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

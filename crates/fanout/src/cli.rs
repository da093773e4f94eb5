//! The `fanout` command line: `run` one point, `list` the strategies.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::harness::{self, Outcome, PointReport, ServerProcess};
use crate::strategies;
use crate::workload::{self, Point};

/// OS threads vs async tasks for N HTTP requests in flight, measured in isolated processes.
#[derive(Debug, Parser)]
#[command(name = "fanout", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure one strategy at one concurrency in a fresh worker process.
    #[command(after_help = WORKLOAD_RULE)]
    Run(RunArgs),
    /// List the strategies and what each models.
    List,
}

const WORKLOAD_RULE: &str = "\
Defaults: N = 2·C; D = max(100 ms, C / 5,000 s), so the offered load C/D stays at or below \
5,000 requests/s — well under what this 2-core machine serves — and a point measures the \
concurrency model, not CPU saturation. Without --url, a mock server is started for the run \
(its own process) and stopped after; the point runs in a fresh worker process whose peak RSS \
(VmHWM), threads, CPU and context switches are its own.";

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Strategy name (see `fanout list`).
    #[arg(long, short)]
    strategy: String,
    /// Requests in flight at once (C).
    #[arg(long, short, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    concurrency: u64,
    /// Requests in all (N) [default: 2·C].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    requests: Option<u64>,
    /// Server delay per request, ms [default: max(100, C/5)].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    delay_ms: Option<u64>,
    /// Base URL of a running mock-server (e.g. http://127.0.0.1:8000) instead of starting one.
    #[arg(long)]
    url: Option<String>,
    /// Per-request timeout, ms (both clients).
    #[arg(long, default_value_t = workload::DEFAULT_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    timeout_ms: u64,
    /// Stack size of each thread the thread strategies spawn, KiB.
    #[arg(long, default_value_t = workload::DEFAULT_STACK_KIB as u64,
          value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
    stack_kib: u64,
    /// Worker threads of multi-thread tokio runtimes [default: cores].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    workers: Option<u64>,
    /// A worker still running after this many seconds is killed (and the point recorded).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    time_limit_s: u64,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

/// Parses the command line and runs it; errors are one line on stderr and a non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::List => {
            list();
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("fanout: {e:#}");
        ExitCode::FAILURE
    })
}

fn list() {
    for s in strategies::ALL {
        println!("{:<28} {}", s.name, s.models);
    }
}

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    if strategies::find(&args.strategy).is_none() {
        bail!(
            "unknown strategy {:?}; valid: {}",
            args.strategy,
            strategies::names()
        );
    }
    let mut point = Point::new(&args.strategy, usize_of(args.concurrency));
    if let Some(n) = args.requests {
        point.requests = usize_of(n);
    }
    if let Some(d) = args.delay_ms {
        point.delay_ms = d;
    }
    point.timeout_ms = args.timeout_ms;
    point.stack_kib = usize_of(args.stack_kib);
    if let Some(w) = args.workers {
        point.tokio_workers = usize_of(w);
    }
    if point.timeout_ms <= point.delay_ms {
        bail!(
            "--timeout-ms {} must be above the delay ({} ms): every request would time out",
            point.timeout_ms,
            point.delay_ms
        );
    }
    raise_open_file_limit();

    let exe = harness::current_exe().context("locating this executable")?;
    let server = match &args.url {
        Some(_) => None,
        None => Some(ServerProcess::start(&exe)?),
    };
    let base_url = match (&args.url, &server) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(server)) => server.url().to_owned(),
        (None, None) => unreachable!("a server is started when no --url is given"),
    };
    let limit = Duration::from_secs(args.time_limit_s);
    let report = harness::run_point(&exe, &base_url, &point, limit)?;
    drop(server);

    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", summary(&report));
    }
    Ok(match report.outcome {
        Outcome::Measured => ExitCode::SUCCESS,
        Outcome::Skipped(_) => ExitCode::from(2),
        Outcome::Failed(_) => ExitCode::FAILURE,
    })
}

/// Raises the soft open-file limit to the hard one; workers and the server inherit it.
fn raise_open_file_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("fanout: could not raise the open-file limit: {e}");
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A short human summary of one point.
pub fn summary(r: &PointReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}  C={} N={} D={} ms",
        r.strategy, r.concurrency, r.requests, r.delay_ms
    );
    match &r.outcome {
        Outcome::Measured => {}
        Outcome::Skipped(why) => {
            let _ = writeln!(s, "  skipped: {why}");
            return s;
        }
        Outcome::Failed(why) => {
            let _ = writeln!(s, "  failed: {why}");
            return s;
        }
    }
    let w = &r.worker;
    let errors = if w.tally.errors.is_empty() {
        "none".to_owned()
    } else {
        let kinds: Vec<_> = w
            .tally
            .errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        kinds.join(", ")
    };
    let _ = writeln!(s, "  ok {}/{}; errors: {errors}", w.tally.ok, r.requests);
    if let Some(e) = &w.strategy_error {
        let _ = writeln!(s, "  strategy stopped: {e}");
    }
    let _ = writeln!(
        s,
        "  wall {:.3} s (ideal {:.3} s, efficiency {:.2}); {:.0} ok requests/s",
        w.wall_s, r.ideal_s, r.efficiency, r.throughput_rps
    );
    let _ = writeln!(
        s,
        "  peak RSS {:.1} MiB (before {:.1} MiB; {:.1} KiB per request in flight); peak threads {}",
        mib(w.peak_rss_bytes),
        mib(w.rss_before_bytes),
        r.rss_per_in_flight_bytes() / 1024.0,
        w.peak_threads
    );
    let _ = writeln!(
        s,
        "  CPU user {:.3} s, sys {:.3} s; context switches {} voluntary, {} involuntary",
        w.cpu_user_s, w.cpu_sys_s, w.ctx_voluntary, w.ctx_involuntary
    );
    let l = &w.tally.latency_ms;
    let _ = writeln!(
        s,
        "  latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}",
        l.p50, l.p90, l.p99, l.max
    );
    match &r.server {
        Some(v) => {
            let _ = writeln!(
                s,
                "  server saw: peak in flight {}, {} connections (peak open {}), {} served",
                v.peak_in_flight,
                v.connections_accepted,
                v.peak_connections_open,
                v.requests_served
            );
        }
        None => {
            let _ = writeln!(s, "  server saw: (no /stats at that URL)");
        }
    }
    if r.listen.any() {
        let _ = writeln!(
            s,
            "  LISTEN QUEUE OVERFLOWED: overflows {}, drops {}, SYN retransmits {} — \
             SYN retries add whole seconds; raise net.core.somaxconn",
            r.listen.listen_overflows, r.listen.listen_drops, r.listen.syn_retrans
        );
    }
    s
}

//! The `fanout` command line: `run` one point, `sweep` many, `compare` two runs, `report` a
//! run folder again, `list` the strategies.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::harness::{self, Outcome, PointReport, ServerProcess};
use crate::workload::{self, Point};
use crate::{charts, compare, preflight, strategies, summary, sweep, system};

/// OS threads vs async tasks for N HTTP requests in flight, measured in isolated processes.
#[derive(Debug, Parser)]
#[command(name = "fanout", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure one strategy at one concurrency in a fresh worker process. Without --url, a
    /// mock server is started for the run (its own process) and stopped after; the worker's
    /// peak RSS (VmHWM), threads, CPU and context switches are its own.
    #[command(after_help = workload::RULE)]
    Run(RunArgs),
    /// Measure many points, repeated, into a run folder with a summary and charts.
    #[command(after_help = workload::RULE)]
    Sweep(SweepArgs),
    /// Compare two run folders (or points.jsonl files): NEW/OLD per matching point.
    Compare(CompareArgs),
    /// Redraw summary.md, points.csv and the charts of a run folder from its points.jsonl.
    Report {
        /// The run folder.
        dir: PathBuf,
    },
    /// List the strategies and what each models.
    List,
    /// Print the machine, the OS limits, and which would cap which points.
    Doctor {
        /// Strategies: `all` or a comma-separated list of names.
        #[arg(long, default_value = "all", value_parser = parse_strategies)]
        strategies: StrategyList,
        /// Concurrency values, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10,100,1000,10000",
              value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        concurrency: Vec<u64>,
    },
}

#[derive(Debug, clap::Args)]
struct SweepArgs {
    /// Strategies: `all` or a comma-separated list of names.
    #[arg(long, default_value = "all", value_parser = parse_strategies)]
    strategies: StrategyList,
    /// Concurrency values, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000,10000",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    concurrency: Vec<u64>,
    /// Server delay for every point, ms [default: the rule below, per C].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    delay_ms: Option<u64>,
    /// Requests per in-flight slot: N = K·C.
    #[arg(long, default_value_t = workload::REQUESTS_PER_SLOT as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000))]
    requests_per_slot: u64,
    /// Repeats of every point (summary: medians and min–max).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    repeat: u32,
    /// Run folder [default: results/DATE-HOST].
    #[arg(long)]
    out: Option<PathBuf>,
    /// A smoke sweep for a first run: 4 strategies at 10 → 10,000, one repeat (about a minute).
    #[arg(long)]
    quick: bool,
    /// Base URL of a running mock-server instead of starting one.
    #[arg(long)]
    url: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
    /// Per point: a worker running longer is killed; a point needing longer by design is
    /// skipped.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    time_limit_s: u64,
    /// Run even if an OS limit cannot fit a point (and record what happens).
    #[arg(long)]
    force: bool,
    /// Finish the sweep of this run folder: run only the points not yet in its points.jsonl.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["strategies", "concurrency", "delay_ms", "requests_per_slot", "repeat", "out", "quick", "timeout_ms", "stack_kib", "workers", "time_limit_s"])]
    resume: Option<PathBuf>,
}

/// Client settings shared by `run` and `sweep`.
#[derive(Debug, clap::Args)]
struct ClientArgs {
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
}

impl ClientArgs {
    /// Applies these settings to `point`.
    fn apply(&self, point: &mut Point) {
        point.timeout_ms = self.timeout_ms;
        point.stack_kib = usize_of(self.stack_kib);
        point.tokio_workers = self.workers.map_or_else(workload::cores, usize_of);
    }
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// The old run folder or points.jsonl.
    old: PathBuf,
    /// The new run folder or points.jsonl.
    new: PathBuf,
    /// Exit 1 if a figure got worse, beyond the noise, by more than PCT percent.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    fail_above: Option<f64>,
}

/// Strategy names from `--strategies`.
#[derive(Debug, Clone)]
struct StrategyList(Vec<&'static str>);

fn parse_strategies(raw: &str) -> Result<StrategyList, String> {
    strategies::parse_list(raw).map(StrategyList)
}

fn parse_percent(raw: &str) -> Result<f64, String> {
    match raw.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!("{raw:?} is not a percentage (a number ≥ 0)")),
    }
}

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
    #[command(flatten)]
    client: ClientArgs,
    /// A worker still running after this many seconds is killed (and the point recorded).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    time_limit_s: u64,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
    /// Run even if an OS limit cannot fit the point (and record what happens).
    #[arg(long)]
    force: bool,
}

/// Parses the command line and runs it; errors are one line on stderr and a non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Sweep(args) => sweep(args),
        Command::Compare(args) => compare(args),
        Command::Report { dir } => report(&dir),
        Command::List => {
            list();
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor {
            strategies,
            concurrency,
        } => {
            let points: Vec<Point> = concurrency
                .iter()
                .flat_map(|&c| strategies.0.iter().map(move |s| Point::new(s, usize_of(c))))
                .collect();
            doctor(&points);
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
    args.client.apply(&mut point);
    if point.timeout_ms <= point.delay_ms {
        bail!(
            "--timeout-ms {} must be above the delay ({} ms): every request would time out",
            point.timeout_ms,
            point.delay_ms
        );
    }
    raise_open_file_limit();
    if let Some(refused) = preflight(std::slice::from_ref(&point), args.force) {
        return Ok(refused);
    }
    harness::stop_on_signals().context("installing the signal handlers")?;

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

fn sweep(args: SweepArgs) -> anyhow::Result<ExitCode> {
    raise_open_file_limit();
    if let Some(dir) = &args.resume {
        let plan = sweep::saved_plan(dir)?;
        if let Some(refused) = preflight(&plan.distinct_points(), args.force) {
            return Ok(refused);
        }
        harness::stop_on_signals().context("installing the signal handlers")?;
        let points = sweep::resume(dir, args.url.as_deref())?;
        print_sweep(&points, dir);
        return Ok(ExitCode::SUCCESS);
    }
    let (strategies, concurrency) = if args.quick {
        let quick = sweep::QUICK_STRATEGIES.iter().map(|s| (*s).to_owned());
        (quick.collect(), sweep::DEFAULT_CONCURRENCY.to_vec())
    } else {
        let concurrency = args.concurrency.iter().map(|&c| usize_of(c)).collect();
        let names = args.strategies.0.iter().map(|s| (*s).to_owned());
        (names.collect(), concurrency)
    };
    let plan = sweep::Plan {
        strategies,
        concurrency,
        delay_ms: args.delay_ms,
        requests_per_slot: usize_of(args.requests_per_slot),
        repeat: if args.quick { 1 } else { args.repeat },
        timeout_ms: args.client.timeout_ms,
        stack_kib: usize_of(args.client.stack_kib),
        tokio_workers: args.client.workers.map_or_else(workload::cores, usize_of),
        time_limit: Duration::from_secs(args.time_limit_s),
    };
    if let Some((_, p)) = plan
        .points()
        .iter()
        .find(|(_, p)| p.timeout_ms <= p.delay_ms)
    {
        bail!(
            "--timeout-ms {} must be above the delay of every point ({} ms at C = {}): its \
             requests would all time out",
            p.timeout_ms,
            p.delay_ms,
            p.concurrency
        );
    }
    if let Some(refused) = preflight(&plan.distinct_points(), args.force) {
        return Ok(refused);
    }
    harness::stop_on_signals().context("installing the signal handlers")?;
    let out = args
        .out
        .unwrap_or_else(|| sweep::default_out_dir(&system::Machine::read()));
    let command: Vec<String> = std::env::args().collect();
    let points = sweep::run(&plan, args.url.as_deref(), &out, &command.join(" "))?;
    print_sweep(&points, &out);
    Ok(ExitCode::SUCCESS)
}

fn print_sweep(points: &[PointReport], out: &Path) {
    println!("{}", summary::table(points));
    println!("{}", summary::memory_table(points));
    println!("Run folder: {}", out.display());
}

/// Prints warnings; with a point that cannot fit and no `--force`, prints why in one line
/// and returns exit status 2.
fn preflight(points: &[Point], force: bool) -> Option<ExitCode> {
    let findings = preflight::check(points, &system::Limits::read());
    // One line per limit: the first point's warning, and how many more it concerns.
    let warnings: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == preflight::Severity::Warn)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for warning in &warnings {
        if seen.insert(warning.limit) {
            let more = warnings.iter().filter(|w| w.limit == warning.limit).count() - 1;
            let more = if more > 0 {
                format!(" (and {more} more points)")
            } else {
                String::new()
            };
            eprintln!("fanout: {warning}{more}");
        }
    }
    let refused: Vec<_> = preflight::refusals(&findings).collect();
    let first = refused.first()?;
    if force {
        for f in &refused {
            eprintln!("fanout: --force: running anyway: {f}");
        }
        return None;
    }
    let more = match refused.len() {
        1 => String::new(),
        n => format!(" ({} more; `fanout doctor` lists them)", n - 1),
    };
    eprintln!("fanout: {first}{more}; or run it anyway with --force");
    Some(ExitCode::from(2))
}

fn doctor(points: &[Point]) {
    raise_open_file_limit();
    let machine = system::Machine::read();
    print!("{}", machine.markdown());
    let findings = preflight::check(points, &machine.limits);
    if findings.is_empty() {
        println!("\nEvery point fits these limits.");
    }
    for f in findings {
        println!("{f}");
    }
}

fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let old = summary::load_points(&args.old)?;
    let new = summary::load_points(&args.new)?;
    let comparison = compare::changes(&old, &new);
    let changes = &comparison.changes;
    if changes.is_empty() && comparison.lost.is_empty() {
        bail!(
            "no point was measured with the same workload in both {} and {}",
            args.old.display(),
            args.new.display()
        );
    }
    print!("{}", compare::table(changes));
    let flagged = changes.iter().filter(|c| c.flagged()).count();
    println!(
        "\n{flagged} of {} changes beyond the noise (the larger min–max range of either \
         side's repeats, at least {:.0}%).",
        changes.len(),
        compare::NOISE_FLOOR * 100.0
    );
    if !comparison.different.is_empty() {
        println!(
            "Not compared, their workloads differ (delay, N, workers, stack or timeout): {}",
            comparison.different.join(", ")
        );
    }
    if !comparison.lost.is_empty() {
        println!(
            "Measured in OLD but not in NEW: {}",
            comparison.lost.join(", ")
        );
    }
    if let Some(pct) = args.fail_above {
        let regressions: Vec<_> = changes.iter().filter(|c| c.regression_above(pct)).collect();
        if let Some(first) = regressions.first() {
            eprintln!(
                "fanout: {} regressions above {pct}% (first: {} {}/{} ×{:.2})",
                regressions.len(),
                first.figure,
                first.strategy,
                first.concurrency,
                first.ratio
            );
            return Ok(ExitCode::FAILURE);
        }
        if let Some(first) = comparison.lost.first() {
            eprintln!(
                "fanout: {} points no longer measured (first: {first})",
                comparison.lost.len()
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report(dir: &Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        bail!("{}: not a run folder (no such directory)", dir.display());
    }
    let points = summary::load_points(dir)?;
    sweep::finish_folder(dir, &points)?;
    println!("{}", summary::table(&points));
    let files: Vec<_> = charts::chart_files().collect();
    println!(
        "Wrote summary.md, points.csv, {} in {}",
        files.join(", "),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
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
    if r.listen.overflowed() {
        let _ = writeln!(
            s,
            "  LISTEN QUEUE OVERFLOWED: overflows {}, drops {}, SYN retransmits {} — \
             SYN retries add whole seconds; raise net.core.somaxconn",
            r.listen.listen_overflows, r.listen.listen_drops, r.listen.syn_retrans
        );
    }
    s
}

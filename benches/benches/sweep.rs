//! The macro sweep: every strategy at concurrency 10 → 10,000, each sample one fresh worker
//! process run through the harness against the mock server (its own process). Groups
//! `wall_time/STRATEGY/C` (the worker's timed region), `peak_rss/STRATEGY/C` (its peak RSS,
//! bytes, through the [`PeakRss`] measurement) and `whole_bill/STRATEGY/C` (resident and
//! kernel memory per request in flight, bytes, the same measurement). Points, workload and settings come from the
//! `FANOUT_*` variables — the flags of `fanout sweep`, read from the environment; docs/cli.md
//! lists them — and `FANOUT_PEERS` adds installed peers (`scripts/peers.sh`).
//!
//! By default (no variable choosing points) N = C at C = 10, 1,000 and 10,000, the last for
//! five models' floors only ([`AT_LARGEST_C`]): the budget that keeps a fresh `cargo bench`
//! within 12 minutes.
//!
//! Each point runs exactly 1 + [`SAMPLES`] workers: flat sampling with warm-up and measurement
//! times of 1 ns makes criterion take one run per sample (it warns "Unable to complete 10
//! samples", by design). `peak_rss` and `whole_bill` replay what the `wall_time` runs measured
//! instead of running every point again. A run with failed requests never looks fast: its sample is
//! wall × N / ok. A worker that crashes, is killed or hangs leaves no figure a sample could
//! honestly carry: it ends the run (server stopped, finished benchmarks kept by criterion).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::error::ContextKind;
use clap::{CommandFactory, Parser};
use criterion::{
    AxisScale, BenchmarkId, Criterion, PlotConfiguration, SamplingMode, measurement::Measurement,
};
use fanout::os::machine::Limits;
use fanout::planning::catalog;
use fanout::planning::plan::{Plan, PointsArgs};
use fanout::planning::point::Point;
use fanout::results::report::{Outcome, PointReport};
use fanout::run::harness::{current_exe, run_point};
use fanout::run::preflight::{self, Severity};
use fanout::run::role::play_role;
use fanout::run::server::{Endpoint, Target};
use fanout_benches::PeakRss;

/// Counts the heap of this binary's worker role, as the `fanout` binary does.
#[global_allocator]
static HEAP: fanout::metering::alloc::Counting = fanout::metering::alloc::Counting;

/// Peers (`peers` for every installed one, or `peer:NAME,...`) added to the strategies: the
/// README's two commands need none, so none runs unless asked for.
const PEERS_VAR: &str = "FANOUT_PEERS";
/// Samples per point (criterion's minimum).
const SAMPLES: usize = 10;
/// Bootstrap resamples per analysis (criterion's default is 100,000). The report's density
/// charts evaluate a kernel density over every resample, and at 100,000 that cost more than a
/// C = 10 point's ten runs (compare a run with `--noplot`); ten samples leave the bounds wide
/// whatever the resamples (`--nresamples` sets it back).
const RESAMPLES: usize = 10_000;
/// Points whose strategy cannot finish faster than this, by design, are skipped.
const MAX_LEAST_WALL: Duration = Duration::from_secs(5);
/// A worker still running after this is killed (and the benchmark run ends).
const WORKER_TIME_LIMIT: Duration = Duration::from_secs(120);
/// The default budget (no `FANOUT_CONCURRENCY`, `FANOUT_REQUESTS_PER_SLOT` or
/// `FANOUT_STRATEGIES`): N = C (one round: the model's cost, not a queue's), every strategy at
/// C = 10 and 1,000 ([`BUDGET_CONCURRENCY`]), and at 10,000 — where one run takes 2 s or more
/// (D = 2 s by the delay rule), 11 runs a point — the floors of threads, coroutines, tokio
/// tasks, io_uring and HTTP/2 (smol's, a second epoll task runtime, is left to
/// `FANOUT_CONCURRENCY`). The other points run when `FANOUT_CONCURRENCY` or
/// `FANOUT_STRATEGIES` ask for them.
const AT_LARGEST_C: &[&str] = &[
    "thread_raw",
    "coroutine_raw",
    "async_raw",
    "uring_raw",
    "async_h2_floor",
];
/// Under the default budget, points that cannot finish faster than this are skipped
/// (`pitfall_blocking_in_async` at C = 100 needs 5 s a run, 55 s a point).
const BUDGET_LEAST_WALL: Duration = Duration::from_secs(2);
/// The C from which only [`AT_LARGEST_C`] runs by default.
const LARGEST_C: usize = 10_000;
/// The concurrency of the default budget: a decade apart from 1,000 on, where the models part,
/// and 10 for the sequential and blocking baselines (slower than [`BUDGET_LEAST_WALL`] at 100).
/// C = 100 is left out: there, as at 10, every strategy's wall is the 100 ms delay plus 6 to
/// 27 ms (`results/2026-12-03-bench/cargo-bench.log`), and its 18 points took a minute of a
/// fresh `cargo bench`.
const BUDGET_CONCURRENCY: [usize; 3] = [10, 1_000, LARGEST_C];

/// `fanout sweep`'s point flags, each read from its `FANOUT_*` variable.
#[derive(Debug, Parser)]
#[command(name = "FANOUT_* variables of the sweep benchmark")]
struct FromEnv {
    #[command(flatten)]
    points: PointsArgs,
}

/// clap's error about a flag, in one line naming the variable that set it.
fn env_error(e: &clap::Error) -> String {
    let rendered = e.to_string();
    let line = rendered.lines().next().unwrap_or_default();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let command = FromEnv::command();
    let var = e.get(ContextKind::InvalidArg).and_then(|flag| {
        let flag = flag.to_string();
        let flag = flag
            .split_whitespace()
            .next()?
            .strip_prefix("--")?
            .to_owned();
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(flag.as_str()))?;
        Some(arg.get_env()?.to_string_lossy().into_owned())
    });
    match var {
        Some(var) => format!("{var}: {line}"),
        None => format!("the FANOUT_* variables: {line}"),
    }
}

/// Figures measured by `wall_time` runs (bytes), waiting to be replayed by a memory group.
type Stash = RefCell<HashMap<String, VecDeque<u64>>>;

struct Sweep<'a> {
    exe: &'a Path,
    endpoint: Endpoint,
    /// Taken and stopped before a fatal exit, which would skip its destructor.
    server: RefCell<Option<Target>>,
    /// Peak RSS per run, for `peak_rss`.
    peaks: Stash,
    /// Whole bill per request in flight per run, for `whole_bill`.
    bills: Stash,
}

impl Sweep<'_> {
    /// Stops the server and exits: nothing further can be measured. Criterion has saved every
    /// finished benchmark already.
    fn fatal(&self, why: &str) -> ! {
        eprintln!("\nsweep: {why}");
        if let Some(server) = self.server.borrow_mut().take() {
            server.stop();
        }
        std::process::exit(1);
    }

    /// Runs `point` once in a worker. Failed requests are printed (and penalise the sample);
    /// a worker that crashed, was killed or hung leaves no figure a sample could honestly
    /// carry, so it ends the benchmark run with the way to reproduce it.
    fn run(&self, point: &Point) -> PointReport {
        let report = run_point(self.exe, &self.endpoint, point, WORKER_TIME_LIMIT)
            .unwrap_or_else(|e| self.fatal(&e.to_string()));
        let name = point.name();
        if let Outcome::Failed(why) = &report.outcome {
            self.fatal(&format!(
                "{name}: {why}; reproduce with `fanout run -s {} -c {}`",
                point.strategy.name, point.concurrency
            ));
        }
        if report.error_count() > 0 {
            eprintln!(
                "\nsweep: {name}: ok {} of {}, errors {:?}",
                report.worker.tally.ok, point.requests, report.worker.tally.errors
            );
        }
        report
    }

    /// Wall time of one run, as criterion should count it (failed requests scale it up); its
    /// peak RSS and whole bill are kept for the memory groups.
    fn wall(&self, point: &Point) -> Duration {
        let report = self.run(point);
        let keep = |stash: &Stash, bytes: u64| {
            stash
                .borrow_mut()
                .entry(point.name())
                .or_default()
                .push_back(bytes.max(1));
        };
        keep(&self.peaks, report.peak_rss_bytes());
        keep(&self.bills, bill(&report));
        let ok = report.worker.tally.ok.max(1) as f64;
        let penalty = (point.requests as f64 / ok).max(1.0);
        Duration::from_secs_f64(report.worker.wall_s * penalty)
    }

    /// One figure of `stash`: replayed from a `wall_time` run, or measured now (`measure`)
    /// if none is left.
    fn replay(&self, stash: &Stash, point: &Point, measure: fn(&PointReport) -> u64) -> u64 {
        let replayed = stash
            .borrow_mut()
            .get_mut(&point.name())
            .and_then(VecDeque::pop_front);
        replayed.unwrap_or_else(|| measure(&self.run(point)).max(1))
    }
}

/// A run's whole bill per request in flight, whole bytes (0 where the breakdown was not read:
/// criterion takes 1, never a 0 sample).
fn bill(report: &PointReport) -> u64 {
    report.whole_bill_bytes().map_or(0, |b| b.round() as u64)
}

/// A point's criterion function name: its strategy, with `+h2` or `+tls` when the point speaks
/// what the strategy does not by default, so those baselines never mix with plain ones
/// (`wall_time/async_semaphore+h2/1000`; `async_h2` speaks HTTP/2 by name).
fn function_name(point: &Point) -> String {
    let mut name = point.strategy.name.to_owned();
    let default_protocol = point.strategy.protocol.unwrap_or_default();
    if point.settings.protocol != default_protocol {
        name.push_str("+h2");
    }
    if point.settings.tls {
        name.push_str("+tls");
    }
    name
}

fn configure<M: Measurement>(criterion: Criterion<M>) -> Criterion<M> {
    criterion
        .sample_size(SAMPLES)
        .nresamples(RESAMPLES)
        .warm_up_time(Duration::from_nanos(1))
        .measurement_time(Duration::from_nanos(1))
        .configure_from_args()
}

/// Whether the default budget applies: none of the variables that choose points is set.
fn default_budget() -> bool {
    [
        "FANOUT_CONCURRENCY",
        "FANOUT_REQUESTS_PER_SLOT",
        "FANOUT_STRATEGIES",
    ]
    .iter()
    .all(|var| std::env::var_os(var).is_none())
}

/// The points to run, after printing why any are skipped.
fn points(plan: &Plan, limits: &Limits) -> Vec<Point> {
    let mut points = Vec::new();
    let budget = default_budget();
    for point in plan.distinct_points() {
        let name = point.name();
        if budget && point.concurrency >= LARGEST_C && !AT_LARGEST_C.contains(&point.strategy.name)
        {
            println!(
                "sweep: skipping {name} by the default budget (FANOUT_CONCURRENCY=10000 runs it)"
            );
            continue;
        }
        let most = if budget {
            BUDGET_LEAST_WALL
        } else {
            MAX_LEAST_WALL
        };
        if let Some(why) = catalog::cannot_run(&point, most) {
            println!("sweep: skipping {name}: {why}");
            continue;
        }
        let findings = preflight::check(std::slice::from_ref(&point), limits);
        for warning in findings.iter().filter(|f| f.severity == Severity::Warn) {
            println!("sweep: {warning}");
        }
        if let Some(refused) = preflight::refusals(&findings).next() {
            println!("sweep: skipping {refused}");
            continue;
        }
        points.push(point);
    }
    points
}

fn main() -> ExitCode {
    // Re-executed as the mock server or a worker: play that role and stop.
    if let Some(code) = play_role() {
        return code;
    }
    // Only the environment: criterion's own flags are in the real arguments.
    let plan = FromEnv::try_parse_from(["sweep"])
        .map_err(|e| env_error(&e))
        .and_then(|env| {
            env.points
                .plan(1, WORKER_TIME_LIMIT)
                .map_err(|e| e.to_string())
        });
    let plan = plan.and_then(|mut plan| {
        if default_budget() {
            plan.workload.sizing.requests_per_slot = 1;
            plan.concurrency = BUDGET_CONCURRENCY.to_vec();
            println!(
                "sweep: the default budget runs C = {BUDGET_CONCURRENCY:?} (FANOUT_CONCURRENCY chooses others)"
            );
        }
        if let Ok(raw) = std::env::var(PEERS_VAR) {
            let peers = catalog::parse_list(&raw).map_err(|e| format!("{PEERS_VAR}: {e}"))?;
            plan.strategies.extend(peers);
        }
        Ok(plan)
    });
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("sweep: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("sweep: could not raise the open-file limit: {e}");
    }
    let exe = current_exe().expect("locating this benchmark's executable");
    let server = match Target::new(&exe, None, &plan.workload.settings) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("sweep: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sweep = Sweep {
        exe: &exe,
        endpoint: server.endpoint().clone(),
        server: RefCell::new(Some(server)),
        peaks: RefCell::default(),
        bills: RefCell::default(),
    };
    let points = points(&plan, &Limits::read());
    let log_scale = PlotConfiguration::default().summary_scale(AxisScale::Logarithmic);

    let mut time = configure(Criterion::default());
    let mut group = time.benchmark_group("wall_time");
    group
        .sampling_mode(SamplingMode::Flat)
        .plot_config(log_scale.clone());
    for point in &points {
        let id = BenchmarkId::new(function_name(point), point.concurrency);
        group.bench_with_input(id, point, |b, point| {
            b.iter_custom(|iters| (0..iters).map(|_| sweep.wall(point)).sum());
        });
    }
    group.finish();

    let mut memory = configure(Criterion::default().with_measurement(PeakRss));
    let mut group = memory.benchmark_group("peak_rss");
    group
        .sampling_mode(SamplingMode::Flat)
        .plot_config(log_scale);
    for point in &points {
        let id = BenchmarkId::new(function_name(point), point.concurrency);
        group.bench_with_input(id, point, |b, point| {
            // Criterion divides a sample by its iterations: return the sum of the peaks.
            let peak = |_| sweep.replay(&sweep.peaks, point, PointReport::peak_rss_bytes);
            b.iter_custom(|iters| (0..iters).map(peak).sum::<u64>());
        });
    }
    group.finish();
    let mut group = memory.benchmark_group("whole_bill");
    group
        .sampling_mode(SamplingMode::Flat)
        .plot_config(PlotConfiguration::default().summary_scale(AxisScale::Logarithmic));
    for point in &points {
        let id = BenchmarkId::new(function_name(point), point.concurrency);
        group.bench_with_input(id, point, |b, point| {
            let one = |_| sweep.replay(&sweep.bills, point, bill);
            b.iter_custom(|iters| (0..iters).map(one).sum::<u64>());
        });
    }
    group.finish();
    memory.final_summary();
    if let Some(server) = sweep.server.take() {
        server.stop();
    }
    ExitCode::SUCCESS
}

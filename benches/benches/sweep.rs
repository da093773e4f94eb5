//! The macro sweep: every strategy at concurrency 10 → 10,000, each sample one fresh worker
//! process run through the harness against the mock server (its own process). Three groups:
//!
//! - `wall_time/STRATEGY/ID`: the worker's timed region;
//! - `peak_rss/STRATEGY/ID`: its peak RSS, bytes (the [`PeakRss`] measurement);
//! - `own_bill_share/STRATEGY/ID`: the client's own memory per request in flight at one point,
//!   bytes — its RSS grown since before the job plus the kernel memory charged to its own memory
//!   cgroup (the server's end of each socket is not the client's), over the requests it held.
//!   One point's share, so fixed costs (a runtime's threads, buffers) are spread over C: the
//!   per-request bill the README quotes is the slope of the same over C, fitted by `fanout
//!   sweep`. Where no memory cgroup can be made the group is skipped and says why.
//!
//! A benchmark's ID is its strategy and C, followed by every setting of the point that differs
//! from the default budget's (`1000 requests=2000 delay_ms=50`), so that a baseline saved under
//! one workload is never compared with another's: criterion compares a benchmark only with the
//! same ID. Points, workload and settings come from the `FANOUT_*` variables — the flags of
//! `fanout sweep`, each read from `FANOUT_` and its name (docs/cli.md) — and `FANOUT_PEERS` adds
//! installed peers (`scripts/peers.sh`).
//!
//! By default (no variable choosing points) every strategy runs at C = 10, 100, 1,000 and
//! 10,000 with N = C; a point that cannot finish within [`BUDGET_LEAST_WALL`] by design (the
//! sequential baseline, the blocking pitfall, HTTP/2 held to the server's stream limit) is left
//! out and the log says so.
//!
//! Each point runs exactly [`SAMPLES`] workers: flat sampling with warm-up and measurement
//! times of 1 ns makes criterion take one run per sample (it warns "Unable to complete 10
//! samples", by design), and its one warm-up call is given the first sample's run, which
//! criterion does not analyse as a warm-up. `peak_rss` and `own_bill_share` replay what the
//! `wall_time` runs measured instead of running every point again. A run with failed requests
//! never looks fast: its sample is wall × N / ok. A worker that crashes, is killed or hangs
//! leaves no figure a sample could honestly carry: it ends the run (server stopped, finished
//! benchmarks kept by criterion).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::error::ContextKind;
use clap::{CommandFactory, FromArgMatches as _, Parser};
use criterion::{
    AxisScale, BenchmarkId, Criterion, PlotConfiguration, SamplingMode, measurement::Measurement,
};
use fanout::model::settings::Workload;
use fanout::os::machine::Limits;
use fanout::planning::catalog;
use fanout::planning::plan::{Plan, PointsArgs};
use fanout::planning::point::Point;
use fanout::planning::variables;
use fanout::record::report::Outcome;
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
/// Under the default budget, points that cannot finish faster than this are skipped: the
/// sequential baseline from C = 100, the blocking pitfall (in flight: the runtime's workers)
/// from C = 100, and `async_h2` at 10,000 (held to the server's stream limit on one
/// connection).
const BUDGET_LEAST_WALL: Duration = Duration::from_secs(2);
/// The default budget's longest delay D: `fanout sweep`'s rule (C / 5,000 s) gives 2 s at
/// C = 10,000, where 17 strategies × 10 runs then wait 340 s on the server alone. At 1.5 s
/// every strategy still held its 10,000 at once by the server's count on the reference
/// machine, and the bench says so for each point where one did not.
const BUDGET_MOST_DELAY_MS: u64 = 1_500;
/// The concurrency of the default budget (no `FANOUT_CONCURRENCY`, `FANOUT_REQUESTS_PER_SLOT`
/// or `FANOUT_STRATEGIES`), with N = C: one round, the model's cost and not a queue's.
const BUDGET_CONCURRENCY: [usize; 4] = [10, 100, 1_000, 10_000];

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
    let command = variables::read_from_variables(FromEnv::command());
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

/// What one worker run of a point measured, as the groups take it.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// Wall time as criterion should count it (failed requests scale it up).
    wall: Duration,
    /// Peak RSS, bytes.
    peak_rss: u64,
    /// The client's own bill per request in flight, bytes (`None`: not read here).
    own_bill: Option<u64>,
}

/// A benchmark group of this file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Group {
    WallTime,
    PeakRss,
    OwnBill,
}

struct Sweep<'a> {
    exe: &'a Path,
    endpoint: Endpoint,
    /// Taken and stopped before a fatal exit, which would skip its destructor.
    server: RefCell<Option<Target>>,
    /// Every run of each point (by its benchmark ID), in order: the memory groups replay them.
    runs: RefCell<HashMap<String, Vec<Run>>>,
    /// Calls each group has made for each point so far.
    calls: RefCell<HashMap<(Group, String), usize>>,
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
    fn run(&self, point: &Point) -> Run {
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
        let seen = report.server.as_ref().map(|s| s.peak_in_flight);
        if let Some(seen) = seen.filter(|&seen| seen < point.in_flight() as u64) {
            eprintln!(
                "\nsweep: {name}: the server saw at most {seen} of its {} in flight at once",
                point.in_flight()
            );
        }
        let ok = report.worker.tally.ok.max(1) as f64;
        let penalty = (point.requests as f64 / ok).max(1.0);
        Run {
            wall: Duration::from_secs_f64(report.worker.wall_s * penalty),
            // Criterion takes no 0 sample: a figure not read is 1 byte, never 0.
            peak_rss: report.peak_rss_bytes().max(1),
            own_bill: report.own_bill_bytes().map(|b| (b.round() as u64).max(1)),
        }
    }

    /// The run behind `group`'s next call for `point`: criterion's warm-up call and its first
    /// sample share the point's first run, each later sample takes the next; a run no earlier
    /// group made is made now.
    fn next(&self, group: Group, point: &Point, id: &str) -> Run {
        let call = {
            let mut calls = self.calls.borrow_mut();
            let call = calls.entry((group, id.to_owned())).or_default();
            *call += 1;
            *call - 1
        };
        let index = call.saturating_sub(1);
        if let Some(&run) = self.runs.borrow().get(id).and_then(|runs| runs.get(index)) {
            return run;
        }
        let run = self.run(point);
        self.runs
            .borrow_mut()
            .entry(id.to_owned())
            .or_default()
            .push(run);
        run
    }

    /// True when the point's runs so far read no own bill (no memory cgroup here).
    fn without_own_bill(&self, id: &str) -> bool {
        self.runs
            .borrow()
            .get(id)
            .is_some_and(|runs| runs.iter().all(|r| r.own_bill.is_none()))
    }
}

/// A point's benchmark ID: its strategy, and its C followed by every setting of the point that
/// differs from the default budget's point of that strategy and C ([`workload_id`]), so that
/// baselines of different workloads never share an ID. Also the key its runs are kept under.
fn benchmark_id(point: &Point, budget: &Workload) -> (BenchmarkId, String) {
    let workload = workload_id(point, budget);
    let key = format!("{}/{workload}", point.strategy.name);
    (BenchmarkId::new(point.strategy.name, workload), key)
}

/// C, then `key=value` for each setting of `point` (as its JSON names it: `protocol=h2`,
/// `tls=true`, `requests=2000`) that differs from the point of its strategy and C under the
/// default budget's workload (`budget`). Criterion cuts a name to 64 bytes for its
/// folder, so a longer list ends in a hash of the whole one.
fn workload_id(point: &Point, budget: &Workload) -> String {
    let default = budget_point(Point::of(budget, point.strategy, point.concurrency));
    let json = |p: &Point| serde_json::to_value(p).expect("a point serializes");
    let (ours, theirs) = (json(point), json(&default));
    let (Some(ours), Some(theirs)) = (ours.as_object(), theirs.as_object()) else {
        unreachable!("a point is a JSON object");
    };
    let mut id = point.concurrency.to_string();
    let mut differs: Vec<String> = ours
        .iter()
        .filter(|(key, value)| theirs.get(*key) != Some(value))
        .map(|(key, value)| format!("{key}={}", value.to_string().trim_matches('"')))
        .collect();
    // Keys the default has and the point lacks (a setting serialized only when set).
    differs.extend(
        theirs
            .keys()
            .filter(|key| !ours.contains_key(*key))
            .map(|key| format!("{key}=unset")),
    );
    differs.sort();
    for d in &differs {
        id.push(' ');
        id.push_str(d);
    }
    const MOST: usize = 64;
    if id.len() > MOST {
        // FNV-1a: the same hash on every toolchain, so an ID outlives the compiler.
        let fnv = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let hash = format!(" #{fnv:08x}");
        let mut cut = MOST - hash.len();
        while !id.is_char_boundary(cut) {
            cut -= 1;
        }
        id.truncate(cut);
        id.push_str(&hash);
    }
    id
}

fn configure<M: Measurement>(criterion: Criterion<M>) -> Criterion<M> {
    criterion
        .sample_size(SAMPLES)
        .nresamples(RESAMPLES)
        .warm_up_time(Duration::from_nanos(1))
        .measurement_time(Duration::from_nanos(1))
        .configure_from_args()
}

/// The default budget's workload: the flags' defaults, no `FANOUT_*` variable read, N = C.
fn budget_workload() -> Workload {
    // No variable at all: the server's profile flags name theirs in the mock server's crate.
    let command = FromEnv::command().mut_args(|arg| arg.env(None));
    let matches = command
        .try_get_matches_from(["sweep"])
        .expect("the flags' defaults parse");
    let mut plan = FromEnv::from_arg_matches(&matches)
        .expect("the flags' defaults parse")
        .points
        .plan(1, WORKER_TIME_LIMIT)
        .expect("the default plan is valid");
    plan.workload.sizing.requests_per_slot = 1;
    plan.workload
}

/// A point as the default budget runs it: D at most [`BUDGET_MOST_DELAY_MS`] (N = C is the
/// budget workload's).
fn budget_point(mut point: Point) -> Point {
    point.delay_ms = point.delay_ms.min(BUDGET_MOST_DELAY_MS);
    point
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
    let most = if budget {
        BUDGET_LEAST_WALL
    } else {
        MAX_LEAST_WALL
    };
    for point in plan.distinct_points() {
        let point = if budget { budget_point(point) } else { point };
        let name = point.name();
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
    let plan = variables::parse::<FromEnv>(["sweep"])
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
        runs: RefCell::default(),
        calls: RefCell::default(),
    };
    let points = points(&plan, &Limits::read());
    let budget = budget_workload();
    let log_scale = PlotConfiguration::default().summary_scale(AxisScale::Logarithmic);

    let mut time = configure(Criterion::default());
    let mut group = time.benchmark_group("wall_time");
    group
        .sampling_mode(SamplingMode::Flat)
        .plot_config(log_scale.clone());
    for point in &points {
        let (id, key) = benchmark_id(point, &budget);
        group.bench_with_input(id, point, |b, point| {
            let wall = |_| sweep.next(Group::WallTime, point, &key).wall;
            b.iter_custom(|iters| (0..iters).map(wall).sum());
        });
    }
    group.finish();

    let mut memory = configure(Criterion::default().with_measurement(PeakRss));
    let mut group = memory.benchmark_group("peak_rss");
    group
        .sampling_mode(SamplingMode::Flat)
        .plot_config(log_scale.clone());
    for point in &points {
        let (id, key) = benchmark_id(point, &budget);
        group.bench_with_input(id, point, |b, point| {
            // Criterion divides a sample by its iterations: return the sum of the peaks.
            let peak = |_| sweep.next(Group::PeakRss, point, &key).peak_rss;
            b.iter_custom(|iters| (0..iters).map(peak).sum::<u64>());
        });
    }
    group.finish();
    let mut group = memory.benchmark_group("own_bill_share");
    group
        .sampling_mode(SamplingMode::Flat)
        .plot_config(log_scale);
    for point in &points {
        let (id, key) = benchmark_id(point, &budget);
        if sweep.without_own_bill(&key) {
            println!(
                "sweep: own_bill_share/{key}: not measured, no memory cgroup of the worker's own here (a run's cgroup_missing says why)"
            );
            continue;
        }
        group.bench_with_input(id, point, |b, point| {
            let bill = |_| {
                let run = sweep.next(Group::OwnBill, point, &key);
                run.own_bill.unwrap_or_else(|| {
                    sweep.fatal(&format!(
                        "{key}: a run read no own bill where earlier ones did"
                    ))
                })
            };
            b.iter_custom(|iters| (0..iters).map(bill).sum::<u64>());
        });
    }
    group.finish();
    memory.final_summary();
    if let Some(server) = sweep.server.take() {
        server.stop();
    }
    ExitCode::SUCCESS
}

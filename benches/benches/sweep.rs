//! The macro sweep: every strategy at concurrency 10 → 10,000, each sample one fresh worker
//! process run through the harness against the mock server (its own process). Two groups:
//! `wall_time/STRATEGY/C` (the worker's timed region) and `peak_rss/STRATEGY/C` (the worker's
//! `VmHWM`, bytes, through the [`PeakRss`] measurement).
//!
//! Budget (a full run in about 12 minutes on a 2-core machine): each point is run
//! 1 + [`SAMPLES`] times — one warm-up run, then one run per sample (flat sampling, warm-up and
//! measurement times of 1 ns make criterion take exactly that; it warns "Unable to complete 10
//! samples", which is by design here). The `peak_rss` group does not run the points again: it
//! replays, one for one, the peaks the `wall_time` runs measured (it runs workers only for
//! points whose `wall_time` was filtered out). Points whose strategy needs more than
//! [`MAX_LEAST_WALL`] by design (`sequential` at 1,000), or that an OS limit cannot fit (the
//! preflight of `fanout run`), are skipped with the reason printed.
//!
//! A run with failed requests never looks fast: its sample is wall × N / ok (the time N ok
//! requests would take at that rate), and the failure is printed. A worker that crashes, is
//! killed or hangs ends the run (server stopped, finished benchmarks kept by criterion).
//!
//! Environment: `FANOUT_STRATEGIES=all|a,b` (default all), `FANOUT_CONCURRENCY=10,100,...`
//! (default 10,100,1000,10000).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use criterion::{
    AxisScale, BenchmarkId, Criterion, PlotConfiguration, SamplingMode, measurement::Measurement,
};
use fanout::harness::{Outcome, PointReport, ServerProcess, current_exe, play_role, run_point};
use fanout::preflight::{self, Severity};
use fanout::strategies;
use fanout::system::Limits;
use fanout::workload::Point;
use fanout_benches::{PeakRss, parse_concurrency, parse_strategies};

/// Samples per point (criterion's minimum).
const SAMPLES: usize = 10;
/// Points whose strategy cannot finish faster than this, by design, are skipped.
const MAX_LEAST_WALL: Duration = Duration::from_secs(5);
/// A worker still running after this is killed (and the benchmark run ends).
const WORKER_TIME_LIMIT: Duration = Duration::from_secs(120);
const DEFAULT_CONCURRENCY: &str = "10,100,1000,10000";

/// Peaks measured by `wall_time` runs, waiting to be replayed by `peak_rss`.
type PeakStash = RefCell<HashMap<(String, usize), VecDeque<u64>>>;

struct Sweep<'a> {
    exe: &'a Path,
    base_url: String,
    /// Taken and stopped before a fatal exit, which would skip its destructor.
    server: RefCell<Option<ServerProcess>>,
    stash: PeakStash,
}

impl Sweep<'_> {
    /// Stops the server and exits: nothing further can be measured. Criterion has saved every
    /// finished benchmark already.
    fn fatal(&self, why: &str) -> ! {
        eprintln!("\nsweep: {why}");
        drop(self.server.borrow_mut().take());
        std::process::exit(1);
    }

    /// Runs `point` once in a worker. Failed requests are printed (and penalise the sample);
    /// a worker that crashed, was killed or hung leaves no figure a sample could honestly
    /// carry, so it ends the benchmark run with the way to reproduce it.
    fn run(&self, point: &Point) -> PointReport {
        let report = run_point(self.exe, &self.base_url, point, WORKER_TIME_LIMIT)
            .unwrap_or_else(|e| self.fatal(&e.to_string()));
        let name = format!("{}/{}", point.strategy, point.concurrency);
        if let Outcome::Failed(why) = &report.outcome {
            self.fatal(&format!(
                "{name}: {why}; reproduce with `fanout run -s {} -c {}`",
                point.strategy, point.concurrency
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
    /// peak RSS is kept for the `peak_rss` group.
    fn wall(&self, point: &Point) -> Duration {
        let report = self.run(point);
        self.stash
            .borrow_mut()
            .entry((point.strategy.clone(), point.concurrency))
            .or_default()
            .push_back(report.worker.peak_rss_bytes.max(1));
        let ok = report.worker.tally.ok.max(1) as f64;
        let penalty = (point.requests as f64 / ok).max(1.0);
        Duration::from_secs_f64(report.worker.wall_s * penalty)
    }

    /// One peak: replayed from a `wall_time` run, or measured now if none is left.
    fn peak(&self, point: &Point) -> u64 {
        let key = (point.strategy.clone(), point.concurrency);
        let replayed = self
            .stash
            .borrow_mut()
            .get_mut(&key)
            .and_then(VecDeque::pop_front);
        replayed.unwrap_or_else(|| self.run(point).worker.peak_rss_bytes.max(1))
    }
}

fn configure<M: Measurement>(criterion: Criterion<M>) -> Criterion<M> {
    criterion
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_nanos(1))
        .measurement_time(Duration::from_nanos(1))
        .configure_from_args()
}

/// The points to run, after printing why any are skipped.
fn points(strategies: &[&str], concurrency: &[usize], limits: &Limits) -> Vec<Point> {
    let mut points = Vec::new();
    for &c in concurrency {
        for &name in strategies {
            let point = Point::new(name, c);
            let strategy = strategies::find(name).expect("names were checked");
            if let Some(why) = point.too_slow(strategy, MAX_LEAST_WALL) {
                println!("sweep: skipping {name}/{c}: {why}");
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
    }
    points
}

fn main() -> ExitCode {
    // Re-executed as the mock server or a worker: play that role and stop.
    if let Some(code) = play_role() {
        return code;
    }
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let choice = parse_strategies(&env("FANOUT_STRATEGIES", "all")).and_then(|s| {
        parse_concurrency(&env("FANOUT_CONCURRENCY", DEFAULT_CONCURRENCY)).map(|c| (s, c))
    });
    let (strategies, concurrency) = match choice {
        Ok(choice) => choice,
        Err(e) => {
            eprintln!("sweep: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("sweep: could not raise the open-file limit: {e}");
    }
    let exe = current_exe().expect("locating this benchmark's executable");
    let server = match ServerProcess::start(&exe) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("sweep: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sweep = Sweep {
        exe: &exe,
        base_url: server.url().to_owned(),
        server: RefCell::new(Some(server)),
        stash: RefCell::default(),
    };
    let points = points(&strategies, &concurrency, &Limits::read());
    let log_scale = PlotConfiguration::default().summary_scale(AxisScale::Logarithmic);

    let mut time = configure(Criterion::default());
    let mut group = time.benchmark_group("wall_time");
    group
        .sampling_mode(SamplingMode::Flat)
        .plot_config(log_scale.clone());
    for point in &points {
        let id = BenchmarkId::new(&point.strategy, point.concurrency);
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
        let id = BenchmarkId::new(&point.strategy, point.concurrency);
        group.bench_with_input(id, point, |b, point| {
            // Criterion divides a sample by its iterations: return the sum of the peaks.
            b.iter_custom(|iters| (0..iters).map(|_| sweep.peak(point)).sum::<u64>());
        });
    }
    group.finish();
    memory.final_summary();
    drop(sweep.server.take());
    ExitCode::SUCCESS
}

//! `fanout sweep` and `fanout resume`: a plan's points, repeated, each in a fresh worker,
//! appended to the run folder as each finishes (a crash keeps every point measured before it);
//! at a rate grid, then the probes that narrow each knee.

use std::path::Path;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use super::error::HarnessError;
use super::floors;
use super::harness;
use super::server::Target;
use crate::analysis::findings::knee;
use crate::metering::outside::OutsideError;
use crate::model::knob::Varied;
use crate::model::limit::Limit;
use crate::planning::key::PointKey;
use crate::planning::plan::Plan;
use crate::planning::point::Point;
use crate::record::report::PointReport;
use crate::results::run_folder::{self, PointsWriter};
use crate::results::setup::RunFacts;

/// Runs `plan` into the new run folder `out` against the server at `url` (or one of its
/// own); returns every point.
pub fn run(
    plan: &Plan,
    url: Option<&str>,
    out: &Path,
    command: &str,
) -> anyhow::Result<Vec<PointReport>> {
    // The floors first, in this process, before any worker or load runs.
    let exe = harness::current_exe().context("locating this executable")?;
    let floors = floors::measure_with_own(&exe);
    // The run's facts, read once here: the clock, the commit, the machine, the peers.
    let facts = RunFacts {
        raised_limits: super::raise::raised_for_run(),
        ..RunFacts::gather(Some(floors))
    };
    if cfg!(debug_assertions) {
        eprintln!(
            "fanout: warning: this is a debug build ({}); SETUP.md says so",
            facts.build
        );
    }
    run_folder::create(out, plan, &facts, command)?;
    measure(plan, url, out, Vec::new())
}

/// Finishes the sweep of `plan` saved in `dir`: runs only the points not yet in its
/// `points.jsonl`.
pub fn resume(plan: &Plan, dir: &Path, url: Option<&str>) -> anyhow::Result<Vec<PointReport>> {
    let done = run_folder::points_so_far(dir)?;
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let note = format!(
        "\n- Resumed: {now} with {} points already measured",
        done.len()
    );
    run_folder::note_in_setup(dir, &note)?;
    measure(plan, url, dir, done)
}

/// Why `point` need not run: the same strategy, repeat and settings met a named limit at a
/// smaller C (that wall stands below this C too).
fn wall_met_below(
    points: &[PointReport],
    repeat: u32,
    point: &Point,
) -> Option<(String, Limit, Option<u64>)> {
    let met = points
        .iter()
        .filter(|r| {
            r.repeat == repeat
                && r.point.strategy == point.strategy
                && r.point.concurrency < point.concurrency
                && r.point.settings == point.settings
        })
        .find(|r| r.limit.is_some())?;
    let limit = met.limit?;
    let why = format!(
        "not run: at C = {} it already met {}",
        met.point.concurrency,
        limit.described(met.limit_value)
    );
    Some((why, limit, met.limit_value))
}

/// The next bisection probe of each strategy's knee in `points`: a point of the plan's workload
/// at the rate halfway across its bracket; none once every bracket is within the tolerance.
fn knee_probes(plan: &Plan, points: &[PointReport]) -> Vec<Point> {
    let &[concurrency] = plan.concurrency.as_slice() else {
        return Vec::new(); // a knee is per strategy at one C
    };
    plan.strategies
        .iter()
        .filter_map(|&strategy| {
            let rate = knee::of(points, strategy)?.next_probe()?;
            let mut point = Point::of(&plan.workload, strategy, concurrency);
            point.vary(Varied::Rate(rate));
            Some(point)
        })
        .collect()
}

/// Measures every point of `plan` not in `done`, appending to `out/points.jsonl`; then writes
/// the folder's summary and charts, also when a point could not be measured.
fn measure(
    plan: &Plan,
    url: Option<&str>,
    out: &Path,
    done: Vec<PointReport>,
) -> anyhow::Result<Vec<PointReport>> {
    let exe = harness::current_exe().context("locating this executable")?;
    let target = Target::new(&exe, url, &plan.workload.settings)?;
    let mut jsonl = PointsWriter::open(out)?;
    // A planned point is done when a point of its key and workload was measured in its
    // repeat (a resumed folder's plan is the one it was started with).
    let knob = plan.vary.as_ref().map(|v| v.knob);
    let is_done = |repeat: u32, p: &Point| {
        let key = PointKey::of(p, knob);
        done.iter().any(|d| {
            d.repeat == repeat && PointKey::of(&d.point, knob) == key && d.point.same_workload(p)
        })
    };
    let planned: Vec<_> = plan
        .points()
        .into_iter()
        .filter(|(repeat, p)| !is_done(*repeat, p))
        .collect();
    let bar = ProgressBar::new(planned.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed_precise}] {msg}")
            .expect("a valid progress template"),
    );
    let mut points = done;
    let mut failure = None;
    let mut measure_one = |repeat: u32, point: &Point, points: &mut Vec<PointReport>| {
        bar.set_message(format!(
            "{} (repeat {repeat}/{})",
            point.name(),
            plan.repeat
        ));
        let wall = plan
            .stop_at_walls
            .then(|| wall_met_below(points, repeat, point));
        let mut report = match wall.flatten() {
            Some((why, limit, limit_value)) => PointReport {
                limit: Some(limit),
                limit_value,
                ..PointReport::skipped(point, why)
            },
            None => harness::run_point(&exe, target.endpoint(), point, plan.time_limit)?,
        };
        report.repeat = repeat;
        jsonl.append(&report)?;
        points.push(report);
        bar.inc(1);
        anyhow::Ok(())
    };
    for (repeat, point) in planned {
        if let Err(e) = measure_one(repeat, &point, &mut points) {
            failure = Some(e);
            break;
        }
    }
    // The knees, narrowed after the grid: each round probes every strategy whose bracket is
    // still wider than the tolerance, until none is (a resumed run picks up where it stopped).
    while failure.is_none() && plan.bisect_knees {
        let probes = knee_probes(plan, &points);
        if probes.is_empty() {
            break;
        }
        bar.inc_length((probes.len() as u32 * plan.repeat) as u64);
        'probes: for point in probes {
            for repeat in 1..=plan.repeat {
                if let Err(e) = measure_one(repeat, &point, &mut points) {
                    failure = Some(e);
                    break 'probes;
                }
            }
        }
    }
    bar.finish_and_clear();
    target.stop(); // before the folder is written, also when interrupted
    // The folder is drawn from its points.jsonl, as `fanout report` redraws it: one path, so a
    // redraw writes the same bytes (a float read back from JSON may differ in its last bit).
    let points = run_folder::load_points(out)?;
    run_folder::finish(out, &points)?;
    match failure {
        None => Ok(points),
        Some(e) => {
            let what = match e.downcast_ref::<HarnessError>() {
                Some(HarnessError::Worker(OutsideError::Interrupted)) => "interrupted".to_owned(),
                _ => format!("{e:#}"),
            };
            anyhow::bail!(
                "{what}; the {} points measured are kept in {dir}; finish with `fanout resume {dir}`",
                points.len(),
                dir = out.display()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    #[test]
    fn a_wall_met_at_some_c_stands_for_the_larger_c_of_that_strategy_and_repeat() {
        let mut met = measured("async_raw", 20_000, 1.0, 8 << 20);
        met.limit = Some(Limit::OpenFiles);
        met.limit_value = Some(20_000);
        let clean = measured("async_raw", 15_000, 1.0, 8 << 20);
        let points = [clean, met.clone()];
        let above = Point::new(met.point.strategy, 30_000);
        let (why, limit, value) = wall_met_below(&points, 1, &above).expect("a wall below");
        assert_eq!((limit, value), (Limit::OpenFiles, Some(20_000)));
        assert!(why.contains("at C = 20000"), "{why}");
        let below = Point::new(met.point.strategy, 17_000);
        assert_eq!(wall_met_below(&points, 1, &below), None, "15,000 met none");
        assert_eq!(wall_met_below(&points, 2, &above), None, "another repeat");
        let other = Point::new(strategy("thread_raw"), 30_000);
        assert_eq!(wall_met_below(&points, 1, &other), None, "another strategy");
    }

    fn strategy(name: &str) -> &'static crate::model::subject::Subject {
        crate::planning::catalog::find(name).expect("in the catalog")
    }
}

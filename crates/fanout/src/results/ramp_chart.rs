//! `ramp.svg`, the time series of a ramp run (`--rate A..B..A`): per second of due time, the
//! offered rate and what each strategy served, its p99 from the due time, and its requests in
//! flight — where each model's queue builds and how it drains.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::palette::{self, LEGEND_WIDTH, tick};
use crate::analysis::findings::overload;
use crate::model::intervals::Interval;
use crate::model::rate::RateProfile;
use crate::planning::catalog;
use crate::record::report::{Outcome, PointReport};

/// The ramp chart's file.
pub const RAMP_FILE: &str = "ramp.svg";

/// Each strategy's first measured ramp point.
fn ramps(points: &[PointReport]) -> Vec<&PointReport> {
    let measured: Vec<&PointReport> = points
        .iter()
        .filter(|r| r.outcome == Outcome::Measured && overload::of(r).is_some())
        .collect();
    catalog::present(measured.iter().map(|r| &r.point))
        .into_iter()
        .filter_map(|s| measured.iter().copied().find(|r| r.point.strategy == s))
        .collect()
}

/// One panel of the chart: a drawing area of the SVG.
type Panel<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// What drawing a panel may fail with.
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Each second's figure of each run's intervals.
fn per_second<'a, F: Fn(&Interval) -> Option<f64>>(
    runs: &'a [&'a PointReport],
    figure: &'a F,
) -> impl Iterator<Item = f64> + 'a {
    runs.iter()
        .flat_map(move |r| r.worker.tally.intervals.iter().filter_map(figure))
}

/// Draws the chart when `points` ramp; `Ok(false)` when none does (nothing to draw).
pub fn draw(points: &[PointReport], path: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    let runs = ramps(points);
    let Some(first) = runs.first() else {
        return Ok(false);
    };
    let rate = first
        .point
        .settings
        .rate
        .clone()
        .unwrap_or(crate::model::rate::RateProfile::Constant(1.0));
    let requests = first.point.requests;
    let t_max =
        per_second(&runs, &|i| Some(f64::from(i.t_s) + 1.0)).fold(rate.span_s(requests), f64::max);

    let root = SVGBackend::new(path, (960 + LEGEND_WIDTH, 1050)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "A ramp of {rate} requests/s at C = {}, D = {} ms (first repeat of each strategy)",
        first.point.concurrency, first.point.delay_ms
    );
    let root = root.titled(&title, ("sans-serif", 22))?;
    let (plots, beside) = root.split_horizontally(960);
    let subjects: Vec<&crate::model::subject::Subject> =
        runs.iter().map(|r| r.point.strategy).collect();
    palette::legend(&beside, &subjects, false)?;
    let areas = plots.split_evenly((3, 1));
    served(&areas[0], &runs, &rate, t_max)?;
    p99(&areas[1], &runs, t_max)?;
    in_flight(&areas[2], &runs, t_max)?;
    root.present()?;
    Ok(true)
}

/// The x axis every panel shares.
const X_DESC: &str = "seconds of due time since the run began";

/// Served: ok per second of due time, beside the offered rate (black).
fn served(area: &Panel<'_>, runs: &[&PointReport], rate: &RateProfile, t_max: f64) -> Drawn {
    let requests = runs[0].point.requests;
    let served_max = per_second(runs, &|i| Some((i.ok + i.dropped + i.failed) as f64))
        .fold(rate.peak(), f64::max);
    let mut chart = ChartBuilder::on(area)
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..t_max, 0.0..served_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(X_DESC)
        .y_desc("ok per second (offered: black)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    let offered: Vec<(f64, f64)> = (0..=(t_max * 10.0) as usize)
        .map(|k| k as f64 / 10.0)
        .map(|t| (t, rate.at(t, requests)))
        .collect();
    chart.draw_series(LineSeries::new(offered, BLACK.stroke_width(3)))?;
    for r in runs {
        let xy = r
            .worker
            .tally
            .intervals
            .iter()
            .map(|i| (f64::from(i.t_s) + 0.5, i.ok as f64))
            .collect();
        palette::line(&mut chart, r.point.strategy, xy)?;
    }
    Ok(())
}

/// p99 from the due time, log.
fn p99(area: &Panel<'_>, runs: &[&PointReport], t_max: f64) -> Drawn {
    let answered = |i: &Interval| (i.ok > 0).then_some(i.p99_ms);
    let p99s = || per_second(runs, &answered);
    let p99_max = p99s().fold(10.0, f64::max);
    let p99_min = p99s().fold(p99_max, f64::min).max(0.1);
    let mut chart = ChartBuilder::on(area)
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..t_max, (p99_min / 1.5..p99_max * 1.5).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(X_DESC)
        .y_desc("p99 from the due time, ms (log)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    for r in runs {
        let xy = r
            .worker
            .tally
            .intervals
            .iter()
            .filter(|i| i.ok > 0)
            .map(|i| (f64::from(i.t_s) + 0.5, i.p99_ms))
            .collect();
        palette::line(&mut chart, r.point.strategy, xy)?;
    }
    Ok(())
}

/// Requests in flight, the client's count, from the point's timeline.
fn in_flight(area: &Panel<'_>, runs: &[&PointReport], t_max: f64) -> Drawn {
    let in_flight_max = runs
        .iter()
        .flat_map(|r| r.timeline.iter().map(|s| s.in_flight as f64))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..t_max, 0.0..in_flight_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(X_DESC)
        .y_desc("requests in flight")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    for r in runs {
        let xy = r
            .timeline
            .iter()
            .map(|s| (s.t_ms / 1000.0, s.in_flight as f64))
            .collect();
        palette::line(&mut chart, r.point.strategy, xy)?;
    }
    Ok(())
}

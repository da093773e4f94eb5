//! `ramp.svg`, the time series of a ramp run (`--rate A..B..A`): per second of due time, the
//! offered rate and what each strategy served, its p99 from the due time, and its requests in
//! flight — where each model's queue builds and how it drains.

use std::path::Path;

use plotters::prelude::*;

use super::findings::overload;
use super::palette::{self, LEGEND_WIDTH, tick};
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
    let t_max = runs
        .iter()
        .flat_map(|r| {
            r.worker
                .tally
                .intervals
                .iter()
                .map(|i| f64::from(i.t_s) + 1.0)
        })
        .fold(rate.span_s(requests), f64::max);
    let served_max = runs
        .iter()
        .flat_map(|r| {
            r.worker
                .tally
                .intervals
                .iter()
                .map(|i| (i.ok + i.dropped + i.failed) as f64)
        })
        .fold(rate.peak(), f64::max);
    let p99s = || {
        runs.iter().flat_map(|r| {
            r.worker
                .tally
                .intervals
                .iter()
                .filter(|i| i.ok > 0)
                .map(|i| i.p99_ms)
        })
    };
    let p99_max = p99s().fold(10.0, f64::max);
    let p99_min = p99s().fold(p99_max, f64::min).max(0.1);
    let in_flight_max = runs
        .iter()
        .flat_map(|r| r.timeline.iter().map(|s| s.in_flight as f64))
        .fold(1.0, f64::max);

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
    let x_desc = "seconds of due time since the run began";

    // Served: ok per second of due time, beside the offered rate (black).
    let mut chart = ChartBuilder::on(&areas[0])
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..t_max, 0.0..served_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("ok per second (offered: black)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    let offered: Vec<(f64, f64)> = (0..=(t_max * 10.0) as usize)
        .map(|k| k as f64 / 10.0)
        .map(|t| (t, rate.at(t, requests)))
        .collect();
    chart.draw_series(LineSeries::new(offered, BLACK.stroke_width(3)))?;
    for r in &runs {
        let xy = r
            .worker
            .tally
            .intervals
            .iter()
            .map(|i| (f64::from(i.t_s) + 0.5, i.ok as f64))
            .collect();
        palette::line(&mut chart, r.point.strategy, xy)?;
    }

    // p99 from the due time, log.
    let mut chart = ChartBuilder::on(&areas[1])
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..t_max, (p99_min / 1.5..p99_max * 1.5).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("p99 from the due time, ms (log)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    for r in &runs {
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

    // Requests in flight, the client's count, from the point's timeline.
    let mut chart = ChartBuilder::on(&areas[2])
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..t_max, 0.0..in_flight_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("requests in flight")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    for r in &runs {
        let xy = r
            .timeline
            .iter()
            .map(|s| (s.t_ms / 1000.0, s.in_flight as f64))
            .collect();
        palette::line(&mut chart, r.point.strategy, xy)?;
    }
    root.present()?;
    Ok(true)
}

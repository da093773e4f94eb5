//! SVG charts of a run: peak RSS, throughput and p99 latency against concurrency, log scales,
//! one line per strategy (medians over repeats), pitfalls dashed, peers dotted, marked points crossed; and
//! `timeline.svg`, resident memory and requests in flight over time at the largest C.

use std::path::Path;

use plotters::prelude::*;

use crate::report::{Outcome, PointReport};
use crate::stats::{Cell, cells, figure};
use crate::strategies;

/// One chart: its file, title, y axis, and figure.
struct ChartSpec {
    file: &'static str,
    title: &'static str,
    y_desc: &'static str,
    figure: fn(&PointReport) -> f64,
}

const CHARTS: &[ChartSpec] = &[
    ChartSpec {
        file: "memory.svg",
        title: "Peak RSS of the client process",
        y_desc: "peak RSS, MiB (log)",
        figure: figure::peak_rss_mib,
    },
    ChartSpec {
        file: "throughput.svg",
        title: "Throughput (ok requests per second)",
        y_desc: "ok requests/s (log)",
        figure: figure::throughput_rps,
    },
    ChartSpec {
        file: "p99.svg",
        title: "p99 latency",
        y_desc: "p99 latency, ms (log)",
        figure: figure::p99_ms,
    },
];

/// The timeline chart's file.
pub const TIMELINE_FILE: &str = "timeline.svg";

/// The chart files [`write_charts`] writes.
pub fn chart_files() -> impl Iterator<Item = &'static str> {
    CHARTS.iter().map(|c| c.file).chain([TIMELINE_FILE])
}

/// Writes every chart into `dir`; returns the charts that could not be drawn, and why (no
/// positive value to put on a log scale, e.g. when every request failed).
pub fn write_charts(points: &[PointReport], dir: &Path) -> Vec<String> {
    let cells = cells(points);
    let mut skipped = Vec::new();
    for spec in CHARTS {
        let path = dir.join(spec.file);
        if let Err(e) = draw(&cells, spec, &path) {
            skipped.push(format!("{}: {e}", path.display()));
        }
    }
    let path = dir.join(TIMELINE_FILE);
    if let Err(e) = draw_timeline(points, &path) {
        skipped.push(format!("{}: {e}", path.display()));
    }
    skipped
}

/// Each strategy's first measured timeline at the largest C measured.
fn timelines(points: &[PointReport]) -> Vec<&PointReport> {
    let measured = || {
        points
            .iter()
            .filter(|r| r.outcome == Outcome::Measured && !r.worker.timeline.is_empty())
    };
    let Some(largest) = measured().map(|r| r.point.concurrency).max() else {
        return Vec::new();
    };
    strategies::present(measured().map(|r| &r.point))
        .into_iter()
        .filter_map(|s| {
            measured().find(|r| r.point.strategy == s && r.point.concurrency == largest)
        })
        .collect()
}

/// Two panels over time, one line per strategy: resident memory above, requests in flight
/// below, so a reader sees threads and tasks ramp up, hold and release.
fn draw_timeline(points: &[PointReport], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let runs = timelines(points);
    let Some(first) = runs.first() else {
        return Err("no measured point with a timeline".into());
    };
    let concurrency = first.point.concurrency;
    let t_max = runs
        .iter()
        .flat_map(|r| r.worker.timeline.iter().map(|s| s.t_ms / 1000.0))
        .fold(0.1_f64, f64::max);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let rss_max = runs
        .iter()
        .flat_map(|r| r.worker.timeline.iter().map(|s| mib(s.rss_bytes)))
        .fold(1.0_f64, f64::max);
    let in_flight_max = runs
        .iter()
        .flat_map(|r| r.worker.timeline.iter().map(|s| s.in_flight as f64))
        .fold(1.0_f64, f64::max);

    let root = SVGBackend::new(path, (960, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!("Over time at C = {concurrency} (first repeat of each strategy)"),
        ("sans-serif", 22),
    )?;
    let (upper, lower) = root.split_vertically(400);
    let panels = [
        (upper, "resident memory, MiB", rss_max * 1.1),
        (
            lower,
            "requests in flight (client's count)",
            in_flight_max * 1.1,
        ),
    ];
    for (panel, (area, y_desc, y_max)) in panels.into_iter().enumerate() {
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..t_max * 1.02, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the timed region began")
            .y_desc(y_desc)
            .draw()?;
        for (i, run) in runs.iter().enumerate() {
            let xy: Vec<(f64, f64)> = run
                .worker
                .timeline
                .iter()
                .map(|s| {
                    let y = if panel == 0 {
                        mib(s.rss_bytes)
                    } else {
                        s.in_flight as f64
                    };
                    (s.t_ms / 1000.0, y)
                })
                .collect();
            strategy_line(&mut chart, run.point.strategy.name, i, xy)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    root.present()?;
    Ok(())
}

/// Draws one strategy's line in its colour (the `i`-th of the palette), dashed for a pitfall,
/// dotted for a peer, with its legend entry; returns the colour.
fn strategy_line<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    name: &'static str,
    i: usize,
    xy: Vec<(f64, f64)>,
) -> Result<RGBAColor, Box<dyn std::error::Error>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let color = Palette99::pick(i).mix(0.95);
    let style = ShapeStyle::from(&color).stroke_width(2);
    let drawn = if name.starts_with("pitfall_") {
        chart.draw_series(DashedLineSeries::new(xy, 8, 5, style))?
    } else if name.starts_with(crate::peers::PREFIX) {
        chart.draw_series(DashedLineSeries::new(xy, 2, 4, style))?
    } else {
        chart.draw_series(LineSeries::new(xy, style))?
    };
    drawn
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
    Ok(color)
}

/// The chart's legend at `position`, on a light box.
fn legend<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), Box<dyn std::error::Error>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// (C, median) of one strategy's measured cells, positive values only (log scale).
fn series(
    cells: &[Cell<'_>],
    strategy: &str,
    figure: fn(&PointReport) -> f64,
) -> Vec<(f64, f64, bool)> {
    cells
        .iter()
        .filter(|c| c.strategy == strategy)
        .filter_map(|c| {
            let median = c.spread(figure)?.median;
            (median > 0.0).then_some((c.concurrency as f64, median, c.marked()))
        })
        .collect()
}

fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values.fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    (lo.is_finite() && hi > 0.0).then_some((lo / 1.6, hi * 1.6))
}

fn draw(
    cells: &[Cell<'_>],
    spec: &ChartSpec,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let present: Vec<_> = cells
        .iter()
        .flat_map(|c| c.measured.iter())
        .map(|r| &r.point)
        .collect();
    let lines: Vec<_> = strategies::present(present)
        .into_iter()
        .map(|s| (s, series(cells, s.name, spec.figure)))
        .filter(|(_, data)| !data.is_empty())
        .collect();
    let all = || lines.iter().flat_map(|(_, d)| d.iter());
    let Some((x_lo, x_hi)) = bounds(all().map(|p| p.0)) else {
        return Err("no measured point with a positive value to chart".into());
    };
    let (y_lo, y_hi) = bounds(all().map(|p| p.1)).unwrap_or((1.0, 10.0));

    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(spec.title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("requests in flight, C (log)")
        .y_desc(spec.y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;

    for (i, (strategy, data)) in lines.iter().enumerate() {
        let xy: Vec<(f64, f64)> = data.iter().map(|&(x, y, _)| (x, y)).collect();
        let color = strategy_line(&mut chart, strategy.name, i, xy.clone())?;
        chart.draw_series(xy.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    let marked: Vec<(f64, f64)> = all().filter(|p| p.2).map(|&(x, y, _)| (x, y)).collect();
    if !marked.is_empty() {
        let cross = RED.stroke_width(2);
        chart
            .draw_series(marked.iter().map(|&p| Cross::new(p, 7, cross)))?
            .label("listen-queue overflow or errors")
            .legend(move |(x, y)| Cross::new((x + 11, y), 5, cross));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

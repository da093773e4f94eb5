//! `hedge.svg`, the hedging frontier of a run that varies the hedge delay: per strategy, the
//! p99.9 each hedge delay bought against the extra load it cost (hedges in percent of N, log),
//! one line per model, each point on its model's frontier (none cheaper and lower) labelled with
//! its delay, and the model's p99.9 unhedged as a dashed level of its colour — the chart of Dean and Barroso's "The Tail at Scale".

use std::path::Path;

use plotters::coord::combinators::BindKeyPoints as _;
use plotters::prelude::*;

use super::figures::{HEDGE_EXTRA, P999};
use super::palette::{self, LEGEND_WIDTH, one_two_five, tick};
use super::report::PointReport;
use super::statistics::{cells, varied_knob};
use crate::model::knob::Knob;
use crate::model::subject::Subject;
use crate::planning::catalog;

/// The hedge chart's file.
pub const HEDGE_FILE: &str = "hedge.svg";

/// The extra load Dean and Barroso bound hedging to, in percent: drawn as a guide.
const BUDGET_GUIDE: f64 = 5.0;

/// One strategy's frontier: (extra load %, p99.9 ms, the hedge delay as shown — with the
/// requests that failed, if any did), medians of the repeats, by extra load.
type Frontier = Vec<(f64, f64, String)>;

/// The extra load at or below which a point counts as unhedged on a log axis, %.
const NO_EXTRA: f64 = 0.01;

/// Each strategy's frontier and its p99.9 unhedged, where the run varies the hedge delay.
fn frontiers(points: &[PointReport]) -> Vec<(&'static Subject, Frontier, Option<f64>)> {
    if varied_knob(points) != Some(Knob::HedgeAfter) {
        return Vec::new();
    }
    let cells = cells(points);
    catalog::present(points.iter().map(|r| &r.point))
        .into_iter()
        .filter_map(|subject| {
            let mut frontier: Frontier = cells
                .iter()
                .filter(|c| c.strategy == subject.name)
                .filter_map(|c| {
                    let extra = HEDGE_EXTRA.spread(c, points)?.median;
                    let p999 = P999.spread(c, points)?.median;
                    let failed = c.spread(|r| r.error_count() as f64)?.median;
                    let delay = match Knob::HedgeAfter.show(c.varied?) {
                        delay if failed > 0.0 => format!("{delay}: {failed:.0} failed"),
                        delay => delay,
                    };
                    (p999 > 0.0).then_some((extra, p999, delay))
                })
                .collect();
            frontier.sort_by(|a, b| a.0.total_cmp(&b.0));
            let unhedged = frontier
                .iter()
                .find(|p| p.2 == Knob::HedgeAfter.show(0))
                .map(|p| p.1);
            // Points with no hedge sent (unhedged, or a delay nothing reached) sit off the
            // log axis.
            frontier.retain(|p| p.0 > NO_EXTRA);
            (!frontier.is_empty()).then_some((subject, frontier, unhedged))
        })
        .collect()
}

/// Draws the chart when the run varies the hedge delay; `Ok(false)` when it does not.
pub fn draw(points: &[PointReport], path: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    let lines = frontiers(points);
    let Some(first) = points.first() else {
        return Ok(false);
    };
    if lines.is_empty() {
        return Ok(false);
    }
    let all = || lines.iter().flat_map(|(_, f, _)| f.iter());
    let x_max = all().map(|p| p.0).fold(BUDGET_GUIDE * 2.0, f64::max) * 1.5;
    let x_min = all().map(|p| p.0).fold(1.0, f64::min) / 1.5;
    let levels = || lines.iter().filter_map(|(_, _, unhedged)| *unhedged);
    let y_max = all().map(|p| p.1).chain(levels()).fold(1.0, f64::max) * 1.6;
    let y_min = all().map(|p| p.1).chain(levels()).fold(y_max, f64::min) / 1.6;

    let root = SVGBackend::new(path, (960 + LEGEND_WIDTH, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let p = &first.point;
    let straggler = &p.settings.straggler;
    let title = format!(
        "Hedging: p99.9 against the load it adds — C = {}, D = {} ms, {}% of requests {}× slower",
        p.concurrency,
        p.delay_ms,
        straggler.straggler_p * 100.0,
        straggler.straggler_x
    );
    let root = root.titled(&title, ("sans-serif", 20))?;
    let (plot, beside) = root.split_horizontally(960);
    let subjects: Vec<&Subject> = lines.iter().map(|(s, _, _)| *s).collect();
    palette::legend(&beside, &subjects, false)?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x_min..x_max)
                .log_scale()
                .with_key_points(one_two_five(x_min, x_max)),
            (y_min..y_max)
                .log_scale()
                .with_key_points(one_two_five(y_min, y_max)),
        )?;
    chart
        .configure_mesh()
        .x_desc("extra load: hedges sent, % of N, log (medians of the repeats)")
        .y_desc("p99.9 latency, ms (log)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    let guide = ShapeStyle::from(&BLACK.mix(0.4)).stroke_width(1);
    chart.draw_series(DashedLineSeries::new(
        [(BUDGET_GUIDE, y_min), (BUDGET_GUIDE, y_max)],
        6,
        4,
        guide,
    ))?;
    chart.draw_series([Text::new(
        format!("{BUDGET_GUIDE}% extra"),
        (BUDGET_GUIDE, y_max / 1.25),
        ("sans-serif", 13).into_font().color(&BLACK.mix(0.6)),
    )])?;
    for (place, (subject, frontier, unhedged)) in lines.iter().enumerate() {
        let xy = frontier.iter().map(|(x, y, _)| (*x, *y)).collect();
        let colour = palette::line(&mut chart, subject, xy)?;
        let label = ("sans-serif", 12).into_font().color(&colour);
        if let Some(level) = *unhedged {
            let style = ShapeStyle::from(&colour.mix(0.7)).stroke_width(1);
            chart.draw_series(DashedLineSeries::new(
                [(x_min, level), (x_max, level)],
                10,
                6,
                style,
            ))?;
            // The levels sit close together: their labels side by side, not on top.
            let at = x_min * 1.05 * 2.6_f64.powi(place as i32);
            chart.draw_series([Text::new(
                format!("{} unhedged", subject.name),
                (at, level * 1.04),
                label.clone(),
            )])?;
        }
        chart.draw_series(
            frontier
                .iter()
                .map(|(x, y, _)| Circle::new((*x, *y), 3, ShapeStyle::from(&colour).filled())),
        )?;
        // Only the points no other of the model beats on both load and tail: the rest crowd.
        // A point that failed requests is never on the frontier (its tail is of the requests
        // that survived): crossed out, saying how many failed.
        let failed = |p: &(f64, f64, String)| p.2.ends_with(" failed");
        let beaten = |p: &(f64, f64, String)| {
            let (x, y) = (p.0, p.1);
            failed(p)
                || frontier
                    .iter()
                    .filter(|o| !failed(o))
                    .any(|&(ox, oy, _)| ox <= x && oy <= y && (ox < x || oy < y))
        };
        chart.draw_series(
            frontier
                .iter()
                .filter(|p| failed(p))
                .map(|(x, y, _)| Cross::new((*x, *y), 6, RED.stroke_width(2))),
        )?;
        chart.draw_series(
            frontier
                .iter()
                .filter(|p| failed(p))
                .map(|(x, y, delay)| Text::new(delay.clone(), (*x, *y * 1.08), label.clone())),
        )?;
        chart.draw_series(
            frontier
                .iter()
                .filter(|p| !beaten(p))
                .map(|(x, y, delay)| Text::new(delay.clone(), (*x, *y), label.clone())),
        )?;
    }
    root.present()?;
    Ok(true)
}

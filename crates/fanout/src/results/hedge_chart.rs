//! `hedge.svg`, the hedging frontier of a run that varies the hedge delay: per strategy, the
//! p99.9 each hedge delay bought against the extra load it cost (hedges in percent of N, log),
//! one line per model, each point on its model's frontier (none cheaper and lower) labelled with
//! its delay, and the model's p99.9 unhedged as a dashed level of its colour — the chart of Dean and Barroso's "The Tail at Scale".

use std::path::Path;

use plotters::coord::combinators::BindKeyPoints as _;
use plotters::prelude::*;

use super::palette::{self, LEGEND_WIDTH, one_two_five, tick};
use crate::analysis::findings::hedge::{HedgeFinding, HedgePoint};
use crate::model::subject::Subject;
use crate::record::report::PointReport;

/// The hedge chart's file.
pub const HEDGE_FILE: &str = "hedge.svg";

/// The extra load Dean and Barroso bound hedging to, in percent: drawn as a guide.
const BUDGET_GUIDE: f64 = 5.0;

/// The extra load at or below which a point counts as unhedged on a log axis, %.
const NO_EXTRA: f64 = 0.01;

/// Draws the chart of `found` (what hedging bought each strategy of `points`, the folder's
/// findings) when the run varies the hedge delay; `Ok(false)` when it does not.
pub fn draw(
    points: &[PointReport],
    found: &[HedgeFinding],
    path: &Path,
) -> Result<bool, Box<dyn std::error::Error>> {
    // Points with no hedge sent (a delay nothing reached) sit off the log axis.
    let lines: Vec<(&HedgeFinding, Vec<HedgePoint>)> = found
        .iter()
        .map(|f| {
            let shown = f
                .points
                .iter()
                .filter(|p| p.extra_pct > NO_EXTRA && p.p999_ms > 0.0)
                .cloned()
                .collect();
            (f, shown)
        })
        .filter(|(_, shown): &(_, Vec<_>)| !shown.is_empty())
        .collect();
    let (Some(first), false) = (points.first(), lines.is_empty()) else {
        return Ok(false);
    };
    let all = || lines.iter().flat_map(|(_, shown)| shown.iter());
    let x_max = all()
        .map(|p| p.extra_pct)
        .fold(BUDGET_GUIDE * 2.0, f64::max)
        * 1.5;
    let x_min = all().map(|p| p.extra_pct).fold(1.0, f64::min) / 1.5;
    let levels = || lines.iter().map(|(f, _)| f.unhedged_ms);
    let y_max = all().map(|p| p.p999_ms).chain(levels()).fold(1.0, f64::max) * 1.6;
    let y_min = all()
        .map(|p| p.p999_ms)
        .chain(levels())
        .fold(y_max, f64::min)
        / 1.6;

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
    let subjects: Vec<&Subject> = lines.iter().map(|(f, _)| f.strategy).collect();
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
    budget_guide(&mut chart, (y_min, y_max))?;
    for (place, (finding, shown)) in lines.iter().enumerate() {
        strategy_line(&mut chart, place, finding, shown, (x_min, x_max))?;
    }
    root.present()?;
    Ok(true)
}

/// One strategy's frontier on `chart` (its `place` among the lines spaces its label), its
/// unhedged level across `x` (the axis' range), each point, and what failed crossed out.
fn strategy_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    place: usize,
    finding: &HedgeFinding,
    shown: &[HedgePoint],
    (x_min, x_max): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let subject = finding.strategy;
    let xy = shown.iter().map(|p| (p.extra_pct, p.p999_ms)).collect();
    let colour = palette::line(chart, subject, xy)?;
    let label = ("sans-serif", 12).into_font().color(&colour);
    let level = finding.unhedged_ms;
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
    chart.draw_series(shown.iter().map(|p| {
        Circle::new(
            (p.extra_pct, p.p999_ms),
            3,
            ShapeStyle::from(&colour).filled(),
        )
    }))?;
    // A point that failed requests is crossed out, saying how many failed; of the rest,
    // only the frontier is labelled: the others crowd.
    let failed = || shown.iter().filter(|p| p.failed > 0.0);
    chart.draw_series(
        failed().map(|p| Cross::new((p.extra_pct, p.p999_ms), 6, RED.stroke_width(2))),
    )?;
    chart.draw_series(failed().map(|p| {
        let text = format!("{}: {:.0} failed", p.after, p.failed);
        Text::new(text, (p.extra_pct, p.p999_ms * 1.08), label.clone())
    }))?;
    chart.draw_series(
        shown
            .iter()
            .filter(|p| finding.on_frontier(p))
            .map(|p| Text::new(p.after.clone(), (p.extra_pct, p.p999_ms), label.clone())),
    )?;
    Ok(())
}

/// The hedging budget's guide: a dashed vertical at [`BUDGET_GUIDE`] across `y`, labelled.
fn budget_guide<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    (y_min, y_max): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
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
    Ok(())
}

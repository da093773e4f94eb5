//! `latency_spectrum.svg`, the latency of each strategy by percentile as HdrHistogram's plotter
//! draws it: the x axis is 1 / (1 − q), log, so the median, p90, p99, p99.9 … sit evenly
//! apart and the tail gets the room it needs; one line per strategy at the run's largest C,
//! from its repeats' histograms pooled (`latency_histogram`). A run made before points kept
//! their histograms has none to draw.

use std::path::Path;

use hdrhistogram::Histogram;
use plotters::coord::combinators::BindKeyPoints as _;
use plotters::prelude::*;

use super::palette::{self, LEGEND_WIDTH, log_ticks, tick};
use crate::model::subject::Subject;
use crate::model::tally::decode_latency_histogram;
use crate::planning::catalog;
use crate::record::report::{Outcome, PointReport};

/// The spectrum chart's file.
pub const SPECTRUM_FILE: &str = "latency_spectrum.svg";

/// The percentiles the x axis names, as 1 / (1 − q).
const NAMED: [(f64, &str); 7] = [
    (1.0, "0%"),
    (2.0, "50%"),
    (10.0, "90%"),
    (100.0, "99%"),
    (1_000.0, "99.9%"),
    (10_000.0, "99.99%"),
    (100_000.0, "99.999%"),
];

/// What the chart draws: the points at the largest C whose points kept their histograms (and,
/// in a run that varies a setting, at its first value), each strategy's repeats pooled.
struct Pooled<'a> {
    /// One of those points: its C, varied value and rate are the chart's.
    at: &'a PointReport,
    /// Each strategy's histogram, in table order.
    lines: Vec<(&'static Subject, Histogram<u64>)>,
}

/// The points `draw` draws, pooled; `None` when no point kept its histogram.
fn pooled(points: &[PointReport]) -> Option<Pooled<'_>> {
    let kept = || {
        points.iter().filter(|r| {
            r.outcome == Outcome::Measured && r.worker.tally.latency_histogram.is_some()
        })
    };
    let largest = kept().map(|r| r.point.concurrency).max()?;
    let first_varied = kept().find_map(|r| r.point.varied);
    let drawn =
        || kept().filter(move |r| r.point.concurrency == largest && r.point.varied == first_varied);
    let lines = catalog::present(drawn().map(|r| &r.point))
        .into_iter()
        .filter_map(|subject| {
            let mut pooled: Option<Histogram<u64>> = None;
            for r in drawn().filter(|r| r.point.strategy == subject) {
                let encoded = r.worker.tally.latency_histogram.as_deref()?;
                let Ok(histogram) = decode_latency_histogram(encoded) else {
                    continue;
                };
                match &mut pooled {
                    Some(all) => all.add(&histogram).ok()?,
                    None => pooled = Some(histogram),
                }
            }
            Some((subject, pooled?))
        })
        .collect();
    Some(Pooled {
        at: drawn().next()?,
        lines,
    })
}

/// A histogram's percentile spectrum: (1 / (1 − q), latency in ms above `above`, the
/// constant delay where there is one), up to its last request (at q = 1 the axis would be
/// infinite).
fn spectrum(histogram: &Histogram<u64>, above: Option<f64>) -> Vec<(f64, f64)> {
    let last = 1.0 - 1.0 / histogram.len().max(2) as f64;
    histogram
        .iter_quantiles(5)
        .map(|v| (v.quantile_iterated_to().min(last), v.value_iterated_to()))
        .map(|(q, us)| {
            let ms = us as f64 / 1000.0 - above.unwrap_or(0.0);
            (1.0 / (1.0 - q), ms.max(0.01))
        })
        .collect()
}

/// The chart's title: at which point, counted from when, and how it is split.
fn title(at: &PointReport, by_model: bool) -> String {
    let c = at.point.concurrency;
    let varied = at.point.varied.map_or_else(String::new, |v| {
        format!(", {} = {}", v.knob().key(), v.show())
    });
    // Closed loop counts from each request's send (its service time); at a rate, from its due
    // time, the wait for a free slot included.
    let from = if at.point.settings.rate.is_some() {
        "from each request's due time (open loop)"
    } else {
        "from each request's send (closed loop: service time)"
    };
    let what = if by_model {
        "each model's floor and library strategy, "
    } else {
        ""
    };
    format!("Latency by percentile at C = {c}{varied}, {from}, {what}repeats pooled")
}

/// Draws the chart when some point kept its histogram; `Ok(false)` when none did.
pub fn draw(points: &[PointReport], path: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    let Some(Pooled { at, lines }) = pooled(points) else {
        return Ok(false);
    };
    // Under a constant delay every request takes at least it: what the client adds is the
    // latency above it, and that is what tells strategies apart, so it is what is drawn.
    let delay = at.point.delay();
    let above =
        (delay.quantile_ms(0.001) == delay.quantile_ms(0.999)).then(|| delay.quantile_ms(0.5));
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|(subject, histogram)| (subject, spectrum(&histogram, above)))
        .collect();
    if lines.is_empty() {
        return Ok(false);
    }
    let all = || lines.iter().flat_map(|(_, xy)| xy.iter());
    let x_max = all().map(|p| p.0).fold(10.0, f64::max) * 1.2;
    let y_max = all().map(|p| p.1).fold(1.0, f64::max) * 1.3;
    let y_min = all().map(|p| p.1).fold(y_max, f64::min) / 1.3;
    // A run of several models draws a panel per model (its floor and its library strategy,
    // on the same axes); otherwise every strategy on one plot.
    let panels = by_model(&lines);
    let title = title(at, panels.is_some());
    let panels = panels.unwrap_or_else(|| vec![(String::new(), lines.iter().collect())]);
    let rows = panels.len().div_ceil(2).max(1);
    let (width, height) = if panels.len() > 1 {
        (1200, 40 + 300 * rows as u32)
    } else {
        (960, 640)
    };
    let root = SVGBackend::new(path, (width + LEGEND_WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(&title, ("sans-serif", 18))?;
    let (plot, beside) = root.split_horizontally(width);
    let y_desc = match above {
        Some(d) => format!("latency above the {d:.0} ms delay, ms (log)"),
        None => "latency, ms (log)".to_owned(),
    };
    let subjects: Vec<&Subject> = panels
        .iter()
        .flat_map(|(_, lines)| lines.iter().map(|(s, _)| *s))
        .collect();
    palette::legend(&beside, &subjects, false)?;
    let areas = if panels.len() > 1 {
        plot.split_evenly((rows, 2))
    } else {
        vec![plot]
    };
    let bounds = Bounds {
        x_max,
        y_min,
        y_max,
    };
    for ((caption, lines), area) in panels.iter().zip(&areas) {
        panel(area, caption, lines, bounds, &y_desc)?;
    }
    root.present()?;
    Ok(true)
}

/// The axes every panel shares, so that models compare by eye.
#[derive(Clone, Copy)]
struct Bounds {
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

/// A strategy's line: its percentile (as 1 / (1 − q)) and latency (ms) pairs.
type Line = (&'static Subject, Vec<(f64, f64)>);

/// The lines of each model's floor and library strategy, a panel per model in the models'
/// order; `None` when fewer than two models' floors are among them.
fn by_model(lines: &[Line]) -> Option<Vec<(String, Vec<&Line>)>> {
    let panels: Vec<(String, Vec<&Line>)> = crate::analysis::findings::answer::models()
        .into_iter()
        .filter_map(|m| {
            let of: Vec<&Line> = lines
                .iter()
                .filter(|(s, _)| *s == m.floor || *s == m.library)
                .collect();
            (!of.is_empty()).then(|| (m.name.to_owned(), of))
        })
        .collect();
    (panels.len() >= 2).then_some(panels)
}

/// One plot of `lines` on the shared axes, captioned with its model where it has one.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    lines: &[&Line],
    b: Bounds,
    y_desc: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let named: Vec<f64> = NAMED
        .iter()
        .map(|(x, _)| *x)
        .filter(|x| *x <= b.x_max)
        .collect();
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72);
    if !caption.is_empty() {
        builder.caption(caption, ("sans-serif", 15));
    }
    let mut chart = builder.build_cartesian_2d(
        (1.0..b.x_max).log_scale().with_key_points(named),
        (b.y_min..b.y_max)
            .log_scale()
            .with_key_points(log_ticks(b.y_min, b.y_max)),
    )?;
    let percentile = |x: &f64| {
        NAMED
            .iter()
            .find(|(at, _)| (at - x).abs() < at * 1e-9)
            .map_or_else(String::new, |(_, name)| (*name).to_owned())
    };
    chart
        .configure_mesh()
        .x_desc("percentile (1 / (1 − q), log)")
        .y_desc(y_desc)
        .x_label_formatter(&percentile)
        .y_label_formatter(&tick)
        .draw()?;
    for (subject, xy) in lines {
        palette::line(&mut chart, subject, xy.clone())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tally::Latency;
    use crate::record::report::fixtures::measured;

    #[test]
    fn repeats_are_pooled_at_the_largest_c_kept_and_a_run_without_histograms_draws_none() {
        let with = |c: usize, ms: &[f64]| {
            let mut r = measured("async_raw", c, 1.0, 1 << 20);
            r.worker.tally.latency_histogram = Latency::of_millis(ms).1;
            r
        };
        let points = [
            with(10, &[1.0]),
            with(100, &[5.0, 6.0]),
            with(100, &[7.0]),
            measured("async_raw", 1_000, 1.0, 1 << 20),
        ];
        let drawn = pooled(&points).expect("kept");
        assert_eq!(drawn.at.point.concurrency, 100);
        assert_eq!(drawn.lines.len(), 1);
        assert_eq!(
            drawn.lines[0].1.len(),
            3,
            "the two repeats at C = 100 pooled"
        );
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join(SPECTRUM_FILE);
        assert!(draw(&points, &path).expect("drawn"));
        assert!(path.is_file());
        assert!(!draw(&points[3..], &path).expect("nothing to draw"));
    }
}

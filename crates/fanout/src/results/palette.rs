//! One look per subject across every chart of every run: its colour from its model's family
//! (threads warm, tasks cool, stackful coroutines green), its place in that family fixed by
//! the catalog's order, not by the run; strategies solid, pitfalls dashed, peers dotted. And
//! the legend, drawn beside the plot (never over it) with swatches drawn as the lines are.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::subject::{HeldBy, Kind, Subject};
use crate::planning::catalog;

/// Width of the legend beside every chart, px.
pub const LEGEND_WIDTH: u32 = 260;

/// Warm hues: a request held by an OS thread.
const THREADS: [RGBColor; 7] = [
    RGBColor(200, 30, 30),
    RGBColor(230, 120, 20),
    RGBColor(140, 60, 20),
    RGBColor(200, 150, 0),
    RGBColor(190, 0, 100),
    RGBColor(250, 80, 80),
    RGBColor(120, 20, 60),
];
/// Cool hues: a request held by a task (a future).
const TASKS: [RGBColor; 12] = [
    RGBColor(0, 90, 200),
    RGBColor(0, 150, 170),
    RGBColor(100, 60, 200),
    RGBColor(40, 160, 240),
    RGBColor(20, 40, 120),
    RGBColor(150, 100, 230),
    RGBColor(0, 110, 110),
    RGBColor(60, 120, 160),
    RGBColor(170, 40, 200),
    RGBColor(0, 190, 220),
    RGBColor(70, 70, 170),
    RGBColor(110, 150, 220),
];
/// Greens: a request held by a stackful coroutine (or a goroutine, a virtual thread), more
/// than the catalog's five so none repeats; each apart in lightness from the tasks' teals.
const COROUTINES: [RGBColor; 6] = [
    RGBColor(20, 140, 40),
    RGBColor(110, 170, 30),
    RGBColor(60, 200, 90),
    RGBColor(85, 107, 47),
    RGBColor(160, 180, 0),
    RGBColor(150, 210, 120),
];

/// `subject`'s colour: its family's, at its place among the family's subjects in the catalog.
pub fn colour(subject: &Subject) -> RGBColor {
    let family: &[RGBColor] = match subject.held_by {
        HeldBy::Thread => &THREADS,
        HeldBy::Task => &TASKS,
        HeldBy::Coroutine => &COROUTINES,
    };
    let place = catalog::subjects()
        .filter(|s| s.held_by == subject.held_by)
        .position(|s| s == subject)
        .unwrap_or_else(|| catalog::order(subject));
    family[place % family.len()]
}

/// Draws `xy` as `subject`'s line on `chart`; returns its colour.
pub fn line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    subject: &Subject,
    xy: Vec<(f64, f64)>,
) -> Result<RGBColor, DrawingAreaErrorKind<DB::ErrorType>> {
    let colour = colour(subject);
    let style = ShapeStyle::from(&colour).stroke_width(2);
    match subject.kind {
        Kind::Pitfall(_) => chart.draw_series(DashedLineSeries::new(xy, 8, 5, style))?,
        Kind::Peer => chart.draw_series(DashedLineSeries::new(xy, 2, 4, style))?,
        Kind::Strategy => chart.draw_series(LineSeries::new(xy, style))?,
    };
    Ok(colour)
}

/// The legend in `area` (beside the plot): one swatch per subject drawn as its line is, and
/// the marked points' cross when `marked`.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    subjects: &[&Subject],
    marked: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    // Rows as tall as the area allows for every entry, 22 px at most.
    let rows = subjects.len() as i32 + i32::from(marked);
    let height = area.dim_in_pixel().1 as i32;
    let step = ((height - 70) / rows.max(1)).clamp(10, 22);
    let size = f64::from(step.min(16) - 2).max(9.0);
    let text = ("sans-serif", size).into_font().color(&BLACK);
    let (mut y, x) = (50, 10);
    for subject in subjects {
        let colour = colour(subject);
        let style = ShapeStyle::from(&colour).stroke_width(3);
        // Dashes as the lines have them: (dash, gap) px.
        let (dash, gap) = match subject.kind {
            Kind::Pitfall(_) => (8, 5),
            Kind::Peer => (2, 4),
            Kind::Strategy => (30, 0),
        };
        let mut from = x;
        while from < x + 30 {
            let to = (from + dash).min(x + 30);
            area.draw(&PathElement::new([(from, y), (to, y)], style))?;
            from = to + gap;
        }
        area.draw(&Text::new(
            subject.name,
            (x + 38, y - step / 3),
            text.clone(),
        ))?;
        y += step;
    }
    if marked {
        area.draw(&Cross::new((x + 15, y), 5, RED.stroke_width(2)))?;
        area.draw(&Text::new(
            "listen-queue overflow or errors",
            (x + 38, y - 7),
            text,
        ))?;
    }
    Ok(())
}

/// The ticks 1, 2, 5, 10, 20, 50, … that fall within `lo..hi` (a log axis of round values;
/// plotters' own labels only the decades when a range spans few).
pub fn one_two_five(lo: f64, hi: f64) -> Vec<f64> {
    let decade = 10_f64.powi(lo.max(f64::MIN_POSITIVE).log10().floor() as i32);
    (0..12)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * decade * 10_f64.powi(k)))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// Ticks for a log axis from `lo` to `hi`: 1, 2, 5 per decade where that gives three or more,
/// else evenly spaced round values (a range within a decade or two would show one label).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = one_two_five(lo, hi);
    // A range that is empty or not a number has no even steps.
    if decades.len() >= 3 || hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return decades;
    }
    let raw = (hi - lo) / 6.0;
    let magnitude = 10_f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .map(|m| m * magnitude)
        .into_iter()
        .find(|s| *s >= raw)
        .unwrap_or(magnitude * 10.0);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick label: up to 3 significant digits, without a trailing ".0".
pub fn tick(v: &f64) -> String {
    let v = *v;
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies;

    #[test]
    fn a_log_axis_within_a_decade_gets_even_round_ticks() {
        assert_eq!(log_ticks(1.0, 1_000.0), one_two_five(1.0, 1_000.0));
        assert_eq!(
            log_ticks(1_900.0, 3_600.0),
            [2_000.0, 2_500.0, 3_000.0, 3_500.0]
        );
        assert!(log_ticks(5.0, 5.0).len() <= 1);
    }

    #[test]
    fn ticks_have_no_trailing_zeros_and_colours_keep_families() {
        assert_eq!(tick(&10.0), "10");
        assert_eq!(tick(&0.5), "0.5");
        assert_eq!(tick(&1234.0), "1234");
        assert_eq!(tick(&0.125), "0.125");
        let thread = &strategies::find("thread_pool")
            .expect("thread_pool")
            .subject;
        let task = &strategies::find("async_raw").expect("async_raw").subject;
        assert!(THREADS.contains(&colour(thread)));
        assert!(TASKS.contains(&colour(task)));
        // The same subject, the same colour, whatever else a chart shows.
        assert_eq!(colour(thread), colour(thread));
        let names: Vec<RGBColor> = strategies::ALL
            .iter()
            .filter(|s| s.subject.held_by == HeldBy::Thread)
            .map(|s| colour(&s.subject))
            .collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "two thread strategies share a colour"
        );
    }
}

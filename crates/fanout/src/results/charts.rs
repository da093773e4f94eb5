//! SVG charts of a run against concurrency (log), or against the setting a preset varies:
//! peak RSS, throughput, wall time, p99 latency, and what separates the model from the workload
//! — p99 minus the delay's own p99 and efficiency, a panel for thread strategies and one for
//! the rest, CPU per request; one line per strategy (medians over repeats), pitfalls dashed,
//! peers dotted, marked points crossed. And `timeline.svg`, what each strategy held over time
//! at the largest C: resident memory, requests in flight, kernel memory, threads, open files.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints as _;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::palette::{self, LEGEND_WIDTH, one_two_five, tick};
use crate::analysis::figures::{self, Band, Chart, Figure};
use crate::analysis::findings::folder::Findings;
use crate::analysis::statistics::{Cell, cells, varied_knob};
use crate::model::knob::{Knob, Varied};
use crate::model::memory::TimelineSample;
use crate::model::subject::{HeldBy, Subject};
use crate::planning::catalog;
use crate::record::report::{Outcome, PointReport};

/// The timeline chart's file.
pub const TIMELINE_FILE: &str = "timeline.svg";

/// The chart files [`write_charts`] writes.
pub fn chart_files() -> impl Iterator<Item = &'static str> {
    figures::charted().map(|(_, c)| c.file).chain([
        TIMELINE_FILE,
        super::ramp_chart::RAMP_FILE,
        super::hedge_chart::HEDGE_FILE,
        super::answer_chart::ANSWER_FILE,
        super::spectrum_chart::SPECTRUM_FILE,
    ])
}

/// Writes every chart of `points` (and of what they say, `findings`) into `dir`; returns the
/// charts that could not be drawn, and why (no positive value to put on a log scale, e.g. when
/// every request failed).
pub fn write_charts(points: &[PointReport], findings: &Findings, dir: &Path) -> Vec<String> {
    let cells = cells(points);
    let mut skipped = Vec::new();
    for (figure, chart) in figures::charted() {
        let path = dir.join(chart.file);
        if let Err(e) = draw(points, &cells, figure, chart, &path) {
            skipped.push(format!("{}: {e}", path.display()));
        }
    }
    let path = dir.join(TIMELINE_FILE);
    if let Err(e) = draw_timeline(points, &path) {
        skipped.push(format!("{}: {e}", path.display()));
    }
    // Only a ramp run has a ramp to draw.
    let path = dir.join(super::ramp_chart::RAMP_FILE);
    if let Err(e) = super::ramp_chart::draw(points, &path) {
        skipped.push(format!("{}: {e}", path.display()));
    }
    // Only a run of enough models has an answer to draw.
    let path = dir.join(super::answer_chart::ANSWER_FILE);
    if let Err(e) = super::answer_chart::draw(points, &path) {
        skipped.push(format!("{}: {e}", path.display()));
    }
    // Only a run that varies the hedge delay has a frontier to draw.
    let path = dir.join(super::hedge_chart::HEDGE_FILE);
    if let Err(e) = super::hedge_chart::draw(points, &findings.hedge, &path) {
        skipped.push(format!("{}: {e}", path.display()));
    }
    // Only points that kept their latency histograms have a spectrum to draw.
    let path = dir.join(super::spectrum_chart::SPECTRUM_FILE);
    if let Err(e) = super::spectrum_chart::draw(points, &path) {
        skipped.push(format!("{}: {e}", path.display()));
    }
    skipped
}

/// Each strategy's first measured timeline at the largest C measured.
fn timelines(points: &[PointReport]) -> Vec<&PointReport> {
    let measured = || {
        points
            .iter()
            .filter(|r| r.outcome == Outcome::Measured && !r.timeline.is_empty())
    };
    let Some(largest) = measured().map(|r| r.point.concurrency).max() else {
        return Vec::new();
    };
    catalog::present(measured().map(|r| &r.point))
        .into_iter()
        .filter_map(|s| {
            measured().find(|r| r.point.strategy == s && r.point.concurrency == largest)
        })
        .collect()
}

/// One panel of the timeline: its axis name and how it reads a sample (`None`: not read).
struct TimelinePanel {
    y_desc: &'static str,
    of: fn(&TimelineSample) -> Option<f64>,
}

/// The timeline's panels, in the order they are drawn (left to right, then down).
const TIMELINE_PANELS: [TimelinePanel; 5] = [
    TimelinePanel {
        y_desc: "resident memory, MiB",
        of: |s| Some(mib(s.rss_bytes)),
    },
    TimelinePanel {
        y_desc: "requests in flight (client's count)",
        of: |s| Some(s.in_flight as f64),
    },
    TimelinePanel {
        y_desc: "kernel memory, its cgroup's, MiB",
        of: |s| s.kernel_bytes.map(mib),
    },
    TimelinePanel {
        y_desc: "live threads",
        of: |s| s.threads.map(|t| t as f64),
    },
    TimelinePanel {
        y_desc: "open files (sockets, mostly)",
        of: |s| s.open_fds.map(|f| f as f64),
    },
];

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A panel per figure some strategy's timeline holds, two to a row, one line per strategy:
/// resident memory and requests in flight, and where they were read the worker's own kernel
/// memory, threads and open files — so a reader sees each model ramp up, hold and release.
fn draw_timeline(points: &[PointReport], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let runs = timelines(points);
    let Some(first) = runs.first() else {
        return Err("no measured point with a timeline".into());
    };
    let concurrency = first.point.concurrency;
    let t_max = runs
        .iter()
        .flat_map(|r| r.timeline.iter().map(|s| s.t_ms / 1000.0))
        .fold(0.1_f64, f64::max);
    // A panel no run read (a run from before a figure was sampled) is left out.
    let panels: Vec<(&TimelinePanel, f64)> = TIMELINE_PANELS
        .iter()
        .filter_map(|panel| {
            let most = runs
                .iter()
                .flat_map(|r| r.timeline.iter().filter_map(panel.of))
                .reduce(f64::max)?;
            Some((panel, most.max(1.0)))
        })
        .collect();
    let rows = panels.len().div_ceil(2);

    let root = SVGBackend::new(path, (1190, 60 + 370 * rows as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!("Over time at C = {concurrency} (first repeat of each strategy)"),
        ("sans-serif", 22),
    )?;
    let (plots, beside) = root.split_horizontally(960);
    let subjects: Vec<&Subject> = runs.iter().map(|r| r.point.strategy).collect();
    palette::legend(&beside, &subjects, false)?;
    let areas = plots.split_evenly((rows, 2));
    for ((panel, y_max), area) in panels.into_iter().zip(areas) {
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..t_max * 1.02, 0.0..y_max * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the timed region began")
            .y_desc(panel.y_desc)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()?;
        for run in &runs {
            let xy: Vec<(f64, f64)> = run
                .timeline
                .iter()
                .filter_map(|s| Some((s.t_ms / 1000.0, (panel.of)(s)?)))
                .collect();
            palette::line(&mut chart, run.point.strategy, xy)?;
        }
    }
    root.present()?;
    Ok(())
}

/// The x axis of a run's charts: C (log), or the setting it varies beside C, its values
/// evenly spaced in order (0 has no place on a log scale).
enum XAxis {
    Concurrency,
    Varied(Knob, Vec<Varied>),
}

impl XAxis {
    fn of(points: &[PointReport]) -> Self {
        match varied_knob(points) {
            None => Self::Concurrency,
            Some(knob) => {
                let mut values: Vec<Varied> = points
                    .iter()
                    .map(|r| knob.value(&r.point.settings))
                    .collect();
                values.sort_unstable();
                values.dedup();
                Self::Varied(knob, values)
            }
        }
    }

    fn x(&self, cell: &Cell<'_>) -> Option<f64> {
        match self {
            Self::Concurrency => Some(cell.key.concurrency as f64),
            Self::Varied(_, values) => {
                let value = cell.key.varied?;
                values.iter().position(|&v| v == value).map(|i| i as f64)
            }
        }
    }
}

/// One strategy and its (x, median, marked) points.
type Line = (&'static Subject, Vec<(f64, f64, bool)>);

/// Lines one plot holds before a chart splits into a panel per model family.
const MAX_LINES_PER_PLOT: usize = 8;
/// Panels per row when a chart splits by family.
const FAMILY_COLUMNS: usize = 2;

/// The model family a subject's line is drawn with when a chart splits: peers apart, HTTP/2
/// apart, then by what runs the requests.
fn family(subject: &Subject) -> &'static str {
    use crate::model::settings::Protocol;
    use crate::model::subject::{Kind, RunsOn};
    if subject.kind == Kind::Peer {
        return "peers";
    }
    if subject.protocol == Some(Protocol::H2) {
        return "HTTP/2 streams";
    }
    match subject.runs_on {
        RunsOn::Threads => "OS threads",
        RunsOn::May => "stackful coroutines (may)",
        RunsOn::Tokio => "tokio tasks",
        RunsOn::Smol => "smol tasks",
        RunsOn::Compio => "io_uring (compio)",
        RunsOn::Own => "their own runtimes",
    }
}

/// `lines` grouped by [`family`], in the order the families first appear; a family of more
/// than [`MAX_LINES_PER_PLOT`] lines is split in two panels.
fn by_family(lines: &[Line]) -> Vec<(String, Vec<Line>)> {
    let mut groups: Vec<(&'static str, Vec<Line>)> = Vec::new();
    for line in lines {
        let name = family(line.0);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, members)) => members.push(line.clone()),
            None => groups.push((name, vec![line.clone()])),
        }
    }
    groups
        .into_iter()
        .flat_map(|(name, members)| {
            let parts = members.len().div_ceil(MAX_LINES_PER_PLOT).max(1);
            let per = members.len().div_ceil(parts).max(1);
            members
                .chunks(per)
                .enumerate()
                .map(|(k, chunk)| {
                    let caption = if parts == 1 {
                        name.to_owned()
                    } else {
                        format!("{name} ({} of {parts})", k + 1)
                    };
                    (caption, chunk.to_vec())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// (x, median) of one strategy's measured cells; positive values only on a log scale.
fn series(
    cells: &[Cell<'_>],
    axis: &XAxis,
    strategy: &str,
    figure: &Figure,
) -> Vec<(f64, f64, bool)> {
    cells
        .iter()
        .filter(|c| c.key.strategy == strategy)
        .filter_map(|c| {
            let median = c.spread(|r| figure.of(r).unwrap_or(f64::NAN))?.median;
            median
                .is_finite()
                .then_some((axis.x(c)?, median, c.marked()))
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
    points: &[PointReport],
    cells: &[Cell<'_>],
    figure: &Figure,
    spec: &Chart,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let axis = XAxis::of(points);
    let present: Vec<_> = cells
        .iter()
        .flat_map(|c| c.measured.iter())
        .map(|r| &r.point)
        .collect();
    let lines: Vec<Line> = catalog::present(present)
        .into_iter()
        .map(|s| (s, series(cells, &axis, s.name, figure)))
        .filter(|(_, data)| !data.is_empty())
        .collect();
    let all = || lines.iter().flat_map(|(_, d)| d.iter());
    if all().next().is_none() {
        return Err("no measured point with a value to chart".into());
    }
    let y_values: Vec<f64> = all().map(|p| p.1).collect();
    let (log_y, y_range) = y_scale(spec, &y_values);
    let y_desc = if log_y {
        spec.y_desc.to_owned()
    } else {
        spec.y_desc.replace(" (log)", "")
    };

    // More lines than one plot can tell apart: a panel per model family, shared axes.
    let families = (lines.len() > MAX_LINES_PER_PLOT).then(|| by_family(&lines));
    let rows = families
        .as_ref()
        .map_or(1, |f| f.len().div_ceil(FAMILY_COLUMNS));
    let width = if spec.threads_apart || families.is_some() {
        1400
    } else {
        960
    };
    let height = families.as_ref().map_or(600, |_| 80 + 400 * rows as u32);
    let root = SVGBackend::new(path, (width + LEGEND_WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(spec.title, ("sans-serif", 22))?;
    let (root, beside) = root.split_horizontally(width);
    let subjects: Vec<&Subject> = lines.iter().map(|(s, _)| *s).collect();
    palette::legend(&beside, &subjects, all().any(|p| p.2))?;
    let panels = panels(root.clone(), spec, &lines, families, rows);
    let y = YAxis {
        range: y_range,
        log: log_y,
        desc: &y_desc,
    };
    for (area, caption, lines) in &panels {
        match &axis {
            XAxis::Concurrency => {
                let x = bounds(all().map(|p| p.0)).unwrap_or((1.0, 10.0));
                let fmt = |x: &f64| tick(x);
                let x_axis = ((x.0..x.1).log_scale(), "requests in flight, C (log)");
                panel_on(area, caption, lines, x_axis, &y, &fmt)?;
            }
            XAxis::Varied(knob, values) => {
                let fmt = |x: &f64| {
                    let i = x.round();
                    if (x - i).abs() > 1e-6 || i < 0.0 {
                        return String::new();
                    }
                    values.get(i as usize).map_or(String::new(), |v| v.show())
                };
                let x_axis = (-0.5..values.len() as f64 - 0.5, knob.label());
                panel_on(area, caption, lines, x_axis, &y, &fmt)?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// Whether the y axis is log, and its range: log only for positive figures spanning more
/// than a decade (less leaves it without labels); linear, from 0 or the lowest negative,
/// otherwise — or, for a figure whose band is near one, from a little under the lowest.
fn y_scale(spec: &Chart, y_values: &[f64]) -> (bool, (f64, f64)) {
    let values = || y_values.iter().copied();
    let positive = values().all(|y| y > 0.0);
    let decade = bounds(values()).is_some_and(|(lo, hi)| hi / lo >= 10.0 * 1.6 * 1.6);
    let log_y = spec.log_y && positive && decade;
    let range = if log_y {
        bounds(values()).unwrap_or((1.0, 10.0))
    } else if spec.band == Band::NearOne {
        // The band that matters: from a little under the lowest to just above 1.
        let lo = values().fold(1.0_f64, f64::min);
        let hi = values().fold(1.0_f64, f64::max);
        (((lo - 0.05) * 20.0).floor() / 20.0, hi + 0.02)
    } else {
        let hi = values().fold(0.0_f64, f64::max);
        let lo = values().fold(0.0_f64, f64::min);
        (lo * 1.1, hi * 1.1 + f64::EPSILON)
    };
    (log_y, range)
}

/// The chart's panels, each an area, its caption and its lines: one per model family (in
/// `rows` of them) where there are too many lines for one plot, threads apart from the rest
/// where the chart sets them apart, else one.
fn panels<'a>(
    root: DrawingArea<SVGBackend<'a>, Shift>,
    spec: &Chart,
    lines: &[Line],
    families: Option<Vec<(String, Vec<Line>)>>,
    rows: usize,
) -> Vec<(DrawingArea<SVGBackend<'a>, Shift>, String, Vec<Line>)> {
    if let Some(families) = families {
        let areas = root.split_evenly((rows, FAMILY_COLUMNS));
        areas
            .into_iter()
            .zip(families)
            .map(|(area, (family, lines))| (area, family, lines))
            .collect()
    } else if spec.threads_apart {
        let (left, right) = root.split_horizontally(700);
        let part = |threads: bool| {
            lines
                .iter()
                .filter(|(s, _)| (s.held_by == HeldBy::Thread) == threads)
                .cloned()
                .collect()
        };
        vec![
            (
                left,
                "a thread per request in flight".to_owned(),
                part(true),
            ),
            (right, "tasks, or a few threads".to_owned(), part(false)),
        ]
    } else {
        vec![(root, String::new(), lines.to_vec())]
    }
}

/// A chart's y axis: its range, log or linear, and its description.
struct YAxis<'a> {
    range: (f64, f64),
    log: bool,
    desc: &'a str,
}

/// [`panel`] on `x` and a log or linear `y` (two coordinate types, hence the two calls).
fn panel_on<X>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    caption: &str,
    lines: &[Line],
    (x, x_desc): (X, &str),
    y: &YAxis<'_>,
    x_format: &dyn Fn(&f64) -> String,
) -> Result<(), Box<dyn std::error::Error>>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let (lo, hi) = y.range;
    let axes = (x_desc, y.desc);
    if y.log {
        panel(
            area,
            caption,
            lines,
            x,
            (lo..hi).log_scale().with_key_points(one_two_five(lo, hi)),
            axes,
            x_format,
        )
    } else {
        panel(area, caption, lines, x, lo..hi, axes, x_format)
    }
}

/// One panel of a chart: every line, its points, crosses on marked points, a legend.
#[allow(clippy::too_many_arguments)]
fn panel<X, Y>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    caption: &str,
    lines: &[Line],
    x: X,
    y: Y,
    axes: (&str, &str),
    x_format: &dyn Fn(&f64) -> String,
) -> Result<(), Box<dyn std::error::Error>>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(axes.0)
        .y_desc(axes.1)
        .x_label_formatter(x_format)
        .y_label_formatter(&tick)
        .draw()?;
    for (strategy, data) in lines {
        let xy: Vec<(f64, f64)> = data.iter().map(|&(x, y, _)| (x, y)).collect();
        let color = palette::line(&mut chart, strategy, xy.clone())?;
        chart.draw_series(xy.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    let marked: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|(_, d)| d.iter())
        .filter(|p| p.2)
        .map(|&(x, y, _)| (x, y))
        .collect();
    if !marked.is_empty() {
        let cross = RED.stroke_width(2);
        chart.draw_series(marked.iter().map(|&p| Cross::new(p, 7, cross)))?;
    }
    Ok(())
}

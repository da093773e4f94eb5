//! `answer.svg`, the answer in one picture: per model, its floor and its library twin side by
//! side — the client's own memory per request in flight (the whole bill where no cgroup was
//! read), the closed-loop p99 it adds above the delay's and the CPU per request at the run's
//! largest C (`findings::answer`).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette;
use crate::analysis::findings::answer::{self, Twin};
use crate::record::report::PointReport;

/// The answer chart's file.
pub const ANSWER_FILE: &str = "answer.svg";

/// Models a run must cover, floors measured, before the chart is worth drawing.
const MIN_MODELS: usize = 3;

/// One bar chart of the picture: its title and how it reads a strategy's figures.
struct Panel {
    title: &'static str,
    of: fn(&Twin) -> Option<f64>,
}

const PANELS: [Panel; 3] = [
    Panel {
        title: "memory, KiB per request in flight",
        of: Twin::bill_kib,
    },
    Panel {
        title: "closed-loop p99 above the delay's, ms",
        of: |t| t.p99_overhead_ms.map(|s| s.median),
    },
    Panel {
        title: "CPU per request, µs",
        of: |t| t.cpu_us.map(|s| s.median),
    },
];

/// Draws the chart when `points` cover enough models; `Ok(false)` when they do not.
pub fn draw(points: &[PointReport], path: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    let a = answer::answer(points, answer::Beside::default());
    // The models whose floor was measured; each floor, then its library twin.
    let measured: Vec<_> = a
        .rows
        .iter()
        .filter(|row| row.floor.bill_kib().is_some() || row.floor.wall_s.is_some())
        .collect();
    if measured.len() < MIN_MODELS {
        return Ok(false);
    }
    let rows: Vec<(&'static str, Twin)> = measured
        .iter()
        .flat_map(|row| {
            std::iter::once((row.model, row.floor)).chain(row.library.map(|l| (row.model, l)))
        })
        .collect();
    let n = rows.len() as f64;
    let height = 110 + 26 * rows.len() as u32;
    const NAMES: u32 = 280;
    const PLOT: u32 = 400;
    let canvas = SVGBackend::new(path, (NAMES + 3 * PLOT + 60, height)).into_drawing_area();
    canvas.fill(&WHITE)?;
    let root = canvas.clone();
    // The bill is the client's own where every floor had its cgroup read.
    let own = measured.iter().all(|row| row.floor.own_bill_kib.is_some());
    let root = root.titled(&title(a.largest, own), ("sans-serif", 20))?;
    let (first, rest) = root.split_horizontally(NAMES + PLOT);
    let (second, third) = rest.split_horizontally(PLOT + 30);
    let centre = |i: usize| centre(rows.len(), i);
    for (k, (area, panel)) in [first, second, third].iter().zip(&PANELS).enumerate() {
        let values: Vec<Option<f64>> = rows.iter().map(|(_, t)| (panel.of)(t)).collect();
        let max = values.iter().flatten().fold(0.0_f64, |m, v| m.max(*v));
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(30)
            .y_label_area_size(if k == 0 { NAMES } else { 0 })
            .caption(panel.title, ("sans-serif", 15))
            .build_cartesian_2d(0.0..(max * 1.25).max(1.0), 0.0..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&palette::tick)
            .draw()?;
        if k == 0 {
            names(&canvas, |y| chart.backend_coord(&(0.0, y)), &rows)?;
        }
        for (i, ((_, twin), value)) in rows.iter().zip(&values).enumerate() {
            let Some(v) = *value else { continue };
            let y = centre(i);
            let colour = palette::colour(twin.strategy);
            chart.draw_series([Rectangle::new(
                [(0.0, y - 0.3), (v, y + 0.3)],
                colour.filled(),
            )])?;
            chart.draw_series([Text::new(
                palette::tick(&v),
                (v, y + 0.15),
                ("sans-serif", 11).into_font().color(&BLACK),
            )])?;
        }
    }
    root.present()?;
    Ok(true)
}

/// The chart's title: at which C, and which bill.
fn title(largest: usize, own: bool) -> String {
    format!(
        "Per model at C = {largest}: its floor and its library twin (medians; the {} fitted over C)",
        if own {
            "client's own memory"
        } else {
            "whole bill, the server's ends of sockets included,"
        }
    )
}

/// Where row `i` of `n` sits: rows run top to bottom, row i's bar between n − i − 1 and n − i.
fn centre(n: usize, i: usize) -> f64 {
    n as f64 - i as f64 - 0.5
}

/// The strategies' names once, right-aligned on `canvas` beside the first panel's bars
/// (`at`: where the panel's y axis puts a height on the canvas); a model's name before its
/// floor's.
fn names<DB: DrawingBackend>(
    canvas: &DrawingArea<DB, Shift>,
    at: impl Fn(f64) -> (i32, i32),
    rows: &[(&'static str, Twin)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = ("sans-serif", 13)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, (model, twin)) in rows.iter().enumerate() {
        let name = if i == 0 || rows[i - 1].0 != *model {
            format!("{model}: {}", twin.strategy.name)
        } else {
            twin.strategy.name.to_owned()
        };
        let (x, y) = at(centre(rows.len(), i));
        canvas.draw(&Text::new(name, (x - 8, y), style.clone()))?;
    }
    Ok(())
}

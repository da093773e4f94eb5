//! A run folder for continuous benchmarking beyond criterion, which tracks time only: the
//! figures [`EXPORTED`] lists per point (medians over repeats, with their min and max) as
//! Bencher's Metric Format (`bencher run --adapter json`) or github-action-benchmark's custom
//! JSON (`tool: customSmallerIsBetter`), so memory is tracked across commits as well as time.

use serde_json::{Map, Value, json};

use crate::analysis::figures::EXPORTED;
use crate::analysis::statistics::{Cell, cells};
use crate::record::report::PointReport;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Bencher Metric Format: `{benchmark: {measure: {value, lower_value, upper_value}}}`.
    Bmf,
    /// github-action-benchmark's custom format: `[{name, unit, value, range, extra}]`.
    Github,
}

/// A cell's benchmark name: `STRATEGY/C`, with the varied setting's value when there is one.
fn name(cell: &Cell<'_>) -> String {
    match cell.key.varied {
        Some(v) => format!(
            "{}/{}/{}",
            cell.key.strategy,
            cell.key.concurrency,
            v.show()
        ),
        None => format!("{}/{}", cell.key.strategy, cell.key.concurrency),
    }
}

/// `points` in `format`: every cell with a measured repeat, every measure it has.
pub fn export(points: &[PointReport], format: Format) -> Value {
    let measured: Vec<Cell<'_>> = cells(points)
        .into_iter()
        .filter(|c| !c.measured.is_empty())
        .collect();
    match format {
        Format::Bmf => {
            let mut out = Map::new();
            for cell in &measured {
                let mut measures = Map::new();
                for f in EXPORTED {
                    if let Some(s) = f.spread(cell, points) {
                        measures.insert(
                            f.key.to_owned(),
                            json!({"value": s.median, "lower_value": s.min, "upper_value": s.max}),
                        );
                    }
                }
                out.insert(name(cell), Value::Object(measures));
            }
            Value::Object(out)
        }
        Format::Github => {
            let mut out = Vec::new();
            for cell in &measured {
                for f in EXPORTED {
                    if let Some(s) = f.spread(cell, points) {
                        out.push(json!({
                            "name": format!("{} {}", name(cell), f.key),
                            "unit": f.unit,
                            "value": s.median,
                            "range": format!("{}–{}", s.min, s.max),
                            "extra": format!("median of {} repeats", cell.measured.len()),
                        }));
                    }
                }
            }
            Value::Array(out)
        }
    }
}

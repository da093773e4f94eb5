//! `points.csv`, derived from the report's JSON form: every key of a point's object is a
//! column, nested objects flattened with dots (`server.peak_in_flight`, `latency_ms.p99`,
//! `errors.timeout`), lists kept as JSON text (`timeline`), nothing restated by hand — a new
//! field of the report reaches the CSV with no edit here. Then every figure read per point
//! (`figures::ALL`) as `figure.KEY`, in its unit, for the measured points: a new figure
//! reaches the CSV with no edit here either.

use std::path::Path;

use serde_json::Value;

use crate::analysis::figures::{self, Reading};
use crate::record::report::{Outcome, PointReport};

/// The flat `(column, cell)` pairs of one JSON value: objects flattened with dots, lists as
/// compact JSON, `null` as an empty cell.
pub fn flatten(value: &Value) -> Vec<(String, String)> {
    let mut cells = Vec::new();
    flatten_into(String::new(), value, &mut cells);
    cells
}

fn flatten_into(prefix: String, value: &Value, cells: &mut Vec<(String, String)>) {
    let cell = match value {
        Value::Object(object) => {
            for (key, inner) in object {
                let column = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_into(column, inner, cells);
            }
            return;
        }
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(_) => value.to_string(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
    };
    cells.push((prefix, cell));
}

/// The CSV of `points`: a header of every column any row has, in the order first met, then one
/// row per point (a column a row lacks is empty).
pub fn to_csv(points: &[PointReport]) -> Result<String, CsvError> {
    let rows: Vec<Vec<(String, String)>> = points
        .iter()
        .map(|r| serde_json::to_value(r).map(|v| [flatten(&v), figure_cells(r)].concat()))
        .collect::<Result<_, _>>()?;
    let mut header: Vec<&str> = Vec::new();
    for row in &rows {
        for (column, _) in row {
            if !header.contains(&column.as_str()) {
                header.push(column);
            }
        }
    }
    // An object that is null in some rows is a column of its own only where no row has it
    // as an object (its fields are the columns then).
    header.retain(|column| {
        let nested = format!("{column}.");
        !header_has_prefix(&rows, &nested)
    });
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header)?;
    for row in &rows {
        let record = header.iter().map(|column| {
            row.iter()
                .find(|(c, _)| c == column)
                .map_or("", |(_, cell)| cell.as_str())
        });
        writer.write_record(record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every cell is a Rust string: the CSV writer adds only ASCII.
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8"))
}

/// Why a CSV could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// A point did not serialize.
    #[error("a point as JSON")]
    Json(#[from] serde_json::Error),
    /// The CSV writer refused a row.
    #[error("a CSV row")]
    Row(#[from] csv::Error),
    /// Its buffer could not be taken back.
    #[error("the CSV buffer")]
    Buffer(#[from] std::io::Error),
}

/// The `figure.KEY` cells of a point: each figure read per point, in its unit, at full
/// precision (the tables round; data does not), empty for a point not measured.
fn figure_cells(r: &PointReport) -> Vec<(String, String)> {
    figures::ALL
        .iter()
        .filter(|f| matches!(f.reading, Reading::PerPoint(_)))
        .map(|f| {
            let value = f.of(r).filter(|_| r.outcome == Outcome::Measured);
            let cell = value.map_or(String::new(), |v| v.to_string());
            (format!("figure.{}", f.key), cell)
        })
        .collect()
}

/// True when some row has a column starting with `prefix`.
fn header_has_prefix(rows: &[Vec<(String, String)>], prefix: &str) -> bool {
    rows.iter().flatten().any(|(c, _)| c.starts_with(prefix))
}

/// Writes the CSV of `points` at `path`.
pub fn write(points: &[PointReport], path: &Path) -> Result<(), CsvError> {
    Ok(std::fs::write(path, to_csv(points)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    #[test]
    fn every_key_of_a_points_json_is_a_column_with_its_value() {
        let mut r = measured("thread_pool", 100, 0.4, 8 << 20);
        r.point.settings.cpu_us = 50;
        r.worker.tally.errors = [("timeout".to_owned(), 3)].into();
        let mut other = measured("async_semaphore", 100, 0.2, 4 << 20);
        other.server = None;
        r.server = Some(Default::default());
        let text = to_csv(&[r.clone(), other]).expect("csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len(), 2);
        let cell = |row: usize, column: &str| {
            let i = header.iter().position(|h| h == column).expect(column);
            rows[row][i].to_owned()
        };
        // Values the fixture set, each read back from its column.
        assert_eq!(cell(0, "strategy"), "thread_pool");
        assert_eq!(cell(0, "concurrency"), "100");
        assert_eq!(cell(0, "wall_s"), "0.4");
        assert_eq!(cell(0, "peak_rss_bytes"), (8u64 << 20).to_string());
        assert_eq!(cell(0, "status"), "measured");
        assert_eq!(cell(0, "cpu_us"), "50");
        assert_eq!(cell(0, "errors.timeout"), "3");
        assert_eq!(
            cell(1, "errors.timeout"),
            "",
            "a column a row lacks is empty"
        );
        assert_eq!(cell(1, "strategy"), "async_semaphore");
        assert_eq!(
            cell(1, "server.peak_in_flight"),
            "",
            "a null object's fields are empty"
        );
        assert!(
            !header.iter().any(|h| h == "server"),
            "no column for an object beside its fields: {header:?}"
        );
        // Every figure read per point has its column: the wall in seconds, the peak RSS in
        // MiB (8 MiB here).
        assert_eq!(cell(0, "figure.wall"), "0.4");
        assert_eq!(cell(0, "figure.peak_rss"), "8");
        assert!(
            !header.iter().any(|h| h == "figure.whole_bill"),
            "a fitted figure has no value per point: {header:?}"
        );
    }
}

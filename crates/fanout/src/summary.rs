//! From a run's rows to what people read: medians and min–max over repeats, memory per
//! in-flight request fitted across concurrency, a markdown summary and a CSV.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::harness::{Outcome, PointReport};
use crate::strategies;

/// Errors reading or writing a run folder.
#[derive(Debug, thiserror::Error)]
pub enum RunFolderError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of `points.jsonl` is not a point.
    #[error("{path}:{line}: not a fanout point: {reason}")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parser's words.
        reason: String,
    },
    /// A CSV row could not be written.
    #[error("{path}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunFolderError + '_ {
    move |source| RunFolderError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `points.jsonl` of a run folder, or the file itself when given one.
pub fn points_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("points.jsonl")
    } else {
        path.to_owned()
    }
}

/// Reads every point of a run folder (or a `points.jsonl`).
pub fn load_points(path: &Path) -> Result<Vec<PointReport>, RunFolderError> {
    let file = points_file(path);
    let reader = std::fs::File::open(&file).map_err(io_error(&file))?;
    let mut points = Vec::new();
    for (i, line) in std::io::BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(io_error(&file))?;
        if line.trim().is_empty() {
            continue;
        }
        let point = serde_json::from_str(&line).map_err(|e| RunFolderError::BadLine {
            path: file.clone(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        points.push(point);
    }
    Ok(points)
}

/// Median, min and max of a figure over repeats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Median (mean of the middle two for an even count).
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }

    /// (max − min) / median: how far repeats disagree, relative to their median.
    pub fn relative_range(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median.abs()
        }
    }
}

/// The repeats of one (strategy, concurrency) point.
#[derive(Debug, Clone)]
pub struct Cell<'a> {
    /// Strategy name.
    pub strategy: &'a str,
    /// Concurrency.
    pub concurrency: usize,
    /// Measured repeats.
    pub measured: Vec<&'a PointReport>,
    /// Repeats not measured (skipped or failed), with their outcome.
    pub unmeasured: Vec<&'a PointReport>,
}

impl Cell<'_> {
    /// Spread of a figure over the measured repeats.
    pub fn spread(&self, figure: impl Fn(&PointReport) -> f64) -> Option<Spread> {
        Spread::of(self.measured.iter().map(|r| figure(r)))
    }

    /// True when any measured repeat is marked (listen overflow or errors).
    pub fn marked(&self) -> bool {
        self.measured.iter().any(|r| r.marked())
    }
}

/// The figures charted and compared, by name.
pub mod figure {
    use crate::harness::PointReport;

    /// Wall time, seconds.
    pub fn wall_s(r: &PointReport) -> f64 {
        r.worker.wall_s
    }
    /// Peak RSS, MiB.
    pub fn peak_rss_mib(r: &PointReport) -> f64 {
        r.worker.peak_rss_bytes as f64 / (1024.0 * 1024.0)
    }
    /// Ok requests per second.
    pub fn throughput_rps(r: &PointReport) -> f64 {
        r.throughput_rps
    }
    /// p99 latency, ms.
    pub fn p99_ms(r: &PointReport) -> f64 {
        r.worker.tally.latency_ms.p99
    }
    /// Efficiency.
    pub fn efficiency(r: &PointReport) -> f64 {
        r.efficiency
    }
    /// Peak threads.
    pub fn peak_threads(r: &PointReport) -> f64 {
        r.worker.peak_threads as f64
    }
    /// CPU user + system, seconds.
    pub fn cpu_s(r: &PointReport) -> f64 {
        r.worker.cpu_user_s + r.worker.cpu_sys_s
    }
    /// Requests in flight the server saw at most.
    pub fn server_peak_in_flight(r: &PointReport) -> f64 {
        r.server.map_or(f64::NAN, |s| s.peak_in_flight as f64)
    }
}

/// Groups rows by (strategy in the order of the table, concurrency ascending).
pub fn cells(points: &[PointReport]) -> Vec<Cell<'_>> {
    let order = |name: &str| {
        strategies::ALL
            .iter()
            .position(|s| s.name == name)
            .unwrap_or(usize::MAX)
    };
    let mut map: BTreeMap<(usize, &str, usize), Cell<'_>> = BTreeMap::new();
    for r in points {
        let cell = map
            .entry((order(&r.strategy), r.strategy.as_str(), r.concurrency))
            .or_insert_with(|| Cell {
                strategy: &r.strategy,
                concurrency: r.concurrency,
                measured: Vec::new(),
                unmeasured: Vec::new(),
            });
        if r.outcome == Outcome::Measured {
            cell.measured.push(r);
        } else {
            cell.unmeasured.push(r);
        }
    }
    map.into_values().collect()
}

/// Peak RSS fitted as a line over the requests in flight by design (C for bounded strategies,
/// N for `pitfall_unbounded`), per strategy (least squares over every measured repeat).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryFit {
    /// Slope: bytes per request in flight.
    pub bytes_per_request: f64,
    /// Intercept: bytes at zero concurrency.
    pub base_bytes: f64,
    /// Points fitted.
    pub points: usize,
}

/// Fits peak RSS = base + slope × in-flight for `strategy`; `None` with fewer than two
/// distinct values.
pub fn memory_fit(points: &[PointReport], strategy: &str) -> Option<MemoryFit> {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|r| r.strategy == strategy && r.outcome == Outcome::Measured)
        .map(|r| (r.in_flight() as f64, r.worker.peak_rss_bytes as f64))
        .collect();
    let n = xy.len() as f64;
    let mean_x = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xy.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if xy.len() < 2 || sxx == 0.0 {
        return None;
    }
    let sxy: f64 = xy.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    Some(MemoryFit {
        bytes_per_request: slope,
        base_bytes: mean_y - slope * mean_x,
        points: xy.len(),
    })
}

fn median_and_range(
    cell: &Cell<'_>,
    figure: impl Fn(&PointReport) -> f64,
    decimals: usize,
) -> String {
    match cell.spread(figure) {
        None => "–".into(),
        Some(s) if cell.measured.len() == 1 || s.min == s.max => format!("{:.decimals$}", s.median),
        Some(s) => format!(
            "{:.decimals$} ({:.decimals$}–{:.decimals$})",
            s.median, s.min, s.max
        ),
    }
}

/// The summary table: one row per (strategy, concurrency), medians with min–max of repeats.
pub fn table(points: &[PointReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| strategy | C | repeats | wall s | efficiency | ok req/s | peak RSS MiB | peak threads | CPU s | p99 ms | server peak in flight | errors |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for cell in cells(points) {
        if cell.measured.is_empty() {
            let why = match cell.unmeasured.first().map(|r| &r.outcome) {
                Some(Outcome::Skipped(why)) => format!("skipped: {why}"),
                Some(Outcome::Failed(why)) => format!("failed: {why}"),
                _ => "not measured".into(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | 0 | {why} | | | | | | | | |",
                cell.strategy, cell.concurrency
            );
            continue;
        }
        let errors: u64 = cell.measured.iter().map(|r| r.error_count()).sum();
        let mut notes = if errors == 0 {
            "0".to_owned()
        } else {
            errors.to_string()
        };
        if cell.measured.iter().any(|r| r.listen.overflowed()) {
            notes.push_str(" ⚠ listen queue overflowed");
        }
        if !cell.unmeasured.is_empty() {
            let _ = write!(notes, " ({} repeats failed)", cell.unmeasured.len());
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {notes} |",
            cell.strategy,
            cell.concurrency,
            cell.measured.len(),
            median_and_range(&cell, figure::wall_s, 2),
            median_and_range(&cell, figure::efficiency, 2),
            median_and_range(&cell, figure::throughput_rps, 0),
            median_and_range(&cell, figure::peak_rss_mib, 1),
            median_and_range(&cell, figure::peak_threads, 0),
            median_and_range(&cell, figure::cpu_s, 2),
            median_and_range(&cell, figure::p99_ms, 0),
            median_and_range(&cell, figure::server_peak_in_flight, 0),
        );
    }
    s
}

/// The memory-per-request table: the fitted slope of peak RSS over C, per strategy.
pub fn memory_table(points: &[PointReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| strategy | KiB per request in flight | MiB at C = 0 | points fitted |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|");
    for strategy in strategies::ALL {
        if let Some(fit) = memory_fit(points, strategy.name) {
            let _ = writeln!(
                s,
                "| {} | {:.1} | {:.1} | {} |",
                strategy.name,
                fit.bytes_per_request / 1024.0,
                fit.base_bytes / (1024.0 * 1024.0),
                fit.points
            );
        }
    }
    s
}

/// `summary.md`: the tables, with how to read them.
pub fn markdown(points: &[PointReport]) -> String {
    format!(
        "# Summary\n\n\
         Medians over repeats, with min–max in parentheses when repeats differ. \
         Efficiency = ideal / wall × ok / N (ideal = ceil(N/C) × D). ⚠ marks a point where the \
         kernel's listen-queue counters moved (SYN retries add whole seconds) — see \
         `points.jsonl` for every figure.\n\n\
         {}\n\
         ## Memory per request in flight\n\n\
         Peak RSS fitted as a straight line over the requests in flight by design — C, or N = \
         2·C for `pitfall_unbounded` — (least squares over every measured repeat): the slope is \
         what one more request in flight costs, the intercept what the process costs with \
         none. `sequential` and `pitfall_blocking_in_async` have no line: what they hold in \
         flight (1, the worker count) does not grow with C.\n\n\
         {}",
        table(points),
        memory_table(points)
    )
}

/// One CSV row per point: the figures flat.
#[derive(Debug, Serialize)]
struct CsvRow<'a> {
    strategy: &'a str,
    concurrency: usize,
    requests: usize,
    delay_ms: u64,
    repeat: u32,
    status: &'a str,
    reason: &'a str,
    ok: u64,
    errors: u64,
    wall_s: f64,
    ideal_s: f64,
    efficiency: f64,
    throughput_rps: f64,
    rss_before_bytes: u64,
    peak_rss_bytes: u64,
    peak_threads: u64,
    cpu_user_s: f64,
    cpu_sys_s: f64,
    ctx_voluntary: u64,
    ctx_involuntary: u64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    server_peak_in_flight: Option<u64>,
    server_connections_accepted: Option<u64>,
    server_requests_served: Option<u64>,
    listen_overflows: u64,
    listen_drops: u64,
    syn_retrans: u64,
}

/// Writes `points.csv` at `path`.
pub fn write_csv(points: &[PointReport], path: &Path) -> Result<(), RunFolderError> {
    let csv_error = |e: csv::Error| RunFolderError::Csv {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    for r in points {
        let (status, reason) = match &r.outcome {
            Outcome::Measured => ("measured", ""),
            Outcome::Skipped(why) => ("skipped", why.as_str()),
            Outcome::Failed(why) => ("failed", why.as_str()),
        };
        let w = &r.worker;
        let l = &w.tally.latency_ms;
        writer
            .serialize(CsvRow {
                strategy: &r.strategy,
                concurrency: r.concurrency,
                requests: r.requests,
                delay_ms: r.delay_ms,
                repeat: r.repeat,
                status,
                reason,
                ok: w.tally.ok,
                errors: r.error_count(),
                wall_s: w.wall_s,
                ideal_s: r.ideal_s,
                efficiency: r.efficiency,
                throughput_rps: r.throughput_rps,
                rss_before_bytes: w.rss_before_bytes,
                peak_rss_bytes: w.peak_rss_bytes,
                peak_threads: w.peak_threads,
                cpu_user_s: w.cpu_user_s,
                cpu_sys_s: w.cpu_sys_s,
                ctx_voluntary: w.ctx_voluntary,
                ctx_involuntary: w.ctx_involuntary,
                p50_ms: l.p50,
                p90_ms: l.p90,
                p99_ms: l.p99,
                max_ms: l.max,
                server_peak_in_flight: r.server.map(|s| s.peak_in_flight),
                server_connections_accepted: r.server.map(|s| s.connections_accepted),
                server_requests_served: r.server.map(|s| s.requests_served),
                listen_overflows: r.listen.listen_overflows,
                listen_drops: r.listen.listen_drops,
                syn_retrans: r.listen.syn_retrans,
            })
            .map_err(csv_error)?;
    }
    writer.flush().map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Point;

    /// A measured point with the given figures.
    pub(crate) fn measured(strategy: &str, c: usize, wall_s: f64, peak_rss: u64) -> PointReport {
        let mut r = PointReport::unmeasured(&Point::new(strategy, c), Outcome::Measured);
        r.worker.wall_s = wall_s;
        r.worker.peak_rss_bytes = peak_rss;
        r.worker.tally.ok = r.requests as u64;
        r
    }

    #[test]
    fn spreads_take_the_median_and_the_range() {
        let s = Spread::of([3.0, 1.0, 2.0]).expect("values");
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(
            Spread::of([1.0, 2.0, 3.0, 10.0]).map(|s| s.median),
            Some(2.5)
        );
        assert!((s.relative_range() - 1.0).abs() < 1e-12);
        assert_eq!(Spread::of([]), None);
        assert_eq!(Spread::of([f64::NAN, 4.0]).map(|s| s.median), Some(4.0));
    }

    #[test]
    fn the_memory_fit_recovers_a_known_line() {
        // 40 KiB per request on top of 5 MiB, measured at three concurrencies, twice each.
        let line = |c: usize| 5 * 1024 * 1024 + 40 * 1024 * c as u64;
        let points: Vec<_> = [10, 1_000, 10_000, 10, 1_000, 10_000]
            .into_iter()
            .map(|c| measured("thread_pool", c, 1.0, line(c)))
            .collect();
        let fit = memory_fit(&points, "thread_pool").expect("fit");
        assert!(
            (fit.bytes_per_request - 40.0 * 1024.0).abs() < 1e-6,
            "{fit:?}"
        );
        assert!(
            (fit.base_bytes - 5.0 * 1024.0 * 1024.0).abs() < 1e-3,
            "{fit:?}"
        );
        assert_eq!(fit.points, 6);
        assert_eq!(memory_fit(&points[..1], "thread_pool"), None);
        assert_eq!(memory_fit(&points, "async_semaphore"), None);
    }

    #[test]
    fn the_table_shows_medians_ranges_and_why_a_point_is_missing() {
        let mut points = vec![
            measured("thread_pool", 100, 0.2, 8 << 20),
            measured("thread_pool", 100, 0.4, 8 << 20),
            measured("thread_pool", 100, 0.3, 8 << 20),
        ];
        points.push(PointReport::unmeasured(
            &Point::new("sequential", 1_000),
            Outcome::Skipped("needs at least 400 s".into()),
        ));
        let table = table(&points);
        assert!(
            table.contains("| thread_pool | 100 | 3 | 0.30 (0.20–0.40) |"),
            "{table}"
        );
        assert!(
            table.contains("| sequential | 1000 | 0 | skipped: needs at least 400 s |"),
            "{table}"
        );
        // The table's order is DESIGN.md's: sequential first.
        assert!(table.find("sequential") < table.find("thread_pool"));
    }

    #[test]
    fn points_round_trip_through_a_run_folder_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("fanout-summary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let points = vec![measured("async_semaphore", 10, 0.2, 5 << 20)];
        let line = serde_json::to_string(&points[0]).expect("json");
        std::fs::write(dir.join("points.jsonl"), format!("{line}\n\n")).expect("write");
        assert_eq!(load_points(&dir).expect("load"), points);
        write_csv(&points, &dir.join("points.csv")).expect("csv");
        let csv = std::fs::read_to_string(dir.join("points.csv")).expect("csv");
        assert!(csv.starts_with("strategy,concurrency,requests,"), "{csv}");
        assert_eq!(csv.lines().count(), 2);

        std::fs::write(dir.join("points.jsonl"), format!("{line}\nnot json\n")).expect("write");
        let err = load_points(&dir).expect_err("bad line").to_string();
        assert!(err.contains("points.jsonl:2: not a fanout point"), "{err}");
        let missing = load_points(&dir.join("nope"))
            .expect_err("missing")
            .to_string();
        assert!(missing.contains("nope"), "{missing}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}

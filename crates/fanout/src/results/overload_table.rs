//! The overload table of a ramp run: per strategy, what it held at its worst — requests in
//! flight, threads, resident memory, the server's open connections — what it dropped, and
//! how it took the overload (`findings::overload`), over its repeats.

use super::markdown::Table;
use crate::analysis::findings::overload::{Overload, of};
use crate::analysis::statistics::{Spread, cells, ranged};
use crate::record::report::PointReport;

/// The overload table of a ramp run, a row per strategy over its measured repeats (the
/// median, with the range where they differ); `None` when no point ramps.
pub fn table(points: &[PointReport]) -> Option<String> {
    let ramps: Vec<_> = cells(points)
        .into_iter()
        .map(|cell| {
            let taken: Vec<(&PointReport, Overload)> = cell
                .measured
                .iter()
                .filter_map(|r| Some((*r, of(r)?)))
                .collect();
            (cell, taken)
        })
        .filter(|(_, taken)| !taken.is_empty())
        .collect();
    let first = ramps.first()?.1[0].0;
    let rate = first.point.settings.rate.as_ref()?;
    let repeats = ramps.iter().map(|(_, t)| t.len()).max()?;
    let over = match repeats {
        1 => "One run.".to_owned(),
        n => format!("Over {n} repeats: the median, with the range where they differ."),
    };
    let mut s = format!(
        "Offered {rate} requests/s (evenly spaced in time, linear between), C = {}, D = {} ms, \
         a request not started within {} ms of its due time dropped. {over}\n\n",
        first.point.concurrency,
        first.point.delay_ms,
        first
            .point
            .settings
            .drop_after_ms
            .unwrap_or(first.point.settings.timeout_ms),
    );
    let mut table = header();
    for (cell, taken) in &ramps {
        // Over the repeats that read it: `digits` decimals, `–` where none did.
        let spread = |read: &dyn Fn(&PointReport, &Overload) -> Option<f64>, digits: usize| {
            ranged(
                Spread::of(taken.iter().filter_map(|(r, o)| read(r, o))),
                |v| format!("{v:.digits$}"),
            )
        };
        let recovered = taken.iter().filter(|(_, o)| o.recovery_s.is_some()).count();
        let recovery = match recovered {
            0 => "not within the run".to_owned(),
            n if n == taken.len() => spread(&|_, o| o.recovery_s, 1),
            n => format!(
                "{} ({n} of {} repeats; the others not within the run)",
                spread(&|_, o| o.recovery_s, 1),
                taken.len()
            ),
        };
        table.row([
            cell.key.strategy.to_owned(),
            super::markdown::capacity_cell(taken[0].1.capacity),
            spread(&|r, _| Some(r.worker.tally.ok as f64), 0),
            spread(&|r, _| Some(r.worker.tally.dropped as f64), 0),
            spread(&|r, _| Some(r.error_count() as f64), 0),
            spread(&|_, o| Some(o.seconds_over as f64), 0),
            recovery,
            spread(&|r, _| Some(r.server.as_ref()?.peak_in_flight as f64), 0),
            spread(&|r, _| Some(r.metered.peak_threads? as f64), 0),
            spread(
                &|r, _| Some(r.metered.peak_rss_bytes? as f64 / 1048576.0),
                1,
            ),
            spread(
                &|r, _| Some(r.server.as_ref()?.peak_connections_open as f64),
                0,
            ),
        ]);
    }
    s.push_str(&table.to_string());
    Some(s)
}

/// The table's heading: the strategy, then its figures.
fn header() -> Table {
    Table::figures([
        "strategy",
        "capacity T / W, /s",
        "ok",
        "dropped",
        "failed",
        "seconds over 2·D",
        "recovery after the rate fell below capacity, s",
        "peak in flight (server)",
        "peak threads",
        "peak RSS, MiB",
        "peak connections open (server)",
    ])
}

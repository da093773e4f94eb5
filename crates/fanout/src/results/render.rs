//! Text people read: the summary tables and `summary.md`, and compare's table.

use std::fmt::Write as _;

use super::compare::Change;
use super::markdown::{Align, Table};
use super::template::{self, without_last_newline};
use crate::analysis::figures::{Figure, SUMMARY, WHERE_BYTES_GO, median_and_range};
use crate::analysis::findings::folder::Findings;
use crate::analysis::findings::knee;
use crate::analysis::findings::verdict::{Extremes, Verdict};
use crate::analysis::statistics::{Cell, LineFit, WhereBytesGo, cells, memory_fit, varied_knob};
use crate::model::knob::Knob;
use crate::model::settings;
use crate::model::subject::{Holds, Subject};
use crate::planning::catalog;
use crate::record::report::{Outcome, PointReport};

/// Why a cell with no measured repeat has none: its first repeat skipped or failed, and why.
/// A failed one says how busy its process was until it ended, so a client that was itself the
/// bottleneck (on CPU all along) reads apart from one that waited (a hang, a lost reply).
pub fn unmeasured(cell: &Cell<'_>) -> String {
    let Some(first) = cell.unmeasured.first() else {
        return "not measured".into();
    };
    match &first.outcome {
        Outcome::Skipped(why) => format!("skipped: {why}"),
        Outcome::Failed(why) => match first.metered.process_wall_s {
            Some(wall) if wall > 0.0 => format!(
                "failed: {why}; on CPU {:.1} s of its {wall:.1} s",
                first.cpu_s()
            ),
            _ => format!("failed: {why}"),
        },
        Outcome::Measured => "not measured".into(),
    }
}

/// The summary table: one row per (strategy, concurrency), medians with min–max of repeats.
pub fn table(points: &[PointReport]) -> String {
    table_of(points, SUMMARY)
}

/// The hedging table (`hedge_table`): its words, then the table of its columns; `None` when
/// no point hedged.
pub fn hedge_table(points: &[PointReport]) -> Option<String> {
    let about = super::hedge_table::about(points)?;
    Some(format!(
        "{about}\n\n{}",
        table_of(points, super::hedge_table::COLUMNS)
    ))
}

/// The retry table (`retry_table`): its words, then the table of its columns; `None` when
/// no point retried a fault a retry may mend.
pub fn retry_table(points: &[PointReport]) -> Option<String> {
    let rows = super::retry_table::rows(points);
    (!rows.is_empty()).then(|| {
        format!(
            "{}\n\n{}",
            super::retry_table::ABOUT,
            table_of(&rows, super::retry_table::COLUMNS)
        )
    })
}

/// [`table`] with the columns `figures`.
pub fn table_of(points: &[PointReport], figures: &[&Figure]) -> String {
    // A run varying a setting beside C shows it after C.
    let knob = varied_knob(points);
    let mut columns = vec![
        ("strategy".to_owned(), Align::Left),
        ("C".into(), Align::Right),
    ];
    columns.extend(knob.map(|k| (k.key().to_owned(), Align::Right)));
    columns.push(("repeats".into(), Align::Right));
    columns.extend(figures.iter().map(|f| (f.heading(), Align::Right)));
    columns.push(("errors".into(), Align::Left));
    let mut t = Table::new(columns);
    for cell in cells(points) {
        let mut row = vec![
            cell.key.strategy.to_owned(),
            cell.key.concurrency.to_string(),
        ];
        if knob.is_some() {
            row.extend(cell.key.varied.map(|v| v.show()));
        }
        if cell.measured.is_empty() {
            // The reason fills the first figure's cell; the others and errors stay blank.
            row.extend(["0".to_owned(), unmeasured(&cell)]);
            row.extend(std::iter::repeat_n(String::new(), figures.len()));
            t.row(row);
            continue;
        }
        let errors: u64 = cell.measured.iter().map(|r| r.error_count()).sum();
        let mut notes = errors.to_string();
        if cell.measured.iter().any(|r| r.listen.overflowed()) {
            notes.push_str(" ⚠ listen queue overflowed");
        }
        if !cell.unmeasured.is_empty() {
            let _ = write!(notes, " ({} repeats failed)", cell.unmeasured.len());
        }
        row.push(cell.measured.len().to_string());
        row.extend(figures.iter().map(|f| median_and_range(&cell, points, f)));
        row.push(notes);
        t.row(row);
    }
    t.to_string()
}

/// The memory-per-request table: the fitted slope of peak RSS over C, per strategy; nothing
/// where no line was fitted (one C).
pub fn memory_table(points: &[PointReport]) -> String {
    let mut t = Table::figures([
        "strategy",
        "KiB per request in flight",
        "MiB at C = 0",
        "points fitted",
    ]);
    for strategy in catalog::present(points.iter().map(|r| &r.point)) {
        if let Some(fit) = memory_fit(points, strategy.name) {
            t.row([
                strategy.name.to_owned(),
                format!("{:.1}", fit.slope / 1024.0),
                format!("{:.1}", fit.base / (1024.0 * 1024.0)),
                fit.points.to_string(),
            ]);
        }
    }
    t.or_nothing()
}

/// The "where the bytes go" table: per strategy, what one more request in flight adds to
/// each part of resident memory and to the kernel's socket memory, and what one more request
/// costs in allocations and CPU (all fitted slopes; `–` where a part was not measured).
pub fn where_bytes_go_table(points: &[PointReport]) -> String {
    let headings = [
        "strategy",
        "RSS KiB / in flight",
        "heap allocated",
        "of it not resident",
        "stacks",
        "other",
        "parts / RSS",
        "kernel stacks",
        "slab",
        "page tables",
        "TCP buffers",
        "the client's own kernel (cgroup)",
    ]
    .map(str::to_owned);
    let bills = WHERE_BYTES_GO.iter().map(|f| f.label.to_owned());
    let tail = ["allocations / request", "CPU µs / request"].map(str::to_owned);
    let mut t = Table::figures(headings.into_iter().chain(bills).chain(tail));
    let show = |fit: Option<LineFit>, scale: f64, decimals: usize| {
        fit.map_or("–".to_owned(), |f| {
            let shown = format!("{:.decimals$}", f.slope * scale);
            // A slope that rounds to zero is zero, whatever its sign.
            let unsigned = shown.trim_start_matches('-');
            if unsigned.chars().all(|c| c == '0' || c == '.') {
                unsigned.to_owned()
            } else {
                shown
            }
        })
    };
    for strategy in catalog::present(points.iter().map(|r| &r.point)) {
        let w = WhereBytesGo::of(points, strategy.name);
        if w.rss.is_none() {
            continue;
        }
        let kib = 1.0 / 1024.0;
        let slope = |slope: Option<f64>| {
            slope.map(|slope| LineFit {
                slope,
                base: 0.0,
                points: 0,
            })
        };
        let mut row = vec![
            strategy.name.to_owned(),
            show(w.rss, kib, 1),
            show(w.heap, kib, 1),
            show(slope(w.heap_not_resident()), kib, 1),
            show(w.stacks, kib, 1),
            show(slope(w.other_resident()), kib, 1),
            w.parts_over_rss()
                .map_or("–".to_owned(), |r| format!("{r:.2}")),
            show(w.kernel_stacks, kib, 1),
            show(w.slab, kib, 1),
            show(w.page_tables, kib, 1),
            show(w.kernel, kib, 1),
            show(w.client_kernel, kib, 1),
        ];
        row.extend(WHERE_BYTES_GO.iter().map(|f| {
            f.fitted(points, strategy.name)
                .map_or("–".to_owned(), |v| f.format(v))
        }));
        row.extend([show(w.allocations, 1.0, 1), show(w.cpu, 1e6, 1)]);
        t.row(row);
    }
    // No line fitted (one C): no table.
    t.or_nothing()
}

/// The verdict as text: at each C (and each value of a varied setting), the fastest and the
/// slowest by median wall time, the leanest and the heaviest by median peak RSS, and the most
/// CPU — each with how far apart; empty when no C has two strategies to compare.
pub fn verdict(v: &Verdict) -> String {
    let mut s = String::new();
    for at in &v.at {
        let c = at.concurrency;
        let place = match (v.knob, at.varied) {
            (Some(knob), Some(value)) => format!("C = {c}, {} = {}", knob.key(), value.show()),
            _ => format!("C = {c}"),
        };
        let wall = extremes_text(&at.wall, "wall time", ("fastest", "the slowest"), |v| {
            format!("{v:.2} s")
        });
        let rss = extremes_text(&at.peak_rss, "peak RSS", ("leanest", "the heaviest"), |v| {
            format!("{v:.1} MiB")
        });
        let cpu = &at.cpu;
        let cpu = if !cpu.apart {
            no_difference("CPU", cpu, |v| format!("{v:.2} s"))
        } else {
            format!(
                "most CPU {}{} ({:.2} s, {:.1}× the least)",
                cpu.most.strategy,
                tied(&cpu.tied_with_most),
                cpu.most.median,
                cpu.most.median / cpu.least.median.max(1e-9),
            )
        };
        let _ = writeln!(s, "- {place}: {wall}; {rss}; {cpu}");
    }
    if s.is_empty() {
        s
    } else {
        format!(
            "Verdict, from this run's medians (the strategies and peers that held C in flight by the server's count and served every request; pitfalls aside; a strategy named only where its repeats' range is apart from the other end's):\n{s}"
        )
    }
}

/// One figure's part of the verdict: the least named, and the most as a ratio — or no
/// difference, where the two ends' repeats overlap.
fn extremes_text(
    e: &Extremes,
    what: &str,
    (least, most): (&str, &str),
    show: impl Fn(f64) -> String,
) -> String {
    if !e.apart {
        return no_difference(what, e, show);
    }
    format!(
        "{least} {}{} ({}; {most}, {}, {:.1}×)",
        e.least.strategy,
        tied(&e.tied_with_least),
        show(e.least.median),
        e.most.strategy,
        e.most.median / e.least.median.max(1e-9),
    )
}

/// "no difference in X" between two ends whose repeats overlap, or "not ranked" where one
/// repeat has no range to tell noise by.
fn no_difference(what: &str, e: &Extremes, show: impl Fn(f64) -> String) -> String {
    let (lo, hi) = (show(e.least.median), show(e.most.median));
    if e.repeats < 2 {
        format!("{what} not ranked, one repeat each ({lo} to {hi})")
    } else {
        format!("no difference in {what} beyond the repeats (medians {lo} to {hi})")
    }
}

/// ", tied … with a, b" for the others within an end's repeats (their count past three), or
/// nothing.
fn tied(others: &[&Subject]) -> String {
    match others.len() {
        0 => String::new(),
        1..=3 => {
            let names: Vec<&str> = others.iter().map(|s| s.name).collect();
            format!(", tied within the repeats with {}", names.join(", "))
        }
        n => format!(", tied within the repeats with {n} others"),
    }
}

/// The open-loop table of a run that varies the offered rate: per strategy (`knees`, the
/// folder's findings), the capacity Little's law predicts and the lowest rate whose p99 left
/// the delay (or that dropped requests), with p99 at each rate of `points`; `None` for any
/// other run.
pub fn knee_table(points: &[PointReport], knees: &[knee::Knee]) -> Option<String> {
    if varied_knob(points) != Some(Knob::Rate) {
        return None;
    }
    let rates = knee::grid(points);
    let mut t = Table::figures(
        [
            "strategy",
            "predicted capacity T / W, /s",
            "measured knee, /s",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain(rates.iter().map(|r| format!("p99 ms at {r}/s"))),
    );
    for knee in knees {
        let at = |rate: u64| knee::at_rate(points, knee.strategy, rate);
        let p99 = rates.iter().map(|&rate| {
            at(rate).map_or("–".to_owned(), |r| {
                let dropped = match r.worker.tally.dropped {
                    0 => String::new(),
                    n => format!(" ({n} dropped)"),
                };
                format!("{:.0}{dropped}", r.worker.tally.latency_ms.p99)
            })
        });
        let mut row = vec![
            knee.strategy.name.to_owned(),
            super::markdown::capacity_cell(knee.capacity),
            knee.cell(),
        ];
        row.extend(p99);
        t.row(row);
    }
    Some(t.to_string())
}

/// What the meter inside the workers cost them: the largest share of a worker's CPU its
/// sampler thread used, and where; `None` when no point says.
pub fn meter_cost(points: &[PointReport]) -> Option<String> {
    let shares: Vec<(f64, &PointReport)> = points
        .iter()
        .filter(|r| r.outcome == Outcome::Measured && r.cpu_s() > 0.0)
        .filter_map(|r| Some((r.worker.meter_cpu_s? / r.cpu_s(), r)))
        .collect();
    let (most, at) = shares.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0))?;
    let mut sorted: Vec<f64> = shares.iter().map(|(s, _)| *s).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    Some(format!(
        "The worker's sampler thread (in flight and live heap, read from atomics every 20 ms) \
         used a median {:.2}% of a worker's whole CPU, at most {:.2}% ({}/{}); resident memory, \
         threads, stacks and the kernel's memory are read by the harness from outside.",
        median * 100.0,
        most * 100.0,
        at.point.strategy.name,
        at.point.concurrency
    ))
}

/// `summary.md`: the tables of `points`, with how to read them (`templates/summary.md`), and
/// what they say (`findings`, the folder's `findings.json`), a section each where the run has
/// it.
pub fn summary_markdown(points: &[PointReport], findings: &Findings) -> String {
    let cut = without_last_newline;
    let (by_design, no_line) = held_by_design(points);
    template::fill(
        "summary.md",
        minijinja::context! {
            ideal_rule => settings::IDEAL_RULE,
            table => cut(table(points)),
            knees => knee_table(points, &findings.knees).map(cut),
            bisected => bisected(points),
            overload => super::overload_table::table(points).map(cut),
            hedges => hedge_table(points).map(cut),
            retries => retry_table(points).map(cut),
            faults => super::fault_table::table(points).map(cut),
            memory => cut(memory_table(points)),
            by_design,
            no_line,
            verdict => cut(verdict(&findings.verdict)),
            meter => meter_cost(points),
            steal => super::steal::line(points),
            bytes => cut(where_bytes_go_table(points)),
        },
    )
}

/// How the knee table's knees were found: by bisection within the tolerance, or the grid's
/// step.
fn bisected(points: &[PointReport]) -> String {
    if knee::rates(points).len() > knee::grid(points).len() {
        format!(
            " — the rate grid's step narrowed by bisection to within {:.0}% (each \
             probe a point of its own in `points.jsonl`; the columns are the grid)",
            knee::KNEE_TOLERANCE * 100.0
        )
    } else {
        ": the rate grid's step (this run did not bisect)".to_owned()
    }
}

/// What the memory fit is over — C, or N for the subjects that hold every request — and
/// which subjects have no line (what they hold does not grow with C), from their facts.
fn held_by_design(points: &[PointReport]) -> (String, String) {
    let present = catalog::present(points.iter().map(|r| &r.point));
    let named = |holds: fn(Holds) -> bool| {
        let names: Vec<String> = present
            .iter()
            .filter(|s| holds(s.holds))
            .map(|s| format!("`{}`", s.name))
            .collect();
        names.join(", ")
    };
    let all_n = named(|h| h == Holds::All);
    let by_design = if all_n.is_empty() {
        "C".to_owned()
    } else {
        format!("C, or N for {all_n}")
    };
    let fixed = named(|h| matches!(h, Holds::One | Holds::Workers | Holds::CoresPlus { .. }));
    let no_line = if fixed.is_empty() {
        String::new()
    } else {
        format!(" {fixed} have no line: what they hold in flight does not grow with C.")
    };
    (by_design, no_line)
}

/// The changes as a markdown table, flagged ones marked.
pub fn changes_table(changes: &[Change]) -> String {
    let mut t = Table::new([
        ("strategy", Align::Left),
        ("C", Align::Right),
        ("figure", Align::Left),
        ("old", Align::Right),
        ("new", Align::Right),
        ("new/old", Align::Right),
        ("noise", Align::Right),
        ("", Align::Left),
    ]);
    for c in changes {
        let flag = match (c.flagged(), c.worse()) {
            (false, _) => "",
            (true, true) => "▲ worse",
            (true, false) => "▼ better",
        };
        let varied = c
            .varied
            .as_ref()
            .map_or_else(String::new, |v| format!(" ({v})"));
        t.row([
            format!("{}{varied}", c.strategy),
            c.concurrency.to_string(),
            c.figure.to_string(),
            format!("{:.3}", c.old),
            format!("{:.3}", c.new),
            format!("{:.3}", c.ratio),
            format!("±{:.0}%", c.noise * 100.0),
            flag.to_owned(),
        ]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::findings::verdict;
    use crate::record::report::fixtures::measured;

    #[test]
    fn the_verdict_names_the_fastest_and_leanest_from_the_rows_and_leaves_pitfalls_aside() {
        // Two repeats each, their ranges apart: a ranking.
        let twice = |name: &str, wall: f64, rss: u64| {
            [
                measured(name, 100, wall, rss),
                measured(name, 100, wall * 1.01, rss),
            ]
        };
        let points: Vec<PointReport> = [
            twice("thread_pool", 0.4, 40 << 20),
            twice("async_semaphore", 0.2, 10 << 20),
            twice("pitfall_unbounded", 0.1, 5 << 20),
        ]
        .into_iter()
        .flatten()
        .collect();
        let v = verdict(&verdict::of(&points));
        assert!(
            v.contains("C = 100: fastest async_semaphore (0.20 s; the slowest, thread_pool, 2.0×)"),
            "{v}"
        );
        assert!(
            v.contains("leanest async_semaphore (10.0 MiB; the heaviest, thread_pool, 4.0×)"),
            "{v}"
        );
        assert!(!v.contains("pitfall_unbounded"), "{v}");
        // One repeat each: no range to tell noise by, no ranking.
        let once = vec![
            measured("thread_pool", 100, 0.4, 40 << 20),
            measured("async_semaphore", 100, 0.2, 10 << 20),
        ];
        let v = verdict(&verdict::of(&once));
        assert!(v.contains("wall time not ranked, one repeat each"), "{v}");
        assert_eq!(
            verdict(&verdict::of(&points[..2])),
            "",
            "one strategy: nothing to compare"
        );
    }

    #[test]
    fn the_table_shows_medians_ranges_and_why_a_point_is_missing() {
        let mut points = vec![
            measured("thread_pool", 100, 0.2, 8 << 20),
            measured("thread_pool", 100, 0.4, 8 << 20),
            measured("thread_pool", 100, 0.3, 8 << 20),
        ];
        let sequential = crate::planning::catalog::find("sequential").expect("strategy");
        points.push(PointReport::skipped(
            &crate::planning::point::Point::new(sequential, 1_000),
            "needs at least 400 s".into(),
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
        // The table's order is the strategies' own: sequential first.
        assert!(table.find("sequential") < table.find("thread_pool"));
    }

    #[test]
    fn a_failed_point_says_how_busy_its_process_was_until_it_ended() {
        let mut killed = measured("async_raw", 1_000, 60.0, 8 << 20);
        killed.outcome = Outcome::Failed("killed after the 60 s time limit".into());
        killed.metered.process_wall_s = Some(60.2);
        killed.metered.cpu_user_s = 59.0;
        killed.metered.cpu_sys_s = 0.5;
        let table = table(&[killed]);
        assert!(
            table.contains(
                "| async_raw | 1000 | 0 | failed: killed after the 60 s time limit; on CPU 59.5 s of its 60.2 s |"
            ),
            "{table}"
        );
    }
}

//! Text people read: the summary tables and `summary.md`, the one-point summary of
//! `fanout run`, a run folder's `SETUP.md`, and compare's table.

use std::fmt::Write as _;

use super::compare::Change;
use super::figures::{Figure, SUMMARY, WHERE_BYTES_GO, median_and_range};
use super::findings::folder::Findings;
use super::findings::verdict::{Extremes, Verdict};
use super::findings::{self, knee};
use super::markdown::{Align, Table};
use super::statistics::{Cell, LineFit, WhereBytesGo, cells, memory_fit, varied_knob};
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
            findings::capacity_cell(knee.capacity),
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

/// `summary.md`: the tables of `points`, with how to read them, and what they say
/// (`findings`, the folder's `findings.json`).
pub fn summary_markdown(points: &[PointReport], findings: &Findings) -> String {
    let mut s = format!(
        "# Summary\n\n\
         Medians over repeats, with min–max in parentheses when repeats differ. \
         Efficiency = ideal / wall × ok / N ({}). ⚠ marks a point where the \
         kernel's listen-queue counters moved (SYN retries add whole seconds) — see \
         `points.jsonl` for every figure.\n\n{}",
        settings::IDEAL_RULE,
        table(points)
    );
    if let Some(knees) = knee_table(points, &findings.knees) {
        let _ = write!(
            s,
            "\n## Where the queue starts (open loop)\n\n\
             By Little's law a client holding at most T requests, each taking W, keeps up while \
             the offered rate λ < T / W; past it the queue grows for as long as the run lasts. \
             Predicted: T = what the strategy holds in flight by design (C; the unbounded \
             pitfall has no bound, so no prediction), W = the mean delay. Measured knee: \
             between the highest offered rate whose p99 (from the due time, median over the \
             repeats) kept within twice the delay and the lowest that left it or dropped \
             requests{}.\n\n{knees}",
            if knee::rates(points).len() > knee::grid(points).len() {
                format!(
                    " — the rate grid's step narrowed by bisection to within {:.0}% (each \
                     probe a point of its own in `points.jsonl`; the columns are the grid)",
                    knee::KNEE_TOLERANCE * 100.0
                )
            } else {
                ": the rate grid's step (this run did not bisect)".to_owned()
            }
        );
    }
    if let Some(overload) = super::overload_table::table(points) {
        let _ = write!(
            s,
            "\n## Overload and recovery (a ramp)\n\n\
             The offered rate rises past each strategy's capacity and falls back. What each \
             model holds while its queue builds, what it drops at the deadline, and how long its \
             p99 (from the due time) takes to come back under twice the delay once the rate is \
             below capacity again. `intervals` in `points.jsonl` has every second; `ramp.svg` \
             draws them.\n\n{overload}"
        );
    }
    if let Some(hedges) = hedge_table(points) {
        let _ = write!(s, "\n## Hedged requests\n\n{hedges}");
    }
    if let Some(retries) = retry_table(points) {
        let _ = write!(s, "\n## Retried requests\n\n{retries}");
    }
    if let Some(faults) = super::fault_table::table(points) {
        let _ = write!(
            s,
            "\n## Injected faults\n\n\
             The server injects each fault in a seeded share of requests and counts it; the \
             client classes each outcome. Where the counts agree, every fault reached the \
             client as what it is, and nothing else failed.\n\n{faults}"
        );
    }
    // A run at one C (a preset varying another setting) has no line to fit over C.
    let fits = memory_table(points);
    if !fits.is_empty() {
        // Which subjects of these points hold other than C, from their facts.
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
        let _ = write!(
            s,
            "\n## Memory per request in flight\n\n\
             Peak RSS fitted as a straight line over the requests in flight by design — \
             {by_design} — (least squares over every measured repeat): the slope is what one \
             more request in flight costs, the intercept what the process costs with none.\
             {no_line}\n\n{fits}"
        );
    }
    let verdict = verdict(&findings.verdict);
    if !verdict.is_empty() {
        let _ = write!(s, "\n## Verdict\n\n{verdict}");
    }
    if let Some(meter) = meter_cost(points) {
        let _ = write!(s, "\n## The meter's own cost\n\n{meter}\n");
    }
    if let Some(steal) = super::steal::line(points) {
        let _ = write!(s, "\n## The machine's steal\n\n{steal}\n");
    }
    let parts = where_bytes_go_table(points);
    if !parts.is_empty() {
        let _ = write!(
            s,
            "\n## Where the bytes go\n\n\
             When the client holds its designed in-flight count, the harness splits its resident \
             memory from outside into live heap as allocated (the worker's counting allocator: \
             bytes handed out, touched or not), resident thread stacks (the mappings above a \
             guard page in `/proc/PID/smaps`) and the rest (binary, runtime, allocator slack), \
             and reads what the kernel's own memory grew by since just \
             before the worker started (`/proc/meminfo`: kernel stacks, slab, page tables; \
             `/proc/net/sockstat`: TCP buffers) — none of which is in any RSS. Each part is fitted \
             over the requests in flight like peak RSS above (KiB per request in flight); \
             heap allocated beyond what RSS holds besides the stacks was never touched and holds \
             no page: where heap and stacks grow faster than RSS, \"of it not resident\" is the \
             difference and \"other\" is 0, so no part is negative; \"parts / RSS\" says how \
             much of the peak-RSS slope heap, stacks and other account for. The \
             kernel's figures are system-wide: on loopback the slab and TCP buffers hold the \
             server's end of each connection too (the server's threads are fixed, so kernel \
             stacks and page tables that grow with C are the client's); the fit over C keeps what \
             grows with the requests in flight, not what else the machine did. \"Whole bill\" = \
             RSS + kernel stacks + slab + page tables. \"The client's own kernel\" is read from \
             the worker's own memory cgroup (kernel stacks, page tables and slab charged to it: \
             its ends of connections alone, the server's excluded; `–` where no cgroup could be \
             made, as in runs before them), and \"client bill\" = RSS + that. Allocations and CPU are fitted over N: per \
             request, setup excluded.\n\n{parts}"
        );
    }
    s
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A short human summary of one point, for `fanout run`.
pub fn point_summary(r: &PointReport) -> String {
    let mut s = String::new();
    let p = &r.point;
    let _ = writeln!(
        s,
        "{}  C={} N={} D={} ms",
        p.strategy.name, p.concurrency, p.requests, p.delay_ms
    );
    match &r.outcome {
        Outcome::Measured => {}
        Outcome::Skipped(why) => {
            let _ = writeln!(s, "  skipped: {why}");
            return s;
        }
        Outcome::Failed(why) => {
            let _ = writeln!(s, "  failed: {why}");
            // What it had reached when it stopped, as measured from outside.
            let server = r.server.map_or(String::new(), |v| {
                format!("; the server saw {} in flight at most", v.peak_in_flight)
            });
            let _ = writeln!(
                s,
                "  reached: peak threads {}, peak RSS {:.1} MiB{server}",
                r.peak_threads(),
                mib(r.peak_rss_bytes())
            );
            return s;
        }
    }
    let w = &r.worker;
    let errors = if w.tally.errors.is_empty() {
        "none".to_owned()
    } else {
        let kinds: Vec<_> = w
            .tally
            .errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        kinds.join(", ")
    };
    let dropped = match w.tally.dropped {
        0 => String::new(),
        n => format!("; dropped {n} (due too long before a slot could take them)"),
    };
    let rate = p.settings.rate.as_ref().map_or(String::new(), |r| {
        format!(" (open loop: {r} requests/s due)")
    });
    let _ = writeln!(
        s,
        "  ok {}/{}; errors: {errors}{dropped}{rate}",
        w.tally.ok, p.requests
    );
    if let Some(e) = &w.strategy_error {
        let _ = writeln!(s, "  strategy stopped: {e}");
    }
    let _ = writeln!(
        s,
        "  wall {:.3} s (ideal {:.3} s, efficiency {:.2}); {:.0} ok requests/s{}",
        w.wall_s,
        r.ideal_s,
        r.efficiency,
        r.throughput_rps,
        r.metered
            .process_wall_s
            .map_or(String::new(), |p| format!("; whole process {p:.3} s"))
    );
    let grown = match r.rss_per_in_flight_bytes() {
        Some(per) => format!(
            "before {:.1} MiB; {:.1} KiB per request in flight",
            mib(w.rss_before_bytes),
            per / 1024.0
        ),
        None => "the worker did not report its memory before".to_owned(),
    };
    let _ = writeln!(
        s,
        "  peak RSS {:.1} MiB ({grown}); peak threads {}",
        mib(r.peak_rss_bytes()),
        r.peak_threads()
    );
    if let (Some(peak), Some(allocs), Some(bytes)) = (
        w.heap_peak_bytes,
        r.allocs_per_request,
        r.alloc_bytes_per_request,
    ) {
        let _ = writeln!(
            s,
            "  heap: peak {:.1} MiB live (before {:.1} MiB); per request {allocs:.1} allocations, {:.2} KiB allocated",
            mib(peak),
            mib(w.heap_before_bytes.unwrap_or(0)),
            bytes / 1024.0
        );
    }
    if let Some(b) = &r.metered.breakdown {
        let signed_mib = |bytes: i64| bytes as f64 / (1 << 20) as f64;
        let tcp = b.kernel_tcp_bytes.map_or("unknown".to_owned(), |k| {
            format!("{:.1} MiB", signed_mib(k))
        });
        let _ = writeln!(
            s,
            "  at {} in flight: RSS {:.1} MiB = heap {} + stacks {:.1} + other {:.1}; TCP buffers {tcp} (both ends); split from outside in {:.0} ms",
            b.in_flight,
            mib(b.rss_bytes),
            b.heap_bytes
                .map_or("unknown".to_owned(), |h| format!("{:.1}", mib(h))),
            mib(b.stack_bytes),
            signed_mib(b.other_bytes),
            b.took_ms
        );
        if let Some(k) = &b.kernel {
            let _ = writeln!(
                s,
                "  kernel memory grown meanwhile (system-wide, both ends): {:.1} MiB = kernel stacks {:.1} + slab {:.1} + page tables {:.1}",
                signed_mib(k.total_bytes()),
                signed_mib(k.kernel_stack_bytes),
                signed_mib(k.slab_bytes()),
                signed_mib(k.page_tables_bytes)
            );
        }
    }
    if let Some(limit) = &r.limit {
        let _ = writeln!(s, "  stopped by an OS limit: {limit}");
    }
    if let (Some(meter), cpu) = (w.meter_cpu_s, r.cpu_s()) {
        let share = if cpu > 0.0 { meter / cpu * 100.0 } else { 0.0 };
        let _ = writeln!(
            s,
            "  the meter inside the worker (its sampler thread): {:.1} ms of CPU, {share:.2}% of the process's",
            meter * 1000.0
        );
    }
    let _ = writeln!(
        s,
        "  CPU user {:.3} s, sys {:.3} s; context switches {} voluntary, {} involuntary (whole process)",
        r.metered.cpu_user_s,
        r.metered.cpu_sys_s,
        r.metered.ctx_voluntary,
        r.metered.ctx_involuntary
    );
    if let (Some(user), Some(sys)) = (w.timed_cpu_user_s, w.timed_cpu_sys_s) {
        let _ = writeln!(
            s,
            "  CPU of the timed region, as the worker measured it: user {user:.3} s, sys {sys:.3} s"
        );
    }
    let l = &w.tally.latency_ms;
    let _ = writeln!(
        s,
        "  latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, p99.9 {:.1}, max {:.1}",
        l.p50, l.p90, l.p99, l.p999, l.max
    );
    let hedges = r.worker.tally.hedges;
    if hedges.sent + hedges.refused > 0 {
        let _ = writeln!(
            s,
            "  hedges: {} sent ({:.1}% of N), {} won, {} refused by the budget; the server saw {} requests cancelled",
            hedges.sent,
            hedges.sent as f64 / r.point.requests.max(1) as f64 * 100.0,
            hedges.won,
            hedges.refused,
            r.server.map_or(0, |v| v.requests_cancelled)
        );
    }
    match &r.server {
        Some(v) => {
            let stragglers = if v.stragglers > 0 {
                format!(", {} of them slowed as stragglers", v.stragglers)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "  server saw: peak in flight {}, {} connections (peak open {}), {} served{stragglers}",
                v.peak_in_flight,
                v.connections_accepted,
                v.peak_connections_open,
                v.requests_served
            );
            let cost = match (v.peak_rss_bytes, v.cpu_s) {
                (Some(rss), Some(cpu)) => format!(
                    "; it held {:.1} MiB at most and used {cpu:.3} s of CPU",
                    mib(rss)
                ),
                _ => String::new(),
            };
            if let (Some(profile), Some(limits)) = (v.profile, v.limits) {
                let _ = writeln!(
                    s,
                    "  server ran: profile {}: {limits}{cost}",
                    profile.name()
                );
            }
        }
        None => {
            let why = r
                .server_missing
                .as_deref()
                .unwrap_or("no /stats at that URL");
            let _ = writeln!(s, "  server saw: unknown ({why})");
        }
    }
    for raised in &r.raised_limits {
        let _ = writeln!(
            s,
            "  raised for this run (--raise-limits): {} {} → {}, put back after",
            raised.setting, raised.was, raised.to
        );
    }
    if r.listen.overflowed() {
        let _ = writeln!(
            s,
            "  LISTEN QUEUE OVERFLOWED: overflows {}, drops {}, SYN retransmits {} — \
             SYN retries add whole seconds; raise net.core.somaxconn",
            r.listen.listen_overflows, r.listen.listen_drops, r.listen.syn_retrans
        );
    }
    s
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
    use crate::record::report::fixtures::measured;
    use crate::results::findings::verdict;

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

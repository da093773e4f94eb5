//! The text of the docs' blocks, formatted from findings and facts: the main table, the
//! decision and the answer (`findings::answer`), how far each strategy carried
//! (`findings::reach`), the glossary of strategies and peers.

use std::fmt::Write as _;

use super::markdown::{Align, Table};
use super::render;
use crate::analysis::figures::README_TABLE;
use crate::analysis::findings::answer::{
    Answer, Decision, ModelRow, OpenLoad, Twin, WallSpread, figure_of,
};
use crate::analysis::findings::overload::{PastWalls, Taken};
use crate::analysis::findings::own_bill::OwnBillCheck;
use crate::analysis::findings::reach::{AtLargest, Reach};
use crate::analysis::statistics::{self, Spread, cells};
use crate::model::settings::Protocol;
use crate::model::subject::{HeldBy, Kind, RunsOn};
use crate::record::report::PointReport;
use crate::strategies;

/// One row per subject at C = 1,000 and 10,000: the medians (or fitted slopes) of the figures
/// [`README_TABLE`] lists, and the errors.
pub fn main_table(points: &[PointReport]) -> String {
    let mut t = Table::figures(
        ["strategy".to_owned(), "C".into()]
            .into_iter()
            .chain(README_TABLE.iter().map(|f| f.heading()))
            .chain(["errors".to_owned()]),
    );
    let all = cells(points);
    for c in [1_000, 10_000] {
        for cell in all
            .iter()
            .filter(|cell| cell.key.concurrency == c && cell.key.varied.is_none())
        {
            let mut row = vec![cell.key.strategy.to_owned(), c.to_string()];
            if cell.measured.is_empty() {
                let why = render::unmeasured(cell);
                // The reason fills the first figure's cell; the others and errors stay blank.
                row.push(why.lines().next().unwrap_or_default().to_owned());
                row.extend(std::iter::repeat_n(String::new(), README_TABLE.len()));
            } else {
                row.extend(README_TABLE.iter().map(|f| {
                    f.spread(cell, points)
                        .map_or("–".to_owned(), |sp| f.format(sp.median))
                }));
                let errors: u64 = cell.measured.iter().map(|r| r.error_count()).sum();
                row.push(errors.to_string());
            }
            t.row(row);
        }
    }
    t.to_string()
}

/// A median with the repeats' range where they differ, in `digits` decimals: `6.2 (6.0–6.5)`.
fn ranged(s: Option<Spread>, digits: usize) -> String {
    statistics::ranged(s, |v| format!("{v:.digits$}"))
}

/// The verdict: three lines a reader decides from — how close the models are at a thousand
/// in flight, what separates them at ten thousand and where threads stop, and what the tail
/// under open load says.
pub fn verdict(a: &Answer, d: &Decision) -> String {
    let by = |held_by: HeldBy, runs_on: RunsOn| {
        a.rows.iter().find(|row| {
            row.floor.strategy.held_by == held_by && row.floor.strategy.runs_on == runs_on
        })
    };
    let (threads, tasks) = (
        by(HeldBy::Thread, RunsOn::Threads),
        by(HeldBy::Task, RunsOn::Tokio),
    );
    let bills = threads
        .zip(tasks)
        .and_then(|(t, k)| Some((t, t.floor.bill_kib()?, k, k.floor.bill_kib()?)));
    let lines = [
        d.spreads
            .first()
            .zip(bills)
            .map(|(w, (_, thread, _, task))| either_model(w, thread, task)),
        bills.map(|(t, thread, k, task)| tasks_past_ten_thousand(a, (t, thread), (k, task))),
        a.open
            .as_ref()
            .and_then(|open| open_tail(a, open, threads, tasks)),
    ];
    lines.into_iter().flatten().collect()
}

/// The verdict's first line: at C = 1,000 the walls are close, and what that many in flight
/// cost each floor (`thread` and `task`, KiB per request in flight).
fn either_model(w: &WallSpread, thread: f64, task: f64) -> String {
    let mib = |kib: f64| kib * w.concurrency as f64 / 1024.0;
    format!(
        "- **Below ten thousand in flight, either model.** At C = {} every strategy that \
         held C served every request in {:.2}–{:.2} s, against {:.2} s if each took just \
         the server's delay, and that many in flight cost the bare models (the floors) \
         {:.0} MiB on threads and {:.0} MiB on tasks: choose the model your code wants.\n",
        thousands(w.concurrency),
        w.fastest.median,
        w.slowest.median,
        w.ideal_s,
        mib(thread),
        mib(task),
    )
}

/// The verdict's second line: what a request in flight costs on a thread and as a task, and
/// where each stopped here (and how far HTTP/2 went).
fn tasks_past_ten_thousand(
    a: &Answer,
    (t, thread): (&ModelRow, f64),
    (k, task): (&ModelRow, f64),
) -> String {
    let own = |row: &ModelRow| {
        if row.floor.own_bill_kib.is_some() {
            "of the client's own memory"
        } else {
            "of memory, the server's ends of its sockets included"
        }
    };
    let cpu = |row: &ModelRow| {
        row.floor
            .cpu_us
            .map_or(String::new(), |c| format!(" and {:.0} µs of CPU", c.median))
    };
    // Where threads stopped, where HTTP/1.1 stopped the tasks, and how far HTTP/2 went.
    let stop = |row: &ModelRow| {
        let stop = row.reach.as_ref()?.stopped.as_ref()?;
        Some((stop.concurrency, stop.limit?))
    };
    let h2 = a
        .rows
        .iter()
        .find(|row| row.floor.strategy.protocol == Some(Protocol::H2))
        .and_then(|row| row.reach.as_ref()?.carried);
    let walls = match (stop(t), stop(k)) {
        (Some((tc, tl)), Some((kc, kl))) => format!(
            " Here threads stopped at C = {} ({}) and tasks over HTTP/1.1 at {} ({}){}.",
            thousands(tc),
            tl.what(),
            thousands(kc),
            kl.what(),
            h2.map_or(String::new(), |c| format!(
                "; HTTP/2 carried {}",
                thousands(c)
            ))
        ),
        _ => String::new(),
    };
    format!(
        "- **Ten thousand and more: tasks.** A request in flight costs {thread:.1} KiB {}{} \
         on an OS thread (`{}`), {task:.1} KiB{} as a tokio task (`{}`): {:.1}× the memory.\
         {walls}\n",
        own(t),
        cpu(t),
        t.floor.strategy.name,
        cpu(k),
        k.floor.strategy.name,
        thread / task,
    )
}

/// The verdict's third line: every floor's p99 under open load against the delay, threads'
/// and tasks' named; `None` without both.
fn open_tail(
    a: &Answer,
    open: &OpenLoad,
    threads: Option<&ModelRow>,
    tasks: Option<&ModelRow>,
) -> Option<String> {
    let tails = |part: fn(&ModelRow) -> Option<&Twin>| -> Vec<(&str, f64)> {
        a.rows
            .iter()
            .filter_map(|row| {
                let twin = part(row)?;
                Some((twin.strategy.name, twin.open_tail_ms[0]?.median))
            })
            .collect()
    };
    let floors = tails(|row| Some(&row.floor));
    let libraries = tails(|row| row.library.as_ref());
    let most = |of: &[(&str, f64)]| of.iter().map(|f| f.1).fold(f64::NAN, f64::max);
    let median_of = |row: Option<&ModelRow>| {
        let name = row?.floor.strategy.name;
        floors.iter().find(|(n, _)| *n == name).map(|f| f.1)
    };
    let worst = most(&floors);
    let (thread, task) = (median_of(threads)?, median_of(tasks)?);
    if worst.is_nan() {
        return None;
    }
    // Within a twentieth of the delay, the tail is not what tells the models apart.
    let lead = if worst < 0.05 * open.delay_ms as f64 {
        "The tail under open load does not choose."
    } else {
        "The tail under open load differs."
    };
    let libraries = match most(&libraries) {
        m if m.is_nan() => String::new(),
        m => format!("; the library twins within {m:.0}"),
    };
    Some(format!(
        "- **{lead}** At {} requests/s with {} in flight, every floor's p99, counted \
         from each request's due time, came within {worst:.0} ms of the delay's own {} \
         ms (threads {thread:.0}, tokio tasks {task:.0}{libraries}); Poisson arrivals \
         in the tables.\n",
        thousands(open.rate.round() as usize),
        thousands((open.rate * open.delay_ms as f64 / 1000.0).round() as usize),
        thousands(open.delay_ms as usize),
    ))
}

/// Each pitfall against the strategy it spoils, in one line.
pub fn pitfalls(d: &Decision) -> String {
    let each: Vec<String> = d
        .pitfalls
        .iter()
        .filter_map(|p| {
            let facts = p.pitfall.kind.pitfall()?;
            let (c, ratio) = p
                .ratios
                .iter()
                .copied()
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .unwrap_or((p.concurrency, p.ratio));
            Some(format!(
                "{} multiplied `{}`'s {} by {ratio:.1} at C = {}",
                facts.mistake,
                facts.spoils,
                figure_of(facts.costs).label,
                thousands(c)
            ))
        })
        .collect();
    if each.is_empty() {
        return String::new();
    }
    format!(
        "**The pitfalls**, against the strategy each spoils: {}.\n",
        each.join("; ")
    )
}

/// Where a model's floor stopped on this machine and what raises it, and how far it went
/// with the limits raised.
fn wall_line(row: &ModelRow) -> String {
    let Some(reach) = &row.reach else {
        return String::new();
    };
    if reach.carried.is_none() && reach.stopped.is_none() {
        return "Not in the scale run.".to_owned();
    }
    let name = row.floor.strategy.name;
    let here = match (&reach.stopped, reach.carried) {
        (Some(stop), _) => {
            let why = match stop.limit {
                Some(limit) => format!(
                    "{} {}{} ({})",
                    limit.owner(),
                    limit.what(),
                    stop.limit_value
                        .map_or(String::new(), |v| format!(", {}", thousands(v as usize))),
                    limit.raise()
                ),
                None => no_wall(stop.errors, stop.server_peak),
            };
            let carried = reach
                .carried
                .map_or(String::new(), |c| format!(" carried {} and", thousands(c)));
            format!(
                "`{name}`{carried} stopped here at C = {}: {why}",
                thousands(stop.concurrency)
            )
        }
        (None, Some(all)) => format!("`{name}` carried every C up to {} here", thousands(all)),
        (None, None) => unreachable!("returned above"),
    };
    let raised = row.raised.map_or(String::new(), |(s, c)| {
        format!(
            "; with the limits raised, `{}` carried {}",
            s.name,
            thousands(c)
        )
    });
    format!("{here}{raised}.")
}

/// The answer in numbers: a small table per model — its floor and its library twin, their
/// memory per request in flight, their tail under open load and their CPU per request — under
/// a line saying where the model stopped here and what raises it.
pub fn answer(a: &Answer) -> String {
    let c = thousands(a.largest);
    let own = a.rows.iter().any(|r| r.floor.own_bill_kib.is_some());
    let bill = if own {
        "client's own memory, KiB / request in flight | + the server's end, KiB"
    } else {
        "memory, KiB / request in flight (the server's ends included: no memory cgroup here) | –"
    };
    let tail = match a.open {
        Some(_) => "p99 over the delay under open load, ms: even · Poisson arrivals",
        None => "p99 over the delay, closed loop (service time), ms",
    };
    let mut s = String::new();
    for row in &a.rows {
        let _ = writeln!(s, "**{}**. {}\n", row.model, wall_line(row));
        let _ = writeln!(
            s,
            "| strategy | {bill} | {tail} | CPU µs / request at C = {c} |\n|---|---:|---:|---:|---:|"
        );
        for (part, twin) in [
            ("floor", Some(&row.floor)),
            ("library", row.library.as_ref()),
        ] {
            let Some(t) = twin else { continue };
            let who = match part {
                "floor" => "its floor".to_owned(),
                _ => t.strategy.client.name().to_owned(),
            };
            let server =
                t.own_bill_kib
                    .zip(t.whole_bill_kib)
                    .map_or("–".to_owned(), |(own, whole)| {
                        // The difference of two fits: near nothing, it is within their noise.
                        let share = whole - own.median;
                        if share < 0.5 {
                            "≈ 0".to_owned()
                        } else {
                            format!("{share:.1}")
                        }
                    });
            let bill = match t.own_bill_kib {
                Some(own) => ranged(Some(own), 1),
                None => t
                    .whole_bill_kib
                    .map_or("–".to_owned(), |v| format!("{v:.1}")),
            };
            let tail = match a.open {
                Some(_) => format!(
                    "{} · {}",
                    ranged(t.open_tail_ms[0], 0),
                    ranged(t.open_tail_ms[1], 0)
                ),
                None => ranged(t.p99_overhead_ms, 0),
            };
            let _ = writeln!(
                s,
                "| `{}` ({who}) | {bill} | {server} | {tail} | {} |",
                t.strategy.name,
                ranged(t.cpu_us, 0)
            );
        }
        s.push('\n');
    }
    let twins = a
        .rows
        .iter()
        .flat_map(|row| [Some(&row.floor), row.library.as_ref()]);
    for t in twins.flatten() {
        let Some((held, c)) = t.held_fewer else {
            continue;
        };
        let (held, c) = (thousands(held), thousands(c));
        let _ = writeln!(
            s,
            "`{}` holds at most {held} in flight at C = {c}: reqwest keeps one HTTP/2 connection, the server allows {held} streams on it, and the rest wait inside the client. Its memory is per request held; it could not hold 10,000, so it has no tail or CPU here.\n",
            t.strategy.name
        );
    }
    s
}

/// Why a point stopped short of C with no limit met: its own speed (every request served,
/// but never C at once by the server's count), or failures no limit explains.
fn no_wall((fewest, most): (u64, u64), server_peak: Option<u64>) -> String {
    let peak = server_peak.map_or("–".to_owned(), |p| thousands(p as usize));
    if most == 0 {
        format!(
            "no wall: every request served, but the server saw at most {peak} at once, a speed limit"
        )
    } else {
        let errors = if fewest == most {
            thousands(most as usize)
        } else {
            format!(
                "{}–{}",
                thousands(fewest as usize),
                thousands(most as usize)
            )
        };
        format!("{errors} requests failed, no limit named; the server saw at most {peak} at once")
    }
}

/// How many of the repeats at a C stopped short, where there were more than one.
fn stopped_in((stopped, of): (usize, usize)) -> String {
    if of > 1 {
        format!("; in {stopped} of {of} repeats")
    } else {
        String::new()
    }
}

/// Per strategy: the largest C it carried with every request ok in every repeat, and the first
/// C it did not, with what stopped it.
pub fn scale_table(reaches: &[Reach]) -> String {
    let mut t = Table::new([
        ("strategy", Align::Left),
        (
            "largest C carried (every request ok, all C in flight at once by the server's count, in every repeat)",
            Align::Right,
        ),
        ("first C not carried", Align::Right),
        ("what stopped it", Align::Left),
        ("the server's peak in flight there", Align::Right),
    ]);
    for r in reaches {
        let stop = r.stopped.as_ref();
        let why = stop.map_or("–".to_owned(), |stop| {
            let why = match (stop.limit, &stop.unmeasured) {
                (Some(limit), _) => limit.described(stop.limit_value),
                (None, Some(why)) => why.clone(),
                (None, None) => no_wall(stop.errors, stop.server_peak),
            };
            why + &stopped_in(stop.stopped_in)
        });
        let peak = stop
            .and_then(|stop| stop.server_peak)
            .map_or("–".to_owned(), |p| thousands(p as usize));
        t.row([
            r.strategy.name.to_owned(),
            r.carried.map_or("–".to_owned(), thousands),
            stop.map_or("–".to_owned(), |stop| thousands(stop.concurrency)),
            why,
            peak,
        ]);
    }
    t.to_string()
}

/// A count read as a float (a median of counts), rounded and with thousands separated.
fn counted(v: f64) -> String {
    thousands(v.round() as usize)
}

/// `n` with thousands separated: 10,000.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The strategies and peers, from their facts.
pub fn glossary() -> String {
    let mut t = Table::new(
        [
            "name",
            "kind",
            "a request in flight is held by",
            "scheduled by",
            "what it models",
        ]
        .map(|h| (h, Align::Left)),
    );
    let subjects = strategies::ALL
        .iter()
        .map(|s| &s.subject)
        .chain(crate::peers::all().map(|p| &p.subject));
    for subject in subjects {
        let kind = match subject.kind {
            Kind::Strategy => "strategy",
            Kind::Pitfall(_) => "pitfall",
            Kind::Peer => "peer",
        };
        let held = match subject.held_by {
            HeldBy::Thread => "an OS thread",
            HeldBy::Task => "a task (future)",
            HeldBy::Coroutine => "a stackful coroutine",
        };
        let runs_on = match subject.runs_on {
            RunsOn::Threads => "the kernel (std threads)",
            RunsOn::Tokio => "tokio",
            RunsOn::Smol => "smol",
            RunsOn::May => "may",
            RunsOn::Compio => "compio (io_uring)",
            RunsOn::Own => "its own runtime",
        };
        t.row([
            format!("`{}`", subject.name),
            kind.to_owned(),
            held.to_owned(),
            runs_on.to_owned(),
            subject.models.to_owned(),
        ]);
    }
    t.to_string()
}

/// The hedging bullet of the decision, from each run's findings (`runs`: the conditions of
/// each, its findings): per model the deepest cut of p99.9 within the budget, and the storm.
pub fn hedging(runs: &[(String, Vec<crate::analysis::findings::hedge::HedgeFinding>)]) -> String {
    use crate::analysis::findings::hedge::BUDGET_PCT;
    let mut cuts = Vec::new();
    let mut storms = Vec::new();
    let mut none = Vec::new();
    for (_, findings) in runs {
        for f in findings {
            match &f.best {
                Some((after, p999, extra)) => cuts.push(format!(
                    "`{}` from {} to {} ms ({:.0}×, hedged after {after}, {extra:.1}% more requests)",
                    f.strategy.name,
                    thousands(f.unhedged_ms.round() as usize),
                    thousands(p999.round() as usize),
                    f.unhedged_ms / p999
                )),
                None => none.push(format!("`{}`", f.strategy.name)),
            }
            storms.push(format!(
                "`{}` {:.0}% at {}",
                f.strategy.name, f.storm.1, f.storm.0
            ));
        }
    }
    let conditions = runs
        .first()
        .map_or(String::new(), |(c, _)| format!(" ({c})"));
    let mut s = format!("- **When a few requests straggle**{conditions}: ");
    if !cuts.is_empty() {
        let _ = write!(
            s,
            "a hedge within {BUDGET_PCT}% more requests and no request failed cut p99.9 for {}.",
            cuts.join("; ")
        );
    }
    if !none.is_empty() {
        let _ = write!(
            s,
            " No hedge within {BUDGET_PCT}% cut it without failures for {}.",
            none.join(", ")
        );
    }
    let _ = write!(
        s,
        " A hedge sooner than the loaded tail sends most requests twice — the most extra \
         requests any delay sent: {}.",
        storms.join(", ")
    );
    s.push('\n');
    s
}

/// The conditions of a hedge run, from one of its points.
pub fn hedge_conditions(r: &PointReport) -> String {
    let st = &r.point.settings.straggler;
    format!(
        "C = {}, D = {} ms, {}% of requests {}× slower",
        thousands(r.point.concurrency),
        r.point.delay_ms,
        st.straggler_p * 100.0,
        st.straggler_x
    )
}

/// The faults bullet of the decision: how many points' counts agree with the server's, the
/// deadline's overshoot, and how far one reset reaches over each protocol.
pub fn faults(f: &crate::analysis::findings::faults::FaultsFinding) -> String {
    use crate::analysis::findings::faults::HeldAtPeak;
    let mut s = format!(
        "- **When the backend misbehaves** (each fault at 1% and 10% of requests, a 1 s \
         deadline): in {} of {} points (each repeat a point) every fault the server injected \
         came back as what it is, one failure per fault and none lost",
        f.agreeing, f.points
    );
    if !f.disagreeing.is_empty() {
        let list: Vec<String> = f
            .disagreeing
            .iter()
            .map(|(strategy, fault)| format!("`{strategy}` under {fault}"))
            .collect();
        let _ = write!(s, " (not: {})", list.join(", "));
    }
    s.push('.');
    if let Some(((least, lo), (most, hi))) = f.overshoot {
        let _ = write!(
            s,
            " A stalled request came back p99 {lo:.0} ms (`{least}`) to {hi:.0} ms (`{most}`) \
             after its deadline."
        );
    }
    if let Some((h1, h2, worst, of)) = f.reset_radius {
        let _ = write!(
            s,
            " One reset fails {h1:.0} request over HTTP/1.1 at most, and over HTTP/2 a median \
             {h2:.1} over its {of} points with resets (every stream on its connection; most: \
             `{worst}`)."
        );
    }
    if let Some((most, least)) = &f.held {
        let kernel = |h: &HeldAtPeak, what: &str| {
            h.kernel_mib
                .map_or(String::new(), |k| format!(" and {k:.1} MiB{what}"))
        };
        let _ = write!(
            s,
            " While {}% of requests stalled to their deadline, `{}` held {} threads at \
             peak{}, `{}` {}{}.",
            most.p * 100.0,
            most.strategy,
            thousands(most.threads as usize),
            kernel(most, " of its own kernel memory"),
            least.strategy,
            thousands(least.threads as usize),
            kernel(least, "")
        );
    }
    if let Some(((fds_whose, fds), (threads_whose, threads))) = f.left {
        let _ = write!(
            s,
            " Once a strategy had returned, it had left at most {fds:.0} open files \
             (`{fds_whose}`) and {threads:.0} threads (`{threads_whose}`) above its count \
             before."
        );
    }
    s.push('\n');
    s
}

/// A stall burst's conditions, from its point: C, the share stalled and when, the deadline.
pub fn burst_conditions(r: &PointReport) -> String {
    let flags = &r.point.settings.fault;
    let ms = |v: Option<u64>| v.map_or("–".to_owned(), |v| format!("{}", v as f64 / 1e3));
    format!(
        "C = {}, {}% of requests stalled from {} s to {} s into the point, a {} s deadline",
        thousands(r.point.concurrency),
        flags.fault_p * 100.0,
        ms(flags.fault_after_ms),
        ms(flags.fault_until_ms),
        r.point.settings.timeout_ms as f64 / 1e3
    )
}

/// The stall burst's line of the answer: who failed one request per stall in every repeat,
/// who more (the median and range over the repeats that did), who did not finish.
pub fn burst(
    conditions: &str,
    outcomes: &[(
        &'static crate::model::subject::Subject,
        Vec<crate::analysis::findings::faults::BurstOutcome>,
    )],
) -> String {
    use crate::analysis::findings::faults::BurstOutcome;
    let kept: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| o.iter().all(|o| *o == BurstOutcome::OnePerStall))
        .map(|(subject, _)| format!("`{subject}`"))
        .collect();
    let broke: Vec<String> = outcomes
        .iter()
        .flat_map(|(subject, repeats)| broke_lines(subject.name, repeats))
        .collect();
    let mut s = format!("- **A stall burst** ({conditions}):");
    if !kept.is_empty() {
        let every = if outcomes.iter().any(|(_, o)| o.len() > 1) {
            " in every repeat"
        } else {
            ""
        };
        let _ = write!(
            s,
            " {} failed one request per stall{every}",
            kept.join(", ")
        );
    }
    if !broke.is_empty() {
        let _ = write!(
            s,
            "{} {}",
            if kept.is_empty() { "" } else { ";" },
            broke.join("; ")
        );
    }
    s.push_str(".\n");
    s
}

/// A stall burst's lines for one strategy over its repeats: the repeats whose failures
/// outnumbered the stalls (the median and range of those), and the repeats that did not finish.
fn broke_lines(
    name: &str,
    repeats: &[crate::analysis::findings::faults::BurstOutcome],
) -> Vec<String> {
    use crate::analysis::findings::faults::BurstOutcome;
    let mut broke = Vec::new();
    let of = |k: usize| match repeats.len() {
        1 => String::new(),
        n => format!(" in {k} of {n} repeats"),
    };
    let amplified: Vec<(f64, f64, f64)> = repeats
        .iter()
        .filter_map(|o| match o {
            BurstOutcome::Amplified {
                failed,
                injected,
                wall_s,
            } => Some((*failed as f64, *injected as f64, *wall_s)),
            _ => None,
        })
        .collect();
    if !amplified.is_empty() {
        let count = |pick: fn(&(f64, f64, f64)) -> f64| {
            statistics::ranged(Spread::of(amplified.iter().map(pick)), counted)
        };
        broke.push(format!(
            "`{name}` failed {} requests for {} stalls (in {} s){}",
            count(|a| a.0),
            count(|a| a.1),
            statistics::ranged(Spread::of(amplified.iter().map(|a| a.2)), |v| {
                format!("{v:.1}")
            }),
            of(amplified.len())
        ));
    }
    let unmeasured: Vec<&String> = repeats
        .iter()
        .filter_map(|o| match o {
            BurstOutcome::Unmeasured(why) => Some(why),
            _ => None,
        })
        .collect();
    if let Some(why) = unmeasured.first() {
        broke.push(format!(
            "`{name}` did not finish{}: {why}",
            of(unmeasured.len())
        ));
    }
    broke
}

/// The decision's line on an overload past the walls: what the unbounded strategies met and
/// what the bounded ones served and dropped instead, from `findings::overload::past_walls`.
pub fn past_walls(conditions: &str, f: &PastWalls) -> String {
    let n = thousands(f.requests);
    let mut bounded: Vec<(&str, &Taken)> = Vec::new();
    let mut lines = Vec::new();
    for (subject, capacity, repeats) in &f.taken {
        let name = subject.name;
        let measured: Vec<&Taken> = repeats
            .iter()
            .filter(|t| matches!(t, Taken::Measured { .. }))
            .collect();
        let unmeasured = repeats.iter().find_map(|t| match t {
            Taken::Unmeasured(why) => Some(why),
            Taken::Measured { .. } => None,
        });
        if capacity.is_some() {
            bounded.extend(measured.iter().map(|t| (name, *t)));
        } else if !measured.is_empty() {
            lines.push(unbounded_line(name, &n, &measured));
        }
        if let Some(why) = unmeasured {
            let of = match repeats.len() - measured.len() {
                k if repeats.len() > 1 => format!(" in {k} of {} repeats", repeats.len()),
                _ => String::new(),
            };
            lines.push(format!("`{name}` did not finish{of}: {why}"));
        }
    }
    if !bounded.is_empty() {
        // Served, dropped, failed.
        fn outcome(t: &Taken) -> [u64; 3] {
            match t {
                Taken::Measured {
                    ok,
                    dropped,
                    failed,
                    ..
                } => [*ok, *dropped, failed.0],
                Taken::Unmeasured(_) => [0; 3],
            }
        }
        let range = |which: usize| {
            let values = bounded.iter().map(|(_, t)| outcome(t)[which]);
            let lo = values.clone().min().unwrap_or(0) as usize;
            let hi = values.max().unwrap_or(0) as usize;
            if lo == hi {
                thousands(lo)
            } else {
                format!("{}–{}", thousands(lo), thousands(hi))
            }
        };
        let mut names: Vec<String> = bounded.iter().map(|(n, _)| format!("`{n}`")).collect();
        names.dedup();
        let every = match f.taken.iter().map(|(_, _, r)| r.len()).max() {
            Some(k) if k > 1 => format!(" (every repeat of each, {k} repeats)"),
            _ => String::new(),
        };
        lines.insert(
            0,
            format!(
                "the bounded ({}){every} served {} of {n} and dropped {} at the drop deadline, \
                 failing {}",
                names.join(", "),
                range(0),
                range(1),
                range(2)
            ),
        );
    }
    format!(
        "- **Overload past the walls** ({conditions}; up to {} due within one delay, what a \
         client holding every arrival holds at once): {}.\n",
        thousands(f.most_due.round() as usize),
        lines.join("; ")
    )
}

/// The past-the-walls line of a strategy with no bound, over its measured repeats: what it
/// served, dropped and failed, the class most failed with, the server's peak in flight and its
/// peak resident memory.
fn unbounded_line(name: &str, n: &str, measured: &[&Taken]) -> String {
    // Each measured repeat's served, dropped, failed, the server's peak and the peak RSS, MiB.
    let figures: Vec<[Option<f64>; 5]> = measured
        .iter()
        .filter_map(|t| match t {
            Taken::Measured {
                ok,
                dropped,
                failed,
                server_peak,
                peak_rss,
            } => Some([
                Some(*ok as f64),
                Some(*dropped as f64),
                Some(failed.0 as f64),
                server_peak.map(|p| p as f64),
                peak_rss.map(|b| b as f64 / 1_048_576.0),
            ]),
            Taken::Unmeasured(_) => None,
        })
        .collect();
    // Figure `k` over the repeats that read it: the median, with the range where they differ.
    let over = |k: usize, show: fn(f64) -> String| {
        Spread::of(figures.iter().filter_map(|f| f[k])).map(|s| statistics::ranged(Some(s), show))
    };
    let class = measured.iter().find_map(|t| match t {
        Taken::Measured {
            failed: (_, Some(c)),
            ..
        } => Some(format!(" (most: {c})")),
        _ => None,
    });
    let peak = over(3, counted).map_or(String::new(), |p| {
        format!(", the server saw at most {p} at once")
    });
    let rss = over(4, |v| format!("{v:.0}"))
        .map_or(String::new(), |r| format!(", {r} MiB resident at peak"));
    let dash = || "–".to_owned();
    format!(
        "`{name}` (no bound) served {} of {n}, dropped {}, failed {}{}{peak}{rss}",
        over(0, counted).unwrap_or_else(dash),
        over(1, counted).unwrap_or_else(dash),
        over(2, counted).unwrap_or_else(dash),
        class.unwrap_or_default(),
    )
}

/// The conditions of an overload run, from its first point.
pub fn overload_conditions(first: &PointReport) -> String {
    let rate = first
        .point
        .settings
        .rate
        .as_ref()
        .map_or(String::new(), |r| format!("offered {r} requests/s, "));
    format!(
        "{rate}C = {}, D = {} s, N = {}",
        thousands(first.point.concurrency),
        first.point.delay_ms as f64 / 1000.0,
        thousands(first.point.requests)
    )
}

/// Each strategy at the largest C it carried: the client's cost there and the server's, each
/// a median with the range of the repeats there.
pub fn largest_table(rows: &[AtLargest]) -> String {
    // In the unit shown: a median with the repeats' range where they differ.
    let spread = |s: Option<Spread>, scale: f64, digits: usize| {
        let scaled = s.map(|s| Spread {
            median: s.median / scale,
            min: s.min / scale,
            max: s.max / scale,
        });
        ranged(scaled, digits)
    };
    let (mib, kib) = (1_048_576.0, 1024.0);
    let mut t = Table::figures([
        "strategy",
        "largest C carried",
        "repeats",
        "wall s",
        "peak RSS MiB",
        "own bill KiB / request in flight (RSS grown + own cgroup's kernel)",
        "CPU µs / request (whole process, user + system)",
        "kernel KiB / request in flight, system-wide (both ends)",
        "server peak RSS MiB",
        "server CPU s",
        "server peak in flight (fewest)",
    ]);
    for r in rows {
        t.row([
            r.strategy.name.to_owned(),
            thousands(r.concurrency),
            r.repeats.to_string(),
            spread(Some(r.wall_s), 1.0, 1),
            spread(r.peak_rss, mib, 0),
            spread(r.own_bill_per_request, kib, 1),
            spread(Some(r.cpu_per_request_us), 1.0, 0),
            spread(r.kernel_per_request, kib, 1),
            spread(r.server_rss, mib, 0),
            spread(r.server_cpu_s, 1.0, 1),
            thousands(r.server_peak as usize),
        ]);
    }
    t.to_string()
}

/// The client's own kernel bill per request, fitted from its cgroup, beside the floors made the
/// same way, and whether they agree.
pub fn own_bill_check(rows: &[OwnBillCheck]) -> String {
    let mut t = Table::new([
        ("strategy", Align::Left),
        (
            "own kernel KiB / request in flight (fitted over C, its cgroup)",
            Align::Right,
        ),
        ("floor KiB (the same way, before the points)", Align::Right),
        ("the floor is", Align::Left),
        ("agree within 20%", Align::Left),
    ]);
    for r in rows {
        t.row([
            r.strategy.to_string(),
            format!("{:.1}", r.fitted / 1024.0),
            format!("{:.1}", r.floor / 1024.0),
            r.floor_is.to_string(),
            if r.agrees() { "✓" } else { "✗" }.to_owned(),
        ]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::findings::answer::Twin;
    use crate::planning::catalog;

    #[test]
    fn the_answer_names_a_twin_a_stream_limit_held_below_c() {
        let twin = |name, held_fewer| Twin {
            strategy: catalog::find(name).expect("strategy"),
            own_bill_kib: Spread::of([4.0, 4.2, 3.9]),
            whole_bill_kib: Some(6.0),
            wall_s: None,
            p99_overhead_ms: None,
            cpu_us: None,
            open_tail_ms: [None, None],
            held_fewer,
        };
        let a = Answer {
            largest: 10_000,
            rows: vec![ModelRow {
                model: "tokio tasks over HTTP/2",
                floor: twin("async_h2_floor", None),
                library: Some(twin("async_h2", Some((128, 1_000)))),
                reach: None,
                raised: None,
            }],
            open: None,
        };
        let text = answer(&a);
        assert!(
            text.contains("`async_h2` holds at most 128 in flight at C = 1,000"),
            "{text}"
        );
        assert!(!text.contains("`async_h2_floor` holds"), "{text}");
        // The client's own bill with its range, the server's share beside it.
        assert!(
            text.contains("| `async_h2_floor` (its floor) | 4.0 (3.9–4.2) | 2.0 |"),
            "{text}"
        );
    }
}

//! The summary of one point that `fanout run` prints: a line per thing measured — requests,
//! time, memory and where it went, CPU, latency, hedges, what the server saw — each from its
//! own function, and only the lines the point has figures for.

use crate::record::report::{Outcome, PointReport};

/// A short human summary of one point, for `fanout run`.
pub fn text(r: &PointReport) -> String {
    let p = &r.point;
    let mut lines = vec![format!(
        "{}  C={} N={} D={} ms",
        p.strategy.name, p.concurrency, p.requests, p.delay_ms
    )];
    match &r.outcome {
        Outcome::Skipped(why) => lines.push(format!("  skipped: {why}")),
        Outcome::Failed(why) => lines.extend([format!("  failed: {why}"), reached(r)]),
        Outcome::Measured => {
            lines.push(requests(r));
            lines.extend(
                r.worker
                    .strategy_error
                    .as_ref()
                    .map(|e| format!("  strategy stopped: {e}")),
            );
            lines.extend([wall(r), memory(r)]);
            lines.extend(heap(r));
            lines.extend(split(r));
            lines.extend(
                r.limit
                    .as_ref()
                    .map(|l| format!("  stopped by an OS limit: {l}")),
            );
            lines.extend(meter(r));
            lines.extend(cpu(r));
            lines.push(latency(r));
            lines.extend(hedges(r));
            lines.extend(server(r));
            lines.extend(raised(r));
            lines.extend(listen_queue(r));
        }
    }
    lines.into_iter().map(|l| l + "\n").collect()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn signed_mib(bytes: i64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// What a failed point had reached when it stopped, as measured from outside.
fn reached(r: &PointReport) -> String {
    let server = r.server.map_or(String::new(), |v| {
        format!("; the server saw {} in flight at most", v.peak_in_flight)
    });
    format!(
        "  reached: peak threads {}, peak RSS {:.1} MiB{server}",
        r.peak_threads(),
        mib(r.peak_rss_bytes())
    )
}

/// Requests ok of N, the errors by kind, those dropped and the open loop's rate.
fn requests(r: &PointReport) -> String {
    let t = &r.worker.tally;
    let errors = if t.errors.is_empty() {
        "none".to_owned()
    } else {
        let kinds: Vec<_> = t.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
        kinds.join(", ")
    };
    let dropped = match t.dropped {
        0 => String::new(),
        n => format!("; dropped {n} (due too long before a slot could take them)"),
    };
    let rate = r.point.settings.rate.as_ref().map_or(String::new(), |r| {
        format!(" (open loop: {r} requests/s due)")
    });
    format!(
        "  ok {}/{}; errors: {errors}{dropped}{rate}",
        t.ok, r.point.requests
    )
}

/// Wall time against the ideal, and throughput.
fn wall(r: &PointReport) -> String {
    format!(
        "  wall {:.3} s (ideal {:.3} s, efficiency {:.2}); {:.0} ok requests/s{}",
        r.worker.wall_s,
        r.ideal_s,
        r.efficiency,
        r.throughput_rps,
        r.metered
            .process_wall_s
            .map_or(String::new(), |p| format!("; whole process {p:.3} s"))
    )
}

/// Peak RSS, what it grew by per request in flight, and peak threads.
fn memory(r: &PointReport) -> String {
    let grown = match r.rss_per_in_flight_bytes() {
        Some(per) => format!(
            "before {:.1} MiB; {:.1} KiB per request in flight",
            mib(r.worker.rss_before_bytes),
            per / 1024.0
        ),
        None => "the worker did not report its memory before".to_owned(),
    };
    format!(
        "  peak RSS {:.1} MiB ({grown}); peak threads {}",
        mib(r.peak_rss_bytes()),
        r.peak_threads()
    )
}

/// The live heap and what each request allocated, where the worker counted them.
fn heap(r: &PointReport) -> Option<String> {
    let w = &r.worker;
    let (peak, allocs, bytes) = (
        w.heap_peak_bytes?,
        r.allocs_per_request?,
        r.alloc_bytes_per_request?,
    );
    Some(format!(
        "  heap: peak {:.1} MiB live (before {:.1} MiB); per request {allocs:.1} allocations, {:.2} KiB allocated",
        mib(peak),
        mib(w.heap_before_bytes.unwrap_or(0)),
        bytes / 1024.0
    ))
}

/// Resident memory split into its parts while C were in flight, and what the kernel's own
/// memory grew by meanwhile.
fn split(r: &PointReport) -> Vec<String> {
    let Some(b) = &r.metered.breakdown else {
        return Vec::new();
    };
    let tcp = b.kernel_tcp_bytes.map_or("unknown".to_owned(), |k| {
        format!("{:.1} MiB", signed_mib(k))
    });
    let mut lines = vec![format!(
        "  at {} in flight: RSS {:.1} MiB = heap {} + stacks {:.1} + other {:.1}; TCP buffers {tcp} (both ends); split from outside in {:.0} ms",
        b.in_flight,
        mib(b.rss_bytes),
        b.heap_bytes
            .map_or("unknown".to_owned(), |h| format!("{:.1}", mib(h))),
        mib(b.stack_bytes),
        signed_mib(b.other_bytes),
        b.took_ms
    )];
    lines.extend(b.kernel.as_ref().map(|k| {
        format!(
            "  kernel memory grown meanwhile (system-wide, both ends): {:.1} MiB = kernel stacks {:.1} + slab {:.1} + page tables {:.1}",
            signed_mib(k.total_bytes()),
            signed_mib(k.kernel_stack_bytes),
            signed_mib(k.slab_bytes()),
            signed_mib(k.page_tables_bytes)
        )
    }));
    lines
}

/// What the meter inside the worker cost it.
fn meter(r: &PointReport) -> Option<String> {
    let meter = r.worker.meter_cpu_s?;
    let cpu = r.cpu_s();
    let share = if cpu > 0.0 { meter / cpu * 100.0 } else { 0.0 };
    Some(format!(
        "  the meter inside the worker (its sampler thread): {:.1} ms of CPU, {share:.2}% of the process's",
        meter * 1000.0
    ))
}

/// The whole process's CPU and context switches, then the timed region's CPU where the worker
/// measured it.
fn cpu(r: &PointReport) -> Vec<String> {
    let m = &r.metered;
    let mut lines = vec![format!(
        "  CPU user {:.3} s, sys {:.3} s; context switches {} voluntary, {} involuntary (whole process)",
        m.cpu_user_s, m.cpu_sys_s, m.ctx_voluntary, m.ctx_involuntary
    )];
    if let (Some(user), Some(sys)) = (r.worker.timed_cpu_user_s, r.worker.timed_cpu_sys_s) {
        lines.push(format!(
            "  CPU of the timed region, as the worker measured it: user {user:.3} s, sys {sys:.3} s"
        ));
    }
    lines
}

/// The latency percentiles.
fn latency(r: &PointReport) -> String {
    let l = &r.worker.tally.latency_ms;
    format!(
        "  latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, p99.9 {:.1}, max {:.1}",
        l.p50, l.p90, l.p99, l.p999, l.max
    )
}

/// The hedges sent, won and refused, and the losers the server saw cancelled; nothing where
/// none was sent or refused.
fn hedges(r: &PointReport) -> Option<String> {
    let hedges = r.worker.tally.hedges;
    (hedges.sent + hedges.refused > 0).then(|| {
        format!(
            "  hedges: {} sent ({:.1}% of N), {} won, {} refused by the budget; the server saw {} requests cancelled",
            hedges.sent,
            hedges.sent as f64 / r.point.requests.max(1) as f64 * 100.0,
            hedges.won,
            hedges.refused,
            r.server.map_or(0, |v| v.requests_cancelled)
        )
    })
}

/// What the server saw, and how it ran and what it cost where it said; or why it is unknown.
fn server(r: &PointReport) -> Vec<String> {
    let Some(v) = &r.server else {
        let why = r
            .server_missing
            .as_deref()
            .unwrap_or("no /stats at that URL");
        return vec![format!("  server saw: unknown ({why})")];
    };
    let stragglers = if v.stragglers > 0 {
        format!(", {} of them slowed as stragglers", v.stragglers)
    } else {
        String::new()
    };
    let mut lines = vec![format!(
        "  server saw: peak in flight {}, {} connections (peak open {}), {} served{stragglers}",
        v.peak_in_flight, v.connections_accepted, v.peak_connections_open, v.requests_served
    )];
    let cost = match (v.peak_rss_bytes, v.cpu_s) {
        (Some(rss), Some(cpu)) => format!(
            "; it held {:.1} MiB at most and used {cpu:.3} s of CPU",
            mib(rss)
        ),
        _ => String::new(),
    };
    if let (Some(profile), Some(limits)) = (v.profile, v.limits) {
        lines.push(format!(
            "  server ran: profile {}: {limits}{cost}",
            profile.name()
        ));
    }
    lines
}

/// The kernel settings raised for the run.
fn raised(r: &PointReport) -> Vec<String> {
    r.raised_limits
        .iter()
        .map(|raised| {
            format!(
                "  raised for this run (--raise-limits): {} {} → {}, put back after",
                raised.setting, raised.was, raised.to
            )
        })
        .collect()
}

/// A warning where the kernel's listen queue overflowed during the point.
fn listen_queue(r: &PointReport) -> Option<String> {
    r.listen.overflowed().then(|| {
        format!(
            "  LISTEN QUEUE OVERFLOWED: overflows {}, drops {}, SYN retransmits {} — \
             SYN retries add whole seconds; raise net.core.somaxconn",
            r.listen.listen_overflows, r.listen.listen_drops, r.listen.syn_retrans
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    /// Each line's first words.
    fn heads(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect()
    }

    #[test]
    fn a_measured_point_has_a_line_per_figure_it_holds_and_none_for_those_it_lacks() {
        let mut r = measured("thread_pool", 100, 1.0, 8 << 20);
        assert_eq!(
            heads(&text(&r)),
            [
                "thread_pool C=100",
                "ok 200/200;",
                "wall 1.000",
                "peak RSS",
                "CPU user",
                "latency ms:",
                "server saw:",
            ],
            "no heap, split, meter or hedge figures in this point: no line for them (and the \
             server's line says it is unknown)"
        );
        r.worker.tally.hedges.sent = 3;
        r.worker.meter_cpu_s = Some(0.001);
        let with = heads(&text(&r));
        assert!(with.contains(&"the meter".to_owned()) && with.contains(&"hedges: 3".to_owned()));
    }

    #[test]
    fn a_point_not_measured_says_why_and_what_it_reached() {
        let mut r = measured("thread_pool", 100, 1.0, 8 << 20);
        r.outcome = Outcome::Skipped("needs more ports".into());
        assert_eq!(heads(&text(&r)), ["thread_pool C=100", "skipped: needs"]);
        r.outcome = Outcome::Failed("killed".into());
        assert_eq!(
            heads(&text(&r)),
            ["thread_pool C=100", "failed: killed", "reached: peak"]
        );
    }
}

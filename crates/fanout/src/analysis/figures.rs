//! Every figure a run shows, defined once: its key (the one name compare, export and the schema
//! use), its column heading and unit, how it is read from a point and aggregated over repeats,
//! which way is better, its chart if it has one, and its line in `docs/schema.md`. The views —
//! the summary table, the README's table, compare, export — are lists of these definitions,
//! kept here beside them: a new figure is a constant below and its place in the lists.

use super::statistics::{Cell, Spread, WhereBytesGo};
use crate::model::leftovers::Leftovers;
use crate::record::report::PointReport;

/// Which way a figure improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Less is better (time, memory, CPU, latency).
    Lower,
    /// More is better (throughput, efficiency).
    Higher,
}

/// How a figure is read and aggregated.
#[derive(Debug, Clone, Copy)]
pub enum Reading {
    /// One value per measured point, in the figure's unit; a cell shows the median (with the
    /// repeats' min–max).
    PerPoint(fn(&PointReport) -> f64),
    /// One value per strategy, a line's slope fitted over the requests in flight across all its
    /// points (every C, every repeat), in the figure's unit.
    Fitted(fn(&[PointReport], &str) -> Option<f64>),
}

/// How a chart's linear y axis is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// From 0 (or the lowest negative value) to just above the highest.
    FromZero,
    /// The band near 1 that matters for a ratio whose best is 1: from a little under the lowest.
    NearOne,
}

/// A figure's chart against concurrency (or the varied setting).
#[derive(Debug, Clone, Copy)]
pub struct Chart {
    /// The SVG's file name in a run folder.
    pub file: &'static str,
    /// Its title.
    pub title: &'static str,
    /// Its y axis, `(log)` at the end when the axis may be logarithmic.
    pub y_desc: &'static str,
    /// A log axis where the values are positive and span more than a decade.
    pub log_y: bool,
    /// Linear axis bounds.
    pub band: Band,
    /// Thread strategies and the others get a panel each.
    pub threads_apart: bool,
}

/// One figure.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    /// The one name: compare's figure, export's measure, the schema's key.
    pub key: &'static str,
    /// What it is, short (`wall`, `peak RSS`).
    pub label: &'static str,
    /// Its unit, empty for a count or a ratio.
    pub unit: &'static str,
    /// Decimals shown in tables.
    pub decimals: usize,
    /// How it is read from the points.
    pub reading: Reading,
    /// Which way is better.
    pub better: Better,
    /// Its chart, if it has one.
    pub chart: Option<Chart>,
    /// Its line in `docs/schema.md`: what it is, from which fields of a point.
    pub about: &'static str,
}

impl Figure {
    /// The column heading: label, unit, and `(fit)` for a fitted figure.
    pub fn heading(&self) -> String {
        let mut h = self.label.to_owned();
        if !self.unit.is_empty() {
            h.push(' ');
            h.push_str(self.unit);
        }
        if matches!(self.reading, Reading::Fitted(_)) {
            h.push_str(" (fit)");
        }
        h
    }

    /// The figure of one point; `None` for a fitted figure (it has no value per point).
    pub fn of(&self, r: &PointReport) -> Option<f64> {
        match self.reading {
            Reading::PerPoint(read) => Some(read(r)),
            Reading::Fitted(_) => None,
        }
    }

    /// Median and min–max over a cell's measured repeats (a fitted figure: its slope, the
    /// same for every cell of the strategy).
    pub fn spread(&self, cell: &Cell<'_>, points: &[PointReport]) -> Option<Spread> {
        match self.reading {
            Reading::PerPoint(read) => cell.spread(read),
            Reading::Fitted(fit) => Spread::of(fit(points, cell.key.strategy)),
        }
    }

    /// A fitted figure's slope for `strategy` over `points`; `None` for a per-point figure.
    pub fn fitted(&self, points: &[PointReport], strategy: &str) -> Option<f64> {
        match self.reading {
            Reading::PerPoint(_) => None,
            Reading::Fitted(fit) => fit(points, strategy),
        }
    }

    /// `value` with the figure's decimals.
    pub fn format(&self, value: f64) -> String {
        format!("{value:.decimals$}", decimals = self.decimals)
    }
}

/// A cell's median of `figure`, with the repeats' min–max where they differ; `–` where none.
pub fn median_and_range(cell: &Cell<'_>, points: &[PointReport], figure: &Figure) -> String {
    match figure.spread(cell, points) {
        None => "–".into(),
        Some(s) if cell.measured.len() == 1 || s.min == s.max => figure.format(s.median),
        Some(s) => format!(
            "{} ({}–{})",
            figure.format(s.median),
            figure.format(s.min),
            figure.format(s.max)
        ),
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Wall time of the timed region.
pub const WALL: Figure = Figure {
    key: "wall",
    label: "wall",
    unit: "s",
    decimals: 2,
    reading: Reading::PerPoint(|r| r.worker.wall_s),
    better: Better::Lower,
    chart: Some(Chart {
        file: "wall.svg",
        title: "Wall time of the timed region",
        y_desc: "wall, s (log)",
        log_y: true,
        band: Band::FromZero,
        threads_apart: false,
    }),
    about: "wall time of the timed region (`wall_s`)",
};

/// Efficiency: ideal wall over wall, times ok over N.
pub const EFFICIENCY: Figure = Figure {
    key: "efficiency",
    label: "efficiency",
    unit: "",
    decimals: 2,
    reading: Reading::PerPoint(|r| r.efficiency),
    better: Better::Higher,
    chart: Some(Chart {
        file: "efficiency.svg",
        title: "Efficiency: ideal wall / wall × ok / N",
        y_desc: "efficiency",
        log_y: false,
        band: Band::NearOne,
        threads_apart: true,
    }),
    about: "ideal / wall × ok / N (`efficiency`)",
};

/// Ok requests per second.
pub const THROUGHPUT: Figure = Figure {
    key: "throughput",
    label: "ok",
    unit: "req/s",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.throughput_rps),
    better: Better::Higher,
    chart: Some(Chart {
        file: "throughput.svg",
        title: "Throughput (ok requests per second)",
        y_desc: "ok requests/s (log)",
        log_y: true,
        band: Band::FromZero,
        threads_apart: false,
    }),
    about: "ok requests per second of wall time (`throughput_rps`)",
};

/// Peak resident memory of the client process.
pub const PEAK_RSS: Figure = Figure {
    key: "peak_rss",
    label: "peak RSS",
    unit: "MiB",
    decimals: 1,
    reading: Reading::PerPoint(|r| r.peak_rss_bytes() as f64 / MIB),
    better: Better::Lower,
    chart: Some(Chart {
        file: "memory.svg",
        title: "Peak RSS of the client process",
        y_desc: "peak RSS, MiB (log)",
        log_y: true,
        band: Band::FromZero,
        threads_apart: false,
    }),
    about: "peak resident memory of the client process, read by the harness (`peak_rss_bytes`; 0 where not measured)",
};

/// Peak threads of the client process.
pub const PEAK_THREADS: Figure = Figure {
    key: "peak_threads",
    label: "peak threads",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.peak_threads() as f64),
    better: Better::Lower,
    chart: None,
    about: "threads the client process had alive at once, sampled by the harness (`peak_threads`; 0 where not measured)",
};

/// Most files the client process held open at once.
pub const PEAK_OPEN_FDS: Figure = Figure {
    key: "peak_open_fds",
    label: "peak open files",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| {
        r.timeline
            .iter()
            .filter_map(|s| s.open_fds)
            .max()
            .map_or(f64::NAN, |n| n as f64)
    }),
    better: Better::Lower,
    chart: None,
    about: "most files the client process held open at once — its sockets, mostly — read by the harness every 50 ms (the timeline's `open_fds`; a socket opened and closed between two reads is missed)",
};

/// The client's own kernel memory at its peak.
pub const PEAK_CLIENT_KERNEL: Figure = Figure {
    key: "peak_client_kernel",
    label: "peak kernel memory (own)",
    unit: "MiB",
    decimals: 1,
    reading: Reading::PerPoint(|r| {
        r.metered
            .cgroup_peaks
            .map_or(f64::NAN, |p| p.kernel_bytes as f64 / MIB)
    }),
    better: Better::Lower,
    chart: None,
    about: "the most kernel memory charged to the worker's own memory cgroup at once — kernel stacks, page tables, its sockets' slab and buffers, the server's ends excluded (`cgroup_peaks.kernel_bytes`)",
};

/// CPU time, user and system.
pub const CPU: Figure = Figure {
    key: "cpu",
    label: "CPU",
    unit: "s",
    decimals: 2,
    reading: Reading::PerPoint(|r| r.cpu_s()),
    better: Better::Lower,
    chart: None,
    about: "CPU time of the client process, user + system (`cpu_user_s` + `cpu_sys_s`)",
};

/// p99 latency of ok requests.
pub const P99: Figure = Figure {
    key: "p99",
    label: "p99",
    unit: "ms",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.worker.tally.latency_ms.p99),
    better: Better::Lower,
    chart: Some(Chart {
        file: "p99.svg",
        title: "p99 latency (the server's delay included)",
        y_desc: "p99 latency, ms (log)",
        log_y: true,
        band: Band::FromZero,
        threads_apart: false,
    }),
    about: "p99 latency of ok requests, the server's delay included (`latency_ms.p99`)",
};

/// The 99.9th percentile of latency.
pub const P999: Figure = Figure {
    key: "p999",
    label: "p99.9",
    unit: "ms",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.worker.tally.latency_ms.p999),
    better: Better::Lower,
    chart: None,
    about: "p99.9 latency of ok requests, the server's delay included (`latency_ms.p999`; 0 in runs made before it was read): the tail hedging is for",
};

/// Hedges sent, per request: the extra load hedging costs.
pub const HEDGE_EXTRA: Figure = Figure {
    key: "hedge_extra",
    label: "extra load",
    unit: "%",
    decimals: 1,
    reading: Reading::PerPoint(|r| {
        r.worker.tally.hedges.sent as f64 / r.point.requests.max(1) as f64 * 100.0
    }),
    better: Better::Lower,
    chart: None,
    about: "hedges sent (`--hedge-after-ms`, `--hedge-after`) in percent of N: the requests hedging added (`hedges.sent`)",
};

/// Hedges that answered before their original.
pub const HEDGES_WON: Figure = Figure {
    key: "hedges_won",
    label: "hedges won",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.worker.tally.hedges.won as f64),
    better: Better::Higher,
    chart: None,
    about: "hedges that answered before their original, which was then cancelled (`hedges.won`); the rest lost to it and were cancelled themselves",
};

/// Retries sent, per request: the extra load retrying costs.
pub const RETRY_EXTRA: Figure = Figure {
    key: "retry_extra",
    label: "retried",
    unit: "%",
    decimals: 1,
    reading: Reading::PerPoint(|r| {
        r.worker.tally.retries.sent as f64 / r.point.requests.max(1) as f64 * 100.0
    }),
    better: Better::Lower,
    chart: None,
    about: "attempts sent again after a reset or a 5xx (`--retries`), in percent of N: the retry amplification less one (`retries.sent`)",
};

/// Requests a retry mended.
pub const RETRIES_RECOVERED: Figure = Figure {
    key: "retries_recovered",
    label: "recovered by retries",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.worker.tally.retries.recovered as f64),
    better: Better::Higher,
    chart: None,
    about: "requests that ended ok after at least one retry (`retries.recovered`)",
};

/// Hedge threads still running when the strategy had ended.
pub const HEDGES_RUNNING: Figure = Figure {
    key: "hedges_running",
    label: "losers running",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.worker.tally.hedges.running_at_end as f64),
    better: Better::Lower,
    chart: None,
    about: "hedge threads (or coroutines) still running when the strategy had ended (`hedges.running_at_end`): a raw loser stops only once its socket is shut, one still connecting or a ureq call cannot be stopped; 0 where a hedge is a future",
};

/// Requests the server saw abandoned by their client.
pub const SERVER_CANCELLED: Figure = Figure {
    key: "server_cancelled",
    label: "server: cancelled",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.server.map_or(f64::NAN, |s| s.requests_cancelled as f64)),
    better: Better::Lower,
    chart: None,
    about: "requests whose client went away before their answer, as the server saw them (`server.requests_cancelled`): with hedging, the losers it saw cancelled — at most one per hedge sent, fewer where both answered at once",
};

/// HTTP/2 connections the server's h2 ended with GOAWAY ENHANCE_YOUR_CALM.
pub const SERVER_CALM_GOAWAYS: Figure = Figure {
    key: "server_calm_goaways",
    label: "server: calm GOAWAYs",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.server.map_or(f64::NAN, |s| s.calm_goaways as f64)),
    better: Better::Lower,
    chart: None,
    about: "HTTP/2 connections the server's h2 ended with GOAWAY ENHANCE_YOUR_CALM, its guard against a client resetting more streams than it has accepted (the rapid-reset attack, CVE-2023-44487): what cancelled hedge streams in bulk trip (`server.calm_goaways`)",
};

/// Requests in flight the server saw at most.
pub const SERVER_PEAK_IN_FLIGHT: Figure = Figure {
    key: "server_peak_in_flight",
    label: "server peak in flight",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.server.map_or(f64::NAN, |s| s.peak_in_flight as f64)),
    better: Better::Higher,
    chart: None,
    about: "requests in flight the server saw at most (`server.peak_in_flight`)",
};

/// The server's own peak resident memory during the point.
pub const SERVER_PEAK_RSS: Figure = Figure {
    key: "server_peak_rss",
    label: "server peak RSS",
    unit: "MiB",
    decimals: 1,
    reading: Reading::PerPoint(|r| {
        r.server
            .and_then(|s| s.peak_rss_bytes)
            .map_or(f64::NAN, |b| b as f64 / MIB)
    }),
    better: Better::Lower,
    chart: None,
    about: "the mock server's own peak resident memory during the point (`server.peak_rss_bytes`): flat from point to point, or the server grows",
};

/// The server's open file descriptors once the point is over.
pub const SERVER_OPEN_FDS: Figure = Figure {
    key: "server_open_fds",
    label: "server open fds after",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| {
        r.server
            .and_then(|s| s.open_fds)
            .map_or(f64::NAN, |n| n as f64)
    }),
    better: Better::Lower,
    chart: None,
    about: "file descriptors the mock server holds once the point is over (`server.open_fds`): back to the same count after every point, or it leaks",
};

/// How far past its deadline a timed-out request came back.
pub const DEADLINE_OVERSHOOT_P99: Figure = Figure {
    key: "deadline_overshoot_p99",
    label: "deadline overshoot p99",
    unit: "ms",
    decimals: 0,
    reading: Reading::PerPoint(|r| {
        let after = r.worker.tally.timed_out_after_ms;
        if after.max == 0.0 {
            return f64::NAN; // nothing timed out
        }
        after.p99 - r.point.settings.timeout_ms as f64
    }),
    better: Better::Lower,
    chart: None,
    about: "how far past the deadline a timed-out request came back to its caller, p99 over the timed-out requests (`timed_out_after_ms.p99` − `timeout_ms`): what a deadline really bounds",
};

/// Open files a strategy left open once it had returned.
pub const LEFT_FDS: Figure = Figure {
    key: "left_fds",
    label: "fds left",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| leftover(r, |l| l.fds().map(|n| n as f64))),
    better: Better::Lower,
    chart: None,
    about: "open files the worker held once the strategy had returned, above its count just before the timed region (`leftovers`; read once they are back, or have held still for 100 ms, at most 1 s after): a constant a runtime keeps for the process's life (tokio's signal socket pair: 2), or, where it grows with C or N, leaked sockets",
};

/// Threads a strategy left running once it had returned.
pub const LEFT_THREADS: Figure = Figure {
    key: "left_threads",
    label: "threads left",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| leftover(r, |l| l.threads().map(|n| n as f64))),
    better: Better::Lower,
    chart: None,
    about: "threads still running in the worker once the strategy had returned, above its count just before the timed region (`leftovers`): a scheduler kept for the process's life (may's: a constant), or, where it grows with C, threads stuck in calls nobody can cancel",
};

/// Resident memory above the worker's baseline once the strategy had returned.
pub const LEFT_RSS: Figure = Figure {
    key: "left_rss",
    label: "RSS left",
    unit: "% of baseline",
    decimals: 0,
    reading: Reading::PerPoint(|r| leftover(r, |l| Some(l.rss_share() * 100.0))),
    better: Better::Lower,
    chart: None,
    about: "resident memory once the strategy had returned, above the worker's own just before the timed region, in % of it (`leftovers`): memory the allocator keeps, or a leak — `left_heap` tells which",
};

/// Heap a strategy left live once it had returned.
pub const LEFT_HEAP: Figure = Figure {
    key: "left_heap",
    label: "heap left",
    unit: "KiB",
    decimals: 1,
    reading: Reading::PerPoint(|r| leftover(r, |l| l.heap_bytes().map(|b| b as f64 / 1024.0))),
    better: Better::Lower,
    chart: None,
    about: "heap bytes still live once the strategy had returned, above just before the timed region (`leftovers`, the counting allocator's): what it never freed",
};

/// A figure of a point's leftovers; NaN where it has none.
fn leftover(r: &PointReport, of: fn(&Leftovers) -> Option<f64>) -> f64 {
    r.worker.leftovers.as_ref().and_then(of).unwrap_or(f64::NAN)
}

/// Faults the server injected.
pub const FAULTS_INJECTED: Figure = Figure {
    key: "faults_injected",
    label: "faults injected",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.server.map_or(f64::NAN, |s| s.faults.total() as f64)),
    better: Better::Lower,
    chart: None,
    about: "faults the server injected during the point, of every kind (`server.faults`)",
};

/// TIME_WAIT sockets as the point started.
pub const TIME_WAIT_BEFORE: Figure = Figure {
    key: "time_wait_before",
    label: "TIME_WAIT at start",
    unit: "",
    decimals: 0,
    reading: Reading::PerPoint(|r| r.ports.time_wait_before.map_or(f64::NAN, |n| n as f64)),
    better: Better::Lower,
    chart: None,
    about: "TCP sockets in TIME_WAIT on the machine as the worker started, ports earlier points' closed connections still held — at every destination: the point's own destination's are in `held_at_destination`, and the harness waited (up to 61 s, `ports_waited_s`) only where the point's connections would not have found free ports (`time_wait_before`)",
};

/// What the client adds to the tail.
pub const P99_OVERHEAD: Figure = Figure {
    key: "p99_overhead",
    label: "p99 − delay p99",
    unit: "ms",
    decimals: 0,
    reading: Reading::PerPoint(|r| {
        r.worker.tally.latency_ms.p99 - r.point.delay().quantile_ms(0.99)
    }),
    better: Better::Lower,
    chart: Some(Chart {
        file: "overhead.svg",
        title: "What the client adds to the tail: p99 minus the delay's own p99",
        y_desc: "p99 − delay p99, ms (log)",
        log_y: true,
        band: Band::FromZero,
        threads_apart: true,
    }),
    about: "what the client adds to the tail: p99 minus the p99 of the server's own delay distribution (`latency_ms.p99`, `delay_*`)",
};

/// CPU per request.
pub const CPU_PER_REQUEST: Figure = Figure {
    key: "cpu_per_request",
    label: "CPU",
    unit: "µs / request",
    decimals: 1,
    reading: Reading::PerPoint(|r| r.cpu_s() * 1e6 / r.point.requests.max(1) as f64),
    better: Better::Lower,
    chart: Some(Chart {
        file: "cpu_per_request.svg",
        title: "CPU per request (whole process, user + system)",
        y_desc: "CPU µs per request (log)",
        log_y: true,
        band: Band::FromZero,
        threads_apart: false,
    }),
    about: "CPU of the whole process (user + system) over N, setup included",
};

/// The whole bill per request in flight.
pub const WHOLE_BILL: Figure = Figure {
    key: "whole_bill",
    label: "whole bill",
    unit: "KiB / request in flight",
    decimals: 1,
    reading: Reading::Fitted(|points, strategy| {
        Some(WhereBytesGo::of(points, strategy).whole_bill()? / 1024.0)
    }),
    better: Better::Lower,
    chart: None,
    about: "what one more request in flight costs: the slopes over C of peak RSS and of the kernel's stacks, slab and page tables (`breakdown.kernel.*`, system-wide)",
};

/// Connections the server accepted per request: 1/K under a keep-alive limit of K, 1 for a
/// connection per request, near C/N for a pool kept alive.
pub const CONNECTIONS_PER_REQUEST: Figure = Figure {
    key: "connections_per_request",
    label: "connections / request",
    unit: "",
    decimals: 3,
    reading: Reading::PerPoint(|r| {
        r.server.map_or(f64::NAN, |s| {
            s.connections_accepted as f64 / r.point.requests.max(1) as f64
        })
    }),
    better: Better::Lower,
    chart: None,
    about: "connections the server accepted per request (`server.connections_accepted` / `requests`): what a keep-alive limit makes a client reopen",
};

/// The client's own bill per request in flight: its RSS and its cgroup's kernel memory.
pub const CLIENT_BILL: Figure = Figure {
    key: "client_bill",
    label: "client bill",
    unit: "KiB",
    decimals: 1,
    reading: Reading::Fitted(|points, strategy| {
        Some(WhereBytesGo::of(points, strategy).client_bill()? / 1024.0)
    }),
    better: Better::Lower,
    chart: None,
    about: "what one more request in flight costs the client alone: the slopes over C of peak RSS and of the kernel memory charged to the worker's own memory cgroup (`breakdown.client_kernel.kernel_bytes`; the server's ends of connections excluded)",
};

/// Every figure; the charted ones first, in the order their charts are listed.
pub const ALL: &[&Figure] = &[
    &PEAK_RSS,
    &THROUGHPUT,
    &WALL,
    &P99,
    &P99_OVERHEAD,
    &EFFICIENCY,
    &CPU_PER_REQUEST,
    &PEAK_THREADS,
    &CPU,
    &SERVER_PEAK_IN_FLIGHT,
    &PEAK_OPEN_FDS,
    &PEAK_CLIENT_KERNEL,
    &WHOLE_BILL,
    &CLIENT_BILL,
    &CONNECTIONS_PER_REQUEST,
    &SERVER_PEAK_RSS,
    &SERVER_OPEN_FDS,
    &FAULTS_INJECTED,
    &TIME_WAIT_BEFORE,
    &DEADLINE_OVERSHOOT_P99,
    &LEFT_FDS,
    &LEFT_THREADS,
    &LEFT_RSS,
    &LEFT_HEAP,
    &P999,
    &HEDGE_EXTRA,
    &HEDGES_WON,
    &SERVER_CANCELLED,
    &SERVER_CALM_GOAWAYS,
    &HEDGES_RUNNING,
    &RETRY_EXTRA,
    &RETRIES_RECOVERED,
];

/// The columns of the summary table (`summary.md`, `fanout sweep`'s terminal table).
pub const SUMMARY: &[&Figure] = &[
    &WALL,
    &EFFICIENCY,
    &THROUGHPUT,
    &PEAK_RSS,
    &PEAK_THREADS,
    &CPU,
    &P99,
    &SERVER_PEAK_IN_FLIGHT,
    &CONNECTIONS_PER_REQUEST,
];

/// The columns of the README's table (medians at C = 1,000 and 10,000).
pub const README_TABLE: &[&Figure] = &[
    &WALL,
    &THROUGHPUT,
    &P99,
    &PEAK_RSS,
    &WHOLE_BILL,
    &PEAK_THREADS,
    &CPU,
    &SERVER_PEAK_IN_FLIGHT,
];

/// The bills at the end of the "where the bytes go" table.
pub const WHERE_BYTES_GO: &[&Figure] = &[&WHOLE_BILL, &CLIENT_BILL];

/// What `fanout compare` puts side by side.
pub const COMPARED: &[&Figure] = &[&WALL, &CPU, &PEAK_RSS, &P99];

/// What `fanout export` writes per point.
pub const EXPORTED: &[&Figure] = &[&WALL, &P99, &CPU, &PEAK_RSS];

/// The figures with a chart, in [`ALL`]'s order.
pub fn charted() -> impl Iterator<Item = (&'static Figure, &'static Chart)> {
    ALL.iter().filter_map(|f| Some((*f, f.chart.as_ref()?)))
}

/// The views a figure is shown in, by name (for the schema's table).
pub fn views_of(figure: &Figure) -> Vec<&'static str> {
    let views: [(&str, &[&Figure]); 5] = [
        ("summary", SUMMARY),
        ("README", README_TABLE),
        ("where the bytes go", WHERE_BYTES_GO),
        ("compare", COMPARED),
        ("export", EXPORTED),
    ];
    let mut shown: Vec<&str> = views
        .iter()
        .filter(|(_, list)| list.iter().any(|f| f.key == figure.key))
        .map(|(name, _)| *name)
        .collect();
    // Every figure read per point is a column of `points.csv` (`figure.KEY`).
    if matches!(figure.reading, Reading::PerPoint(_)) {
        shown.push("points.csv");
    }
    if let Some(chart) = &figure.chart {
        shown.push(chart.file);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_of_a_view_is_defined_once_in_all_and_every_key_is_unique() {
        for view in [SUMMARY, README_TABLE, WHERE_BYTES_GO, COMPARED, EXPORTED] {
            for f in view {
                assert!(ALL.iter().any(|a| a.key == f.key), "{} not in ALL", f.key);
            }
        }
        for (i, f) in ALL.iter().enumerate() {
            assert!(
                ALL[i + 1..].iter().all(|g| g.key != f.key),
                "{} twice",
                f.key
            );
            assert!(
                !views_of(f).is_empty(),
                "{} is shown nowhere: no view lists it and it has no chart",
                f.key
            );
        }
        for (f, _) in charted() {
            assert!(
                matches!(f.reading, Reading::PerPoint(_)),
                "{}: a chart draws a value per point",
                f.key
            );
        }
        // github-action-benchmark reads an export as `customSmallerIsBetter`.
        assert!(EXPORTED.iter().all(|f| f.better == Better::Lower));
        let files: Vec<_> = charted().map(|(_, c)| c.file).collect();
        let mut unique = files.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            files.len(),
            unique.len(),
            "two figures draw one file: {files:?}"
        );
    }

    #[test]
    fn a_heading_is_its_label_and_unit_and_says_when_it_is_fitted() {
        assert_eq!(WALL.heading(), "wall s");
        assert_eq!(EFFICIENCY.heading(), "efficiency");
        assert_eq!(
            WHOLE_BILL.heading(),
            "whole bill KiB / request in flight (fit)"
        );
        let point = crate::record::report::fixtures::measured("thread_raw", 10, 1.0, 1 << 20);
        assert_eq!(WHOLE_BILL.of(&point), None);
        assert_eq!(WALL.of(&point), Some(1.0));
    }
}

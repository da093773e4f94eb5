//! `fanout ab`'s report: per point and figure, the rounds paired (OLD and NEW of one round),
//! the geometric mean of their ratios NEW / OLD with its interval, and a verdict where the
//! interval lies beyond the threshold — as rows (JSON) and as a markdown table.

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::figures::{Better, CPU_PER_REQUEST, Figure, P99, PEAK_RSS, WALL};
use crate::analysis::paired::{Test, Verdict};
use crate::record::report::PointReport;

/// The figures compared: wall time, CPU per request, peak RSS, p99.
pub const FIGURES: &[&Figure] = &[&WALL, &CPU_PER_REQUEST, &PEAK_RSS, &P99];

/// What a row concluded, in the figure's terms (`worse` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// NEW is worse beyond the threshold.
    Worse,
    /// NEW is better beyond the threshold.
    Better,
    /// No verdict at the threshold.
    Unclear,
}

/// One point and figure compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `strategy/C`.
    pub point: String,
    /// The figure's key.
    pub figure: &'static str,
    /// Rounds with both sides measured.
    pub rounds: usize,
    /// The geometric mean of the rounds' NEW / OLD.
    pub ratio: f64,
    /// Its interval, low.
    pub low: f64,
    /// Its interval, high.
    pub high: f64,
    /// Its verdict.
    pub verdict: Outcome,
}

impl Row {
    /// True when the row has a verdict.
    pub fn flagged(&self) -> bool {
        self.verdict != Outcome::Unclear
    }
}

/// `old` and `new` (each round a repeat) paired per point, round and figure, summarised by
/// `test`; points in the order OLD first ran them.
pub fn rows(old: &[PointReport], new: &[PointReport], test: &Test) -> Vec<Row> {
    let mut points: Vec<(&str, usize)> = Vec::new();
    for r in old {
        let key = (r.point.strategy.name, r.point.concurrency);
        if !points.contains(&key) {
            points.push(key);
        }
    }
    let mut rows = Vec::new();
    for (strategy, concurrency) in points {
        let in_new = |round: u32| {
            new.iter().find(|r| {
                r.point.strategy.name == strategy
                    && r.point.concurrency == concurrency
                    && r.repeat == round
            })
        };
        for figure in FIGURES {
            let pairs: Vec<(f64, f64)> = old
                .iter()
                .filter(|r| r.point.strategy.name == strategy && r.point.concurrency == concurrency)
                .filter_map(|o| Some((figure.of(o)?, figure.of(in_new(o.repeat)?)?)))
                .collect();
            let Some(paired) = test.compare(&pairs) else {
                continue;
            };
            let worse = match figure.better {
                Better::Lower => Verdict::Up,
                Better::Higher => Verdict::Down,
            };
            rows.push(Row {
                point: format!("{strategy}/{concurrency}"),
                figure: figure.key,
                rounds: paired.rounds,
                ratio: paired.ratio,
                low: paired.low,
                high: paired.high,
                verdict: match paired.verdict {
                    Verdict::Unclear => Outcome::Unclear,
                    v if v == worse => Outcome::Worse,
                    _ => Outcome::Better,
                },
            });
        }
    }
    rows
}

/// The rows as a markdown table, with the test's terms above it and the count of verdicts
/// below.
pub fn markdown(rows: &[Row], test: &Test, old: &str, new: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "OLD: {old}; NEW: {new}. NEW / OLD per point and figure: the geometric mean of the \
         rounds' ratios, its {:.0}% bootstrap interval ({} resamples), and a verdict only where \
         the interval lies wholly beyond ±{}%.\n",
        test.confidence * 100.0,
        test.resamples,
        test.threshold * 100.0
    );
    let _ = writeln!(
        s,
        "| point | figure | rounds | NEW / OLD | interval | verdict |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---|---|");
    for r in rows {
        let verdict = match r.verdict {
            Outcome::Worse => "▲ worse",
            Outcome::Better => "▼ better",
            Outcome::Unclear => "",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3}–{:.3} | {verdict} |",
            r.point, r.figure, r.rounds, r.ratio, r.low, r.high
        );
    }
    let flagged = rows.iter().filter(|r| r.flagged()).count();
    let _ = writeln!(
        s,
        "\n{flagged} of {} comparisons with a verdict.",
        rows.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    #[test]
    fn rounds_pair_by_point_and_round_and_a_slower_new_is_worse() {
        let side = |scale: f64| -> Vec<PointReport> {
            (1..=10)
                .map(|round| {
                    // Each round's machine: a drift both sides share.
                    let drift = 1.0 + 0.05 * f64::from(round % 3);
                    let mut r = measured("async_raw", 100, drift * scale, 10 << 20);
                    r.repeat = round;
                    r
                })
                .collect()
        };
        let rows = rows(&side(1.0), &side(1.2), &Test::default());
        let wall = rows.iter().find(|r| r.figure == "wall").expect("wall");
        assert_eq!(
            (wall.rounds, wall.verdict),
            (10, Outcome::Worse),
            "{wall:?}"
        );
        assert!(
            (wall.ratio - 1.2).abs() < 1e-9,
            "the drift cancels: {wall:?}"
        );
        let rss = rows.iter().find(|r| r.figure == "peak_rss").expect("rss");
        assert_eq!(rss.verdict, Outcome::Unclear, "{rss:?}");
        let table = markdown(&rows, &Test::default(), "a", "b");
        assert!(
            table.contains("| async_raw/100 | wall | 10 | 1.200 |"),
            "{table}"
        );
    }
}

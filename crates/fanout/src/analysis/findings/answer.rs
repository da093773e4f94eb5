//! The answer and the decision the README states: each model's floor beside its library
//! strategy — the client's own memory per request in flight, its tail under open load, its CPU
//! per request, where it stopped on this machine and how far it went with the limits raised —
//! how far apart the strategies are at C = 1,000 and 10,000, and what each pitfall costs
//! against the strategy it spoils.

use serde::{Deserialize, Serialize};

use super::Ranked;
use super::reach::{self, Reach};
use crate::analysis::figures::{self, Figure};
use crate::analysis::statistics::{Spread, cells};
use crate::model::subject::{Cost, Holds, Kind, Part, Subject};
use crate::planning::catalog;
use crate::record::report::{Outcome, PointReport};

/// A model as the answer sets it out: its floor and its strategy with a client library.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    /// The model's name (`OS threads`).
    pub name: &'static str,
    /// Its floor: the model's own cost, no client library.
    pub floor: &'static Subject,
    /// The strategy with a client library; the floor itself where the model has none.
    pub library: &'static Subject,
}

/// Every model, from the strategies' family facts, in the order of the floors in the catalog.
pub fn models() -> Vec<Model> {
    let facts = || catalog::subjects().filter_map(|s| Some((s, s.family?)));
    facts()
        .filter(|(_, f)| f.part == Part::Floor)
        .map(|(floor, f)| Model {
            name: f.model,
            floor,
            library: facts()
                .find(|(_, g)| g.model == f.model && g.part == Part::Library)
                .map_or(floor, |(s, _)| s),
        })
        .collect()
}

/// The median of `figure` for `name` at C = `c` (no varied setting).
fn median(points: &[PointReport], name: &str, c: usize, figure: &Figure) -> Option<f64> {
    spread_at(points, name, c, figure).map(|sp| sp.median)
}

/// The spread over the repeats of `name` at C = `c` (no varied setting: an open-loop run holds
/// one rate).
fn spread_at(points: &[PointReport], name: &str, c: usize, figure: &Figure) -> Option<Spread> {
    cells(points)
        .into_iter()
        .find(|cell| {
            cell.key.strategy == name && cell.key.concurrency == c && cell.key.varied.is_none()
        })
        .and_then(|cell| figure.spread(&cell, points))
}

/// A fitted figure fitted in each repeat apart: its median and range over the repeats.
fn fitted_per_repeat(points: &[PointReport], name: &str, figure: &Figure) -> Option<Spread> {
    // The fit reads `name`'s points alone: only they are copied, once per repeat.
    let mine: Vec<&PointReport> = points
        .iter()
        .filter(|r| r.point.strategy.name == name)
        .collect();
    let repeats: std::collections::BTreeSet<u32> = mine.iter().map(|r| r.repeat).collect();
    Spread::of(repeats.into_iter().filter_map(|k| {
        let these: Vec<PointReport> = mine
            .iter()
            .filter(|r| r.repeat == k)
            .map(|r| (*r).clone())
            .collect();
        figure.fitted(&these, name)
    }))
}

/// One strategy's figures in the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Twin {
    /// The strategy.
    pub strategy: &'static Subject,
    /// The client's own memory per request in flight, KiB: its resident memory and the kernel
    /// memory charged to its cgroup, a line fitted over C in each repeat (median and range).
    pub own_bill_kib: Option<Spread>,
    /// The whole bill per request in flight, KiB (fitted over C, every repeat): the client's
    /// own and the kernel's everywhere else, the server's end of each socket included.
    pub whole_bill_kib: Option<f64>,
    /// Its wall time at the run's largest C, s.
    pub wall_s: Option<Spread>,
    /// Its p99 above the delay's own p99 at the run's largest C in the closed loop, ms:
    /// service time, counted from each request's send.
    pub p99_overhead_ms: Option<Spread>,
    /// Its CPU per request at the run's largest C, µs.
    pub cpu_us: Option<Spread>,
    /// Its p99 above the delay's under open load, from each request's due time, ms: evenly
    /// spaced arrivals, then Poisson ones (`None`: not in that run).
    pub open_tail_ms: [Option<Spread>; 2],
    /// At the largest C it was measured at, the requests it holds in flight by design when
    /// fewer than that C, and the C: one HTTP/2 connection under the server's stream limit
    /// holds the limit and queues the rest. Its bill is fitted over what it held, and its
    /// memory there is that of every request it was given, queued ones included.
    pub held_fewer: Option<(usize, usize)>,
}

impl Twin {
    /// The bill the answer leads with: the client's own where its cgroup was read, else the
    /// whole bill (no memory cgroup on the machine).
    pub fn bill_kib(&self) -> Option<f64> {
        self.own_bill_kib.map(|s| s.median).or(self.whole_bill_kib)
    }
}

/// `name`'s requests in flight and C at the largest C it was measured at, when a stream limit
/// held it below what it holds by design.
fn held_fewer(points: &[PointReport], name: &str) -> Option<(usize, usize)> {
    let largest = points
        .iter()
        .filter(|r| r.point.strategy.name == name && matches!(r.outcome, Outcome::Measured))
        .max_by_key(|r| r.point.concurrency)?;
    let point = &largest.point;
    // Only the stream limit: a strategy that holds fewer by design says so in its own facts.
    let held = point.in_flight();
    let asked = point.held_by_design().min(point.concurrency);
    (held < asked).then_some((held, point.concurrency))
}

/// The runs the answer reads beside its main one, each empty where the block names none.
#[derive(Debug, Clone, Copy, Default)]
pub struct Beside<'a> {
    /// The open-loop run with evenly spaced arrivals, and the one with Poisson arrivals.
    pub open: [&'a [PointReport]; 2],
    /// The scale run: where each model's floor stopped on this machine as it is.
    pub scale: &'a [PointReport],
    /// A run with the machine's limits raised: how far a model's requests went past them.
    pub raised: &'a [PointReport],
}

/// The open-loop conditions the tails were taken under: the mean rate per second and the
/// delay (their product, λ·W, the requests in flight on average).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenLoad {
    /// Requests falling due per second.
    pub rate: f64,
    /// The server's delay, ms.
    pub delay_ms: u64,
}

/// One model in the answer: its floor, its library twin, and where it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// The model's name.
    pub model: &'static str,
    /// Its floor.
    pub floor: Twin,
    /// Its strategy with a client library, if it has one.
    pub library: Option<Twin>,
    /// How far its floor carried in the scale run.
    pub reach: Option<Reach>,
    /// The largest C a strategy whose requests the same kind of thing holds carried with the
    /// machine's limits raised, and which strategy, where it went past the floor's wall.
    pub raised: Option<(&'static Subject, usize)>,
}

/// The answer: each model's floor and library strategy side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The largest C of the run: the walls are at it.
    pub largest: usize,
    /// One row per model.
    pub rows: Vec<ModelRow>,
    /// The open-loop run's conditions, if the answer read one.
    pub open: Option<OpenLoad>,
}

/// The answer of `points` (the main run), with the runs `beside` it.
pub fn answer(points: &[PointReport], beside: Beside<'_>) -> Answer {
    let largest = points
        .iter()
        .map(|r| r.point.concurrency)
        .max()
        .unwrap_or(0);
    let open_c = |run: &[PointReport]| run.iter().map(|r| r.point.concurrency).max();
    let twin = |strategy: &'static Subject| Twin {
        strategy,
        own_bill_kib: fitted_per_repeat(points, strategy.name, &figures::CLIENT_BILL),
        whole_bill_kib: figures::WHOLE_BILL.fitted(points, strategy.name),
        wall_s: spread_at(points, strategy.name, largest, &figures::WALL),
        p99_overhead_ms: spread_at(points, strategy.name, largest, &figures::P99_OVERHEAD),
        cpu_us: spread_at(points, strategy.name, largest, &figures::CPU_PER_REQUEST),
        open_tail_ms: beside
            .open
            .map(|run| spread_at(run, strategy.name, open_c(run)?, &figures::P99_OVERHEAD)),
        held_fewer: held_fewer(points, strategy.name),
    };
    let rows = models()
        .into_iter()
        .map(|m| {
            let reach = (!beside.scale.is_empty()).then(|| reach::of(beside.scale, m.floor));
            ModelRow {
                model: m.name,
                floor: twin(m.floor),
                library: (m.library != m.floor).then(|| twin(m.library)),
                raised: raised(beside.raised, m.floor, reach.as_ref()),
                reach,
            }
        })
        .collect();
    let open = beside.open[0]
        .iter()
        .chain(beside.open[1])
        .find(|r| r.point.settings.rate.is_some())
        .map(|r| OpenLoad {
            rate: r
                .point
                .settings
                .rate
                .as_ref()
                .map_or(0.0, |rate| rate.mean()),
            delay_ms: r.point.delay_ms,
        });
    Answer {
        largest,
        rows,
        open,
    }
}

/// In the run with the limits raised, the strategy whose requests are held like `floor`'s
/// that carried the most, where that is past what the floor carried on the machine as it is.
fn raised(
    run: &[PointReport],
    floor: &'static Subject,
    here: Option<&Reach>,
) -> Option<(&'static Subject, usize)> {
    let past = here.and_then(|r| r.stopped.as_ref())?.concurrency;
    catalog::present(run.iter().map(|r| &r.point))
        .into_iter()
        .filter(|s| s.held_by == floor.held_by && s.kind == Kind::Strategy)
        .filter_map(|s| Some((s, reach::of(run, s).carried?)))
        .filter(|(_, carried)| *carried >= past)
        .max_by_key(|(_, carried)| *carried)
}

/// How far apart the strategies that hold C in flight are at one C.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WallSpread {
    /// The concurrency.
    pub concurrency: usize,
    /// The fastest by median wall time.
    pub fastest: Ranked,
    /// The slowest.
    pub slowest: Ranked,
    /// The ideal wall time there, s.
    pub ideal_s: f64,
}

/// What a pitfall cost against the strategy it spoils, at each C both ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PitfallCost {
    /// The pitfall (its facts, `kind.pitfall()`, say the mistake, the strategy it spoils and
    /// where the cost shows).
    pub pitfall: &'static Subject,
    /// The largest C compared at.
    pub concurrency: usize,
    /// The pitfall's median over the spoiled strategy's, of the figure its cost shows in, at
    /// the largest C.
    pub ratio: f64,
    /// The same ratio at every C both ran, by C.
    pub ratios: Vec<(usize, f64)>,
    /// At the largest C, the most requests the server saw at once from the pitfall (median),
    /// and its N: what it really held.
    pub seen: Option<(f64, usize)>,
}

/// The decision's findings beside the answer's: how far apart the strategies are, and what
/// each pitfall costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// At C = 1,000 and 10,000 (where measured).
    pub spreads: Vec<WallSpread>,
    /// Each pitfall's cost.
    pub pitfalls: Vec<PitfallCost>,
}

/// The figure a pitfall's cost shows in.
pub fn figure_of(cost: Cost) -> &'static Figure {
    match cost {
        Cost::Wall => &figures::WALL,
        Cost::PeakRss => &figures::PEAK_RSS,
    }
}

/// The decision from the main run's `points`.
pub fn decision(points: &[PointReport]) -> Decision {
    Decision {
        spreads: [1_000, 10_000]
            .into_iter()
            .filter_map(|c| spread(points, c))
            .collect(),
        pitfalls: pitfalls(points),
    }
}

/// The fastest and slowest at `c` of the strategies that hold C in flight and served every
/// request.
fn spread(points: &[PointReport], c: usize) -> Option<WallSpread> {
    let mut walls: Vec<Ranked> = cells(points)
        .into_iter()
        .filter(|cell| cell.key.concurrency == c && cell.key.varied.is_none())
        .filter_map(|cell| {
            let subject = cell.subject();
            let holds_c = subject.kind == Kind::Strategy && subject.holds == Holds::Concurrency;
            // Holding C means the server saw C: reqwest over one HTTP/2 connection holds the
            // server's stream limit, whatever C is.
            let clean =
                !cell.measured.is_empty() && cell.measured.iter().all(|r| reach::held_all(r));
            if !(holds_c && clean) {
                return None;
            }
            Some(Ranked {
                strategy: subject,
                median: figures::WALL.spread(&cell, points)?.median,
            })
        })
        .collect();
    walls.sort_by(|a, b| a.median.total_cmp(&b.median));
    let ideal_s = points
        .iter()
        .find(|r| r.point.concurrency == c && r.outcome == Outcome::Measured)?
        .ideal_s;
    Some(WallSpread {
        concurrency: c,
        fastest: *walls.first()?,
        slowest: *walls.last()?,
        ideal_s,
    })
}

/// Each pitfall of `points` against the strategy it spoils, at the largest C both ran.
fn pitfalls(points: &[PointReport]) -> Vec<PitfallCost> {
    catalog::present(points.iter().map(|r| &r.point))
        .into_iter()
        .filter_map(|pitfall| {
            let facts = pitfall.kind.pitfall()?;
            let figure = figure_of(facts.costs);
            let mut both: Vec<(usize, f64)> = cells(points)
                .iter()
                .filter(|cell| cell.key.strategy == pitfall.name && cell.key.varied.is_none())
                .filter_map(|cell| {
                    let c = cell.key.concurrency;
                    let mine = median(points, pitfall.name, c, figure)?;
                    let theirs = median(points, facts.spoils, c, figure)?;
                    Some((c, mine / theirs))
                })
                .collect();
            both.sort_by_key(|(c, _)| *c);
            let (concurrency, ratio) = *both.last()?;
            let seen = median(
                points,
                pitfall.name,
                concurrency,
                &figures::SERVER_PEAK_IN_FLIGHT,
            )
            .filter(|v| v.is_finite())
            .zip(
                points
                    .iter()
                    .find(|r| r.point.strategy == pitfall && r.point.concurrency == concurrency)
                    .map(|r| r.point.requests),
            );
            Some(PitfallCost {
                pitfall,
                concurrency,
                ratio,
                ratios: both,
                seen,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    #[test]
    fn each_model_is_its_floor_and_its_library_strategy_from_their_facts() {
        let models = models();
        assert_eq!(models.len(), 6, "{models:?}");
        assert_eq!(
            (models[0].name, models[0].floor.name, models[0].library.name),
            ("OS threads", "thread_raw", "thread_pool")
        );
        for m in models {
            let (floor, library) = (m.floor.family, m.library.family);
            assert_eq!(floor.map(|f| f.part), Some(Part::Floor));
            assert_eq!(floor.map(|f| f.model), library.map(|f| f.model));
        }
        // A model with no library strategy has its floor in both places.
        let smol = super::models().into_iter().find(|m| m.name == "smol tasks");
        assert_eq!(smol.map(|m| m.library.name), Some("smol_raw"));
    }

    #[test]
    fn a_pitfall_is_compared_with_what_it_spoils_at_the_largest_c_both_ran() {
        let points = vec![
            measured("async_semaphore", 10, 0.2, 10 << 20),
            measured("pitfall_client_per_request", 10, 0.3, 10 << 20),
            measured("async_semaphore", 100, 0.2, 10 << 20),
            measured("pitfall_client_per_request", 100, 0.8, 10 << 20),
            measured("pitfall_client_per_request", 1_000, 9.0, 10 << 20),
        ];
        let costs = pitfalls(&points);
        assert_eq!(costs.len(), 1);
        assert_eq!(costs[0].pitfall.name, "pitfall_client_per_request");
        assert_eq!(costs[0].concurrency, 100);
        assert!((costs[0].ratio - 4.0).abs() < 1e-9, "{costs:?}");
        // Every C both ran, not the largest alone; C = 1,000 has nothing to compare with.
        let at: Vec<usize> = costs[0].ratios.iter().map(|(c, _)| *c).collect();
        assert_eq!(at, [10, 100], "{costs:?}");
        assert_eq!(costs[0].seen, None, "no server count in these points");
    }

    #[test]
    fn a_strategy_a_stream_limit_holds_below_c_is_named_with_what_it_held() {
        use crate::model::settings::Protocol;
        let h2 = |strategy, c| {
            let mut r = measured(strategy, c, 1.0, 10 << 20);
            r.point.settings.protocol = Protocol::H2;
            r
        };
        let points = vec![
            h2("async_h2", 100),
            h2("async_h2", 1_000),
            h2("async_h2_floor", 1_000),
        ];
        // reqwest keeps one connection: the default server's 128 streams are what it holds.
        let limit = points[1].point.settings.server.limits().h2_max_streams as usize;
        assert!(limit > 0 && limit < 1_000, "{limit}");
        assert_eq!(held_fewer(&points, "async_h2"), Some((limit, 1_000)));
        // The floor opens connections enough for C; below the limit nothing is cut.
        assert_eq!(held_fewer(&points, "async_h2_floor"), None);
        assert_eq!(held_fewer(&points[..1], "async_h2"), None);
        // A strategy that holds fewer by design is not one a limit cut.
        assert_eq!(
            held_fewer(&[measured("sequential", 100, 10.0, 1 << 20)], "sequential"),
            None
        );
        let answer = answer(&points, Beside::default());
        let library = answer
            .rows
            .iter()
            .find_map(|row| row.library.filter(|t| t.strategy.name == "async_h2"));
        assert_eq!(library.and_then(|t| t.held_fewer), Some((limit, 1_000)));
    }

    #[test]
    fn the_spread_leaves_out_what_failed_and_what_does_not_hold_c() {
        let seen = |strategy, wall, rss, peak| {
            let mut r = measured(strategy, 1_000, wall, rss);
            r.server = Some(mock_server::StatsSnapshot {
                peak_in_flight: peak,
                ..Default::default()
            });
            r
        };
        let mut failing = seen("thread_raw", 0.01, 1 << 20, 1_000);
        failing.worker.tally.errors.insert("timeout".into(), 1);
        let points = vec![
            seen("thread_pool", 2.4, 40 << 20, 1_000),
            seen("async_semaphore", 2.2, 10 << 20, 1_000),
            seen("sequential", 90.0, 1 << 20, 1),
            // By design it holds C, but the server saw 128: reqwest at a stream limit.
            seen("async_h2", 9.0, 10 << 20, 128),
            failing,
        ];
        let s = spread(&points, 1_000).expect("spread");
        assert_eq!(s.fastest.strategy.name, "async_semaphore");
        assert_eq!(s.slowest.strategy.name, "thread_pool");
        assert!(spread(&points, 10_000).is_none());
    }
}

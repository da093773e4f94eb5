//! What to measure: a [`Plan`] (strategies × concurrency × repeats under one [`Workload`]),
//! built and checked in one step from [`PointsArgs`] — the flags of `sweep` and `doctor`,
//! and the `FANOUT_*` variables of `cargo bench`. The presets are in `preset.rs`.

use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use serde::{Deserialize, Serialize};

use super::catalog;
use super::flags::WorkloadFlags;
use super::point::{Point, WorkloadError};
use crate::model::knob::{Knob, Varied};
use crate::model::settings::Workload;
use crate::model::subject::Subject;

/// Concurrency of a default sweep (and of `--quick`).
pub const DEFAULT_CONCURRENCY: &[usize] = &[10, 100, 1_000, 10_000];

/// What to sweep; saved as `plan.json` in the run folder so `fanout resume` can finish it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The strategies (names in JSON).
    pub strategies: Vec<&'static Subject>,
    /// Concurrency values.
    pub concurrency: Vec<usize>,
    /// Repeats of every point.
    pub repeat: u32,
    /// A worker running longer is killed; a point needing longer by design is skipped.
    pub time_limit: Duration,
    /// N, D and the settings of every point.
    #[serde(flatten)]
    pub workload: Workload,
    /// A setting varied across points, beside C, and its values (a `--workload` preset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vary: Option<Vary>,
    /// After the rate grid, narrow each strategy's knee by bisection, one probe point at a
    /// time (the `rate` preset; `findings::knee` says where the knee is and what to probe).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bisect_knees: bool,
    /// Once a strategy's point meets a named limit, its points at larger C (same repeat and
    /// settings) are skipped naming it rather than run into the same wall (the `scale` preset,
    /// whose largest C would otherwise spend minutes failing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_at_walls: bool,
}

/// A setting varied across a plan's points, and its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VaryOnDisk")]
pub struct Vary {
    /// The setting.
    pub knob: Knob,
    /// Its values, in order.
    pub values: Vec<Varied>,
}

/// A [`Vary`] as `plan.json` holds it: typed values, or, in plans saved before values were
/// typed, numbers ([`Varied::unpacked`]).
#[derive(Deserialize)]
struct VaryOnDisk {
    knob: Knob,
    values: Vec<serde_json::Value>,
}

impl TryFrom<VaryOnDisk> for Vary {
    type Error = String;
    fn try_from(disk: VaryOnDisk) -> Result<Self, String> {
        let values = disk
            .values
            .into_iter()
            .map(|value| {
                if let Some(n) = value.as_u64() {
                    return Varied::unpacked(disk.knob, n)
                        .ok_or_else(|| format!("{n} is not a value of {}", disk.knob.key()));
                }
                let typed: Varied = serde_json::from_value(value).map_err(|e| e.to_string())?;
                if typed.knob() == disk.knob {
                    Ok(typed)
                } else {
                    Err(format!(
                        "a value of {} among the values of {}",
                        typed.knob().key(),
                        disk.knob.key()
                    ))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            knob: disk.knob,
            values,
        })
    }
}

impl Plan {
    /// Every point once (the first repeat's), e.g. for the preflight.
    pub fn distinct_points(&self) -> Vec<Point> {
        let values = match &self.vary {
            Some(vary) => vary.values.iter().copied().map(Some).collect(),
            None => vec![None],
        };
        let mut points = Vec::new();
        for value in values {
            for &c in &self.concurrency {
                for &strategy in &self.strategies {
                    let mut point = Point::of(&self.workload, strategy, c);
                    if let Some(varied) = value {
                        point.vary(varied);
                    }
                    points.push(point);
                }
            }
        }
        points
    }

    /// Every (repeat, point), repeat outermost: each repeat is a whole sweep, so slow drift of
    /// the machine spreads over all points instead of biasing some.
    pub fn points(&self) -> Vec<(u32, Point)> {
        let points = self.distinct_points();
        (1..=self.repeat)
            .flat_map(|repeat| points.iter().map(move |p| (repeat, p.clone())))
            .collect()
    }

    /// Checks that every point can be measured.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        for point in self.distinct_points() {
            match point.validate() {
                Ok(()) => {}
                Err(WorkloadError::TimeoutNotAboveDelay {
                    timeout_ms,
                    delay_ms,
                }) => {
                    return Err(WorkloadError::TimeoutNotAboveSomeDelay {
                        timeout_ms,
                        delay_ms,
                        concurrency: point.concurrency,
                    });
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }
}

impl Plan {
    /// A hedge budget with no point hedging is a flag that would be ignored: an error. Checked
    /// once the plan is whole (a preset may vary the hedge delay).
    pub fn validate_hedging(&self) -> Result<(), WorkloadError> {
        match self.workload.settings.hedge_max_extra {
            Some(budget) if !self.distinct_points().iter().any(|p| p.settings.hedging()) => {
                Err(WorkloadError::BudgetWithoutHedging(budget.to_string()))
            }
            _ => Ok(()),
        }
    }
}

/// Strategy names from `--strategies` (`all` or a comma-separated list).
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyList(pub Vec<&'static Subject>);

impl std::str::FromStr for StrategyList {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        catalog::parse_list(raw).map(Self)
    }
}

/// The points to measure: strategies, concurrency values and their workload.
#[derive(Debug, Clone, clap::Args)]
pub struct PointsArgs {
    /// Strategies: a comma-separated list of names (see `fanout list`); `all` is every
    /// strategy, `peers` every installed peer.
    #[arg(long, default_value = "all")]
    pub strategies: StrategyList,
    /// Concurrency values, comma-separated.
    #[arg(long, value_delimiter = ',',
          default_value = "10,100,1000,10000",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub concurrency: Vec<usize>,
    /// N, D and the settings.
    #[command(flatten)]
    pub workload: WorkloadFlags,
}

impl PointsArgs {
    /// The strategies, when the user named others than the default (all).
    pub fn named_strategies(&self) -> Option<Vec<&'static Subject>> {
        let all: Vec<_> = crate::strategies::ALL.iter().map(|s| &s.subject).collect();
        (self.strategies.0 != all).then(|| self.strategies.0.clone())
    }

    /// The concurrency values, when the user named others than the default.
    pub fn named_concurrency(&self) -> Option<Vec<usize>> {
        (self.concurrency != DEFAULT_CONCURRENCY).then(|| self.concurrency.clone())
    }

    /// The checked plan of these points, `repeat` times, each within `time_limit`.
    pub fn plan(&self, repeat: u32, time_limit: Duration) -> Result<Plan, WorkloadError> {
        let plan = self.unchecked_plan(repeat, time_limit);
        plan.validate()?;
        Ok(plan)
    }

    /// The plan of these points before it is checked: a preset then changes it, and the plan
    /// it makes is checked (its delay, say, replaces the rule's).
    pub fn unchecked_plan(&self, repeat: u32, time_limit: Duration) -> Plan {
        Plan {
            strategies: self.strategies.0.clone(),
            concurrency: self.concurrency.clone(),
            repeat,
            time_limit,
            workload: self.workload.workload(),
            vary: None,
            bisect_knees: false,
            stop_at_walls: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::model::knob::FaultShare;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        points: PointsArgs,
    }

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let cli = super::super::variables::parse::<Cli>(
            std::iter::once("fanout").chain(args.iter().copied()),
        )
        .map_err(|e| e.to_string())?;
        cli.points
            .plan(2, Duration::from_secs(60))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flags_become_one_checked_plan_with_every_point_repeated() {
        let p = plan(&[
            "--strategies",
            "thread_pool,async_semaphore",
            "--concurrency",
            "10,1000",
        ])
        .expect("plan");
        let points = p.points();
        assert_eq!(points.len(), 2 * 2 * 2);
        let (repeat, first) = &points[0];
        assert_eq!((*repeat, first.name()), (1, "thread_pool/10".to_owned()));
        assert_eq!(points[4].0, 2, "repeat outermost");
        assert_eq!(points[3].1.delay_ms, 200, "the rule's delay at C = 1,000");
        let fixed = plan(&[
            "--concurrency",
            "10",
            "--delay-ms",
            "7",
            "--body-bytes",
            "100",
        ])
        .expect("plan");
        let point = &fixed.points()[0].1;
        assert_eq!((point.delay_ms, point.settings.body_bytes), (7, 100));
        let err = plan(&["--concurrency", "10000", "--timeout-ms", "1000"]).expect_err("timeout");
        assert!(
            err.contains("must be above the delay of every point (2000 ms at C = 10000)"),
            "{err}"
        );
    }

    #[test]
    fn a_varied_setting_saved_packed_in_numbers_is_read_typed_and_saved_typed() {
        let earlier = r#"{"knob": "fault", "values": [0, 20010000]}"#;
        let vary: Vary = serde_json::from_str(earlier).expect("earlier vary");
        let reset = FaultShare::of(mock_server::FaultKind::Reset, 0.01);
        assert_eq!(
            vary.values,
            [Varied::Fault(None), Varied::Fault(Some(reset))]
        );
        let again = serde_json::to_string(&vary).expect("json");
        assert!(
            again.contains(r#"{"fault":{"kind":"reset","millionths":10000}}"#),
            "{again}"
        );
        assert_eq!(serde_json::from_str::<Vary>(&again).expect("typed"), vary);
        let mixed = r#"{"knob": "fault", "values": [{"cpu_us": 5}]}"#;
        let err = serde_json::from_str::<Vary>(mixed).expect_err("another knob's value");
        assert!(
            err.to_string()
                .contains("a value of cpu_us among the values of fault"),
            "{err}"
        );
        let unknown = serde_json::from_str::<Vary>(r#"{"knob": "fault", "values": [990000000]}"#);
        assert!(unknown.is_err(), "no fault kind 98");
    }

    #[test]
    fn a_saved_plan_of_the_earlier_layout_is_read() {
        let earlier = r#"{"strategies":["sequential","thread_pool"],"concurrency":[10,100],
            "delay_ms":null,"requests_per_slot":2,"repeat":3,"timeout_ms":30000,
            "stack_kib":2048,"tokio_workers":2,"time_limit":{"secs":60,"nanos":0}}"#;
        let plan: Plan = serde_json::from_str(earlier).expect("earlier plan.json");
        assert_eq!(plan.points().len(), 2 * 2 * 3);
        assert_eq!(plan.workload.settings.body_bytes, 32);
        let again = serde_json::to_string(&plan).expect("json");
        assert_eq!(serde_json::from_str::<Plan>(&again).expect("read"), plan);
    }
}

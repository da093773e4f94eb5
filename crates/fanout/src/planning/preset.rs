//! The preset sweeps, where the answer changes: plans kept as data, `presets/NAME.json` (compiled
//! in), each the keys of a `plan.json` it sets over the flags' plan (strategies, concurrency,
//! workload, the setting it varies) and the settings it raises to at least a value; and
//! `--quick`'s strategies, named by their facts so that a misspelt one does not compile.

use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::plan::Plan;
use crate::model::subject::Subject;
use crate::strategies::strategy::Strategy;
use crate::strategies::{
    async_h2_floor, async_raw, async_semaphore, coroutine_raw, smol_raw, thread_pool, thread_raw,
    uring_raw,
};

/// Strategies of `sweep --quick`: each model's floor — threads, coroutines, tokio, smol,
/// io_uring, HTTP/2 streams — and the library strategies of threads and tokio beside them,
/// so a first run shows the answer's shape.
pub fn quick() -> Vec<&'static Subject> {
    facts(&[
        &thread_raw::STRATEGY,
        &thread_pool::STRATEGY,
        &coroutine_raw::STRATEGY,
        &async_raw::STRATEGY,
        &async_semaphore::STRATEGY,
        &smol_raw::STRATEGY,
        &uring_raw::STRATEGY,
        &async_h2_floor::STRATEGY,
    ])
}

/// The facts of `strategies`, in order.
fn facts(strategies: &[&'static Strategy]) -> Vec<&'static Subject> {
    strategies.iter().map(|s| &s.subject).collect()
}

/// A preset sweep, as its file says it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Its name, `--preset NAME`: the file's.
    pub name: String,
    /// What it measures, one paragraph (`fanout sweep --help`).
    pub about: String,
    /// Why its values are what they are.
    #[serde(default)]
    pub why: Vec<String>,
    /// The `plan.json` keys it sets, each to its value.
    sets: Map<String, Value>,
    /// Settings it raises to at least a value, leaving a larger one the user gave.
    #[serde(default)]
    at_least: AtLeast,
    /// Whether it runs past the OS limits on purpose (the preflight then warns of each wall
    /// instead of refusing its points).
    #[serde(default)]
    pub runs_past_limits: bool,
}

/// The settings a preset raises to at least a value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AtLeast {
    /// The per-request deadline, ms.
    timeout_ms: Option<u64>,
    /// A point's time limit, s.
    time_limit_s: Option<u64>,
}

/// The presets shipped with fanout, `presets/NAME.json`, in `--help`'s order. A test keeps
/// this list and the folder the same, and applies each.
const SHIPPED: &[(&str, &str)] = &[
    ("cpu", include_str!("../../../../presets/cpu.json")),
    ("connect", include_str!("../../../../presets/connect.json")),
    ("jitter", include_str!("../../../../presets/jitter.json")),
    ("rate", include_str!("../../../../presets/rate.json")),
    (
        "overload",
        include_str!("../../../../presets/overload.json"),
    ),
    (
        "overload-past-walls",
        include_str!("../../../../presets/overload-past-walls.json"),
    ),
    ("faults", include_str!("../../../../presets/faults.json")),
    ("hedge", include_str!("../../../../presets/hedge.json")),
    ("scale", include_str!("../../../../presets/scale.json")),
];

/// Every shipped preset, each read once (one that does not read is left out; the test of
/// [`SHIPPED`] reads each).
pub fn all() -> &'static [Preset] {
    static READ: OnceLock<Vec<Preset>> = OnceLock::new();
    READ.get_or_init(|| {
        SHIPPED
            .iter()
            .filter_map(|(name, text)| read(name, text).ok())
            .collect()
    })
}

/// The shipped preset named `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    all().iter().find(|p| p.name == name)
}

/// The preset `text` says, its file named `name`.
fn read(name: &str, text: &str) -> Result<Preset, String> {
    let preset: Preset = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if preset.name != name {
        return Err(format!("names the preset {:?}", preset.name));
    }
    Ok(preset)
}

impl Preset {
    /// `plan` turned into this preset: each key it sets, then the settings it raises. The
    /// repeats, time limit and other settings stay the caller's. An error names a key the
    /// plan does not take as the file gives it.
    pub fn apply(&self, plan: &mut Plan) -> Result<(), String> {
        let fail = |e: serde_json::Error| format!("preset {}: {e}", self.name);
        let Value::Object(mut keys) = serde_json::to_value(&*plan).map_err(fail)? else {
            return Err(format!("preset {}: a plan is not an object", self.name));
        };
        keys.extend(self.sets.clone());
        *plan = serde_json::from_value(Value::Object(keys)).map_err(fail)?;
        // Each key set must read back as given: a misspelt one would be dropped.
        let applied = serde_json::to_value(&*plan).map_err(fail)?;
        if let Some((key, _)) = self.sets.iter().find(|(k, v)| applied.get(k) != Some(v)) {
            return Err(format!(
                "preset {}: the plan does not take its {key:?} as given",
                self.name
            ));
        }
        if let Some(ms) = self.at_least.timeout_ms {
            let timeout = &mut plan.workload.settings.timeout_ms;
            *timeout = (*timeout).max(ms);
        }
        if let Some(s) = self.at_least.time_limit_s {
            plan.time_limit = plan.time_limit.max(Duration::from_secs(s));
        }
        Ok(())
    }

    /// Its name and what it measures, for `--preset`'s help.
    pub fn possible_value(&'static self) -> clap::builder::PossibleValue {
        clap::builder::PossibleValue::new(self.name.as_str()).help(self.about.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan before any preset: the default workload.
    fn base() -> Plan {
        Plan {
            strategies: Vec::new(),
            concurrency: vec![10],
            repeat: 1,
            time_limit: Duration::from_secs(60),
            workload: crate::model::settings::Workload::default(),
            vary: None,
            bisect_knees: false,
            stop_at_walls: false,
        }
    }

    #[test]
    fn every_shipped_preset_file_is_compiled_in_reads_and_applies() {
        let folder = crate::peers::install::root().join("presets");
        let mut in_folder: Vec<String> = std::fs::read_dir(&folder)
            .expect("presets/")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| f.strip_suffix(".json").map(str::to_owned))
            .collect();
        in_folder.sort();
        let mut compiled: Vec<_> = SHIPPED.iter().map(|(name, _)| *name).collect();
        compiled.sort_unstable();
        assert_eq!(in_folder, compiled, "SHIPPED lists every presets/*.json");
        for (name, text) in SHIPPED {
            let preset = read(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut plan = base();
            preset
                .apply(&mut plan)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!plan.strategies.is_empty(), "{name}");
        }
        assert_eq!(all().len(), SHIPPED.len());
    }

    #[test]
    fn a_key_the_plan_does_not_take_is_named() {
        let preset = read(
            "typo",
            r#"{"name": "typo", "about": "", "sets": {"concurrency": [5], "delay_msec": 3}}"#,
        )
        .expect("reads");
        let err = preset.apply(&mut base()).expect_err("a misspelt key");
        assert!(err.contains("\"delay_msec\""), "{err}");
    }

    #[test]
    fn a_preset_raises_a_setting_to_its_least_and_keeps_a_larger_one() {
        let scale = find("scale").expect("scale");
        let mut plan = base();
        plan.workload.settings.timeout_ms = 1_000;
        scale.apply(&mut plan).expect("applies");
        assert_eq!(plan.workload.settings.timeout_ms, 120_000);
        plan.workload.settings.timeout_ms = 500_000;
        scale.apply(&mut plan).expect("applies");
        assert_eq!(plan.workload.settings.timeout_ms, 500_000);
    }
}

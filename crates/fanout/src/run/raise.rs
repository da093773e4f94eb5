//! `--raise-limits`: the kernel settings that cap threads machine-wide (`kernel.pid_max`,
//! `kernel.threads-max`, `vm.max_map_count`) raised for one run to what its points need — as
//! root only — and put back as they were when the run ends. Every point measured meanwhile
//! records them (`raised_limits`), and so do the run's facts.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::preflight::{self, Finding};
use crate::model::limit::RaisedLimit as Raised;

/// The settings raised for the run under way, for its points and facts to record.
static RAISED: Mutex<Vec<Raised>> = Mutex::new(Vec::new());

/// The settings raised for the run under way: empty unless `--raise-limits` raised one.
pub fn raised_for_run() -> Vec<Raised> {
    RAISED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The largest value the kernel takes for `setting`, where it caps it: `kernel.pid_max`'s
/// PID_MAX_LIMIT on 64-bit Linux.
fn ceiling(setting: &str) -> u64 {
    match setting {
        "kernel.pid_max" => 4_194_304,
        _ => i32::MAX as u64,
    }
}

/// The settings raised for a run: each put back as it was when the guard is dropped.
#[must_use = "the settings are put back when the guard is dropped"]
pub struct Guard(Vec<Raised>);

impl Guard {
    /// What was raised.
    pub fn raised(&self) -> &[Raised] {
        &self.0
    }
}

/// The settings a refusal among `findings` names that `--raise-limits` may raise
/// ([`preflight::RAISABLE`]), each to the largest value one asks (at most what the kernel
/// takes), where `now` (a setting's value, `None` where it cannot be read) is below it; or
/// why one cannot be read.
pub fn wanted(
    findings: &[Finding],
    now: impl Fn(&str) -> Option<u64>,
) -> Result<Vec<Raised>, String> {
    let mut wanted: BTreeMap<&str, u64> = BTreeMap::new();
    for f in preflight::refusals(findings) {
        if let Some(to) = f.raise_to {
            let value = wanted.entry(f.setting).or_default();
            *value = (*value).max(to.min(ceiling(f.setting)));
        }
    }
    let mut raised = Vec::new();
    for (setting, to) in wanted {
        let was =
            now(setting).ok_or_else(|| format!("--raise-limits: {setting} cannot be read here"))?;
        if was < to {
            raised.push(Raised {
                setting: setting.to_owned(),
                was,
                to,
            });
        }
    }
    Ok(raised)
}

/// Raises the settings [`wanted`] names for `findings` on this machine. An error names the
/// setting when this process is not root or the kernel refuses the value (what was raised
/// before it is put back).
pub fn raise(findings: &[Finding]) -> Result<Guard, String> {
    let wanted = wanted(findings, |setting| crate::os::sysctl(setting)?.parse().ok())?;
    if let Some(first) = wanted.first()
        && !crate::os::running_as_root()
    {
        return Err(format!(
            "--raise-limits: raising {} from {} to {} needs root; run as root, or raise it yourself: sysctl -w {}={}",
            first.setting, first.was, first.to, first.setting, first.to
        ));
    }
    let mut guard = Guard(Vec::new());
    for r in wanted {
        crate::os::set_sysctl(&r.setting, &r.to.to_string())
            .map_err(|e| format!("--raise-limits: setting {} to {}: {e}", r.setting, r.to))?;
        guard.0.push(r);
    }
    guard
        .0
        .clone_into(&mut RAISED.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(guard)
}

/// Puts each setting back as it was, unless something else changed it meanwhile (another
/// run's `--raise-limits`, a person's `sysctl -w`): that value is left, and said.
impl Drop for Guard {
    fn drop(&mut self) {
        for r in self.0.iter().rev() {
            let now = crate::os::sysctl(&r.setting).and_then(|v| v.parse::<u64>().ok());
            if now != Some(r.to) {
                eprintln!(
                    "fanout: {} is {} now, not the {} this run set: left as it is (it was {} before)",
                    r.setting,
                    now.map_or("unreadable".to_owned(), |v| v.to_string()),
                    r.to,
                    r.was
                );
                continue;
            }
            match crate::os::set_sysctl(&r.setting, &r.was.to_string()) {
                Ok(()) => eprintln!("fanout: {} put back to {}", r.setting, r.was),
                Err(e) => eprintln!(
                    "fanout: could not put {} back to {} ({e}): sysctl -w {}={}",
                    r.setting, r.was, r.setting, r.was
                ),
            }
        }
        RAISED.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::machine::Limits;
    use crate::planning::catalog;
    use crate::planning::point::Point;

    #[test]
    fn a_hundred_thousand_threads_raise_pid_max_and_the_map_count_and_nothing_else() {
        let limits = Limits {
            open_files_soft: Some(20_000),
            threads_max: Some(192_731),
            pid_max: Some(32_768),
            max_map_count: Some(65_530),
            ..Limits::default()
        };
        let threads = Point::new(catalog::find("thread_h2").expect("strategy"), 100_000);
        let tasks = Point::new(catalog::find("async_raw").expect("strategy"), 100_000);
        let findings = preflight::check(&[threads, tasks], &limits);
        let now = |setting: &str| match setting {
            "kernel.pid_max" => limits.pid_max,
            "vm.max_map_count" => limits.max_map_count,
            "kernel.threads-max" => limits.threads_max,
            _ => None,
        };
        let raised = wanted(&findings, now).expect("read");
        let names: Vec<_> = raised.iter().map(|r| r.setting.as_str()).collect();
        // The open files async_raw needs are no kernel setting this raises; threads-max is
        // above 100,016 already.
        assert!(
            findings.iter().any(|f| f.setting.starts_with("open files")),
            "{findings:#?}"
        );
        if crate::os::parked::mappings_per_thread().is_some() {
            assert_eq!(names, ["kernel.pid_max", "vm.max_map_count"]);
        } else {
            assert_eq!(names, ["kernel.pid_max"]);
        }
        assert_eq!((raised[0].was, raised[0].to), (32_768, 200_032));
        // Never past what the kernel takes.
        let million = Point::new(catalog::find("thread_h2").expect("strategy"), 3_000_000);
        let findings = preflight::check(&[million], &limits);
        let raised = wanted(&findings, now).expect("read");
        assert_eq!(raised[0].to, 4_194_304, "{raised:?}");
        // Already high enough: nothing to raise.
        let high = |_: &str| Some(u64::MAX);
        assert_eq!(wanted(&findings, high), Ok(Vec::new()));
        let unread = wanted(&findings, |_| None).expect_err("unread");
        assert!(unread.contains("kernel.pid_max cannot be read"), "{unread}");
    }
}

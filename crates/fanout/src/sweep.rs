//! `fanout sweep`: every requested point, repeated, each in a fresh worker; a self-describing
//! run folder written as it goes (a crash keeps every point measured before it).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::charts;
use crate::client::ClientConfig;
use crate::harness::{self, HarnessError, PointReport, ServerProcess};
use crate::summary;
use crate::system::{self, Machine};
use crate::workload::{self, Point};

/// Strategies of `--quick`.
pub const QUICK_STRATEGIES: &[&str] = &[
    "thread_per_request",
    "thread_pool",
    "async_semaphore",
    "async_buffered",
];
/// Concurrency of a default sweep (and of `--quick`).
pub const DEFAULT_CONCURRENCY: &[usize] = &[10, 100, 1_000, 10_000];

/// What to sweep; saved as `plan.json` in the run folder so `--resume` can finish it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Strategy names.
    pub strategies: Vec<String>,
    /// Concurrency values.
    pub concurrency: Vec<usize>,
    /// Server delay; `None` for the default rule per C.
    pub delay_ms: Option<u64>,
    /// N = K·C.
    pub requests_per_slot: usize,
    /// Repeats of every point.
    pub repeat: u32,
    /// Per-request timeout, ms.
    pub timeout_ms: u64,
    /// Thread stack size, KiB.
    pub stack_kib: usize,
    /// Tokio worker threads.
    pub tokio_workers: usize,
    /// A worker running longer is killed; a point needing longer by design is skipped.
    pub time_limit: Duration,
}

impl Plan {
    /// Every point once (the first repeat's), e.g. for the preflight.
    pub fn distinct_points(&self) -> Vec<Point> {
        let first = self.points().into_iter().filter(|(repeat, _)| *repeat == 1);
        first.map(|(_, point)| point).collect()
    }

    /// Every (repeat, point), repeat outermost: each repeat is a whole sweep, so slow drift of
    /// the machine spreads over all points instead of biasing some.
    pub fn points(&self) -> Vec<(u32, Point)> {
        let mut out = Vec::new();
        for repeat in 1..=self.repeat {
            for &c in &self.concurrency {
                for strategy in &self.strategies {
                    let mut point = Point::new(strategy, c);
                    point.requests = self.requests_per_slot * c;
                    if let Some(d) = self.delay_ms {
                        point.delay_ms = d;
                    }
                    point.timeout_ms = self.timeout_ms;
                    point.stack_kib = self.stack_kib;
                    point.tokio_workers = self.tokio_workers;
                    out.push((repeat, point));
                }
            }
        }
        out
    }
}

/// `results/<date>-<host>`, with `-2`, `-3`, … when that folder exists already.
pub fn default_out_dir(machine: &Machine) -> PathBuf {
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let base = format!("{}-{}", &date[..10], machine.host);
    let mut dir = Path::new("results").join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = Path::new("results").join(format!("{base}-{n}"));
        n += 1;
    }
    dir
}

/// `SETUP.md`: when, what, where, with which settings.
fn setup_markdown(plan: &Plan, machine: &Machine, command: &str) -> String {
    let mut s = String::new();
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let _ = writeln!(s, "# Run setup\n");
    let _ = writeln!(s, "- Date: {now}");
    let _ = writeln!(
        s,
        "- Commit: {}",
        system::git_commit().unwrap_or_else(|| "unknown (not a git checkout)".into())
    );
    let _ = writeln!(s, "- Command: `{command}`");
    s.push_str(&system::build_info());
    let _ = writeln!(s, "\n## Machine\n");
    s.push_str(&machine.markdown());
    let _ = writeln!(s, "\n## Workload\n");
    let _ = writeln!(s, "- Strategies: {}", plan.strategies.join(", "));
    let concurrency: Vec<_> = plan.concurrency.iter().map(usize::to_string).collect();
    let _ = writeln!(s, "- Concurrency: {}", concurrency.join(", "));
    let _ = writeln!(
        s,
        "- Requests: N = {}·C; delay: {}; repeats: {}; per-point time limit: {} s",
        plan.requests_per_slot,
        plan.delay_ms
            .map_or("the default rule".to_owned(), |d| format!("{d} ms")),
        plan.repeat,
        plan.time_limit.as_secs()
    );
    let _ = writeln!(s, "- Rule: {}", workload::RULE);
    if let Some((_, point)) = plan.points().first() {
        let config = ClientConfig::of(&point.job(""));
        let _ = writeln!(
            s,
            "\n## Client settings (pools sized to each point's C)\n\n```json\n{}\n```",
            serde_json::to_string_pretty(&config).unwrap_or_default()
        );
    }
    s
}

/// Writes `points.csv`, `summary.md` and the charts of a run folder from its points.
pub fn finish_folder(dir: &Path, points: &[PointReport]) -> anyhow::Result<()> {
    summary::write_csv(points, &dir.join("points.csv"))?;
    let summary_path = dir.join("summary.md");
    std::fs::write(&summary_path, summary::markdown(points))
        .with_context(|| summary_path.display().to_string())?;
    for skipped in charts::write_charts(points, dir) {
        eprintln!("fanout: chart not drawn: {skipped}");
    }
    Ok(())
}

/// The plan saved in a run folder by an earlier sweep.
pub fn saved_plan(dir: &Path) -> anyhow::Result<Plan> {
    let path = dir.join("plan.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: not a run folder to resume", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a fanout plan", path.display()))
}

/// Runs `plan` into the new run folder `out`; returns every point.
pub fn run(
    plan: &Plan,
    url: Option<&str>,
    out: &Path,
    command: &str,
) -> anyhow::Result<Vec<PointReport>> {
    if out.join("points.jsonl").exists() {
        anyhow::bail!(
            "{}/points.jsonl exists: choose another --out, `fanout sweep --resume {}` to finish it, \
             or `fanout report {}` to redraw it",
            out.display(),
            out.display(),
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let machine = Machine::read();
    std::fs::write(
        out.join("SETUP.md"),
        setup_markdown(plan, &machine, command),
    )
    .with_context(|| format!("writing {}/SETUP.md", out.display()))?;
    let plan_json = serde_json::to_string_pretty(plan)?;
    std::fs::write(out.join("plan.json"), plan_json)
        .with_context(|| format!("writing {}/plan.json", out.display()))?;
    measure(plan, url, out, Vec::new())
}

/// Finishes the sweep saved in `dir`: runs only the points not yet in its `points.jsonl`.
pub fn resume(dir: &Path, url: Option<&str>) -> anyhow::Result<Vec<PointReport>> {
    let plan = saved_plan(dir)?;
    let done = if summary::points_file(dir).exists() {
        summary::load_points(dir)?
    } else {
        Vec::new()
    };
    let setup = dir.join("SETUP.md");
    let note = format!(
        "\n- Resumed: {} with {} points already measured\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        done.len()
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&setup)
        .and_then(|mut f| f.write_all(note.as_bytes()))
        .with_context(|| setup.display().to_string())?;
    measure(&plan, url, dir, done)
}

/// Measures every point of `plan` not in `done`, appending to `out/points.jsonl`.
fn measure(
    plan: &Plan,
    url: Option<&str>,
    out: &Path,
    done: Vec<PointReport>,
) -> anyhow::Result<Vec<PointReport>> {
    let exe = harness::current_exe().context("locating this executable")?;
    let server = match url {
        Some(_) => None,
        None => Some(ServerProcess::start(&exe)?),
    };
    let base_url = url.map_or_else(
        || {
            server
                .as_ref()
                .map(|s| s.url().to_owned())
                .unwrap_or_default()
        },
        |u| u.trim_end_matches('/').to_owned(),
    );
    let points_path = out.join("points.jsonl");
    let mut jsonl = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&points_path)
        .with_context(|| points_path.display().to_string())?;

    let is_done = |repeat: u32, p: &Point| {
        done.iter().any(|d| {
            d.repeat == repeat && d.strategy == p.strategy && d.concurrency == p.concurrency
        })
    };
    let planned: Vec<_> = plan
        .points()
        .into_iter()
        .filter(|(repeat, p)| !is_done(*repeat, p))
        .collect();
    let bar = ProgressBar::new(planned.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed_precise}] {msg}")
            .expect("a valid progress template"),
    );
    let mut points = done;
    let mut failure = None;
    for (repeat, point) in planned {
        bar.set_message(format!(
            "{} C={} (repeat {repeat}/{})",
            point.strategy, point.concurrency, plan.repeat
        ));
        let mut report = match harness::run_point(&exe, &base_url, &point, plan.time_limit) {
            Ok(report) => report,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        report.repeat = repeat;
        let line = serde_json::to_string(&report)?;
        writeln!(jsonl, "{line}")
            .and_then(|()| jsonl.flush())
            .with_context(|| points_path.display().to_string())?;
        points.push(report);
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(server); // stopped before the folder is written, also when interrupted
    finish_folder(out, &points)?;
    match failure {
        None => Ok(points),
        Some(e) => {
            let what = match e {
                HarnessError::Interrupted => "interrupted".to_owned(),
                other => other.to_string(),
            };
            anyhow::bail!(
                "{what}; the {} points measured are kept in {dir}; finish with `fanout sweep --resume {dir}`",
                points.len(),
                dir = out.display()
            )
        }
    }
}

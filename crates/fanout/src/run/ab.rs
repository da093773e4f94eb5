//! `fanout ab OLD NEW`: two builds of fanout (this one, a git revision built into
//! `target/ab/`, or a binary), or two settings of one, measured on this machine in paired,
//! interleaved rounds against one server — in each round every point runs once on each side,
//! OLD first in odd rounds and NEW first in even ones (OLD, NEW, NEW, OLD, …), so a drift of
//! the machine falls on both sides alike. Each side's points are kept as a run folder of its
//! own (`old/`, `new/`, each round a repeat); the rounds are paired by `results::paired`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context as _, bail};
use clap::builder::RangedU64ValueParser;

use crate::analysis::paired::Test;
use crate::model::settings::Settings;
use crate::os::machine::Machine;
use crate::planning::catalog;
use crate::record::report::{Outcome, PointReport};
use crate::results::ab_report;
use crate::results::run_folder::{self, PointsWriter};

/// `fanout ab`'s flags.
#[derive(Debug, clap::Args)]
pub struct AbArgs {
    /// OLD: `.` (this build), `git:REV` (a revision of this repository, built into
    /// target/ab/), or the path of a fanout binary.
    old: Build,
    /// NEW, as OLD.
    new: Build,
    /// Strategies both sides run (names as `fanout list` gives them).
    #[arg(
        long,
        short,
        value_delimiter = ',',
        default_value = "async_raw,thread_raw"
    )]
    strategies: Vec<String>,
    /// Concurrencies both sides run.
    #[arg(long, short, value_delimiter = ',', default_value = "100",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    concurrency: Vec<usize>,
    /// Requests per point (N) [default: `fanout run`'s].
    #[arg(long, short = 'n', value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    requests: Option<usize>,
    /// Rounds: each runs every point once on each side.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    rounds: u32,
    /// No verdict for a change within this many percent.
    #[arg(long, default_value_t = 2.0, value_parser = percent)]
    threshold_pct: f64,
    /// Flags of `fanout run` both sides get (the workload), as one string:
    /// "--delay-ms 0 --cpu-us 5".
    #[arg(long, allow_hyphen_values = true, default_value = "")]
    args: String,
    /// Flags OLD alone gets, after the shared ones (two settings of one build).
    #[arg(long, allow_hyphen_values = true, default_value = "")]
    old_args: String,
    /// Flags NEW alone gets, after the shared ones.
    #[arg(long, allow_hyphen_values = true, default_value = "")]
    new_args: String,
    /// The folder for both sides' points and the report [default: runs/DATE-HOST].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit 1 when any comparison's verdict is worse, or a point could not be compared.
    #[arg(long)]
    fail_on_worse: bool,
    /// Base URL of a running mock server instead of starting one.
    #[arg(long)]
    url: Option<String>,
}

/// A threshold in percent: above 0, below 100.
fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v > 0.0 && v < 100.0 {
        Ok(v)
    } else {
        Err(format!("{v} must be above 0 and below 100"))
    }
}

/// `fanout ab`: both sides prepared, the rounds run, the report printed and written.
pub fn main(args: &AbArgs) -> anyhow::Result<ExitCode> {
    for name in &args.strategies {
        catalog::parse(name).map_err(anyhow::Error::msg)?;
    }
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let old = Side::prepare("old", &args.old, words(&args.old_args))?;
    let new = Side::prepare("new", &args.new, words(&args.new_args))?;
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => run_folder::default_dir(&Machine::read()),
    };
    let points: Vec<AbPoint> = args
        .concurrency
        .iter()
        .flat_map(|&c| {
            args.strategies.iter().map(move |s| AbPoint {
                strategy: s.clone(),
                concurrency: c,
                requests: args.requests,
            })
        })
        .collect();
    let exe = super::harness::current_exe().context("locating this executable")?;
    let server = super::server::Target::new(&exe, args.url.as_deref(), &Settings::default())?;
    let url = server.endpoint().base_url.clone();
    let measured = rounds(
        (&old, &new),
        &points,
        &words(&args.args),
        args.rounds,
        &url,
        &out,
    );
    server.stop();
    let (old_points, new_points) = measured?;
    let test = Test {
        threshold: args.threshold_pct / 100.0,
        ..Test::default()
    };
    let rows = ab_report::rows(&old_points, &new_points, &test);
    let mut table = ab_report::markdown(&rows, &test, &old.described(), &new.described());
    if !args.args.is_empty() {
        table.push_str(&format!("Both sides ran with `{}`.\n", args.args));
    }
    // A point with no round measured on both sides is compared in no figure: said, never
    // passed over (a strategy NEW fails, or OLD does not know, is such a point).
    let missing: Vec<String> = points
        .iter()
        .map(AbPoint::name)
        .filter(|name| !rows.iter().any(|r| &r.point == name))
        .collect();
    if !missing.is_empty() {
        table.push_str(&format!(
            "Not compared, no round measured on both sides (the lines above say why): {}.\n",
            missing.join(", ")
        ));
    }
    print!("{table}");
    std::fs::write(out.join("ab.md"), &table)
        .with_context(|| format!("writing {}", out.join("ab.md").display()))?;
    let json = serde_json::json!({
        "old": old.described(),
        "new": new.described(),
        "shared_args": args.args,
        "rounds": args.rounds,
        "threshold": test.threshold,
        "confidence": test.confidence,
        "rows": rows,
        "not_compared": missing,
    });
    std::fs::write(out.join("ab.json"), format!("{json:#}\n"))
        .with_context(|| format!("writing {}", out.join("ab.json").display()))?;
    eprintln!(
        "ab: both sides' points and the report are in {}",
        out.display()
    );
    if rows.is_empty() {
        bail!("no point was measured on both sides: nothing to compare");
    }
    let worse = rows.iter().any(|r| r.verdict == ab_report::Outcome::Worse) || !missing.is_empty();
    Ok(if args.fail_on_worse && worse {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// What one side runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Build {
    /// This executable (`.`).
    This,
    /// A git revision of the repository (`git:REV`), built into `target/ab/`.
    Git(String),
    /// A fanout binary at this path.
    Binary(PathBuf),
}

impl std::str::FromStr for Build {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "." {
            return Ok(Self::This);
        }
        if let Some(rev) = s.strip_prefix("git:") {
            if rev.is_empty() {
                return Err("git: needs a revision (git:main, git:HEAD~1, git:4f2e863)".into());
            }
            return Ok(Self::Git(rev.to_owned()));
        }
        let path = PathBuf::from(s);
        if path.is_file() {
            Ok(Self::Binary(path))
        } else {
            Err(format!(
                "{s}: neither `.` (this build), git:REV (a revision, built) nor a fanout binary"
            ))
        }
    }
}

/// One side of the comparison, ready to run.
#[derive(Debug, Clone)]
pub struct Side {
    /// `old` or `new`.
    pub label: &'static str,
    /// The fanout binary it runs.
    pub exe: PathBuf,
    /// Flags of its own, after the shared ones.
    pub args: Vec<String>,
    /// What it is, for the report: `git:main (4f2e863)`, a path, `this build`.
    pub about: String,
}

impl Side {
    /// The side for `build` with `args`, building a git revision first (its output shown).
    pub fn prepare(label: &'static str, build: &Build, args: Vec<String>) -> anyhow::Result<Self> {
        let (exe, about) = match build {
            Build::This => (
                super::harness::current_exe().context("locating this executable")?,
                "this build".to_owned(),
            ),
            Build::Binary(path) => (path.clone(), path.display().to_string()),
            Build::Git(rev) => {
                let (exe, sha) = build_revision(rev)?;
                (exe, format!("git:{rev} ({sha})"))
            }
        };
        Ok(Self {
            label,
            exe,
            args,
            about,
        })
    }

    /// What it is and the flags of its own, for the report.
    pub fn described(&self) -> String {
        if self.args.is_empty() {
            self.about.clone()
        } else {
            format!("{} with `{}`", self.about, self.args.join(" "))
        }
    }

    /// `fanout run --json` of one point on this side, against the server at `url`: its
    /// report, or why there is none (the side's own words).
    pub fn run(
        &self,
        point: &AbPoint,
        shared: &[String],
        url: &str,
    ) -> Result<PointReport, String> {
        let mut command = Command::new(&self.exe);
        command
            .args(["run", "--json", "-s", &point.strategy])
            .args(["-c", &point.concurrency.to_string(), "--url", url]);
        if let Some(n) = point.requests {
            command.args(["-n", &n.to_string()]);
        }
        let out = command
            .args(shared)
            .args(&self.args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", self.exe.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        PointReport::from_json_line(stdout.trim()).map_err(|_| {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said = stderr.lines().rev().find(|l| !l.trim().is_empty());
            format!("{}: {}", out.status, said.unwrap_or("no report"))
        })
    }
}

/// Builds revision `rev` of the repository this command runs in (release, into
/// `target/ab/target` of its top folder, from a copy of its tree made by `git archive`): the
/// binary, copied to `target/ab/bin/fanout-SHA`, and its short SHA. A binary built before
/// is reused.
fn build_revision(rev: &str) -> anyhow::Result<(PathBuf, String)> {
    let git = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new("git")
            .args(args)
            .output()
            .context("running git")?;
        if !out.status.success() {
            bail!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let root = PathBuf::from(
        git(&["rev-parse", "--show-toplevel"]).context("git:REV needs a git repository here")?,
    );
    let sha = git(&[
        "rev-parse",
        "--short=12",
        "--verify",
        &format!("{rev}^{{commit}}"),
    ])
    .with_context(|| format!("git:{rev} is not a revision of {}", root.display()))?;
    let ab = root.join("target/ab");
    let exe = ab.join("bin").join(format!("fanout-{sha}"));
    if exe.is_file() {
        return Ok((exe, sha));
    }
    let src = ab.join(format!("src-{sha}"));
    if !src.join("Cargo.toml").is_file() {
        std::fs::create_dir_all(&src).with_context(|| format!("making {}", src.display()))?;
        let archive = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["archive", "--format=tar", &sha])
            .stdout(Stdio::piped())
            .spawn()
            .context("running git archive")?;
        let untar = Command::new("tar")
            .args(["-x", "-C"])
            .arg(&src)
            .stdin(archive.stdout.context("git archive's output")?)
            .status()
            .context("running tar")?;
        if !untar.success() {
            bail!("unpacking git:{rev} into {} failed", src.display());
        }
    }
    eprintln!("ab: building git:{rev} ({sha}) in {}", src.display());
    let built = Command::new("cargo")
        .args(["build", "--release", "-p", "fanout", "--target-dir"])
        .arg(ab.join("target"))
        .current_dir(&src)
        .status()
        .context("running cargo build")?;
    if !built.success() {
        bail!("building git:{rev} ({sha}) failed: {built}");
    }
    std::fs::create_dir_all(ab.join("bin"))?;
    std::fs::copy(ab.join("target/release/fanout"), &exe)
        .with_context(|| format!("copying the binary of git:{rev} to {}", exe.display()))?;
    Ok((exe, sha))
}

/// One point both sides run: a strategy at C (and N, or `fanout run`'s default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbPoint {
    /// The strategy's name.
    pub strategy: String,
    /// C.
    pub concurrency: usize,
    /// N, if set.
    pub requests: Option<usize>,
}

impl AbPoint {
    /// `strategy/C`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.strategy, self.concurrency)
    }
}

/// Runs `rounds` rounds of `points` on `old` and `new` against `url`, appending each report
/// to `out/old/points.jsonl` or `out/new/points.jsonl` (its repeat is its round) as it
/// comes; a run without a report is said on stderr and left out of its round's pair.
pub fn rounds(
    (old, new): (&Side, &Side),
    points: &[AbPoint],
    shared: &[String],
    rounds: u32,
    url: &str,
    out: &Path,
) -> anyhow::Result<(Vec<PointReport>, Vec<PointReport>)> {
    for side in [old, new] {
        let dir = out.join(side.label);
        std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
    }
    let mut writers = [
        PointsWriter::open(&out.join(old.label))?,
        PointsWriter::open(&out.join(new.label))?,
    ];
    let mut kept: [Vec<PointReport>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=rounds {
        eprintln!("ab: round {round} of {rounds}");
        for point in points {
            // OLD first in odd rounds, NEW first in even ones.
            let order = if round % 2 == 1 { [0, 1] } else { [1, 0] };
            for i in order {
                let side = [old, new][i];
                match side.run(point, shared, url) {
                    Ok(mut report) if report.outcome == Outcome::Measured => {
                        report.repeat = round;
                        writers[i].append(&report)?;
                        kept[i].push(report);
                    }
                    Ok(report) => eprintln!(
                        "ab: {} {} round {round}: {:?}",
                        side.label,
                        point.name(),
                        report.outcome
                    ),
                    Err(why) => {
                        eprintln!("ab: {} {} round {round}: {why}", side.label, point.name())
                    }
                }
            }
        }
    }
    let [old_points, new_points] = kept;
    Ok((old_points, new_points))
}

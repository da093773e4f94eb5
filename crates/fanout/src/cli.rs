//! The `fanout` command line: `run` one point, `sweep` many, `resume` a sweep, `compare` two
//! runs, `report` a run folder again, `list` the strategies, `doctor` the machine.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::builder::RangedU64ValueParser;
use clap::{Parser, Subcommand};

use crate::model::settings::{self, Workload};
use crate::model::subject::Subject;
use crate::os::{machine, signals};
use crate::peers;
use crate::planning::flags::WorkloadFlags;
use crate::planning::plan::{DEFAULT_CONCURRENCY, Plan, PointsArgs, StrategyList};
use crate::planning::point::{Point, WorkloadError};
use crate::planning::{catalog, preset, variables};
use crate::record::report::{Outcome, PointReport};
use crate::results::{charts, compare, docs, export, point_summary, render, run_folder, setup};
use crate::run::harness;
use crate::run::server::Target;
use crate::run::{preflight, raise, sweep};
use crate::strategies;

/// OS threads vs async tasks for N HTTP requests in flight, measured in isolated processes.
#[derive(Debug, Parser)]
#[command(name = "fanout", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure one strategy at one concurrency in a fresh worker process. Without --url, a
    /// mock server is started for the run (its own process) and stopped after; the worker's
    /// peak RSS, threads, CPU and context switches are its own.
    #[command(after_help = settings::RULE)]
    Run(RunArgs),
    /// Measure many points, repeated, into a run folder with a summary and charts.
    #[command(after_help = settings::RULE)]
    Sweep(SweepArgs),
    /// Finish the sweep of a run folder: run only the points of its plan not yet in its
    /// points.jsonl.
    Resume(ResumeArgs),
    /// Compare two run folders (or points.jsonl files): NEW/OLD per matching point.
    Compare(CompareArgs),
    /// Compare two builds of fanout (or two settings of one) on this machine: paired,
    /// interleaved rounds of the same points against one server, NEW / OLD per point and
    /// figure with a bootstrap interval, and a verdict only beyond a threshold.
    Ab(crate::run::ab::AbArgs),
    /// Redraw findings.json, summary.md, points.csv and the charts of a run folder from its
    /// points.jsonl.
    Report {
        /// The run folder.
        dir: PathBuf,
    },
    /// Write a run folder's medians for continuous benchmarking (wall time, p99, CPU, peak
    /// RSS per point) to stdout: Bencher's Metric Format or github-action-benchmark's JSON.
    Export {
        /// The format.
        #[arg(long, value_enum)]
        format: export::Format,
        /// The run folder.
        dir: PathBuf,
    },
    /// Regenerate the figures of README.md and docs/ from the run folders their blocks name
    /// (`--check`: change nothing, fail if anything would change).
    Docs {
        /// Compare only; exit 1 when a block is out of date.
        #[arg(long)]
        check: bool,
        /// List the quoted run folders measured under an older measurement version than
        /// this build's; exit 1 when there is one. Changes nothing.
        #[arg(long, conflicts_with = "check")]
        stale: bool,
        /// The repository's root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Print this build's and this machine's facts as JSON, as a run folder's `facts.json`
    /// holds them (the clock, the commit, the toolchain, the machine, the peers; no floors):
    /// for scripts that make a folder of their own.
    Facts,
    /// List the strategies and what each models.
    List,
    /// Print the machine, the OS limits, and which would cap which points.
    Doctor(DoctorArgs),
}

/// Where the server is: started for the run, or already running.
#[derive(Debug, clap::Args)]
struct ServerArgs {
    /// Base URL of a running mock-server (e.g. http://127.0.0.1:8000) instead of starting one.
    #[arg(long, help_heading = "Server")]
    url: Option<String>,
}

/// What to do where an OS limit cannot fit a point.
#[derive(Debug, clap::Args)]
struct LimitArgs {
    /// Run even if an OS limit cannot fit a point (and record what happens).
    #[arg(long, help_heading = "Run")]
    force: bool,
    /// As root, raise kernel.pid_max, kernel.threads-max and vm.max_map_count to what the
    /// points need (twice it) for this run, and put them back after; the run's facts and each
    /// point record them. Without root it is refused, naming the setting.
    #[arg(long, help_heading = "Run")]
    raise_limits: bool,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Strategy name (see `fanout list`).
    #[arg(long, short, value_parser = catalog::parse)]
    strategy: &'static Subject,
    /// Requests in flight at once (C).
    #[arg(long, short, value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    concurrency: usize,
    /// Requests in all (N) [default: K·C, K from --requests-per-slot].
    #[arg(long, short = 'n', conflicts_with = "requests_per_slot",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    requests: Option<usize>,
    #[command(flatten)]
    workload: WorkloadFlags,
    #[command(flatten)]
    server: ServerArgs,
    /// A worker still running after this many seconds is killed (and the point recorded).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400), help_heading = "Run")]
    time_limit_s: u64,
    /// Print one JSON object instead of a summary.
    #[arg(long, help_heading = "Output")]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

impl RunArgs {
    /// The point these flags ask for, checked.
    fn point(&self) -> Result<Point, WorkloadError> {
        let mut point = Point::of(&self.workload.workload(), self.strategy, self.concurrency);
        if let Some(n) = self.requests {
            point.requests = n;
        }
        point.validate()?;
        if let Some(budget) = point.settings.hedge_max_extra
            && !point.settings.hedging()
        {
            return Err(WorkloadError::BudgetWithoutHedging(budget.to_string()));
        }
        Ok(point)
    }
}

#[derive(Debug, clap::Args)]
struct SweepArgs {
    #[command(flatten)]
    points: PointsArgs,
    /// Repeats of every point (summary: medians and min–max).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100), help_heading = "Run")]
    repeat: u32,
    /// Run folder [default: runs/DATE-HOST, out of git; the project's reference runs are
    /// committed under results/].
    #[arg(long, help_heading = "Output")]
    out: Option<PathBuf>,
    /// A first run: each model's floor and the library strategies of threads and tokio (unless
    /// --strategies names others) at 10 → 10,000, one repeat; replaces --concurrency and
    /// --repeat.
    #[arg(long, help_heading = "Run")]
    quick: bool,
    /// A preset sweep where the answer changes, each a file in `presets/` (what it measures
    /// below, from its `about`; the keys of a `plan.json` it sets): sets the strategies and
    /// concurrency (unless --strategies or --concurrency name others) and the setting it
    /// varies. `--print-plan` shows the whole plan, to copy and edit for `--plan`.
    #[arg(
        long = "preset",
        visible_alias = "workload",
        value_name = "PRESET",
        value_parser = clap::builder::PossibleValuesParser::new(
            preset::all().iter().map(preset::Preset::possible_value)
        ),
        conflicts_with = "quick",
        help_heading = "Run"
    )]
    preset: Option<String>,
    /// A plan of your own: a JSON file as a run folder's `plan.json` (or `--print-plan`)
    /// writes it — strategies, concurrency, repeats, time limit, workload and the setting it
    /// varies. --strategies and --concurrency narrow it as they narrow a preset; its other
    /// settings are the file's (their flags are refused beside it).
    #[arg(long = "plan", value_name = "FILE",
          conflicts_with_all = ["quick", "preset", "repeat", "time_limit_s"],
          help_heading = "Run")]
    plan_file: Option<PathBuf>,
    /// Print the plan these flags make, as JSON (what --plan reads), and measure nothing.
    #[arg(long, help_heading = "Output")]
    print_plan: bool,
    #[command(flatten)]
    server: ServerArgs,
    /// Per point: a worker running longer is killed; a point needing longer by design is
    /// skipped.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400), help_heading = "Run")]
    time_limit_s: u64,
    #[command(flatten)]
    limits: LimitArgs,
}

impl SweepArgs {
    /// The plan these flags ask for, or the file `--plan` names, checked.
    fn plan(&self) -> anyhow::Result<Plan> {
        let Some(file) = &self.plan_file else {
            return self.flags_plan();
        };
        // The flags' defaults make the default workload: any other was asked for beside the
        // file, which already says its own.
        if self.points.workload.workload() != Workload::default() {
            bail!(
                "--plan {}: the file sets the workload; a workload flag or FANOUT_* variable \
                 beside it would be ignored (edit the file instead)",
                file.display()
            );
        }
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("--plan {}: cannot read it", file.display()))?;
        let mut plan: Plan = serde_json::from_str(&text).with_context(|| {
            format!(
                "--plan {}: not a fanout plan (see `fanout sweep --print-plan`)",
                file.display()
            )
        })?;
        self.narrow(&mut plan);
        let empty = [
            ("strategies", plan.strategies.is_empty()),
            ("concurrency", plan.concurrency.is_empty()),
            ("repeat", plan.repeat == 0),
            (
                "vary.values",
                plan.vary.as_ref().is_some_and(|v| v.values.is_empty()),
            ),
        ];
        if let Some((what, _)) = empty.iter().find(|(_, is)| *is) {
            bail!(
                "--plan {}: its {what} makes no point to measure",
                file.display()
            );
        }
        plan.validate()
            .and_then(|()| plan.validate_hedging())
            .with_context(|| format!("--plan {}", file.display()))?;
        Ok(plan)
    }

    /// The plan the flags make: the defaults, --quick or a preset, narrowed by what they name.
    fn flags_plan(&self) -> anyhow::Result<Plan> {
        let mut points = self.points.clone();
        let mut repeat = self.repeat;
        if self.quick {
            // The quick strategies (`preset::quick`) replace the default (all), not strategies the user named.
            if points.named_strategies().is_none() {
                points.strategies = StrategyList(preset::quick());
            }
            points.concurrency = DEFAULT_CONCURRENCY.to_vec();
            repeat = 1;
        }
        // A preset changes the plan before it is checked: its delay may replace the rule's.
        let mut plan = points.unchecked_plan(repeat, Duration::from_secs(self.time_limit_s));
        if let Some(name) = &self.preset {
            // The parser took only a shipped preset's name.
            let preset = preset::find(name).with_context(|| format!("no preset {name}"))?;
            preset.apply(&mut plan).map_err(anyhow::Error::msg)?;
            self.narrow(&mut plan);
        }
        plan.validate()?;
        plan.validate_hedging()?;
        Ok(plan)
    }

    /// A preset's or a file's `plan` narrowed to the strategies and concurrency the user
    /// named; its other settings stay.
    fn narrow(&self, plan: &mut Plan) {
        if let Some(named) = self.points.named_strategies() {
            plan.strategies = named;
        }
        if let Some(named) = self.points.named_concurrency() {
            plan.concurrency = named;
        }
    }
}

#[derive(Debug, clap::Args)]
struct ResumeArgs {
    /// The run folder of the sweep to finish.
    dir: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
struct DoctorArgs {
    #[command(flatten)]
    points: PointsArgs,
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// The old run folder or points.jsonl.
    old: PathBuf,
    /// The new run folder or points.jsonl.
    new: PathBuf,
    /// Exit 1 if a figure got worse, beyond the noise, by more than PCT percent.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    fail_above: Option<f64>,
}

fn parse_percent(raw: &str) -> Result<f64, String> {
    match raw.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!("{raw:?} is not a percentage (a number ≥ 0)")),
    }
}

/// `fanout` with `added` strategies beside its own (a user's client, in a program of their
/// own: `crates/fanout/examples/own_client.rs`); the roles a re-executed binary plays
/// (server, worker) first, so its workers know the added strategies too.
pub fn main_with(added: &'static [&'static strategies::strategy::Strategy]) -> ExitCode {
    if let Err(why) = strategies::add(added) {
        eprintln!("fanout: {why}");
        return ExitCode::from(2);
    }
    if let Some(code) = crate::run::role::play_role() {
        return code;
    }
    main()
}

/// Parses the command line and runs it; errors are one line on stderr and a non-zero exit.
pub fn main() -> ExitCode {
    // Each point flag also read from its FANOUT_* variable.
    let cli = variables::parse::<Cli>(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Sweep(args) => run_sweep(&args),
        Command::Resume(args) => resume(&args),
        Command::Compare(args) => compare(&args),
        Command::Ab(args) => crate::run::ab::main(&args),
        Command::Report { dir } => report(&dir),
        Command::Export { format, dir } => export_points(format, &dir),
        Command::Docs {
            stale: true, root, ..
        } => stale_docs(&root),
        Command::Docs { check, root, .. } => write_docs(check, &root),
        Command::Facts => facts(),
        Command::List => list(),
        Command::Doctor(args) => doctor(&args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("fanout: {e:#}");
        ExitCode::FAILURE
    })
}

fn list() -> anyhow::Result<ExitCode> {
    let row = |s: &Subject| format!("{:<28} {}\n", s.name, s.models);
    let mut text: String = strategies::ALL.iter().map(|s| row(&s.subject)).collect();
    if !strategies::added().is_empty() {
        text.push_str("\nadded by this program:\n");
        text.extend(strategies::added().iter().map(|s| row(&s.subject)));
    }
    text.push_str(&format!(
        "\npeers (programs of their own, installed by {}):\n",
        peers::install::INSTALL
    ));
    for p in peers::all() {
        let state = peers::missing(p).map_or("installed", |_| "not installed");
        text.push_str(&format!(
            "{:<28} {} [{state}]\n",
            p.subject.name, p.subject.models
        ));
    }
    print_all(&text)
}

/// Writes `text` to stdout whole. A reader that stopped early (`fanout list | head`) wanted
/// no more: not an error, and no panic as `println!` makes of it.
fn print_all(text: &str) -> anyhow::Result<ExitCode> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            bail!("writing to stdout: {e}")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let point = args.point()?;
    raise_open_file_limit();
    // The handlers first: a signal must not leave a raised setting behind.
    signals::stop_on_signals().context("installing the signal handlers")?;
    let _raised = raise_limits(
        std::slice::from_ref(&point),
        &args.limits,
        args.limits.force,
    )?;
    if let Some(refused) = preflight(std::slice::from_ref(&point), args.limits.force) {
        return Ok(refused);
    }
    let exe = harness::current_exe().context("locating this executable")?;
    let target = Target::new(&exe, args.server.url.as_deref(), &point.settings)?;
    let limit = Duration::from_secs(args.time_limit_s);
    let report = harness::run_point(&exe, target.endpoint(), &point, limit)?;
    target.stop();

    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", point_summary::text(&report));
    }
    Ok(match report.outcome {
        Outcome::Measured => ExitCode::SUCCESS,
        Outcome::Skipped(_) => ExitCode::from(2),
        Outcome::Failed(_) => ExitCode::FAILURE,
    })
}

fn run_sweep(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    let plan = args.plan()?;
    if args.print_plan {
        return print_all(&(serde_json::to_string_pretty(&plan)? + "\n"));
    }
    raise_open_file_limit();
    // A plan that stops at walls is one made to meet them (the scale preset's).
    let past_limits = args
        .preset
        .as_deref()
        .and_then(preset::find)
        .is_some_and(|p| p.runs_past_limits)
        || plan.stop_at_walls;
    if past_limits {
        eprintln!(
            "fanout: this plan runs past the OS limits on purpose: each point ends measured or named by the limit that stopped it"
        );
    }
    signals::stop_on_signals().context("installing the signal handlers")?;
    let force = args.limits.force || past_limits;
    let _raised = raise_limits(&plan.distinct_points(), &args.limits, force)?;
    if let Some(refused) = preflight(&plan.distinct_points(), force) {
        return Ok(refused);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| run_folder::default_dir(&machine::Machine::read()));
    let command: Vec<String> = std::env::args().collect();
    let points = sweep::run(&plan, args.server.url.as_deref(), &out, &command.join(" "))?;
    print_sweep(&points, &out);
    Ok(ExitCode::SUCCESS)
}

fn resume(args: &ResumeArgs) -> anyhow::Result<ExitCode> {
    let plan = run_folder::saved_plan(&args.dir)?;
    raise_open_file_limit();
    signals::stop_on_signals().context("installing the signal handlers")?;
    let _raised = raise_limits(&plan.distinct_points(), &args.limits, args.limits.force)?;
    if let Some(refused) = preflight(&plan.distinct_points(), args.limits.force) {
        return Ok(refused);
    }
    let points = sweep::resume(&plan, &args.dir, args.server.url.as_deref())?;
    print_sweep(&points, &args.dir);
    Ok(ExitCode::SUCCESS)
}

fn print_sweep(points: &[PointReport], out: &Path) {
    println!("{}", render::table(points));
    println!("{}", render::memory_table(points));
    println!("{}", render::where_bytes_go_table(points));
    // The verdict as the folder's findings hold it (drawn when the sweep finished it).
    match run_folder::saved_findings(out) {
        Ok(findings) => println!("{}", render::verdict(&findings.verdict)),
        Err(e) => eprintln!("fanout: no verdict: {e:#}"),
    }
    println!("Run folder: {}", out.display());
}

/// With `--raise-limits`, raises the kernel settings `points` need for this run
/// (`run::raise`), saying so and how to put each back by hand should this process be killed;
/// the guard puts them back when dropped. Nothing is raised for a run a limit it cannot raise
/// would refuse anyway (unless `force`).
fn raise_limits(
    points: &[Point],
    limits: &LimitArgs,
    force: bool,
) -> anyhow::Result<Option<raise::Guard>> {
    if !limits.raise_limits {
        return Ok(None);
    }
    let findings = preflight::check(points, &machine::Limits::read());
    if !force && preflight::refusals(&findings).any(|f| f.raise_to.is_none()) {
        return Ok(None);
    }
    let guard = raise::raise(&findings).map_err(anyhow::Error::msg)?;
    for r in guard.raised() {
        eprintln!(
            "fanout: --raise-limits: {} {} → {} for this run (put back after; by hand, if this process is killed: sysctl -w {}={})",
            r.setting, r.was, r.to, r.setting, r.was
        );
    }
    Ok(Some(guard))
}

/// Prints warnings, once per limit and message; with a point that cannot fit and no
/// `--force`, prints why in one line and returns exit status 2.
fn preflight(points: &[Point], force: bool) -> Option<ExitCode> {
    let findings = preflight::check(points, &machine::Limits::read());
    let warnings: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == preflight::Severity::Warn)
        .cloned()
        .collect();
    for warning in preflight::grouped(&warnings) {
        eprintln!("fanout: {warning}");
    }
    let refused: Vec<_> = preflight::refusals(&findings).collect();
    let first = refused.first()?;
    if force {
        for f in &refused {
            eprintln!("fanout: --force: running anyway: {f}");
        }
        return None;
    }
    let more = match refused.len() {
        1 => String::new(),
        n => format!(" ({} more; `fanout doctor` lists them)", n - 1),
    };
    // Only where raising would let the run go ahead.
    let raise = if refused.iter().all(|f| f.raise_to.is_some()) {
        "; --raise-limits raises it for the run (as root)"
    } else {
        ""
    };
    eprintln!("fanout: {first}{more}{raise}; or run it anyway with --force");
    Some(ExitCode::from(2))
}

fn doctor(args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let plan = args.points.plan(1, Duration::MAX)?;
    raise_open_file_limit();
    let machine = machine::Machine::read();
    print!("{}", setup::machine_markdown(&machine));
    println!("\nFloors (measured now, per unit):");
    let exe = harness::current_exe().context("locating this executable")?;
    print!(
        "{}",
        setup::floors_markdown(&crate::run::floors::measure_with_own(&exe))
    );
    let findings = preflight::check(&plan.distinct_points(), &machine.limits);
    if findings.is_empty() {
        println!("\nEvery point fits these limits.");
    }
    for f in preflight::grouped(&findings) {
        println!("{f}");
    }
    println!(
        "\nTLS (--tls) and HTTP/2 (--protocol h2) need nothing from the OS beyond these limits; \
         HTTP/2 needs fewer connections (one per client), so fewer file descriptors and ports."
    );
    Ok(ExitCode::SUCCESS)
}

fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let old = run_folder::load_points(&args.old)?;
    let new = run_folder::load_points(&args.new)?;
    let comparison = compare::changes(&old, &new);
    let changes = &comparison.changes;
    if changes.is_empty() && comparison.lost.is_empty() {
        bail!(
            "no point was measured with the same workload in both {} and {}",
            args.old.display(),
            args.new.display()
        );
    }
    print!("{}", render::changes_table(changes));
    let flagged = changes.iter().filter(|c| c.flagged()).count();
    println!(
        "\n{flagged} of {} changes beyond the noise (the larger min–max range of either \
         side's repeats, at least {:.0}%).",
        changes.len(),
        compare::NOISE_FLOOR * 100.0
    );
    if !comparison.different.is_empty() {
        println!(
            "Not compared, their workloads differ (N, delay or a setting): {}",
            comparison.different.join(", ")
        );
    }
    if !comparison.lost.is_empty() {
        println!(
            "Measured in OLD but not in NEW: {}",
            comparison.lost.join(", ")
        );
    }
    if let Some(pct) = args.fail_above {
        let regressions: Vec<_> = changes.iter().filter(|c| c.regression_above(pct)).collect();
        if let Some(first) = regressions.first() {
            eprintln!(
                "fanout: {} regressions above {pct}% (first: {} {}/{} ×{:.2})",
                regressions.len(),
                first.figure,
                first.strategy,
                first.concurrency,
                first.ratio
            );
            return Ok(ExitCode::FAILURE);
        }
        if let Some(first) = comparison.lost.first() {
            eprintln!(
                "fanout: {} points no longer measured (first: {first})",
                comparison.lost.len()
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export_points(format: export::Format, dir: &Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        bail!("{}: not a run folder (no such directory)", dir.display());
    }
    let points = run_folder::load_points(dir)?;
    print_all(&format!("{:#}\n", export::export(&points, format)))
}

fn stale_docs(root: &Path) -> anyhow::Result<ExitCode> {
    let quoted: Vec<String> = docs::quoted_folders(root)?
        .into_iter()
        .map(|(folder, _)| folder)
        .collect();
    let stale = crate::results::staleness::stale(root, &quoted)?;
    for folder in &stale {
        println!("fanout docs: stale: {folder}");
    }
    println!(
        "fanout docs: {} of {} quoted folders were measured under an older measurement version than {}",
        stale.len(),
        quoted.len(),
        crate::record::report::MEASUREMENT_VERSION
    );
    Ok(if stale.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn write_docs(check: bool, root: &Path) -> anyhow::Result<ExitCode> {
    let changed = docs::write_all(root, check)?;
    for path in &changed {
        let verb = if check { "out of date" } else { "regenerated" };
        eprintln!("fanout docs: {verb}: {}", path.display());
    }
    Ok(if check && !changed.is_empty() {
        eprintln!("fanout docs: run `fanout docs` and commit the result");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn facts() -> anyhow::Result<ExitCode> {
    // The limits as a run sees them: after its open-file limit is raised.
    raise_open_file_limit();
    print_all(&(serde_json::to_string_pretty(&setup::RunFacts::gather(None))? + "\n"))
}

fn report(dir: &Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        bail!("{}: not a run folder (no such directory)", dir.display());
    }
    let points = run_folder::load_points(dir)?;
    run_folder::finish(dir, &points)?;
    println!("{}", render::table(&points));
    // A ramp or hedge chart only where the run has one to draw.
    let files: Vec<_> = charts::chart_files()
        .filter(|f| dir.join(f).is_file())
        .collect();
    println!(
        "Wrote findings.json, summary.md, points.csv, {} in {}",
        files.join(", "),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Raises the soft open-file limit to the hard one; workers and the server inherit it.
fn raise_open_file_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("fanout: could not raise the open-file limit: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep_plan(args: &[&str]) -> Plan {
        let cli = variables::parse::<Cli>(["fanout", "sweep"].iter().chain(args)).expect("parses");
        let Command::Sweep(sweep) = cli.command else {
            panic!("not a sweep")
        };
        sweep.plan().expect("a valid plan")
    }

    #[test]
    fn a_preset_printed_as_data_runs_from_its_file_as_the_same_plan() {
        let scratch = tempfile::tempdir().expect("a temporary folder");
        for preset in preset::all() {
            let name = &preset.name;
            let preset_plan = sweep_plan(&["--preset", name]);
            let file = scratch.path().join(format!("{name}.json"));
            let json = serde_json::to_string_pretty(&preset_plan).expect("json");
            std::fs::write(&file, json).expect("written");
            let path = file.to_str().expect("utf-8");
            assert_eq!(sweep_plan(&["--plan", path]), preset_plan, "{path}");
            let narrowed = sweep_plan(&["--plan", path, "--concurrency", "20"]);
            assert_eq!(narrowed.concurrency, [20]);
            assert_eq!(narrowed.vary, preset_plan.vary, "the rest is the file's");
        }
        // A plan whose timeout is not above its delay is refused as the flags' would be.
        let mut bad = sweep_plan(&[]);
        bad.workload.settings.timeout_ms = 1;
        let file = scratch.path().join("bad.json");
        std::fs::write(&file, serde_json::to_string(&bad).expect("json")).expect("written");
        let cli =
            variables::parse::<Cli>(["fanout", "sweep", "--plan", file.to_str().expect("utf-8")])
                .expect("parses");
        let Command::Sweep(sweep) = cli.command else {
            panic!("not a sweep")
        };
        let err = format!("{:#}", sweep.plan().expect_err("timeout below the delay"));
        assert!(
            err.contains("--plan") && err.contains("must be above the delay"),
            "{err}"
        );
    }

    #[test]
    fn named_strategies_and_concurrency_narrow_every_preset() {
        for preset in preset::all() {
            let name = preset.name.clone();
            let own = sweep_plan(&["--workload", &name]);
            let narrowed = sweep_plan(&[
                "--workload",
                &name,
                "--strategies",
                "coroutine_raw",
                "--concurrency",
                "50",
            ]);
            let names: Vec<_> = narrowed.strategies.iter().map(|s| s.name).collect();
            assert_eq!(names, ["coroutine_raw"], "{name}");
            assert_eq!(narrowed.concurrency, [50], "{name}");
            // The rest of the preset is kept.
            assert_eq!(narrowed.vary, own.vary, "{name}");
            assert_eq!(
                serde_json::to_value(&narrowed.workload).expect("json"),
                serde_json::to_value(&own.workload).expect("json"),
                "{name}"
            );
            assert_ne!(
                own.strategies, narrowed.strategies,
                "{name}: the preset's own differ"
            );
        }
    }

    #[test]
    fn quick_keeps_named_strategies_and_replaces_the_default() {
        let quick = sweep_plan(&["--quick"]);
        assert_eq!(quick.strategies, preset::quick());
        let named = sweep_plan(&["--quick", "--strategies", "thread_raw"]);
        let names: Vec<_> = named.strategies.iter().map(|s| s.name).collect();
        assert_eq!(names, ["thread_raw"]);
    }
}

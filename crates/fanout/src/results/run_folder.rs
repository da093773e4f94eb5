//! A run folder on disk: `SETUP.md`, `plan.json`, `points.jsonl` (appended point by point, so
//! a crash keeps what was measured), and the files redrawn from it — `findings.json`,
//! `points.csv`, `summary.md` and the charts.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::setup::{self, RunFacts};
use super::{charts, index_html, render};
use crate::analysis::findings::{self, folder::Findings};
use crate::os::machine::Machine;
use crate::planning::plan::Plan;
use crate::record::report::PointReport;

/// Errors reading or writing a run folder.
#[derive(Debug, thiserror::Error)]
pub enum RunFolderError {
    /// A file could not be read or written.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of `points.jsonl` is not a point.
    #[error("{path}:{line}: not a fanout point")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parser's words.
        #[source]
        source: serde_json::Error,
    },
    /// The CSV could not be made or written.
    #[error("{path}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: super::csv::CsvError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunFolderError + '_ {
    move |source| RunFolderError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `points.jsonl` of a run folder, or the file itself when given one.
pub fn points_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("points.jsonl")
    } else {
        path.to_owned()
    }
}

/// Reads every point of a run folder (or a `points.jsonl`).
pub fn load_points(path: &Path) -> Result<Vec<PointReport>, RunFolderError> {
    let file = points_file(path);
    let text = std::fs::read_to_string(&file).map_err(io_error(&file))?;
    // A last line without its newline was cut off as it was written (the disk filled, the
    // process was killed): what was measured before it stands, and it is said.
    let (whole, torn) = match text.rfind('\n') {
        Some(end) if end + 1 < text.len() => (&text[..=end], Some(&text[end + 1..])),
        None if !text.is_empty() => ("", Some(text.as_str())),
        _ => (text.as_str(), None),
    };
    let mut points = Vec::new();
    for (i, line) in whole.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let point = PointReport::from_json_line(line).map_err(|e| RunFolderError::BadLine {
            path: file.clone(),
            line: i + 1,
            source: e,
        })?;
        points.push(point);
    }
    if let Some(torn) = torn.filter(|t| !t.trim().is_empty()) {
        match PointReport::from_json_line(torn) {
            Ok(point) => points.push(point), // whole but for its newline
            Err(_) => eprintln!(
                "fanout: {}: its last line is cut off ({} bytes, no newline): left out",
                file.display(),
                torn.len()
            ),
        }
    }
    Ok(points)
}

/// Writes `points.csv` at `path` (derived from the points' JSON: `csv.rs`).
pub fn write_csv(points: &[PointReport], path: &Path) -> Result<(), RunFolderError> {
    super::csv::write(points, path).map_err(|reason| RunFolderError::Csv {
        path: path.to_owned(),
        source: reason,
    })
}

/// Creates the run folder `dir` for `plan`: its `SETUP.md`, `plan.json` and `facts.json`. A
/// folder that holds points already is refused, naming the ways on.
pub fn create(dir: &Path, plan: &Plan, facts: &RunFacts, command: &str) -> anyhow::Result<()> {
    if points_file(dir).exists() {
        anyhow::bail!(
            "{d}/points.jsonl exists: choose another --out, `fanout resume {d}` to finish it, \
             or `fanout report {d}` to redraw it",
            d = dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let setup = dir.join("SETUP.md");
    std::fs::write(&setup, setup::setup_markdown(plan, facts, command))
        .with_context(|| setup.display().to_string())?;
    let plan_path = dir.join("plan.json");
    std::fs::write(&plan_path, serde_json::to_string_pretty(plan)?)
        .with_context(|| plan_path.display().to_string())?;
    write_facts(dir, facts)
}

/// The file of a run folder that holds its [`RunFacts`].
pub const FACTS: &str = "facts.json";

/// Writes `facts` as the folder's `facts.json`.
pub fn write_facts(dir: &Path, facts: &RunFacts) -> anyhow::Result<()> {
    write_json(&dir.join(FACTS), facts)
}

/// `value` as pretty JSON at `path`, a newline last.
fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| path.display().to_string())
}

/// The JSON file `path` read as a `T`; what is wrong says the file and `missing` (it could not
/// be read) or `unread` (it is not a `T`).
fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    missing: &str,
    unread: &str,
) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{}: {missing}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: {unread}", path.display()))
}

/// The facts a run folder recorded as it started (or, for an older folder, when they were
/// added to it).
pub fn saved_facts(dir: &Path) -> anyhow::Result<RunFacts> {
    read_json(
        &dir.join(FACTS),
        "the run folder records no facts",
        "not a run's facts",
    )
}

/// The file of a run folder that holds its [`Findings`], redrawn with its summary.
pub const FINDINGS: &str = "findings.json";

/// The findings a run folder's points gave when it was last drawn (`fanout report` draws them
/// again).
pub fn saved_findings(dir: &Path) -> anyhow::Result<Findings> {
    let report = format!("`fanout report {}`", dir.display());
    read_json(
        &dir.join(FINDINGS),
        &format!("the run folder has no findings yet: {report} draws them"),
        &format!("not a run's findings (drawn by another version? {report} draws them again)"),
    )
}

/// The plan saved in a run folder by an earlier sweep.
pub fn saved_plan(dir: &Path) -> anyhow::Result<Plan> {
    read_json(
        &dir.join("plan.json"),
        "not a run folder to resume",
        "not a fanout plan",
    )
}

/// The points a run folder holds so far (none when it has no `points.jsonl` yet).
pub fn points_so_far(dir: &Path) -> Result<Vec<PointReport>, RunFolderError> {
    if points_file(dir).exists() {
        load_points(dir)
    } else {
        Ok(Vec::new())
    }
}

/// Adds a line to the folder's `SETUP.md` (e.g. that the sweep was resumed).
pub fn note_in_setup(dir: &Path, line: &str) -> anyhow::Result<()> {
    let setup = dir.join("SETUP.md");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&setup)
        .and_then(|mut f| writeln!(f, "{line}"))
        .with_context(|| setup.display().to_string())
}

/// `points.jsonl`, opened to append one point per line, flushed as each is written.
#[derive(Debug)]
pub struct PointsWriter {
    file: std::fs::File,
    path: PathBuf,
}

impl PointsWriter {
    /// Opens (or creates) `dir/points.jsonl` for appending; a last line cut off as it was
    /// written is cut away first, so the next point starts a line of its own.
    pub fn open(dir: &Path) -> Result<Self, RunFolderError> {
        let path = points_file(dir);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_error(&path))?;
        let mut writer = Self { file, path };
        writer.cut_torn_tail()?;
        Ok(writer)
    }

    /// Truncates the file after its last newline, if it does not end with one.
    fn cut_torn_tail(&mut self) -> Result<(), RunFolderError> {
        use std::io::{Read as _, Seek as _, SeekFrom};
        let len = self.file.metadata().map_err(io_error(&self.path))?.len();
        if len == 0 {
            return Ok(());
        }
        let mut text = Vec::new();
        (&self.file)
            .seek(SeekFrom::Start(0))
            .and_then(|_| (&self.file).read_to_end(&mut text))
            .map_err(io_error(&self.path))?;
        if text.last() == Some(&b'\n') {
            return Ok(());
        }
        let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        eprintln!(
            "fanout: {}: cut away a last line cut off as it was written ({} bytes)",
            self.path.display(),
            text.len() - keep
        );
        self.file.set_len(keep as u64).map_err(io_error(&self.path))
    }

    /// Appends `point` as one line in one write, on disk before this returns. A write that
    /// fails (the disk full) is taken back, so the file never keeps part of a line.
    pub fn append(&mut self, point: &PointReport) -> Result<(), RunFolderError> {
        let mut line = serde_json::to_string(point).expect("a report serializes");
        line.push('\n');
        let before = self.file.metadata().map_err(io_error(&self.path))?.len();
        let written = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            let _ = self.file.set_len(before);
            return Err(io_error(&self.path)(e));
        }
        Ok(())
    }
}

/// Writes `findings.json`, `points.csv`, `summary.md`, the charts and `index.html` of a run
/// folder from its points: the findings are worked out once, here, and the summary reads them.
pub fn finish(dir: &Path, points: &[PointReport]) -> anyhow::Result<()> {
    let findings = findings::folder::of(points);
    write_json(&dir.join(FINDINGS), &findings)?;
    write_csv(points, &dir.join("points.csv"))?;
    let summary_path = dir.join("summary.md");
    std::fs::write(&summary_path, render::summary_markdown(points, &findings))
        .with_context(|| summary_path.display().to_string())?;
    for skipped in charts::write_charts(points, &findings, dir) {
        eprintln!("fanout: chart not drawn: {skipped}");
    }
    let files: Vec<&str> = charts::chart_files().collect();
    let index = dir.join(index_html::INDEX_FILE);
    index_html::write(dir, &files).with_context(|| index.display().to_string())?;
    Ok(())
}

/// Where a user's own runs go by default: beside the project's committed reference runs
/// (`results/`), never among them, and out of git (`.gitignore`).
pub const OWN_RUNS: &str = "runs";

/// `runs/<date>-<host>`, with `-2`, `-3`, … when that folder exists already.
pub fn default_dir(machine: &Machine) -> PathBuf {
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let base = format!("{}-{}", &date[..10], machine.host);
    let mut dir = Path::new(OWN_RUNS).join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = Path::new(OWN_RUNS).join(format!("{base}-{n}"));
        n += 1;
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    #[test]
    fn points_round_trip_through_a_run_folder_and_bad_lines_are_named() {
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let dir = scratch.path();
        let points = vec![measured("async_semaphore", 10, 0.2, 5 << 20)];
        let mut writer = PointsWriter::open(dir).expect("open");
        writer.append(&points[0]).expect("append");
        assert_eq!(load_points(dir).expect("load"), points);
        write_csv(&points, &dir.join("points.csv")).expect("csv");
        let csv = std::fs::read_to_string(dir.join("points.csv")).expect("csv");
        assert!(csv.starts_with("strategy,concurrency,requests,"), "{csv}");
        assert_eq!(csv.lines().count(), 2);

        let line = serde_json::to_string(&points[0]).expect("json");
        std::fs::write(dir.join("points.jsonl"), format!("{line}\n\nnot json\n")).expect("write");
        let err = load_points(dir).expect_err("bad line").to_string();
        assert!(err.contains("points.jsonl:3: not a fanout point"), "{err}");
        let missing = load_points(&dir.join("nope"))
            .expect_err("missing")
            .to_string();
        assert!(missing.contains("nope"), "{missing}");
    }

    #[test]
    fn a_runs_facts_are_kept_as_data_and_read_back_whole() {
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let dir = scratch.path();
        let err = saved_facts(dir).expect_err("none yet").to_string();
        assert!(
            err.contains("facts.json: the run folder records no facts"),
            "{err}"
        );
        let facts = RunFacts {
            commit: Some("abc1234".into()),
            floors: Some(crate::model::floors::Floors {
                thread_kernel_own: Some(27_648.0),
                ..Default::default()
            }),
            ..RunFacts::gather(None)
        };
        write_facts(dir, &facts).expect("written");
        assert_eq!(saved_facts(dir).expect("read back"), facts);
        // An older folder's, backfilled with what its SETUP.md stated: the rest absent.
        std::fs::write(
            dir.join(FACTS),
            r#"{"commit": "663aee6", "backfilled_from": "SETUP.md"}"#,
        )
        .expect("write");
        let old = saved_facts(dir).expect("partial facts read");
        assert_eq!(old.commit.as_deref(), Some("663aee6"));
        assert_eq!((old.machine, old.floors), (Machine::default(), None));
    }

    #[test]
    fn a_line_cut_off_as_it_was_written_is_left_out_then_cut_away() {
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let dir = scratch.path();
        let point = measured("async_raw", 10, 0.2, 5 << 20);
        let line = serde_json::to_string(&point).expect("json");
        // Two whole points and most of a third, as a full disk or a kill leaves it.
        let torn = format!("{line}\n{line}\n{}", &line[..line.len() / 2]);
        std::fs::write(dir.join("points.jsonl"), &torn).expect("write");
        assert_eq!(load_points(dir).expect("the whole ones").len(), 2);
        let mut writer = PointsWriter::open(dir).expect("open");
        writer.append(&point).expect("append");
        let text = std::fs::read_to_string(dir.join("points.jsonl")).expect("read");
        assert_eq!(
            text,
            format!("{line}\n{line}\n{line}\n"),
            "the torn part cut away"
        );
        assert_eq!(load_points(dir).expect("load").len(), 3);
    }

    #[test]
    fn a_full_disk_is_a_clear_error_and_leaves_no_part_of_a_line() {
        // /dev/full refuses every write with ENOSPC, as a full disk does.
        if !Path::new("/dev/full").exists() {
            crate::os::skip::skipped("a full disk", "no /dev/full on this machine");
            return;
        }
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let dir = scratch.path();
        std::os::unix::fs::symlink("/dev/full", dir.join("points.jsonl")).expect("symlink");
        let mut writer = PointsWriter::open(dir).expect("open");
        let err = writer
            .append(&measured("async_raw", 10, 0.2, 1))
            .expect_err("no space");
        // As the CLI prints it: the file, then its cause.
        let err = format!("{:#}", anyhow::Error::new(err));
        assert!(
            err.contains("points.jsonl") && err.contains("No space left"),
            "{err}"
        );
    }
}

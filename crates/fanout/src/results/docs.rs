//! The figures the README and `docs/` quote, generated from committed run folders: each block
//! sits between `<!-- fanout:KIND FOLDER [ROLE=FOLDER …] -->` and `<!-- /fanout:KIND -->` and
//! is written by `fanout docs` from that folder's `points.jsonl` (and those the block names by
//! role: the answer's `open=`, `poisson=`, `scale=` and `raised=` runs; or, for `glossary`,
//! from the strategies' facts), stamped with the folder and the commit it ran on. `fanout docs --check` (CI) fails
//! when regenerating would change a file: a figure in the docs is always its folder's.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

use super::{docs_text, fault_table, figures_table, overload_table, render, run_folder};
use crate::analysis::findings::folder::Findings;
use crate::analysis::findings::{answer, own_bill};
use crate::os::machine::Machine;
use crate::record::report::PointReport;

/// The files whose blocks `fanout docs` writes, relative to the repository's root.
pub const FILES: &[&str] = &[
    "README.md",
    "docs/methodology.md",
    "docs/models.md",
    "docs/reference.md",
    "docs/schema.md",
];

/// What one block is generated from and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// The main table: every strategy and peer at C = 1,000 and 10,000, medians.
    Table,
    /// `fanout sweep`'s verdict of the folder.
    Verdict,
    /// The answer: threads against tasks at each C, from the folder's fits and medians.
    Answer,
    /// Where the bytes go: what one more request in flight adds, part by part.
    Bytes,
    /// Where each model breaks: the largest C measured and the limit past it.
    Scale,
    /// What each strategy cost at the largest C it carried, the server's memory beside.
    Largest,
    /// The client's own kernel bill from its cgroup against the floors made the same way.
    OwnBill,
    /// Where the queue starts: knees against Little's law.
    Knee,
    /// Overload and recovery.
    Overload,
    /// The decision's line on an overload past the walls.
    OverloadAnswer,
    /// Injected faults: the server's counts against the client's.
    Faults,
    /// The decision's bullet on faults.
    FaultsAnswer,
    /// Hedged requests: the tail cut against the load added.
    Hedge,
    /// The hedging line of the answer, from one or more hedge runs.
    HedgeAnswer,
    /// Retried requests: the faults retries mended and the attempts they cost.
    Retries,
    /// The meter's own cost.
    Meter,
    /// The tables of a folder's own README (a script's output, e.g. the throughput run).
    Copy,
    /// The strategies, from their facts.
    Glossary,
    /// The figures the tables, charts, compare and export show, from their definitions.
    Figures,
}

impl Block {
    /// The roles of the folders the block reads beside its own.
    fn roles(self) -> &'static [&'static str] {
        match self {
            Self::Answer => &["open", "poisson", "scale", "raised"],
            Self::FaultsAnswer => &["burst"],
            Self::HedgeAnswer => &["also"],
            _ => &[],
        }
    }

    fn parse(kind: &str) -> Option<Self> {
        Some(match kind {
            "table" => Self::Table,
            "verdict" => Self::Verdict,
            "answer" => Self::Answer,
            "bytes" => Self::Bytes,
            "scale" => Self::Scale,
            "largest" => Self::Largest,
            "own-bill" => Self::OwnBill,
            "knee" => Self::Knee,
            "overload" => Self::Overload,
            "overload-answer" => Self::OverloadAnswer,
            "faults" => Self::Faults,
            "faults-answer" => Self::FaultsAnswer,
            "hedge" => Self::Hedge,
            "hedge-answer" => Self::HedgeAnswer,
            "retries" => Self::Retries,
            "meter" => Self::Meter,
            "copy" => Self::Copy,
            "glossary" => Self::Glossary,
            "figures" => Self::Figures,
            _ => return None,
        })
    }
}

/// Regenerates every block of `text` (a file under `root`, `up` the way from its folder back
/// to `root`, `../` for a file in `docs/`, so its links to run folders resolve); the new
/// text, or what is wrong.
pub fn regenerate(text: &str, root: &Path, up: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let (open, kind, folders) = opening(from)?;
        let block = Block::parse(kind).with_context(|| format!("unknown block {kind:?}"))?;
        folders
            .check_roles(block)
            .with_context(|| open.to_owned())?;
        let close = format!("<!-- /fanout:{kind} -->");
        let close_at = from
            .find(&close)
            .with_context(|| format!("no {close} after {open}"))?;
        out.push_str(open);
        out.push('\n');
        out.push_str(&generate(block, &folders, root, up)?);
        out.push_str(&close);
        rest = &from[close_at + close.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How a block's opening marker starts.
const OPEN: &str = "<!-- fanout:";

/// The run folders a block's marker names: its own (a bare path), and others by their role
/// in the block (`scale=results/…`), so that no block takes a folder by its position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Named {
    /// The block's own folder.
    own: Option<String>,
    /// The others, each with its role, in the marker's order.
    roles: Vec<(String, String)>,
}

impl Named {
    /// The words after a marker's kind: at most one bare folder, the rest `role=folder`.
    fn parse<'a>(words: impl Iterator<Item = &'a str>) -> anyhow::Result<Self> {
        let mut named = Self::default();
        for word in words {
            match word.split_once('=') {
                Some((role, folder)) => named.roles.push((role.to_owned(), folder.to_owned())),
                None if named.own.is_none() => named.own = Some(word.to_owned()),
                None => bail!("two folders without a role: {word} (name it, as role={word})"),
            }
        }
        Ok(named)
    }

    /// The folder of `role`, if the marker names one.
    fn role(&self, role: &str) -> Option<&str> {
        self.roles
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, f)| f.as_str())
    }

    /// The folders of `role`, in the marker's order (a role may repeat).
    fn all_of<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a str> {
        self.roles
            .iter()
            .filter(move |(r, _)| r == role)
            .map(|(_, f)| f.as_str())
    }

    /// Every folder it names, its own first.
    fn folders(&self) -> impl Iterator<Item = &str> {
        self.own
            .as_deref()
            .into_iter()
            .chain(self.roles.iter().map(|(_, f)| f.as_str()))
    }

    /// Refuses a role `block` does not take, naming those it does.
    fn check_roles(&self, block: Block) -> anyhow::Result<()> {
        let takes = block.roles();
        if let Some((role, _)) = self
            .roles
            .iter()
            .find(|(r, _)| !takes.contains(&r.as_str()))
        {
            bail!(
                "this block takes no {role}= folder (it takes: {})",
                if takes.is_empty() {
                    "none".to_owned()
                } else {
                    takes.join(", ")
                }
            );
        }
        Ok(())
    }
}

/// The opening marker `from` starts with: the marker whole, its block's kind and the run
/// folders it names.
fn opening(from: &str) -> anyhow::Result<(&str, &str, Named)> {
    let end = from
        .find("-->")
        .context("an unclosed `<!-- fanout:` marker")?
        + 3;
    let open = &from[..end];
    let mut words = open[OPEN.len()..open.len() - 3].split_whitespace();
    let kind = words.next().unwrap_or_default();
    Ok((open, kind, Named::parse(words)?))
}

/// Every run folder the blocks of [`FILES`] under `root` quote, once each, with the commit it
/// ran on (`None`: it records none).
pub fn quoted_folders(root: &Path) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let mut folders: Vec<String> = Vec::new();
    for file in FILES {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        for (at, _) in text.match_indices(OPEN) {
            let (_, _, named) = opening(&text[at..]).with_context(|| path.display().to_string())?;
            for folder in named.folders() {
                if !folders.iter().any(|f| f == folder) {
                    folders.push(folder.to_owned());
                }
            }
        }
    }
    Ok(folders
        .into_iter()
        .map(|f| {
            let commit = commit_of(&root.join(&f));
            (f, commit)
        })
        .collect())
}

/// Writes (or with `check`, compares) every block of [`FILES`] under `root`; the files that
/// changed (or would).
pub fn write_all(root: &Path, check: bool) -> anyhow::Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    for file in FILES {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        let up = "../".repeat(file.matches('/').count());
        let new = regenerate(&text, root, &up).with_context(|| path.display().to_string())?;
        if new != text {
            if !check {
                std::fs::write(&path, &new).with_context(|| path.display().to_string())?;
            }
            changed.push(path);
        }
    }
    Ok(changed)
}

/// One block's text, its stamp last: from the block's own folder (and those it names by
/// role: the answer's scale and rate runs, a stall burst, more hedging runs).
fn generate(block: Block, folders: &Named, root: &Path, up: &str) -> anyhow::Result<String> {
    if block == Block::Glossary {
        return Ok(format!(
            "{}\n<sub>Generated by `fanout docs` from the strategies' and peers' facts (`fanout list`).</sub>\n",
            docs_text::glossary()
        ));
    }
    if block == Block::Figures {
        return Ok(format!(
            "{}\n<sub>Generated by `fanout docs` from the figures' definitions (`crates/fanout/src/analysis/figures.rs`).</sub>\n",
            figures_table::schema_table()
        ));
    }
    let folder = folders
        .own
        .as_deref()
        .context("a block needs its run folder")?;
    let dir = root.join(folder);
    if block == Block::Copy {
        let readme = std::fs::read_to_string(dir.join("README.md"))
            .with_context(|| format!("{folder}/README.md"))?;
        let body = tables_of(&readme);
        let stamp = stamp(
            folder,
            up,
            &dir,
            "its README's tables, medians of its rounds",
        );
        return Ok(format!("{body}\n\n{stamp}"));
    }
    let src = Source {
        folders,
        root,
        up,
        folder,
        points: run_folder::load_points(&dir)?,
        // What the folder's points say, as its last drawing worked it out.
        found: run_folder::saved_findings(&dir)?,
        dir,
    };
    from_points(block, &src)
}

/// A block generated from its folder's points and findings: its text and stamp.
fn from_points(block: Block, src: &Source<'_>) -> anyhow::Result<String> {
    let (points, found) = (&src.points, &src.found);
    let medians = repeats_read(points, "medians of");
    let every = repeats_read(points, "every one of");
    let (body, read) = match block {
        Block::Table => (docs_text::main_table(points), medians),
        Block::Verdict => (render::verdict(&found.verdict), medians),
        Block::Answer => return answer_block(src),
        Block::Bytes => (
            render::where_bytes_go_table(points),
            "slopes fitted over C, every repeat".to_owned(),
        ),
        Block::Scale => (
            docs_text::scale_table(&found.reach),
            repeats_read(points, "a C carried in each of"),
        ),
        Block::Largest => (
            docs_text::largest_table(&found.at_largest),
            match repeats(points) {
                1 => "one run".to_owned(),
                _ => "medians and ranges of the repeats at the largest C carried".to_owned(),
            },
        ),
        Block::OwnBill => (
            own_bill_block(src)?,
            "slopes fitted over C, every repeat; the floors from its facts.json".to_owned(),
        ),
        Block::Knee => (
            render::knee_table(points, &found.knees).context("not a rate run")?,
            repeats_read(points, "the first of"),
        ),
        Block::Overload => (
            overload_table::table(points).context("not a ramp run")?,
            every,
        ),
        Block::OverloadAnswer => (
            docs_text::past_walls(
                &docs_text::overload_conditions(points.first().context("no points")?),
                found.past_walls.as_ref().context("not a ramp run")?,
            ),
            every,
        ),
        Block::Hedge => (
            render::hedge_table(points).context("no point hedged")?,
            medians,
        ),
        Block::HedgeAnswer => return hedge_answer_block(src, &medians),
        Block::Retries => (
            render::retry_table(points).context("no point retried")?,
            medians,
        ),
        Block::Faults => (
            fault_table::table(points).context("no point with a fault")?,
            every,
        ),
        Block::FaultsAnswer => return faults_answer_block(src, &every),
        Block::Meter => (
            render::meter_cost(points).context("no meter figures")?,
            medians,
        ),
        Block::Glossary | Block::Figures | Block::Copy => unreachable!("handled above"),
    };
    Ok(format!("{body}\n{}", src.stamp(&read)))
}

/// What a block is generated from: its own run folder's points and findings, and the other
/// folders its marker names by role.
struct Source<'a> {
    /// The folders the marker names.
    folders: &'a Named,
    /// The repository's root.
    root: &'a Path,
    /// The way from the file's folder back to the root (`../` for a file in `docs/`).
    up: &'a str,
    /// The block's own folder, as the marker names it.
    folder: &'a str,
    /// That folder on disk.
    dir: PathBuf,
    /// Its points.
    points: Vec<PointReport>,
    /// Its findings (`findings.json`).
    found: Findings,
}

impl Source<'_> {
    /// The block's stamp: its folder, how its repeats were read (`read`), and the commit.
    fn stamp(&self, read: &str) -> String {
        stamp(self.folder, self.up, &self.dir, read)
    }

    /// A link to another folder `f` the block reads, with how its repeats were read, if
    /// said, and its commit.
    fn link(&self, f: &str, read: Option<&str>) -> String {
        let up = self.up;
        let read = read.map_or(String::new(), |r| format!("{r}; "));
        format!(
            "[`{f}`]({up}{f}/) ({read}ran on commit {})",
            ran_on(&self.root.join(f))
        )
    }
}

/// "Generated by `fanout docs` from FOLDER (READ; ran on commit C)", linked.
fn stamp(folder: &str, up: &str, dir: &Path, read: &str) -> String {
    format!(
        "<sub>Generated by `fanout docs` from [`{folder}`]({up}{folder}/) ({read}; ran on commit {}).</sub>\n",
        ran_on(dir)
    )
}

/// The answer: the decision and each model's table from the block's folder, beside the
/// folders it names by role (the open-loop runs, the scale run, the run with raised limits).
fn answer_block(src: &Source<'_>) -> anyhow::Result<String> {
    // Each role the block names, its folder and that folder's points.
    let mut beside: Vec<(&str, &str, Vec<PointReport>)> = Vec::new();
    for role in Block::Answer.roles() {
        if let Some(f) = src.folders.role(role) {
            beside.push((role, f, run_folder::load_points(&src.root.join(f))?));
        }
    }
    let run = |role: &str| -> &[PointReport] {
        beside
            .iter()
            .find(|(r, _, _)| *r == role)
            .map_or(&[], |(_, _, points)| points.as_slice())
    };
    let answer = answer::answer(
        &src.points,
        answer::Beside {
            open: [run("open"), run("poisson")],
            scale: run("scale"),
            raised: run("raised"),
        },
    );
    let also: Vec<String> = beside
        .iter()
        .map(|(_, f, these)| src.link(f, Some(&repeats_read(these, "medians of"))))
        .collect();
    let decision = &src.found.decision;
    Ok(format!(
        "{}\n{}{}\n{}{}<sub>And from {}.</sub>\n",
        docs_text::verdict(&answer, decision),
        docs_text::answer(&answer),
        docs_text::pitfalls(decision),
        conditions_line(&src.dir, &src.points),
        src.stamp(&repeats_read(&src.points, "medians of")),
        also.join(", ")
    ))
}

/// The client's own bill against the floors measured in a cgroup of their own, from the
/// folder's facts.
fn own_bill_block(src: &Source<'_>) -> anyhow::Result<String> {
    let floors = run_folder::saved_facts(&src.dir)?.floors;
    let own = floors
        .as_ref()
        .and_then(|f| Some((f.thread_kernel_own?, f.connection_client_end?)));
    let (thread_own, client_end) =
        own.context("its facts.json has no floors measured in a cgroup of their own")?;
    Ok(docs_text::own_bill_check(&own_bill::check(
        &src.points,
        thread_own,
        client_end,
    )))
}

/// The hedging line of the answer, from the block's folder and each `also=` folder.
fn hedge_answer_block(src: &Source<'_>, medians: &str) -> anyhow::Result<String> {
    let first = src.points.first().context("no points")?;
    let mut runs = vec![(docs_text::hedge_conditions(first), src.found.hedge.clone())];
    let mut also = Vec::new();
    for f in src.folders.all_of("also") {
        let dir = src.root.join(f);
        let these = run_folder::load_points(&dir)?;
        let first = these.first().with_context(|| format!("{f}: no points"))?;
        runs.push((
            docs_text::hedge_conditions(first),
            run_folder::saved_findings(&dir)?.hedge,
        ));
        also.push(src.link(f, None));
    }
    let also = if also.is_empty() {
        String::new()
    } else {
        format!("<sub>And from {}.</sub>\n", also.join(" and "))
    };
    Ok(format!(
        "{}\n{}{also}",
        docs_text::hedging(&runs),
        src.stamp(medians)
    ))
}

/// The faults bullet of the answer, and a stall burst's line where the marker names a
/// `burst=` folder.
fn faults_answer_block(src: &Source<'_>, every: &str) -> anyhow::Result<String> {
    let found = src.found.faults.as_ref().context("no point with a fault")?;
    let mut text = docs_text::faults(found);
    let mut also = String::new();
    if let Some(f) = src.folders.role("burst") {
        let dir = src.root.join(f);
        let burst = run_folder::load_points(&dir)?;
        let first = burst.first().with_context(|| format!("{f}: no points"))?;
        text.push_str(&docs_text::burst(
            &docs_text::burst_conditions(first),
            &run_folder::saved_findings(&dir)?.burst,
        ));
        let read = repeats_read(&burst, "every one of");
        also = format!("<sub>And from {}.</sub>\n", src.link(f, Some(&read)));
    }
    Ok(format!("{text}\n{}{also}", src.stamp(every)))
}

/// The sections of a markdown file that are tables: each `## ` heading (in bold) and its
/// table rows, a blank line between, the prose left out.
fn tables_of(markdown: &str) -> String {
    let mut out = Vec::new();
    for line in markdown.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            out.push(format!("**{title}**\n"));
        } else if line.starts_with('|') {
            out.push(line.to_owned());
        } else if out.last().is_some_and(|l| l.starts_with('|')) {
            out.push(String::new()); // a table ended
        }
    }
    out.join("\n").trim_end().to_owned()
}

/// Where and how a run measured, in a line beside its figures: the machine its `facts.json`
/// records (the CPU, whether SMT is on and whether it is a virtual machine, memory, the
/// kernel), the steal its points saw, and their conditions (loopback, the body size, the
/// server's profile); the walls' settings are named where a wall is.
fn conditions_line(dir: &Path, points: &[PointReport]) -> String {
    let Ok(facts) = run_folder::saved_facts(dir) else {
        return String::new();
    };
    let m = &facts.machine;
    if *m == Machine::default() {
        return String::new();
    }
    let smt = match m.smt {
        Some(true) => ", SMT on",
        Some(false) => ", SMT off",
        None => "",
    };
    let vm = if m.hypervisor == Some(true) {
        ", in a virtual machine"
    } else {
        ""
    };
    let conditions = points.first().map_or(String::new(), |r| {
        let s = &r.point.settings;
        format!(
            "; client and server on loopback, sharing the cores, {}-byte bodies, the server's `{}` profile",
            s.body_bytes,
            s.server.profile.name()
        )
    });
    let steal = super::steal::line(points).map_or(String::new(), |l| format!(" {l}"));
    format!(
        "*Measured on* {} cores of an {}{smt}{vm}, {:.1} GiB, {}{conditions}. A figure is the \
         median of its repeats, their range beside it where they differ at the precision \
         shown.{steal}\n\n",
        m.cores,
        m.cpu,
        m.memory_bytes as f64 / (1u64 << 30) as f64,
        m.kernel
    )
}

/// The commit a run folder ran on, as its `facts.json` records it.
fn commit_of(dir: &Path) -> Option<String> {
    run_folder::saved_facts(dir).ok()?.commit
}

/// [`commit_of`], or `unknown`, for a stamp.
fn ran_on(dir: &Path) -> String {
    commit_of(dir).unwrap_or_else(|| "unknown".into())
}

/// How a stamp names the repeats a block read: "one run" where the run made one, else `how`
/// of how many ("medians of 3 repeats", "the first of 3 repeats", "every one of 3 repeats").
fn repeats_read(points: &[PointReport], how: &str) -> String {
    match repeats(points) {
        1 => "one run".to_owned(),
        n => format!("{how} {n} repeats"),
    }
}

/// How many repeats `points` ran.
fn repeats(points: &[PointReport]) -> u32 {
    points.iter().map(|p| p.repeat).max().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_replaced_between_their_markers_and_the_rest_kept() {
        let text = "before\n<!-- fanout:glossary -->\nstale\n<!-- /fanout:glossary -->\nafter\n";
        let new = regenerate(text, Path::new("."), "").expect("regenerated");
        assert!(
            new.starts_with("before\n<!-- fanout:glossary -->\n| name |"),
            "{new}"
        );
        assert!(
            new.contains("`thread_pool`") && !new.contains("stale"),
            "{new}"
        );
        assert!(new.ends_with("<!-- /fanout:glossary -->\nafter\n"), "{new}");
        assert_eq!(
            regenerate(&new, Path::new("."), "").expect("regenerates"),
            new,
            "regenerating changes nothing"
        );
        assert!(regenerate("<!-- fanout:nope x -->", Path::new("."), "").is_err());
        let readme = "# T\n\nprose (kept out)\n\n## One (a)\n\n| a (b) |\n|---|\n| 1 |\nafter\n## Two\n| c |\n";
        assert_eq!(
            tables_of(readme),
            "**One (a)**\n\n| a (b) |\n|---|\n| 1 |\n\n**Two**\n\n| c |"
        );
        assert!(
            regenerate("<!-- fanout:table results/x -->", Path::new("."), "").is_err(),
            "no closing marker"
        );
    }

    #[test]
    fn a_block_names_its_other_folders_by_role_and_a_role_it_does_not_take_is_refused() {
        let named = Named::parse("results/a scale=results/s open=results/r".split_whitespace())
            .expect("parsed");
        assert_eq!(named.own.as_deref(), Some("results/a"));
        assert_eq!(
            (named.role("scale"), named.role("open")),
            (Some("results/s"), Some("results/r"))
        );
        assert_eq!(
            named.folders().collect::<Vec<_>>(),
            ["results/a", "results/s", "results/r"]
        );
        assert!(named.check_roles(Block::Answer).is_ok());
        let rate = Named::parse("results/a rate=results/r".split_whitespace()).expect("parsed");
        let err = rate
            .check_roles(Block::Answer)
            .expect_err("the answer reads no knee run");
        assert!(err.to_string().contains("no rate= folder"), "{err}");
        let err = named
            .check_roles(Block::Table)
            .expect_err("a table takes no role");
        assert!(err.to_string().contains("no scale= folder"), "{err}");
        let err = Named::parse("results/a results/b".split_whitespace()).expect_err("two own");
        assert!(err.to_string().contains("role=results/b"), "{err}");
        let twice = Named::parse("results/a also=results/b also=results/c".split_whitespace())
            .expect("parsed");
        assert_eq!(
            twice.all_of("also").collect::<Vec<_>>(),
            ["results/b", "results/c"]
        );
    }
}

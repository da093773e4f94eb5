//! Which run folders the docs quote are older than the code that measured them: a folder
//! whose recorded commit comes before the last change to the measuring code (the strategies,
//! the clients, the model of a request, the metering, the harness) holds figures that code
//! would no longer produce. Read from git (`fanout docs --stale`).

use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

/// The measuring code: a change under any of these can change what a run measures.
pub const MEASURING_CODE: &[&str] = &[
    "crates/fanout/src/strategies",
    "crates/fanout/src/clients",
    "crates/fanout/src/model",
    "crates/fanout/src/metering",
    "crates/fanout/src/run",
];

/// A quoted folder older than the measuring code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The folder, as the docs name it.
    pub folder: String,
    /// The commit it ran on (`None`: it records none).
    pub ran_on: Option<String>,
    /// The last commit that changed the measuring code.
    pub changed_in: String,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.ran_on {
            Some(commit) => write!(
                f,
                "{} ran on {commit}, before {} changed the measuring code",
                self.folder, self.changed_in
            ),
            None => write!(f, "{} records no commit to check", self.folder),
        }
    }
}

/// Runs git in `root` with `args`; its trimmed output, or `None` when it failed.
fn git(root: &Path, args: &[&str]) -> anyhow::Result<Option<String>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("running git (needed to date the run folders)")?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
}

/// The folders of `quoted` (each with the commit it ran on, if it records one) that ran
/// before the last change to [`MEASURING_CODE`] in the repository at `root`.
pub fn stale(root: &Path, quoted: &[(String, Option<String>)]) -> anyhow::Result<Vec<Stale>> {
    let mut args = vec!["log", "-1", "--format=%h", "--"];
    args.extend(MEASURING_CODE);
    let changed_in = git(root, &args)?
        .filter(|c| !c.is_empty())
        .context("no commit changed the measuring code: is this the repository's root?")?;
    let mut out = Vec::new();
    for (folder, ran_on) in quoted {
        let fresh = match ran_on {
            // Fresh when the last change is the commit it ran on or one of its ancestors.
            Some(commit) => {
                git(root, &["merge-base", "--is-ancestor", &changed_in, commit])?.is_some()
            }
            None => false,
        };
        if !fresh {
            out.push(Stale {
                folder: folder.clone(),
                ran_on: ran_on.clone(),
                changed_in: changed_in.clone(),
            });
        }
    }
    Ok(out)
}

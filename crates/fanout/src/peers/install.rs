//! Where the peers are installed (`scripts/peers.sh`, under `target/peers/`), and the command
//! that runs one for a job.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::PeerError;
use super::peer::Program;
use crate::model::job::Job;
use crate::model::rate::RateProfile;

/// A variable naming where the peers are installed, if not in `target/peers/`.
pub const DIR_VAR: &str = "FANOUT_PEERS_DIR";
/// What installs the built-in peers.
pub const INSTALL: &str = "scripts/peers.sh";

/// The repository's root, where `peers/` and `target/peers/` are.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `scripts/peers.sh` installs: `FANOUT_PEERS_DIR`, or `target/peers/` of the repository.
pub fn installed_dir() -> PathBuf {
    let dir = std::env::var_os(DIR_VAR).map_or_else(|| root().join("target/peers"), PathBuf::from);
    std::path::absolute(&dir).unwrap_or(dir)
}

/// The program and the arguments that start `program`, or why it cannot be started (not
/// installed, and what installs it).
pub fn locate(program: Program) -> Result<(PathBuf, Vec<String>), String> {
    let dir = installed_dir();
    let exists = |path: PathBuf, what: &str| {
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{what} is not installed ({} missing): run {INSTALL}",
                path.display()
            ))
        }
    };
    match program {
        Program::Python(script) => {
            let python = exists(dir.join("venv/bin/python"), "the peers' Python venv")?;
            let script = exists(root().join("peers").join(script), "the peer script")?;
            // -B: no bytecode files written into peers/.
            Ok((python, vec!["-B".into(), script.display().to_string()]))
        }
        Program::Go => Ok((
            exists(dir.join("bin/fanout-go-peer"), "the Go peer")?,
            vec![],
        )),
        Program::Oha => {
            let local = dir.join("bin/oha");
            let oha = if local.is_file() {
                Some(local)
            } else {
                on_path("oha")
            };
            oha.map(|p| (p, vec![])).ok_or_else(|| {
                format!(
                    "oha is not installed (not in {} nor on PATH): run {INSTALL}",
                    dir.join("bin").display()
                )
            })
        }
        Program::Custom(path) => Ok((PathBuf::from(path), vec![])),
        Program::Described(command) => {
            let program = command.argv.first().map_or("", String::as_str);
            let found = if program.contains('/') {
                Some(PathBuf::from(program)).filter(|p| p.is_file())
            } else {
                on_path(program)
            };
            let program =
                found.ok_or_else(|| format!("{program} is not installed: {}", command.install))?;
            Ok((program, command.argv[1..].to_vec()))
        }
    }
}

/// `program` in a folder of `PATH`, if it is in one.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The command that runs `job` with `program`, or why it cannot run here.
pub fn command(program: Program, job: &Job) -> Result<Command, PeerError> {
    let (path, mut args) = locate(program).map_err(PeerError::NotInstalled)?;
    match program {
        Program::Oha => {
            // Under the same schedule where it can: oha's -q is a constant rate, its latency
            // corrected to count from each request's due time.
            if let Some(RateProfile::Constant(rate)) = &job.settings.rate {
                args.extend(["-q".into(), rate.to_string(), "--latency-correction".into()]);
            }
            args.extend([
                "-n".into(),
                job.requests.to_string(),
                "-c".into(),
                job.concurrency.to_string(),
                "-t".into(),
                format!("{}ms", job.settings.timeout_ms),
                "--no-tui".into(),
                "--output-format".into(),
                "json".into(),
                job.url().to_owned(),
            ]);
        }
        // Its own arguments, each point's values in its placeholders.
        Program::Described(described) => {
            let (c, n) = (job.concurrency.to_string(), job.requests.to_string());
            let timeout_ms = job.settings.timeout_ms.to_string();
            let peers = installed_dir().display().to_string();
            let values = [
                ("url", job.url()),
                ("c", c.as_str()),
                ("n", n.as_str()),
                ("timeout_ms", timeout_ms.as_str()),
                ("dir", described.dir.as_str()),
                ("peers", peers.as_str()),
            ];
            for arg in &mut args {
                *arg = super::peer::fill(arg, &values);
            }
        }
        _ => args.extend([
            job.url().to_owned(),
            job.concurrency.to_string(),
            job.requests.to_string(),
            job.settings.timeout_ms.to_string(),
        ]),
    }
    let mut command = Command::new(path);
    command.args(args);
    Ok(command)
}

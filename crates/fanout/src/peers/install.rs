//! Where the peers are installed (`scripts/peers.sh`, under `target/peers/`), and the command
//! that runs one for a job.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::PeerError;
use super::peer::{Program, fill};
use crate::model::job::Job;
use crate::model::rate::RateProfile;

/// A variable naming where the peers are installed, if not in `target/peers/`.
pub const DIR_VAR: &str = "FANOUT_PEERS_DIR";
/// What installs the shipped peers.
pub const INSTALL: &str = "scripts/peers.sh";

/// The repository's root, where `peers/` and `target/peers/` are.
pub fn root() -> PathBuf {
    // crates/fanout's grandparent, without a `..` in every path a message shows.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest).to_owned()
}

/// Where `scripts/peers.sh` installs: `FANOUT_PEERS_DIR`, or `target/peers/` of the repository.
pub fn installed_dir() -> PathBuf {
    let dir = std::env::var_os(DIR_VAR).map_or_else(|| root().join("target/peers"), PathBuf::from);
    std::path::absolute(&dir).unwrap_or(dir)
}

/// The program and the arguments that start `program`, or why it cannot be started (not
/// installed, and what installs it).
pub fn locate(program: Program) -> Result<(PathBuf, Vec<String>), String> {
    match program {
        Program::Custom(path) => Ok((PathBuf::from(path), vec![])),
        Program::Described(command) => {
            let program = command.argv.first().map_or("", String::as_str);
            let path = program_path(program, &command.install)?;
            // A script in the file's folder (`{dir}/…`) must be there too.
            let prefix = format!("{}/", command.dir);
            let script = command.argv[1..]
                .iter()
                .map(|arg| fill(arg, &[("dir", &command.dir)]))
                .find(|arg| arg.starts_with(&prefix) && !Path::new(arg).is_file());
            if let Some(script) = script {
                return Err(format!("{script} is missing: {}", command.install));
            }
            Ok((path, command.argv[1..].to_vec()))
        }
    }
}

/// Where `program` is (a path, or a name looked for in the install folder's `bin/`, then on
/// `PATH`), or that it is not installed, where it was looked for and what installs it.
pub fn program_path(program: &str, install: &str) -> Result<PathBuf, String> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{program} is not installed: {install}"))
        };
    }
    let bin = installed_dir().join("bin");
    Some(bin.join(program))
        .filter(|p| p.is_file())
        .or_else(|| on_path(program))
        .ok_or_else(|| {
            format!(
                "{program} is not installed (not in {} nor on PATH): {install}",
                bin.display()
            )
        })
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
        // Its own arguments, each point's values in its placeholders; under the same
        // schedule where it takes one (a constant rate: oha's -q).
        Program::Described(described) => {
            let rate = match &job.settings.rate {
                Some(RateProfile::Constant(rate)) if !described.rate_args.is_empty() => {
                    Some(rate.to_string())
                }
                _ => None,
            };
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
                ("rate", rate.as_deref().unwrap_or_default()),
            ];
            let given = rate
                .iter()
                .flat_map(|_| described.rate_args.iter().cloned());
            args = given.chain(args).collect();
            for arg in &mut args {
                *arg = super::peer::fill(arg, &values);
            }
        }
        Program::Custom(_) => args.extend([
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

//! The roles a re-executed fanout binary plays: the mock server or a worker. Both are this
//! same executable run again (`std::env::current_exe()`) with [`ROLE_VAR`] set, so neither
//! `cargo bench` nor the CLI needs another binary's path.

use std::process::ExitCode;

use clap::Parser;

use super::worker;

/// Environment variable naming the role a re-executed binary plays: `server` or `worker`.
pub const ROLE_VAR: &str = "FANOUT_ROLE";

/// Plays the role named in [`ROLE_VAR`], if any, and returns its exit code; `None` when this
/// process is the orchestrator. Call it first thing in `main`.
pub fn play_role() -> Option<ExitCode> {
    let role = std::env::var(ROLE_VAR).ok()?;
    let result = match role.as_str() {
        "server" => mock_server::cli::main(mock_server::cli::Args::parse()),
        "worker" => worker::main().map_err(anyhow::Error::from),
        "floor-probe" => super::floor_probe::probe(),
        other => Err(anyhow::anyhow!(
            "{ROLE_VAR}={other:?}: expected server, worker or floor-probe"
        )),
    };
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fanout {role}: {e:#}");
            ExitCode::FAILURE
        }
    })
}

//! The `FANOUT_*` variables: each point flag read from `FANOUT_` and its long name, upper-cased
//! with `_` for `-` (`--delay-ms`: `FANOUT_DELAY_MS`), derived here rather than written beside
//! each flag. A command that takes the point flags ([`PointsArgs`]: `sweep`, `doctor`, the
//! sweep benchmark) reads every one of them so; a command that takes a workload's flags only
//! ([`WorkloadFlags`]: `run`) reads those.

use std::ffi::OsString;

use clap::{Arg, Args, Command, Id, Parser};

use super::flags::WorkloadFlags;
use super::plan::PointsArgs;

/// The prefix of every point flag's variable.
pub const VAR_PREFIX: &str = "FANOUT_";

/// The variable of the flag `arg`, from its long name.
pub fn name(arg: &Arg) -> Option<String> {
    arg.get_long().map(|long| {
        format!(
            "{VAR_PREFIX}{}",
            long.to_ascii_uppercase().replace('-', "_")
        )
    })
}

/// The ids of the flags `A` takes.
fn ids<A: Args>() -> Vec<Id> {
    A::augment_args(Command::new("ids"))
        .get_arguments()
        .map(|arg| arg.get_id().clone())
        .collect()
}

/// `command` and its subcommands with each point flag reading its variable.
pub fn read_from_variables(command: Command) -> Command {
    with_variables(command, &ids::<PointsArgs>(), &ids::<WorkloadFlags>())
}

fn with_variables(command: Command, points: &[Id], workload: &[Id]) -> Command {
    let has = |all: &[Id]| {
        all.iter()
            .all(|id| command.get_arguments().any(|a| a.get_id() == id))
    };
    // A command's own flag named as a point flag (`run --concurrency`, one C) reads nothing.
    let read: Vec<Id> = if has(points) {
        points.to_vec()
    } else if has(workload) {
        workload.to_vec()
    } else {
        Vec::new()
    };
    command
        .mut_args(|arg| match name(&arg) {
            Some(var) if read.contains(arg.get_id()) => arg.env(var),
            _ => arg,
        })
        .mut_subcommands(|sub| with_variables(sub, points, workload))
}

/// `P` from `args`, each point flag read from its variable where `args` does not give it.
pub fn parse<P: Parser>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> Result<P, clap::Error> {
    let mut command = read_from_variables(P::command());
    let mut matches = command.try_get_matches_from_mut(args)?;
    P::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[derive(Debug, Parser)]
    struct Points {
        #[command(flatten)]
        points: PointsArgs,
    }

    #[test]
    fn every_point_flag_reads_fanout_and_its_long_name() {
        let command = read_from_variables(Points::command());
        let vars: Vec<_> = command
            .get_arguments()
            .filter_map(|a| Some((a.get_long()?, a.get_env()?.to_str()?.to_owned())))
            .collect();
        assert!(vars.len() > 40, "{vars:?}");
        assert!(vars.contains(&("delay-ms", "FANOUT_DELAY_MS".to_owned())));
        assert!(vars.contains(&("workers", "FANOUT_WORKERS".to_owned())));
        assert!(vars.contains(&("strategies", "FANOUT_STRATEGIES".to_owned())));
        let unread: Vec<_> = command
            .get_arguments()
            .filter(|a| a.get_long().is_some() && a.get_env().is_none())
            .map(|a| a.get_id().to_string())
            .collect();
        assert!(
            unread.is_empty(),
            "every point flag reads its variable: {unread:?}"
        );
    }

    #[derive(Debug, Parser)]
    struct One {
        /// One C, not the point flags' list.
        #[arg(long)]
        concurrency: usize,
        #[command(flatten)]
        workload: WorkloadFlags,
    }

    #[test]
    fn a_command_with_the_workload_flags_only_reads_those() {
        let command = read_from_variables(One::command());
        let env = |id: &str| {
            command
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_env().map(|v| v.to_owned()))
        };
        assert_eq!(env("concurrency"), None, "its own --concurrency is one C");
        assert_eq!(env("timeout_ms"), Some("FANOUT_TIMEOUT_MS".into()));
    }
}

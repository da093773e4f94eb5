//! The versions of what the peers run with, asked of the installed programs.

use std::collections::BTreeMap;

use super::install;
use super::peer::Command;

/// What `command` runs with, asked of it (a `name version` per line: `python -c`, the Go
/// peer's `-version`, `oha --version`); empty when it is not installed or says nothing.
pub fn of(command: &Command) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    let Some((program, args)) = command.version_argv.split_first() else {
        return versions;
    };
    let Ok(path) = install::program_path(program, &command.install) else {
        return versions;
    };
    let Ok(out) = std::process::Command::new(path).args(args).output() else {
        return versions;
    };
    if out.status.success() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((name, version)) = line.trim().split_once(' ') {
                versions.insert(name.to_owned(), version.trim().to_owned());
            }
        }
    }
    versions
}

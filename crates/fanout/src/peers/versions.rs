//! The versions of what the peers run with, asked of the installed programs.

use std::collections::BTreeMap;
use std::process::Command;

use super::install;
use super::peer::Program;

/// What `program` runs with, asked of it (`python -c`, the Go peer's `-version`,
/// `oha --version`); empty when it is not installed.
pub fn of(program: Program) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    let Ok((path, _)) = install::locate(program) else {
        return versions;
    };
    let ask = |args: &[&str]| -> Option<String> {
        let out = Command::new(&path).args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    match program {
        Program::Python(_) => {
            let script = "import sys, importlib.metadata as m\n\
                print('python', sys.version.split()[0])\n\
                for p in ('aiohttp', 'requests', 'httpx'):\n    print(p, m.version(p))";
            for line in ask(&["-c", script]).unwrap_or_default().lines() {
                if let Some((name, version)) = line.split_once(' ') {
                    versions.insert(name.to_owned(), version.to_owned());
                }
            }
        }
        Program::Go => {
            versions.extend(ask(&["-version"]).map(|v| ("go".to_owned(), v)));
        }
        Program::Oha => {
            let version = ask(&["--version"]);
            versions.extend(
                version.map(|v| ("oha".to_owned(), v.trim_start_matches("oha ").to_owned())),
            );
        }
        // A program of the user's own says its versions in its line, if it wants to.
        Program::Custom(_) | Program::Described(_) => {}
    }
    versions
}

//! Peers described by a file: a JSON object per peer — its name, what it models, what holds
//! a request in flight, its command line and what installs its program — in the folder
//! `FANOUT_PEER_FILES` names (docs/peers.md; `peers/examples/` holds one). fanout meters such a
//! peer as it meters the built-in ones: its own process, the protocol's JSON line.
//!
//! ```json
//! {"name": "perl_threads", "models": "…", "held_by": "thread",
//!  "command": ["perl", "{dir}/perl_threads.pl", "{url}", "{c}", "{n}", "{timeout_ms}"],
//!  "install": "apt-get install perl"}
//! ```
//!
//! `{dir}` is the file's folder; `{url}`, `{c}`, `{n}` and `{timeout_ms}` are each point's.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

use super::peer::{Command, PREFIX, Peer, Prints, Program, Takes};
use crate::model::subject::{HeldBy, Holds};

/// The variable naming the folder of peer files.
pub const FILES_VAR: &str = "FANOUT_PEER_FILES";

/// A peer file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    models: String,
    held_by: HeldBy,
    command: Vec<String>,
    install: String,
    #[serde(default)]
    reset_reads_as_truncated: bool,
}

/// The peer `peer:NAME` described by `NAME.json` in the folder of peer files: `None` when
/// there is no such file, an error naming the file when it is not a peer's description.
pub fn find(name: &str) -> Result<Option<&'static Peer>, String> {
    let Some(short) = name.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let Some(dir) = std::env::var_os(FILES_VAR).map(PathBuf::from) else {
        return Ok(None);
    };
    let path = dir.join(format!("{short}.json"));
    if !path.is_file() {
        return Ok(None);
    }
    static MADE: Mutex<Vec<&'static Peer>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = made.iter().find(|p| p.subject.name == name) {
        return Ok(Some(peer));
    }
    let peer = read(&path, short).map_err(|why| format!("{}: {why}", path.display()))?;
    // Points refer to their subject as `&'static`: one per file read, kept for the process.
    let peer: &'static Peer = Box::leak(Box::new(peer));
    made.push(peer);
    Ok(Some(peer))
}

/// The peer `path` describes, named `short` (its file's name).
fn read(path: &Path, short: &str) -> Result<Peer, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let file: File = serde_json::from_str(&text).map_err(|e| format!("not a peer file: {e}"))?;
    if file.name != short {
        return Err(format!(
            "names the peer {:?}; its file must be {}.json",
            file.name, file.name
        ));
    }
    if file.command.is_empty() {
        return Err("its command is empty".into());
    }
    for needed in ["{url}", "{c}", "{n}", "{timeout_ms}"] {
        if !file.command.iter().any(|arg| arg.contains(needed)) {
            return Err(format!("its command has no {needed}"));
        }
    }
    let dir = path
        .parent()
        .unwrap_or(Path::new("."))
        .display()
        .to_string();
    let command = Command {
        argv: file
            .command
            .iter()
            .map(|a| a.replace("{dir}", &dir))
            .collect(),
        install: file.install,
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let peer = Peer::new(
        leak(format!("{PREFIX}{short}")),
        leak(file.models),
        Holds::Concurrency,
        file.held_by,
        Program::Described(Box::leak(Box::new(command))),
        Takes::ClosedLoop,
        Prints::ProtocolLine,
    );
    Ok(if file.reset_reads_as_truncated {
        peer.reset_reads_as_truncated()
    } else {
        peer
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_file_is_read_and_a_bad_one_named_with_its_fault() {
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let write = |name: &str, json: &str| {
            let path = scratch.path().join(format!("{name}.json"));
            std::fs::write(&path, json).expect("written");
            path
        };
        let good = write(
            "mine",
            r#"{"name": "mine", "models": "my client", "held_by": "task",
               "command": ["{dir}/mine", "{url}", "{c}", "{n}", "{timeout_ms}"],
               "install": "make mine"}"#,
        );
        let peer = read(&good, "mine").expect("read");
        assert_eq!(peer.subject.name, "peer:mine");
        assert_eq!(peer.subject.held_by, HeldBy::Task);
        let Program::Described(command) = peer.program else {
            panic!("not described")
        };
        assert_eq!(
            command.argv[0],
            format!("{}/mine", scratch.path().display())
        );
        let cases = [
            (
                r#"{"name": "other", "models": "", "held_by": "task", "command": ["x", "{url}", "{c}", "{n}", "{timeout_ms}"], "install": ""}"#,
                "its file must be other.json",
            ),
            (
                r#"{"name": "bad", "models": "", "held_by": "task", "command": ["x", "{url}", "{c}", "{n}"], "install": ""}"#,
                "its command has no {timeout_ms}",
            ),
            (
                r#"{"name": "bad", "models": "", "held_by": "fiber", "command": [], "install": ""}"#,
                "not a peer file: unknown variant `fiber`",
            ),
            (
                r#"{"name": "bad", "models": "", "held_by": "task", "command": [], "install": "", "rate": 1}"#,
                "unknown field `rate`",
            ),
        ];
        for (json, expected) in cases {
            let err = read(&write("bad", json), "bad").expect_err(json);
            assert!(err.contains(expected), "{err}");
        }
    }
}

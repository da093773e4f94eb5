//! Peers described by a file: a JSON object per peer — its name, what it models, what holds
//! a request in flight, its command line and what installs its program — in the repository's
//! `peers/` (every peer shipped with fanout, compiled in) or the folder `FANOUT_PEER_FILES`
//! names (docs/peers.md; `peers/examples/` holds one). fanout meters each the same way: its
//! own process, the protocol's JSON line (or oha's JSON, read by `oha.rs`).
//!
//! ```json
//! {"name": "perl_threads", "models": "…", "held_by": "thread",
//!  "command": ["perl", "{dir}/perl_threads.pl", "{url}", "{c}", "{n}", "{timeout_ms}"],
//!  "install": "apt-get install perl"}
//! ```
//!
//! `{dir}` is the file's folder, `{peers}` where `scripts/peers.sh` installs; `{url}`, `{c}`,
//! `{n}`, `{timeout_ms}` and (in `rate_arguments`) `{rate}` are each point's.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

use super::install;
use super::peer::{Command, PREFIX, Peer, Prints, Program, Takes, fill};
use crate::model::settings::Protocol;
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
    /// How many it holds in flight by design, when not C: `{"cores_plus": {"add", "most"}}`.
    #[serde(default)]
    holds: FileHolds,
    command: Vec<String>,
    /// The arguments that give it a constant rate, `{rate}` in them; absent when it stays
    /// closed-loop.
    #[serde(default)]
    rate_arguments: Vec<String>,
    /// What it prints: the protocol's line, or oha's JSON (read by `oha.rs`).
    #[serde(default)]
    prints: FilePrints,
    install: String,
    #[serde(default)]
    reset_reads_as_truncated: bool,
    /// The protocol it always speaks, when it speaks one only (`h2`); else HTTP/1.1, as
    /// `--protocol` does not reach a program.
    #[serde(default)]
    protocol: Option<Protocol>,
    /// A command printing a `name version` per line, for SETUP.md.
    #[serde(default)]
    version_command: Vec<String>,
}

/// What a file may say a peer holds in flight: C, or a pool sized by the machine.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FileHolds {
    #[default]
    Concurrency,
    CoresPlus {
        add: usize,
        most: usize,
    },
}

/// What a file may say a peer prints.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FilePrints {
    #[default]
    ProtocolLine,
    OhaJson,
}

/// The peers shipped with fanout as files, `peers/NAME.json`, compiled in so that a binary
/// built anywhere knows them (and reads their points back); their programs are found at run
/// time under the repository's `peers/` and `scripts/peers.sh`'s install folder. Their order
/// is the catalog's (and so each one's colour in the charts). A test keeps this list and the
/// folder's files the same.
const SHIPPED: &[(&str, &str)] = &[
    (
        "py_aiohttp",
        include_str!("../../../../peers/py_aiohttp.json"),
    ),
    (
        "py_threads",
        include_str!("../../../../peers/py_threads.json"),
    ),
    (
        "py_to_thread",
        include_str!("../../../../peers/py_to_thread.json"),
    ),
    ("py_httpx", include_str!("../../../../peers/py_httpx.json")),
    ("go", include_str!("../../../../peers/go.json")),
    ("oha", include_str!("../../../../peers/oha.json")),
    ("go_h2", include_str!("../../../../peers/go_h2.json")),
    (
        "java_httpclient",
        include_str!("../../../../peers/java_httpclient.json"),
    ),
    (
        "java_socket",
        include_str!("../../../../peers/java_socket.json"),
    ),
    (
        "node_fetch",
        include_str!("../../../../peers/node_fetch.json"),
    ),
    (
        "node_http2",
        include_str!("../../../../peers/node_http2.json"),
    ),
];

/// The folder of the shipped peers' programs, `{dir}` in their files: the repository's
/// `peers/`.
pub fn shipped_dir() -> PathBuf {
    install::root().join("peers")
}

/// The peers shipped as files, in [`SHIPPED`]'s order, each read once.
pub fn shipped() -> &'static [&'static Peer] {
    static READ: std::sync::OnceLock<Vec<&'static Peer>> = std::sync::OnceLock::new();
    READ.get_or_init(|| {
        let folder = shipped_dir();
        SHIPPED
            .iter()
            // A file that does not read is left out here; the test of SHIPPED reads each.
            .filter_map(|(short, text)| from_text(text, short, &folder).ok())
            .map(|peer| -> &'static Peer { Box::leak(Box::new(peer)) })
            .collect()
    })
}

/// The peer `peer:NAME`: shipped, or described by `NAME.json` in the folder
/// `FANOUT_PEER_FILES` names (a shipped name is never a user's); `None` when there is no
/// such file, an error naming the file when it is not a peer's description.
pub fn find(name: &str) -> Result<Option<&'static Peer>, String> {
    if let Some(peer) = shipped().iter().find(|p| p.subject.name == name) {
        return Ok(Some(peer));
    }
    let Some(short) = name.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    // A name is a file's name in the folder, never a path out of it.
    if short.is_empty() || !short.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Ok(None);
    }
    let Some(dir) = std::env::var_os(FILES_VAR)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
    else {
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
    from_text(&text, short, path.parent().unwrap_or(Path::new(".")))
}

/// The peer `text` describes, named `short`, its file in `folder`.
fn from_text(text: &str, short: &str, folder: &Path) -> Result<Peer, String> {
    let file: File = serde_json::from_str(text).map_err(|e| format!("not a peer file: {e}"))?;
    if file.name != short {
        return Err(format!(
            "names the peer {:?}; its file must be {}.json",
            file.name, file.name
        ));
    }
    let Some((program, args)) = file.command.split_first() else {
        return Err("its command is empty".into());
    };
    for needed in ["{url}", "{c}", "{n}", "{timeout_ms}"] {
        if !args.iter().any(|arg| arg.contains(needed)) {
            return Err(format!("its command's arguments have no {needed}"));
        }
    }
    // The file's folder, absolute, so the program's path holds wherever fanout runs.
    let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_owned());
    let dir = folder.display().to_string();
    let peers = install::installed_dir().display().to_string();
    let places = [("dir", dir.as_str()), ("peers", peers.as_str())];
    let command = Command {
        argv: std::iter::once(fill(program, &places))
            .chain(args.iter().cloned())
            .collect(),
        rate_args: file.rate_arguments,
        version_argv: file
            .version_command
            .iter()
            .map(|a| fill(a, &places))
            .collect(),
        dir,
        install: file.install,
    };
    let holds = match file.holds {
        FileHolds::Concurrency => Holds::Concurrency,
        FileHolds::CoresPlus { add, most } => Holds::CoresPlus { add, most },
    };
    let takes = if command.rate_args.is_empty() {
        Takes::ClosedLoop
    } else {
        Takes::ConstantRate
    };
    let prints = match file.prints {
        FilePrints::ProtocolLine => Prints::ProtocolLine,
        FilePrints::OhaJson => Prints::OhaJson,
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let peer = Peer::new(
        leak(format!("{PREFIX}{short}")),
        leak(file.models),
        holds,
        file.held_by,
        Program::Described(Box::leak(Box::new(command))),
        takes,
        prints,
    );
    let peer = match file.protocol {
        Some(protocol) => peer.speaking(protocol),
        None => peer,
    };
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
    fn every_shipped_peer_file_is_compiled_in_and_reads() {
        let mut in_folder: Vec<String> = std::fs::read_dir(shipped_dir())
            .expect("peers/")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| f.strip_suffix(".json").map(str::to_owned))
            .collect();
        in_folder.sort();
        let mut compiled: Vec<_> = SHIPPED.iter().map(|(short, _)| *short).collect();
        compiled.sort_unstable();
        assert_eq!(
            in_folder, compiled,
            "SHIPPED lists every peers/*.json, by name"
        );
        for (short, text) in SHIPPED {
            from_text(text, short, &shipped_dir()).unwrap_or_else(|e| panic!("{short}: {e}"));
        }
        assert_eq!(shipped().len(), SHIPPED.len());
    }

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
        // One pass: a value holding a placeholder's text is not filled again.
        let filled = fill("{dir}/x {n} {other}", &[("dir", "/a{n}"), ("n", "5")]);
        assert_eq!(filled, "/a{n}/x 5 {other}");
        let cases = [
            (
                r#"{"name": "other", "models": "", "held_by": "task", "command": ["x", "{url}", "{c}", "{n}", "{timeout_ms}"], "install": ""}"#,
                "its file must be other.json",
            ),
            (
                r#"{"name": "bad", "models": "", "held_by": "task", "command": ["x", "{url}", "{c}", "{n}"], "install": ""}"#,
                "its command's arguments have no {timeout_ms}",
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

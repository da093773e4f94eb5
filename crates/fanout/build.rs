//! Records the toolchain, the versions of the crates whose behaviour is measured and the commit
//! the build is made from, for the `facts.json` and `SETUP.md` of every run folder.

use std::path::Path;
use std::process::Command;

const MEASURED_CRATES: &[&str] = &[
    "tokio",
    "reqwest",
    "hyper",
    "ureq",
    "rustls",
    "may",
    "compio",
    "cyper",
    "async-executor",
    "async-io",
    "h2",
    "axum",
    "crossbeam-channel",
];

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(
            || "rustc (unknown version)".to_owned(),
            |v| v.trim().to_owned(),
        );
    println!("cargo:rustc-env=FANOUT_RUSTC_VERSION={version}");

    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = Path::new(&manifest_dir).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut found = Vec::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take())
            && MEASURED_CRATES.contains(&n.as_str())
        {
            found.push(format!("{n} {}", v.trim_matches('"')));
        }
    }
    // One variable per crate too (`FANOUT_VERSION_UREQ`), for what a point records it ran on.
    for krate in MEASURED_CRATES {
        let versions: Vec<&str> = found
            .iter()
            .filter_map(|f| f.strip_prefix(krate)?.strip_prefix(' '))
            .collect();
        let var = krate.to_ascii_uppercase().replace('-', "_");
        let value = if versions.is_empty() {
            "unknown".to_owned()
        } else {
            versions.join(" and ")
        };
        println!("cargo:rustc-env=FANOUT_VERSION_{var}={value}");
    }
    let crates = if found.is_empty() {
        "unknown (no Cargo.lock)".to_owned()
    } else {
        found.join(", ")
    };
    println!("cargo:rustc-env=FANOUT_CRATE_VERSIONS={crates}");
    println!(
        "cargo:rustc-env=FANOUT_BUILD_COMMIT={}",
        build_commit(&manifest_dir)
    );
}

/// The commit this build is made from, `-dirty` where what it compiles (the workspace's
/// sources and manifests, and the data files compiled in) differs from it; empty outside a git
/// checkout. A run records this, not the working tree's state as it runs, which may have moved
/// on since the build.
fn build_commit(manifest_dir: &str) -> String {
    let root = Path::new(manifest_dir).join("../..");
    const COMPILED: &[&str] = &["crates", "mock-server", "presets", "peers", "Cargo.toml"];
    // A commit moves HEAD's log; an edit moves a file under these folders.
    for watched in [".git/HEAD", ".git/logs/HEAD"].iter().chain(COMPILED) {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short", "HEAD"]).filter(|c| !c.is_empty()) else {
        return String::new();
    };
    let mut status = vec![
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
    ];
    status.extend(COMPILED);
    status.push("Cargo.lock");
    match git(&status) {
        Some(changes) if !changes.is_empty() => format!("{commit}-dirty"),
        _ => commit,
    }
}

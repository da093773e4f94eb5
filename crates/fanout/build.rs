//! Records the toolchain and the versions of the crates whose behaviour is measured, for the
//! `SETUP.md` of every run folder.

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
}

//! A run folder's index.html in a real browser: `fanout report` writes it with the charts, and
//! headless Chromium opens it from disk, every chart loaded, and takes a screenshot. Where no
//! Chromium is installed (Debian: `apt-get install chromium`) the test says so and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

/// The fixture's points in a temporary folder of their own (gone when dropped).
fn copy_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-2026-11-23/points.jsonl");
    std::fs::copy(fixture, dir.path().join("points.jsonl")).expect("copy the fixture");
    dir
}

#[test]
fn the_index_page_shows_every_chart_in_a_real_browser() {
    let scratch = copy_fixture();
    let dir = scratch.path();
    common::succeeds(&["report", dir.to_str().expect("utf-8")]);
    let page = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    let charts = page.matches("<img src=").count();
    assert!(charts >= 7, "the charts on the page: {charts}");
    assert!(page.contains("<table>"), "the summary's tables as HTML");
    let Some(chromium) = chromium() else {
        common::skipped(
            "index.html in a browser",
            "no chromium on PATH (apt-get install chromium)",
        );
        return;
    };
    let url = format!("file://{}", dir.join("index.html").display());
    let browser = |extra: &[&str]| {
        Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=5000",
            ])
            .args(extra)
            .arg(&url)
            .output()
            .expect("run chromium")
    };
    let dom = browser(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(&format!("data-charts-loaded=\"{charts}\"")),
        "every chart loads in the browser: {}",
        dom.lines()
            .find(|l| l.contains("<body"))
            .unwrap_or_default()
    );
    let shot = dir.join("index.png");
    let taken = browser(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1300,2400",
    ]);
    let png = std::fs::read(&shot).unwrap_or_default();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a screenshot: {} bytes; {}",
        png.len(),
        String::from_utf8_lossy(&taken.stderr)
    );
}

//! The figures of README.md and docs/ are their run folders': `fanout docs --check` regenerates
//! every block and fails if one would change. And a run folder exports for continuous
//! benchmarking in each format's documented shape.

use std::process::Command;

use fanout::analysis::figures::EXPORTED;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

mod common;
use common::{fails, fanout, succeeds};

#[test]
fn every_generated_figure_in_the_docs_is_up_to_date() {
    succeeds(&["docs", "--check", "--root", ROOT]);
}

fn fixture() -> String {
    format!(
        "{}/tests/fixtures/run-2026-11-23",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn bencher_metric_format_is_benchmarks_of_measures_of_value_and_bounds() {
    let out = succeeds(&["export", "--format", "bmf", &fixture()]);
    let bmf: Value = serde_json::from_str(&out).expect("json");
    let benchmarks = bmf.as_object().expect("an object of benchmarks");
    assert!(
        benchmarks.contains_key("thread_pool/10000"),
        "{:?}",
        benchmarks.keys()
    );
    for (name, measures) in benchmarks {
        let measures = measures.as_object().expect("an object of measures");
        for slug in EXPORTED.iter().map(|f| f.key) {
            let m = &measures[slug];
            let (v, lo, hi) = (
                m["value"].as_f64(),
                m["lower_value"].as_f64(),
                m["upper_value"].as_f64(),
            );
            let (Some(v), Some(lo), Some(hi)) = (v, lo, hi) else {
                panic!("{name} {slug}: {m}");
            };
            assert!(lo <= v && v <= hi, "{name} {slug}: {m}");
        }
    }
}

#[test]
fn github_action_benchmark_json_is_a_list_of_named_values_with_units() {
    let out = fanout(&["export", "--format", "github", &fixture()]);
    let entries: Value = serde_json::from_slice(&out.stdout).expect("json");
    let entries = entries.as_array().expect("a list");
    assert!(!entries.is_empty());
    for e in entries {
        assert!(e["name"].is_string() && e["unit"].is_string(), "{e}");
        assert!(e["value"].is_number(), "{e}");
        assert!(e["range"].is_string() && e["extra"].is_string(), "{e}");
    }
    assert!(
        entries
            .iter()
            .any(|e| e["name"] == "thread_pool/10000 peak_rss" && e["unit"] == "MiB")
    );
    // A folder that is not one: one clear line.
    let stderr = fails(&["export", "--format", "bmf", "/nonexistent"]);
    assert!(stderr.contains("not a run folder"), "{stderr}");
}

#[test]
fn an_export_read_by_a_reader_that_stops_early_ends_quietly() {
    // The reader closes before fanout writes (it loads the folder first): the write meets a
    // broken pipe, which ends the export with success, not a panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(["export", "--format", "github", &fixture()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run fanout");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped (hyphens and
/// underscores kept), spaces to hyphens.
fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a markdown file's headings.
fn anchors(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor_of(l.trim_start_matches('#')))
        .collect()
}

/// Every `](target)` link of a markdown text.
fn links(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            rest.find(')').map(|end| rest[..end].to_owned())
        })
        .collect()
}

#[test]
fn every_link_in_the_docs_reaches_a_file_and_a_heading_that_exist() {
    let root = std::path::Path::new(ROOT);
    let mut pages = vec![root.join("README.md"), root.join("results/README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("page");
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                page.clone()
            } else {
                page.parent().expect("dir").join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", page.display()));
                continue;
            }
            let is_page = target.extension().is_some_and(|e| e == "md");
            if !anchor.is_empty() && is_page {
                let there = std::fs::read_to_string(&target).expect("target");
                if !anchors(&there).iter().any(|a| a == anchor) {
                    broken.push(format!("{}: {link} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_folder_measured_under_an_older_measurement_version_is_stale() {
    use fanout::record::report::MEASUREMENT_VERSION;
    use fanout::results::staleness::stale;
    let root = std::path::Path::new(ROOT);
    let fresh = "results/2026-12-07-reference";
    // The same points, one of them marked as measured under a version before this one.
    let old = tempfile::tempdir().expect("a temporary folder");
    let lines = std::fs::read_to_string(root.join(fresh).join("points.jsonl")).expect("points");
    let mut first = true;
    let marked: Vec<String> = lines
        .lines()
        .map(|line| {
            let mut point: Value = serde_json::from_str(line).expect("a point");
            if std::mem::take(&mut first) {
                point["measurement_version"] = (MEASUREMENT_VERSION - 1).into();
            }
            point.to_string()
        })
        .collect();
    std::fs::write(old.path().join("points.jsonl"), marked.join("\n") + "\n").expect("write");
    let old_name = old.path().to_string_lossy().into_owned();
    let found = stale(root, &[fresh.to_owned(), old_name.clone()]).expect("both read");
    let names: Vec<&str> = found.iter().map(|s| s.folder.as_str()).collect();
    assert_eq!(names, [old_name.as_str()], "{found:?}");
    assert_eq!(found[0].version, MEASUREMENT_VERSION - 1);
}

#[test]
fn every_run_folder_has_its_entry_in_the_results_index() {
    let results = std::path::Path::new(ROOT).join("results");
    let index = std::fs::read_to_string(results.join("README.md")).expect("results/README.md");
    let missing: Vec<String> = std::fs::read_dir(&results)
        .expect("results/")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?.to_owned();
            let entry = format!("\n## {name}\n");
            (path.is_dir() && !index.contains(&entry)).then_some(name)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "results/README.md has no `## NAME` entry for {missing:?}"
    );
}

/// The README's prose, as sentences: code blocks, tables, images, headings and HTML lines
/// (markers, stamps) left out; a sentence ends at `.`, `?` or `!` before a space and a capital,
/// a bold or a code span.
fn sentences(markdown: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut in_code = false;
    for line in markdown.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let skipped = ['|', '<', '#', '!'];
        if in_code || line.is_empty() || skipped.iter().any(|c| line.starts_with(*c)) {
            prose.push('\n');
            continue;
        }
        // A list item starts a sentence of its own.
        if line.starts_with("- ") {
            prose.push('\n');
        }
        prose.push_str(line);
        prose.push(' ');
    }
    let mut out = Vec::new();
    for paragraph in prose.split('\n') {
        let chars: Vec<char> = paragraph.chars().collect();
        let mut start = 0;
        for i in 0..chars.len() {
            let ends = matches!(chars[i], '.' | '?' | '!')
                && chars.get(i + 1) == Some(&' ')
                && chars
                    .get(i + 2)
                    .is_some_and(|c| c.is_uppercase() || *c == '*' || *c == '`');
            if ends || i + 1 == chars.len() {
                let sentence: String = chars[start..=i].iter().collect();
                if !sentence.trim().is_empty() {
                    out.push(sentence.trim().to_owned());
                }
                start = i + 1;
            }
        }
    }
    out
}

#[test]
fn the_readme_fits_150_lines_and_no_sentence_of_it_runs_past_60_words() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(ROOT).join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(lines <= 150, "README.md has {lines} lines, more than 150");
    let long: Vec<String> = sentences(&readme)
        .into_iter()
        .filter(|s| s.split_whitespace().count() > 60)
        .collect();
    assert!(
        long.is_empty(),
        "sentences of more than 60 words:\n{}",
        long.join("\n\n")
    );
    // The splitter itself: two sentences, a decimal and an abbreviation kept whole.
    assert_eq!(
        sentences("It took 0.45 s, e.g. here. **Then** more.\n"),
        ["It took 0.45 s, e.g. here.", "**Then** more."]
    );
}

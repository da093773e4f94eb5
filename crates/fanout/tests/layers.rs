//! The crate's layers hold: read from the source itself, every `use crate::…` / `use super::…`
//! path and inline `crate::…` path of every line of every file (its `#[cfg(test)]` items left
//! out) goes to a file of its own
//! layer or of a layer `lib.rs` lists before it, and no file imports a file that imports it
//! back, directly or through others — in every crate of the workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path: `["model", "job"]` for `src/model/job.rs`, `["model"]` for `src/model/mod.rs`.
type Module = Vec<String>;

/// Every source file of `src` but the crate roots, by module path.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("inside src");
            let mut module: Module = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module == ["lib"] || module == ["main"] || module.first().is_some_and(|m| m == "bin")
            {
                continue;
            }
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            found.insert(module, path);
        }
    }
    found
}

/// The file's code, every line of it but the items under `#[cfg(test)]` (a test module may
/// use what its layer may not, fixtures from above), with `//` comments cut off.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a source file");
    without_test_items(&text)
}

/// `text` without its `#[cfg(test)]` items (each to the `;` or the closing brace that ends it)
/// and without `//` comments.
fn without_test_items(text: &str) -> String {
    let mut kept = String::new();
    // Inside a test item: the braces open in it so far, and whether its body has begun.
    let mut skipping: Option<(i64, bool)> = None;
    for line in text.lines() {
        let line = line.find("//").map_or(line, |i| &line[..i]);
        if let Some((depth, begun)) = skipping.as_mut() {
            for ch in line.chars() {
                match ch {
                    '{' => (*depth += 1, *begun = true).1,
                    '}' => *depth -= 1,
                    _ => {}
                }
            }
            let ended = (*begun && *depth <= 0) || (!*begun && line.trim_end().ends_with(';'));
            if ended {
                skipping = None;
            }
            continue;
        }
        if line.trim_start().starts_with("#[cfg(test)]") {
            skipping = Some((0, false));
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (spaces removed).
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let (head, body) = (
        &tree[..open],
        &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())],
    );
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            '{' => (depth += 1, current.push(ch)).1,
            '}' => (depth -= 1, current.push(ch)).1,
            _ => current.push(ch),
        }
    }
    parts.push(current);
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(p))
        .map(|p| format!("{head}{p}"))
        .collect()
}

/// The paths a file's code names: its `use` trees, expanded, and inline `crate::`/`super::`
/// paths; in a `mod.rs`, a child module it declares and then names (`child::x`).
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let starts_word = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let after = &rest[i + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if starts_word {
            found.extend(expand(&after[..end]));
        }
        rest = &after[end.min(after.len())..];
    }
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .collect();
    for word in &words {
        if word.starts_with("crate::") || word.starts_with("super::") {
            found.push(word.trim_end_matches(':').to_owned());
        }
    }
    for line in code.lines() {
        let line = line.trim();
        let declared = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|m| m.strip_suffix(';'));
        if let Some(child) = declared {
            let named = format!("{child}::");
            if words.iter().any(|w| w.starts_with(&named)) {
                found.push(format!("self::{child}"));
            }
        }
    }
    found
}

/// The file module `path` (named in `from`) resolves to: the longest prefix that is a file.
fn resolve(from: &Module, path: &str, files: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Module = match segments.first().copied()? {
        "crate" => {
            segments.remove(0);
            Vec::new()
        }
        "self" => {
            segments.remove(0);
            from.clone()
        }
        "super" => {
            let mut base = from.clone();
            while segments.first() == Some(&"super") {
                segments.remove(0);
                base.pop();
            }
            base
        }
        _ => return None,
    };
    let start = base.len();
    base.extend(segments.iter().map(|s| (*s).to_owned()));
    (start..=base.len())
        .rev()
        .map(|k| base[..k].to_vec())
        .find(|candidate| files.contains_key(candidate))
}

/// Each file's imports of other files of the crate at `src`.
fn imports(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let files = modules(src);
    files
        .iter()
        .map(|(module, path)| {
            let targets = paths(&code(path))
                .iter()
                .filter_map(|p| resolve(module, p, &files))
                .filter(|target| target != module)
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

/// A cycle of files importing each other, if the graph has one.
fn cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        done: &mut BTreeSet<Module>,
        path: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(i) = path.iter().position(|m| m == node) {
            return Some(path[i..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, path) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shown(modules: &[Module]) -> String {
    let names: Vec<String> = modules.iter().map(|m| m.join("/")).collect();
    names.join(" → ")
}

#[test]
fn no_file_of_any_crate_imports_a_file_that_imports_it_back() {
    for src in ["crates/fanout/src", "mock-server/src", "benches/src"] {
        let graph = imports(&workspace().join(src));
        if let Some(found) = cycle(&graph) {
            panic!("{src}: an import cycle: {} → back", shown(&found));
        }
    }
}

#[test]
fn every_import_goes_to_its_own_layer_or_one_listed_before_it() {
    let src = workspace().join("crates/fanout/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    // The order is lib.rs's numbered list: `//! 3. [`metering`]: …`.
    let layers: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .filter_map(|l| l.trim().split_once(". [`"))
        .filter(|(n, _)| n.parse::<u32>().is_ok())
        .filter_map(|(_, rest)| rest.split_once('`').map(|(name, _)| name))
        .collect();
    let declared = lib.lines().filter(|l| l.starts_with("pub mod ")).count();
    assert_eq!(
        layers.len(),
        declared,
        "lib.rs lists every layer: {layers:?}"
    );
    let rank = |m: &Module| {
        layers
            .iter()
            .position(|l| m.first().is_some_and(|f| f == l))
    };
    let mut wrong = Vec::new();
    for (from, targets) in imports(&src) {
        let from_rank = rank(&from).unwrap_or_else(|| panic!("{from:?} is in no layer"));
        for to in targets {
            if rank(&to).is_some_and(|r| r > from_rank) {
                wrong.push(format!("{} imports {}", from.join("/"), to.join("/")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports up the layers:\n{}",
        wrong.join("\n")
    );
}

/// The words of `code`: identifiers and paths (`tokio::spawn`, `peer:go`).
fn words(code: &str) -> Vec<&str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .collect()
}

/// The external crates `code` names: `name::` paths of the crates in `names`.
fn crates_named<'a>(code: &str, names: &[&'a str]) -> Vec<&'a str> {
    let words = words(code);
    names
        .iter()
        .copied()
        .filter(|name| {
            let path = format!("{name}::");
            words.iter().any(|w| w.starts_with(&path))
        })
        .collect()
}

/// What `found` finds in the code of each file of `layer`, as `module: word` lines.
fn in_layer(layer: &str, found: impl Fn(&str) -> Vec<String>) -> Vec<String> {
    let src = workspace().join("crates/fanout/src");
    let mut lines = Vec::new();
    for (module, path) in modules(&src) {
        if module.first().is_some_and(|m| m == layer) {
            for word in found(&code(&path)) {
                lines.push(format!("{}: {word}", module.join("/")));
            }
        }
    }
    lines
}

#[test]
fn the_model_layer_is_plain_data_with_no_runtime_and_no_http_library() {
    // The model is what every layer above shares: no async runtime, no HTTP library of a
    // strategy's (each client parses the job's URL for itself). clap stays: `Settings`
    // derives its flags, so a setting is one field with its flag, not a field here and a
    // mirror of it in the CLI.
    let forbidden = [
        "reqwest",
        "ureq",
        "tokio",
        "smol",
        "compio",
        "may",
        "async_io",
        "hyper",
        "hyper_util",
        "h2",
        "cyper",
    ];
    let wrong = in_layer("model", |code| {
        let named = crates_named(code, &forbidden);
        named.into_iter().map(|c| format!("uses {c}")).collect()
    });
    assert!(wrong.is_empty(), "the model layer:\n{}", wrong.join("\n"));
    assert_eq!(
        crates_named("let x = tokio::spawn(a); use smol::Timer;", &forbidden),
        ["tokio", "smol"]
    );
}

#[test]
fn the_reader_sees_uses_inline_paths_and_child_modules() {
    let code = "use crate::model::{job::Job, tally::{Tally, TallySummary}};\n\
                use super::strategy::Strategy;\n\
                pub mod child;\n\
                fn f() { crate::os::cores(); child::go(); }\n";
    let found = paths(code);
    for expected in [
        "crate::model::job::Job",
        "crate::model::tally::Tally",
        "crate::model::tally::TallySummary",
        "super::strategy::Strategy",
        "crate::os::cores",
        "self::child",
    ] {
        assert!(found.iter().any(|p| p == expected), "{expected}: {found:?}");
    }
    // Only the test item is left out: code after a test module is read.
    let file = "use crate::a::X;\n#[cfg(test)]\nmod tests {\n    use crate::z::Y;\n    fn f() {}\n}\n\
                #[cfg(test)]\nmod more;\nuse crate::b::Z; // crate::c::W\n";
    let read = paths(&without_test_items(file));
    assert_eq!(
        read,
        ["crate::a::X", "crate::b::Z", "crate::a::X", "crate::b::Z"]
    );
    let mut graph = BTreeMap::new();
    let (a, b) = (vec!["a".to_owned()], vec!["b".to_owned()]);
    graph.insert(a.clone(), BTreeSet::from([b.clone()]));
    graph.insert(b.clone(), BTreeSet::new());
    assert_eq!(cycle(&graph), None);
    graph.insert(b.clone(), BTreeSet::from([a.clone()]));
    assert!(cycle(&graph).is_some(), "a → b → a is a cycle");
}

/// The strategy and peer names `code` spells out as a word.
fn names_in<'a>(code: &str, names: &[&'a str]) -> Vec<&'a str> {
    let words = words(code);
    names
        .iter()
        .copied()
        .filter(|name| words.contains(name))
        .collect()
}

#[test]
fn no_file_under_analysis_or_results_names_a_strategy_or_a_peer() {
    // What a strategy is to the findings (its model, its floor twin, the strategy a pitfall
    // spoils) is a fact of its `Subject`: a name written here would silently match nothing
    // after a rename.
    let names: Vec<&str> = fanout::planning::catalog::subjects()
        .map(|s| s.name)
        .collect();
    for layer in ["analysis", "results"] {
        let wrong = in_layer(layer, |code| {
            let named = names_in(code, &names);
            named.into_iter().map(|n| format!("names {n}")).collect()
        });
        assert!(wrong.is_empty(), "names in {layer}/:\n{}", wrong.join("\n"));
    }
    assert_eq!(
        names_in(
            "median(\"thread_raw\", 10); peer:go",
            &["thread_raw", "peer:go", "x"]
        ),
        ["thread_raw", "peer:go"]
    );
}

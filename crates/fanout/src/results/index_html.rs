//! A run folder's `index.html`: its setup, summary and charts on one page a browser opens
//! from disk — the tables rendered from `SETUP.md` and `summary.md`, every chart the folder has.
//! A small script counts the charts that loaded into `data-charts-loaded` on `<body>`, so a
//! headless browser can tell a page whose pictures are broken.

use std::path::Path;

use pulldown_cmark::{Options, Parser, html};

/// The page's file.
pub const INDEX_FILE: &str = "index.html";

/// Markdown as HTML, tables included.
fn html_of(markdown: &str) -> String {
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(markdown, Options::ENABLE_TABLES));
    out
}

/// Writes `dir/index.html` from what the folder holds: `SETUP.md`, `summary.md`, `NOTES.md`
/// and the SVG charts among `charts`.
pub fn write(dir: &Path, charts: &[&str]) -> std::io::Result<()> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let title = dir
        .file_name()
        .map_or("run".into(), |n| n.to_string_lossy().into_owned());
    let present: Vec<&&str> = charts.iter().filter(|c| dir.join(c).is_file()).collect();
    let figures: String = present
        .iter()
        .map(|c| {
            format!("<figure><img src=\"{c}\" alt=\"{c}\"><figcaption>{c}</figcaption></figure>\n")
        })
        .collect();
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fanout: {title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 1300px; padding: 0 1em; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; border: 1px solid #eee; }}
</style></head>
<body data-charts="{count}" data-charts-loaded="0">
<h1>fanout run: {title}</h1>
<p>Raw rows: <a href="points.jsonl">points.jsonl</a>, <a href="points.csv">points.csv</a>; the plan: <a href="plan.json">plan.json</a>.</p>
<h2>Charts</h2>
{figures}
{summary}
{notes}
{setup}
<script>
window.addEventListener("load", () => {{
  const loaded = [...document.images].filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.chartsLoaded = loaded;
}});
</script>
</body></html>
"#,
        count = present.len(),
        summary = html_of(&read("summary.md")),
        notes = html_of(&read("NOTES.md")),
        setup = html_of(&read("SETUP.md")),
    );
    std::fs::write(dir.join(INDEX_FILE), page)
}

//! Which run folders the docs quote hold figures whose meaning has changed since: a folder
//! with a point measured under an older [`MEASUREMENT_VERSION`] than the code's holds figures
//! the code would no longer mean the same way (`fanout docs --stale`). A change of speed is
//! not one: that is what reruns and `fanout compare` are for.

use std::path::Path;

use anyhow::Context as _;

use super::run_folder;
use crate::record::report::MEASUREMENT_VERSION;

/// A quoted folder measured under an older meaning of its figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The folder, as the docs name it.
    pub folder: String,
    /// The oldest measurement version among its points.
    pub version: u32,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} was measured under measurement version {}, before version {MEASUREMENT_VERSION}",
            self.folder, self.version
        )
    }
}

/// The folders of `quoted` (relative to `root`) with a point of an older measurement version
/// than [`MEASUREMENT_VERSION`]. A script's folder, with rows of its own and no
/// `points.jsonl`, records no version: it counts as version 1, as a point without one does.
pub fn stale(root: &Path, quoted: &[String]) -> anyhow::Result<Vec<Stale>> {
    let mut out = Vec::new();
    for folder in quoted {
        let dir = root.join(folder);
        let version = if run_folder::points_file(&dir).is_file() {
            let points = run_folder::load_points(&dir)
                .with_context(|| format!("reading the points of {folder}"))?;
            points.iter().map(|p| p.measurement_version).min()
        } else {
            Some(1)
        };
        if let Some(version) = version.filter(|v| *v < MEASUREMENT_VERSION) {
            out.push(Stale {
                folder: folder.clone(),
                version,
            });
        }
    }
    Ok(out)
}

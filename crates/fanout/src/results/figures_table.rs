//! The schema's table of figures (`docs/schema.md`, a `fanout docs` block): each figure of
//! [`figures::ALL`], its heading, how it is read over repeats, which way is better, where it
//! is shown and what it is.

use super::markdown::{Align, Table};
use crate::analysis::figures::{self, ALL, Better, Reading};

/// The schema's table of figures: a row per figure of [`ALL`].
pub fn schema_table() -> String {
    let mut t = Table::new(
        [
            "figure",
            "heading",
            "over repeats",
            "better",
            "shown in",
            "what it is",
        ]
        .map(|h| (h, Align::Left)),
    );
    for f in ALL {
        let over = match f.reading {
            Reading::PerPoint(_) => "median (min–max)",
            Reading::Fitted(_) => "slope fitted over C",
        };
        let better = match f.better {
            Better::Lower => "lower",
            Better::Higher => "higher",
        };
        t.row([
            format!("`{}`", f.key),
            f.heading(),
            over.to_owned(),
            better.to_owned(),
            figures::views_of(f).join(", "),
            f.about.to_owned(),
        ]);
    }
    t.to_string()
}

//! A markdown table as every table of the run folders and docs is written: a heading row, a
//! rule with each column's alignment (text left, figures right), one line per row, each cell
//! unpadded between its bars (`| a | 1.5 |`) and an empty cell a bare bar, so a table's diff
//! shows only the cells that changed; and the one cell two tables share, a capacity.

use std::fmt;

/// How a column's cells align.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: names, reasons.
    Left,
    /// Figures.
    Right,
}

/// A table being written: its heading and rule, then rows as they are added.
#[derive(Debug, Clone)]
pub struct Table {
    text: String,
    rows: usize,
}

impl Table {
    /// A table of these columns, each a heading and its alignment.
    pub fn new<S: AsRef<str>>(columns: impl IntoIterator<Item = (S, Align)>) -> Self {
        let (headings, aligns): (Vec<S>, Vec<Align>) = columns.into_iter().unzip();
        let rule: String = aligns
            .iter()
            .map(|a| match a {
                Align::Left => "---|",
                Align::Right => "---:|",
            })
            .collect();
        let text = format!("{}|{rule}\n", line(headings.iter().map(|h| h.as_ref())));
        Self { text, rows: 0 }
    }

    /// A table whose first column is text and the rest figures, with these headings.
    pub fn figures<S: AsRef<str>>(headings: impl IntoIterator<Item = S>) -> Self {
        Self::new(
            headings
                .into_iter()
                .enumerate()
                .map(|(i, h)| (h, if i == 0 { Align::Left } else { Align::Right })),
        )
    }

    /// Adds a row of these cells.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.text.push_str(&line(cells));
        self.rows += 1;
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The table, or nothing where no row was added.
    pub fn or_nothing(self) -> String {
        if self.is_empty() {
            String::new()
        } else {
            self.text
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One line of cells: `| a | b |`, an empty cell a bare `|`.
fn line<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut s = String::from("|");
    for cell in cells {
        match cell.as_ref() {
            "" => s.push_str(" |"),
            c => {
                s.push(' ');
                s.push_str(c);
                s.push_str(" |");
            }
        }
    }
    s.push('\n');
    s
}

/// A capacity as a table cell: requests per second, or "unbounded".
pub fn capacity_cell(capacity: Option<f64>) -> String {
    capacity.map_or("unbounded".to_owned(), |c| format!("{c:.0}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capacity_is_a_rate_or_unbounded() {
        assert_eq!(capacity_cell(Some(999.6)), "1000");
        assert_eq!(capacity_cell(None), "unbounded");
    }

    #[test]
    fn a_table_is_its_heading_its_rule_and_a_line_per_row_with_empty_cells_bare() {
        let mut t = Table::new([
            ("strategy", Align::Left),
            ("C", Align::Right),
            ("", Align::Left),
        ]);
        assert!(t.is_empty());
        t.row(["thread_raw", "10", ""]);
        assert_eq!(
            t.to_string(),
            "| strategy | C | |\n|---|---:|---|\n| thread_raw | 10 | |\n"
        );
        assert!(!t.is_empty());
    }

    #[test]
    fn a_table_with_no_row_is_nothing_where_asked() {
        let t = Table::figures(["strategy", "KiB"]);
        assert_eq!(t.to_string(), "| strategy | KiB |\n|---|---:|\n");
        assert_eq!(Table::figures(["a"]).or_nothing(), "");
    }
}

//! Results, from the points' records (`crate::record`) up, in three parts:
//!
//! - the data: the run folder on disk (`run_folder`, `setup` with the run's facts), the
//!   statistics over repeats (`statistics`: medians, fits), the figures defined once
//!   (`figures`), two builds' paired rounds compared (`paired`), the steal a run saw (`steal`),
//!   whether a folder's figures still mean what the code measures (`staleness`);
//! - the findings (`findings`): points in, typed findings out — the verdict, the knees,
//!   overload, what a fault did, how far each strategy carried, the decision and the answer —
//!   worked out once per run folder and kept as its `findings.json` (`findings::folder`);
//! - the writers, which only format: the tables and text (`markdown`, `template` for the
//!   prose, `render`,
//!   `point_summary`, `docs_text`,
//!   `overload_table`, `fault_table`, `hedge_table`, `retry_table`), the CSV, the SVG charts
//!   (`charts`, `ramp_chart`, `hedge_chart`, `answer_chart`, `spectrum_chart`, `palette`), the
//!   HTML page, the docs' blocks (`docs`), one run compared with another (`compare`),
//!   `export`, `fanout ab`'s report (`ab_report`).

pub mod ab_report;
pub mod answer_chart;
pub mod charts;
pub mod compare;
pub mod csv;
pub mod docs;
pub mod docs_text;
pub mod export;
pub mod fault_table;
pub mod figures;
pub mod findings;
pub mod hedge_chart;
pub mod hedge_table;
pub mod index_html;
pub mod markdown;
pub mod overload_table;
pub mod paired;
pub mod palette;
pub mod point_summary;
pub mod ramp_chart;
pub mod render;
pub mod retry_table;
pub mod run_folder;
pub mod setup;
pub mod spectrum_chart;
pub mod staleness;
pub mod statistics;
pub mod steal;
pub mod template;

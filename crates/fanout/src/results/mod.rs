//! Results, from what a run's points say (`crate::analysis`) up: what people and tools read.
//!
//! - the run folder on disk (`run_folder`, `setup` with the run's facts), the steal a run saw
//!   (`steal`), whether a folder's figures still mean what the code measures (`staleness`);
//! - the writers, which only format: the tables and text (`markdown`, `template` for the
//!   prose, `render`, `point_summary`, `docs_text`, `overload_table`, `fault_table`,
//!   `hedge_table`, `retry_table`, `figures_table`), the CSV, the SVG charts (`charts`,
//!   `ramp_chart`, `hedge_chart`, `answer_chart`, `spectrum_chart`, `palette`), the HTML page,
//!   the docs' blocks (`docs`), one run compared with another (`compare`), `export`,
//!   `fanout ab`'s report (`ab_report`).

pub mod ab_report;
pub mod answer_chart;
pub mod charts;
pub mod compare;
pub mod csv;
pub mod docs;
pub mod docs_text;
pub mod export;
pub mod fault_table;
pub mod figures_table;
pub mod hedge_chart;
pub mod hedge_table;
pub mod index_html;
pub mod markdown;
pub mod overload_table;
pub mod palette;
pub mod point_summary;
pub mod ramp_chart;
pub mod render;
pub mod retry_table;
pub mod run_folder;
pub mod setup;
pub mod spectrum_chart;
pub mod staleness;
pub mod steal;
pub mod template;

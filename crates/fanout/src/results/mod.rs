//! Results: a point's report (what a run left behind, as JSON stores it), the run folder on
//! disk and its CSV, the statistics over repeats (medians, fits), the tables and text, the
//! SVG charts, and one run compared with another.

pub mod charts;
pub mod compare;
pub mod csv;
pub mod docs;
pub mod docs_text;
pub mod export;
pub mod figures;
pub mod findings;
pub mod index_html;
pub mod limit;
pub mod overload_table;
pub mod palette;
pub mod ramp_chart;
pub mod render;
pub mod report;
pub mod run_folder;
pub mod setup;
pub mod statistics;

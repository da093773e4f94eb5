//! The model: plain data every layer above shares — a point's settings and the rule for its
//! defaults, the facts of what can be measured, the job a worker is handed, what a strategy
//! records per request and the line a worker reports. It imports nothing above `os`.

pub mod client_config;
pub mod cpu_work;
pub mod error_kind;
pub mod floors;
pub mod intervals;
pub mod job;
pub mod knob;
pub mod leftovers;
pub mod limit;
pub mod memory;
pub mod ports_before;
pub mod rate;
pub mod retry;
pub mod schedule;
pub mod settings;
pub mod subject;
pub mod tally;
pub mod worker_report;

//! A point's record: what one measured point produced, as `fanout run --json` prints it and
//! `points.jsonl` stores it (`report`), mapped from what the run left behind, with the OS limit
//! that stopped it named (`limit`). Everything above reads points through this record; nothing
//! here draws, ranks or concludes.

pub mod limit;
pub mod report;

//! What a run's points say, worked out before anything is written: the statistics over
//! repeats (`statistics`: cells, medians, fits), the figures defined once (`figures`: how each
//! is read from a point and which way is better), two builds' paired rounds compared
//! (`paired`), and the findings (`findings`: the verdict, the knees, overload, what a fault
//! did, how far each strategy carried, the decision and the answer — kept per run folder as
//! its `findings.json`). Nothing here lays out text for people; `crate::results` does.

pub mod figures;
pub mod findings;
pub mod paired;
pub mod statistics;

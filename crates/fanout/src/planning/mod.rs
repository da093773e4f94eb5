//! Planning: what can be measured (the catalog of strategies and peers, by name), a point
//! (a subject and its workload), a plan of points, the preset plans, the flags that make a
//! workload and their `FANOUT_*` variables.

pub mod catalog;
pub mod flags;
pub mod key;
pub mod plan;
pub mod point;
pub mod preset;
pub mod variables;

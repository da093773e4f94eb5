//! Planning: what can be measured (the catalog of strategies and peers, by name), a point
//! (a subject and its workload), a plan of points and the preset plans.

pub mod catalog;
pub mod key;
pub mod plan;
pub mod point;
pub mod preset;

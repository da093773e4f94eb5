//! The strategies: one file each, holding its facts (`STRATEGY`) and its one
//! `pub fn run(job, tally)`, each a twin of its nearest sibling; and [`ALL`], their registry.
//! A pitfall is measured like any strategy; its figures are what show the pitfall.
//!
//! Adding a strategy is its file and its line in `registry!` below. The type every strategy
//! is lives beside the registry (`strategy.rs`), so the members never import the registry.

pub mod strategy;
mod tasks;

use strategy::Strategy;

/// Declares each strategy's module and lists it in [`ALL`], in the order given.
macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// All strategies, in the order of the README's table.
        pub const ALL: &[&Strategy] = &[$(&$module::STRATEGY),*];
    };
}

registry! {
    sequential,
    thread_per_request,
    thread_pool,
    async_semaphore,
    async_buffered,
    async_current_thread,
    async_spawn_blocking,
    async_cpu_offload,
    async_h2,
    thread_raw,
    coroutine_raw,
    async_raw,
    smol_raw,
    uring_raw,
    uring_cyper,
    async_hyper,
    async_h2_floor,
    pitfall_unbounded,
    pitfall_blocking_in_async,
    pitfall_client_per_request,
}

/// The strategy named `name`.
pub fn find(name: &str) -> Option<&'static Strategy> {
    ALL.iter().copied().find(|s| s.subject.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_is_found_by_the_name_its_facts_give_and_names_are_unique() {
        let mut names: Vec<_> = ALL.iter().map(|s| s.subject.name).collect();
        for name in &names {
            assert!(
                find(name).is_some_and(|s| s.subject.name == *name),
                "{name}"
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "a name is used twice");
        assert!(find("nope").is_none());
    }
}

//! The strategies: one file each, holding its facts (`STRATEGY`) and its one
//! `pub fn run(job, tally)`, each a twin of its nearest sibling; and [`ALL`], their registry.
//! A pitfall is measured like any strategy; its figures are what show the pitfall.
//!
//! Adding a strategy is its file and its line in `registry!` below. The type every strategy
//! is lives beside the registry (`strategy.rs`), so the members never import the registry.

pub mod strategy;
mod tasks;
mod threads;

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
    thread_h2,
    pitfall_unbounded,
    pitfall_blocking_in_async,
    pitfall_client_per_request,
}

/// Strategies a program built on fanout adds to [`ALL`] (`fanout::main_with`): a user's own
/// client, run, metered and reported as the built-in ones are.
static ADDED: std::sync::OnceLock<&'static [&'static Strategy]> = std::sync::OnceLock::new();

/// Adds `strategies` to what [`find`] and `fanout list` know, once per process, before any
/// command runs; a name already taken is refused.
pub fn add(strategies: &'static [&'static Strategy]) -> Result<(), String> {
    for s in strategies {
        let name = s.subject.name;
        // What a strategy list reads otherwise: a peer, every strategy, every peer, a list.
        if name.starts_with("peer:") || ["all", "peers", ""].contains(&name) || name.contains(',') {
            return Err(format!(
                "{name:?} cannot name a strategy: a list reads it otherwise"
            ));
        }
        let taken = ALL
            .iter()
            .chain(strategies.iter())
            .filter(|t| t.subject.name == name);
        if taken.count() > 1 {
            return Err(format!("a strategy named {name:?} exists already"));
        }
    }
    ADDED
        .set(strategies)
        .map_err(|_| "strategies were added already".to_owned())
}

/// The strategies added by [`add`], after [`ALL`]'s.
pub fn added() -> &'static [&'static Strategy] {
    ADDED.get().copied().unwrap_or_default()
}

/// Every strategy: [`ALL`], then the [`added`] ones.
pub fn every() -> impl Iterator<Item = &'static Strategy> {
    ALL.iter().chain(added()).copied()
}

/// The strategy named `name`, built in or added.
pub fn find(name: &str) -> Option<&'static Strategy> {
    every().find(|s| s.subject.name == name)
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

    #[test]
    fn a_strategy_added_under_a_name_taken_is_refused_and_nothing_is_added() {
        let again: &'static [&'static Strategy] = &[&sequential::STRATEGY];
        let refused = add(again).expect_err("sequential is built in");
        assert!(
            refused.contains("\"sequential\" exists already"),
            "{refused}"
        );
        assert!(added().is_empty());
        let mut peer = sequential::STRATEGY;
        peer.subject.name = "peer:go";
        let peer: &'static Strategy = Box::leak(Box::new(peer));
        let refused = add(Box::leak(Box::new([peer]))).expect_err("a peer's name");
        assert!(refused.contains("cannot name a strategy"), "{refused}");
        assert!(added().is_empty());
    }
}

//! A request's life, written once per runtime family over a small per-client exchange.
//!
//! A client gives an [`exchange`]: send one request on a slot's connection (opening it when
//! the slot has none) and say whether that connection can carry the next. Everything else a
//! request does — its due time, its deadline, its retries within a budget, its hedge within a
//! budget and the loser's cancellation, its outcome, its latency and its record — is a
//! driver's: [`blocking`] for OS threads and may's coroutines, [`tasks`] for tokio, smol and
//! compio (one driver over each runtime's timers). A strategy chooses a client, a runtime and
//! how it bounds what it holds, and hands each request to its family's driver; a new
//! per-request behaviour reaches every strategy by touching a driver and its settings.

pub mod alarm;
pub mod blocking;
pub mod exchange;
pub mod race;
pub mod tasks;

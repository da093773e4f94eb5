//! fanout: N HTTP requests in flight from Rust — OS threads or async tasks, measured.
//!
//! The crate is in layers, one folder each, and use runs one way: a layer imports only the
//! layers listed before it (and, inside a layer, no file imports a file that imports it back).
//! `tests/layers.rs` holds the code to this order.
//!
//! 1. [`os`]: every read of `/proc` and `/sys` (Linux) and the portable fallbacks elsewhere,
//!    signals, the machine and its limits.
//! 2. [`model`]: plain data — a point's settings and the rule for its defaults, the facts of
//!    what can be measured (`Subject`), the job a worker is handed, error kinds, the tally of
//!    outcomes, the line a worker reports.
//! 3. [`metering`]: inside the worker (the counting allocator, the sampler, CPU time) and
//!    outside it (a worker process metered by the harness).
//! 4. [`clients`]: ureq, reqwest, hyper, h2, cyper, the raw HTTP/1.1 codec, TLS, and the
//!    runtimes (tokio, smol, may, compio); one error classifier per client, beside it.
//! 5. [`strategies`]: one file per model, each with its facts; their registry.
//! 6. [`peers`]: programs of other languages and tools run as a point's worker; their
//!    registry, install lookup, protocol, oha's adapter.
//! 7. [`planning`]: the catalog of strategies and peers by name, a point, a plan, the presets.
//! 8. [`record`]: a point's record, as `points.jsonl` stores it, and the OS limit that stopped
//!    it.
//! 9. [`analysis`]: what the points say — statistics over repeats, the figures defined once,
//!    paired rounds, the findings (each folder's `findings.json`).
//! 10. [`results`]: the run folder and its CSV, tables, the markdown templates' prose
//!     (`templates/`), charts, the docs' blocks, comparisons.
//! 11. [`run`]: the harness (server and worker processes), the worker role, the sweep loop,
//!     the preflight.
//! 12. [`cli`]: the `fanout` command line.

pub mod analysis;
pub mod cli;
pub mod clients;
pub mod metering;
pub mod model;
pub mod os;
pub mod peers;
pub mod planning;
pub mod record;
pub mod results;
pub mod run;
pub mod strategies;

//! Your own client, measured as fanout measures its own: a reqwest `Client` with pool settings
//! of your choosing, added as the strategy `own_reqwest` beside the built-in ones. This program
//! is the whole `fanout` command with one more strategy, so its points run in fresh worker
//! processes, metered from outside, against the server it starts:
//!
//! ```text
//! cargo run --release -p fanout --example own_client -- list
//! cargo run --release -p fanout --example own_client -- sweep --quick \
//!     --strategies own_reqwest,async_semaphore
//! ```
//!
//! A strategy is its facts (a `Subject`: its name, the model it stands for, what holds a
//! request in flight) and one `run(job, tally)`. Here that is C tasks on tokio, each sending
//! requests through the request driver (`tasks::request`), which owns each request's due time,
//! deadline, retries, hedge and record; the client is yours, wrapped by `Reqwest::with_client`
//! (the job's URL, fanout's checks of each response, its error kinds). Change the builder
//! below and compare.

use std::process::ExitCode;
use std::sync::Arc;

use fanout::clients::raw::Countdown;
use fanout::clients::request::tasks::{self, Slot};
use fanout::clients::reqwest_client::{ClientError, Reqwest};
use fanout::clients::runtime::{Tokio, multi_thread_runtime};
use fanout::model::error_kind::ErrorKind;
use fanout::model::job::Job;
use fanout::model::settings::Protocol;
use fanout::model::subject::{ClientLib, HeldBy, Holds, Kind, RunsOn, Subject};
use fanout::model::tally::Tally;
use fanout::strategies::strategy::{Pool, Strategy, StrategyError};

/// The worker's heap is counted, as in the `fanout` binary.
#[global_allocator]
static HEAP: fanout::metering::alloc::Counting = fanout::metering::alloc::Counting;

/// The facts of `own_reqwest`: what a table, a chart and a point's JSON say of it.
const OWN_REQWEST: Strategy = Strategy {
    subject: Subject {
        name: "own_reqwest",
        models: "tokio multi-thread, C tasks, a reqwest Client that keeps no idle connection",
        holds: Holds::Concurrency,
        held_by: HeldBy::Task,
        runs_on: RunsOn::Tokio,
        client: ClientLib::Reqwest,
        protocol: None,
        connection_per_request: false,
        kind: Kind::Strategy,
        family: None,
    },
    pool: Pool::SharedClient,
    run,
};

/// Your client: here reqwest with its idle pool turned off (`pool_max_idle_per_host(0)`, a
/// setting met in the wild), so every request opens a connection of its own and closes it
/// after — what that costs beside `async_semaphore`'s pooled Client is what a sweep of both
/// shows, and the server's connection count confirms it.
fn client(job: &Job) -> Result<reqwest::Client, ClientError> {
    // reqwest is built in this workspace without a crypto provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .tcp_nodelay(true)
        .no_proxy();
    let builder = match job.settings.protocol {
        Protocol::H1 => builder.http1_only(),
        Protocol::H2 => builder.http2_prior_knowledge(),
    };
    // Trusting the certificate of the server fanout starts with `--tls`.
    let builder = builder.tls_backend_preconfigured(fanout::clients::tls::rustls_config(job));
    builder.build().map_err(ClientError::Build)
}

/// C tasks, each taking requests until N are taken.
fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let own = Reqwest::with_client(client(job)?, job)?;
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    let work = Arc::new(Countdown::new(job.requests));
    runtime.block_on(async {
        let mut slots = tokio::task::JoinSet::new();
        for _ in 0..job.concurrency.min(job.requests) {
            let (own, work) = (own.clone(), Arc::clone(&work));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            slots.spawn(async move {
                // What the task keeps between its requests: its deadline's alarm (reqwest
                // keeps the connections).
                let mut slot = Slot::default();
                while work.take() {
                    tasks::request::<Tokio, _>(&own, &mut slot, &job, &tally).await;
                }
            });
        }
        while let Some(joined) = slots.join_next().await {
            if joined.is_err() {
                tally.fail(ErrorKind::Panic);
            }
        }
    });
    Ok(())
}

fn main() -> ExitCode {
    fanout::cli::main_with(&[&OWN_REQWEST])
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    use fanout::model::settings::Settings;
    use mock_server::{AppState, Config, Stats};

    /// A mock server in this process, on a port of its own; its counters.
    fn server() -> (String, Arc<Stats>) {
        let stats = Arc::new(Stats::default());
        let state = AppState {
            config: Config::default(),
            stats: Arc::clone(&stats),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime");
            runtime.block_on(async {
                listener.set_nonblocking(true).expect("non-blocking");
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let never = std::future::pending::<()>();
                let _ = mock_server::run(listener, state, never, Duration::ZERO).await;
            });
        });
        (url, stats)
    }

    #[test]
    fn the_added_strategy_is_found_by_name_and_its_pool_shows_at_the_server() {
        fanout::strategies::add(&[&OWN_REQWEST]).expect("a new name");
        let strategy = fanout::strategies::find("own_reqwest").expect("found after adding");
        let twice = fanout::strategies::add(&[&OWN_REQWEST]).expect_err("added twice");
        assert!(twice.contains("added already"), "{twice}");

        let (url, stats) = server();
        let (c, n) = (20, 100);
        let settings = Settings {
            tokio_workers: 2,
            ..Settings::default()
        };
        let job = Arc::new(Job::new(format!("{url}/get?delay_ms=100"), c, n, settings));
        let tally = Arc::new(Tally::default());
        (strategy.run)(&job, &tally).expect("it runs");
        let summary = tally.summary();
        assert_eq!(summary.ok, n as u64, "{summary:?}");
        assert!(summary.errors.is_empty(), "{summary:?}");
        let seen = stats.snapshot();
        assert_eq!(seen.requests_served, n as u64);
        assert_eq!(seen.peak_in_flight, c as u64, "C tasks in flight: {seen:?}");
        // No idle connection kept: a connection per request.
        assert_eq!(seen.connections_accepted, n as u64, "{seen:?}");
    }
}

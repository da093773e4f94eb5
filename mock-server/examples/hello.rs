//! A minimal axum hello-world on the same runtime and listener settings as `mock-server`:
//! the yardstick of `scripts/server-capacity.sh` (mock-server should reach ≥ 0.9× of it).

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;

fn main() -> anyhow::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8001".to_owned())
        .parse()?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = mock_server::listener::bind(addr, 65_535)?;
        println!("listening on http://{}", listener.local_addr()?);
        let app = Router::new().route("/get", get(|| async { "abcdefghijklmnopqrstuvwxyzabcdef" }));
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await?;
        Ok(())
    })
}

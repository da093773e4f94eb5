//! `mock-server`: the fanout delay server as a command.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    mock_server::cli::main(mock_server::cli::Args::parse())
}

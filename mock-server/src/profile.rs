//! Server profiles: the limits real servers set by default — HTTP/2 streams per connection,
//! connections open at once, responses per keep-alive connection, how long an idle HTTP/1.1
//! keep-alive connection is kept — named, each stating its values; every value can be changed
//! by its own flag. The server reports the limits it runs with in `/stats`, so each point records what the
//! server really did.

use serde::{Deserialize, Serialize};

/// A named set of server limits.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// nginx's stream limit (128, `http2_max_concurrent_streams`) and nothing else limited:
    /// what a client can hold is the client's.
    #[default]
    Default,
    /// nginx's compiled-in defaults: 128 streams, 512 connections (`worker_connections`, one
    /// worker process), 1,000 responses per connection (`keepalive_requests`), 75 s idle on
    /// HTTP/1.1 (`keepalive_timeout`).
    Nginx,
    /// Go's net/http server: 250 streams (`http2.Server.MaxConcurrentStreams`), no connection
    /// or keep-alive limit.
    Go,
    /// Nothing limited, 200,000 streams per connection: one HTTP/2 connection carries any C.
    Permissive,
    /// Not recorded: a point measured before the profiles, whose server advertised 200,000
    /// streams (20,000 before 2026-11-29) and limited nothing else. Never chosen by a flag.
    #[value(skip)]
    Unrecorded,
}

/// What a server allows: `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerLimits {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams one HTTP/2 connection may have open at once
    /// (0 in `/stats` of servers older than the profiles).
    pub h2_max_streams: u32,
    /// Connections open at once; past it the server stops accepting until one closes (the
    /// rest wait in the listen backlog, as nginx's do).
    pub max_connections: Option<u32>,
    /// Responses per connection, then it closes (HTTP/1.1) or sends GOAWAY (HTTP/2).
    pub keepalive_requests: Option<u64>,
    /// An HTTP/1.1 connection waiting this long for its next request is closed, ms.
    pub keepalive_timeout_ms: Option<u64>,
}

impl Profile {
    /// Its limits.
    pub fn limits(self) -> ServerLimits {
        let streams = |h2_max_streams| ServerLimits {
            h2_max_streams,
            ..ServerLimits::default()
        };
        match self {
            Self::Default => streams(128),
            Self::Nginx => ServerLimits {
                h2_max_streams: 128,
                max_connections: Some(512),
                keepalive_requests: Some(1_000),
                keepalive_timeout_ms: Some(75_000),
            },
            Self::Go => streams(250),
            Self::Permissive => streams(200_000),
            // Its stream limit unknown (0); nothing else was limited.
            Self::Unrecorded => ServerLimits::default(),
        }
    }

    /// What a point measured before the profiles reads as.
    pub fn unrecorded() -> Self {
        Self::Unrecorded
    }

    /// Its name, as the flag takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Nginx => "nginx",
            Self::Go => "go",
            Self::Permissive => "permissive",
            Self::Unrecorded => "unrecorded",
        }
    }
}

impl std::fmt::Display for ServerLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or_none = |v: Option<u64>| v.map_or("unlimited".to_owned(), |v| v.to_string());
        write!(
            f,
            "{} HTTP/2 streams per connection, connections {}, responses per connection {}, \
             keep-alive idle {}",
            self.h2_max_streams,
            or_none(self.max_connections.map(u64::from)),
            or_none(self.keepalive_requests),
            self.keepalive_timeout_ms
                .map_or("unlimited".to_owned(), |ms| format!("{ms} ms")),
        )
    }
}

/// The flags that choose a profile and change its limits, shared by `mock-server` and
/// `fanout` (a workload setting there, passed on to the server it starts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct ServerFlags {
    /// Server profile: the limits of a real server's defaults (default: nginx's 128 streams
    /// alone; nginx: its stream, connection and keep-alive limits; go: 250 streams;
    /// permissive: nothing limited). The flags below change one limit each.
    #[arg(long, env = "FANOUT_PROFILE", value_enum, default_value_t = Profile::Default)]
    #[serde(default = "Profile::unrecorded")]
    pub profile: Profile,
    /// HTTP/2 streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    #[arg(long, env = "FANOUT_H2_MAX_STREAMS", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub h2_max_streams: Option<u32>,
    /// Connections open at once; past it the server stops accepting until one closes.
    #[arg(long, env = "FANOUT_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_connections: Option<u32>,
    /// Responses per connection, then the server closes it (HTTP/2: GOAWAY).
    #[arg(long, env = "FANOUT_KEEPALIVE_REQUESTS", value_parser = clap::value_parser!(u64).range(1..))]
    pub keepalive_requests: Option<u64>,
    /// An HTTP/1.1 connection waiting this long for its next request is closed, ms (HTTP/2
    /// connections are not timed out).
    #[arg(long, env = "FANOUT_KEEPALIVE_TIMEOUT_MS", value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    pub keepalive_timeout_ms: Option<u64>,
}

impl ServerFlags {
    /// The profile's limits with each flag given put in.
    pub fn limits(&self) -> ServerLimits {
        let base = self.profile.limits();
        ServerLimits {
            h2_max_streams: self.h2_max_streams.unwrap_or(base.h2_max_streams),
            max_connections: self.max_connections.or(base.max_connections),
            keepalive_requests: self.keepalive_requests.or(base.keepalive_requests),
            keepalive_timeout_ms: self.keepalive_timeout_ms.or(base.keepalive_timeout_ms),
        }
    }

    /// The same flags as command-line arguments, for a server process to be started with.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec!["--profile".to_owned(), self.profile.name().to_owned()];
        let mut put = |flag: &str, value: Option<String>| {
            if let Some(v) = value {
                args.push(flag.to_owned());
                args.push(v);
            }
        };
        put(
            "--h2-max-streams",
            self.h2_max_streams.map(|v| v.to_string()),
        );
        put(
            "--max-connections",
            self.max_connections.map(|v| v.to_string()),
        );
        put(
            "--keepalive-requests",
            self.keepalive_requests.map(|v| v.to_string()),
        );
        put(
            "--keepalive-timeout-ms",
            self.keepalive_timeout_ms.map(|v| v.to_string()),
        );
        args
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: ServerFlags,
    }

    #[test]
    fn a_flag_changes_one_limit_of_its_profile_and_passes_on_as_given() {
        let cli = Cli::parse_from(["x", "--profile", "nginx", "--h2-max-streams", "100"]);
        let limits = cli.flags.limits();
        assert_eq!(limits.h2_max_streams, 100);
        assert_eq!(limits.max_connections, Some(512), "the rest from nginx");
        let again = Cli::parse_from(std::iter::once("x".to_owned()).chain(cli.flags.to_args()));
        assert_eq!(again.flags, cli.flags);
        assert_eq!(ServerFlags::default().limits().h2_max_streams, 128);
        assert!(Cli::try_parse_from(["x", "--profile", "apache"]).is_err());
        assert!(Cli::try_parse_from(["x", "--h2-max-streams", "0"]).is_err());
    }
}

//! The benchmark endpoint's query, typed: `GET /get?delay_ms=&jitter_ms=&delay_dist=&sigma=
//! &connect_delay_ms=&bytes=&status=&fault=…` (a fault's parameters: [`Fault`]). fanout
//! writes it with [`GetQuery::to_query`], the server reads it with [`GetQuery::parse`] — one
//! struct for both sides, checked against the server's caps (a bad value is a [`BadParam`]
//! naming it).

use std::fmt::Write as _;

use crate::Config;
use crate::delay::{Delay, SIGMA_RANGE, Spread};
use crate::fault::Fault;
use crate::params::{self, BadParam, Expected};
use crate::straggler::{ServedDelay, Straggler};

/// Body size of `/get` when the request names none.
pub const DEFAULT_BYTES: u64 = 32;
/// Shape σ of a lognormal delay when the request names none.
pub const DEFAULT_SIGMA: f64 = 1.0;

/// What one `GET /get` asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GetQuery {
    /// The delay's distribution.
    pub delay: Delay,
    /// Extra delay of the first request on each connection (a handshake's worth), ms.
    pub connect_delay_ms: u64,
    /// Response body size.
    pub bytes: u64,
    /// Response status (200–599).
    pub status: u16,
    /// A fault to inject (the server's default one when the query names none).
    pub fault: Option<Fault>,
    /// A share of requests served slower (the server's default one when the query names
    /// none).
    pub straggler: Option<Straggler>,
}

impl GetQuery {
    /// A request of `delay_ms` and `bytes`, no spread, no connection delay, status 200.
    pub fn new(delay_ms: u64, bytes: u64) -> Self {
        Self {
            delay: Delay::fixed(delay_ms),
            connect_delay_ms: 0,
            bytes,
            status: 200,
            fault: None,
            straggler: None,
        }
    }

    /// The delay as served: the distribution with the straggler share on top.
    pub fn served_delay(&self) -> ServedDelay {
        ServedDelay {
            base: self.delay,
            straggler: self.straggler,
        }
    }

    /// The query string (no leading `?`): `delay_ms` and `bytes` always, the rest only when
    /// they differ from the defaults.
    pub fn to_query(&self) -> String {
        let mut query = format!("delay_ms={}&bytes={}", self.delay.delay_ms, self.bytes);
        match self.delay.spread {
            Spread::Uniform { jitter_ms: 0 } => {}
            Spread::Uniform { jitter_ms } => {
                let _ = write!(query, "&jitter_ms={jitter_ms}");
            }
            Spread::Lognormal { sigma } => {
                let _ = write!(query, "&delay_dist=lognormal&sigma={sigma}");
            }
        }
        if self.connect_delay_ms > 0 {
            let _ = write!(query, "&connect_delay_ms={}", self.connect_delay_ms);
        }
        if self.status != 200 {
            let _ = write!(query, "&status={}", self.status);
        }
        if let Some(fault) = &self.fault {
            query.push_str(&fault.to_query());
        }
        if let Some(straggler) = &self.straggler {
            query.push_str(&straggler.to_query());
        }
        query
    }

    /// The query of `pairs` (the last of a repeated name wins, as in most query parsers),
    /// with the server's defaults for what they leave out; a value outside `config`'s caps
    /// is a [`BadParam`].
    pub fn parse(pairs: &[(String, String)], config: &Config) -> Result<Self, BadParam> {
        let get = |name: &str| lookup(pairs, name);
        let max_delay = config.max_delay_ms;
        let integer = |name: &'static str, hi: u64, default: u64| match get(name) {
            Some(raw) => params::integer(name, raw, 0, hi),
            None => Ok(default),
        };
        let delay_ms = integer("delay_ms", max_delay, config.default_delay_ms)?;
        let jitter_ms = integer("jitter_ms", max_delay, 0)?;
        let spread = match get("delay_dist") {
            None | Some("uniform") => Spread::Uniform { jitter_ms },
            Some("lognormal") => Spread::Lognormal {
                sigma: match get("sigma") {
                    Some(raw) => {
                        params::number("sigma", raw, *SIGMA_RANGE.start(), *SIGMA_RANGE.end())?
                    }
                    None => DEFAULT_SIGMA,
                },
            },
            Some(other) => {
                return Err(BadParam {
                    name: "delay_dist",
                    expected: Expected::OneOf("uniform, lognormal"),
                    got: other.to_owned(),
                });
            }
        };
        let status = match get("status") {
            Some(raw) => status_code("status", raw)?,
            None => 200,
        };
        Ok(Self {
            delay: Delay { delay_ms, spread },
            connect_delay_ms: integer("connect_delay_ms", max_delay, 0)?,
            bytes: integer(
                "bytes",
                config.max_bytes,
                DEFAULT_BYTES.min(config.max_bytes),
            )?,
            status,
            fault: Fault::parse(get)?,
            straggler: Straggler::parse(get)?,
        })
    }

    /// Whether a raw query asks for a fault: only then (or when the server has a default
    /// fault) is a request handed its connection, which some faults act on.
    pub fn asks_fault(query: &str) -> bool {
        query.split('&').any(|pair| pair.starts_with("fault="))
    }

    /// Whether a raw query asks for a connection delay: only then does the server tell a
    /// request whether it is its connection's first (no per-request extension otherwise).
    pub fn asks_connect_delay(query: &str) -> bool {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .any(|(key, value)| key == "connect_delay_ms" && value != "0")
    }
}

/// The value of `name` in `pairs`: the last of a repeated name wins.
fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A final status a response may carry: 200–599 (1xx are not final responses).
pub fn status_code(name: &'static str, raw: &str) -> Result<u16, BadParam> {
    let code = params::integer(name, raw, 200, 599)?;
    Ok(u16::try_from(code).expect("range-checked to 200..=599"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn what_fanout_writes_the_server_reads_back_the_same() {
        let config = Config::default();
        let queries = [
            GetQuery::new(100, 32),
            GetQuery {
                delay: Delay {
                    delay_ms: 200,
                    spread: Spread::Uniform { jitter_ms: 50 },
                },
                connect_delay_ms: 20,
                bytes: 0,
                status: 503,
                fault: Some(Fault {
                    p: 0.25,
                    ..Fault::every(crate::fault::FaultKind::Trickle)
                }),
                straggler: Some(Straggler {
                    p: 0.01,
                    x: 50.0,
                    seed: 4,
                }),
            },
            GetQuery {
                delay: Delay {
                    delay_ms: 100,
                    spread: Spread::Lognormal { sigma: 0.5 },
                },
                ..GetQuery::new(100, 32)
            },
        ];
        for query in queries {
            let text = query.to_query();
            assert_eq!(GetQuery::parse(&pairs(&text), &config), Ok(query), "{text}");
        }
        assert_eq!(GetQuery::new(100, 32).to_query(), "delay_ms=100&bytes=32");
    }

    #[test]
    fn a_connection_delay_is_asked_for_only_by_a_nonzero_value() {
        assert!(GetQuery::asks_connect_delay(
            "delay_ms=1&connect_delay_ms=20"
        ));
        assert!(!GetQuery::asks_connect_delay(
            "delay_ms=1&connect_delay_ms=0"
        ));
        assert!(!GetQuery::asks_connect_delay(
            "delay_ms=1&xconnect_delay_ms=5"
        ));
    }
}

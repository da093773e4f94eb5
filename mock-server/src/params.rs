//! Query and path parameters, checked against the server's caps: a bad value becomes a
//! [`BadParam`] whose text names the parameter, the allowed range and what was sent.

use std::fmt;

/// A rejected parameter: rendered as `400 Bad Request` with this one-line reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} must be {expected}, got {got:?}")]
pub struct BadParam {
    /// The parameter's name as the client wrote it (`delay_ms`, `status`, …).
    pub name: &'static str,
    /// What is allowed, e.g. "an integer from 0 to 60000".
    pub expected: Expected,
    /// The raw value sent.
    pub got: String,
}

/// The allowed values of a parameter, in words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expected {
    /// An integer in `lo..=hi`.
    Integer(u64, u64),
    /// A decimal number in `lo..=hi` (shown with up to 3 decimals).
    Number(f64, f64),
    /// One of these words.
    OneOf(&'static str),
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Integer(lo, hi) => write!(f, "an integer from {lo} to {hi}"),
            Self::Number(lo, hi) => write!(f, "a number from {lo} to {hi}"),
            Self::OneOf(words) => write!(f, "one of {words}"),
        }
    }
}

/// Parses a non-negative integer in `lo..=hi`.
pub fn integer(name: &'static str, raw: &str, lo: u64, hi: u64) -> Result<u64, BadParam> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| BadParam {
            name,
            expected: Expected::Integer(lo, hi),
            got: raw.to_owned(),
        })
}

/// Parses a finite decimal number in `lo..=hi`.
pub fn number(name: &'static str, raw: &str, lo: f64, hi: f64) -> Result<f64, BadParam> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && (lo..=hi).contains(v))
        .ok_or_else(|| BadParam {
            name,
            expected: Expected::Number(lo, hi),
            got: raw.to_owned(),
        })
}

/// A raw query's parameter lookup as the parsers take it (the last of a repeated name wins):
/// for the parsers' tests.
#[cfg(test)]
pub fn lookup_in<'q>(query: &'q str) -> impl Fn(&str) -> Option<&'q str> {
    move |name: &str| {
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_outside_the_range_or_not_integers_are_rejected_with_the_range() {
        assert_eq!(integer("bytes", "42", 0, 100), Ok(42));
        for bad in ["-1", "101", "abc", "", "1.5", "99999999999999999999999"] {
            let err = integer("bytes", bad, 0, 100).expect_err(bad);
            assert_eq!(
                err.to_string(),
                format!("bytes must be an integer from 0 to 100, got {bad:?}")
            );
        }
    }

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        assert_eq!(number("seconds", "0.25", 0.0, 60.0), Ok(0.25));
        for bad in ["NaN", "inf", "-0.5", "61", "x"] {
            let err = number("seconds", bad, 0.0, 60.0).expect_err(bad);
            assert!(
                err.to_string()
                    .starts_with("seconds must be a number from 0 to 60")
            );
        }
    }
}

//! `request_limits` of a target: how long one request may take in all, how long its
//! answer may go quiet, and how large an answer may be, so a server that holds, trickles
//! or floods never holds a run past its timeouts or fills its memory; and how many
//! requests may be in flight at once and how many may start per second, so a fan-out
//! cannot overwhelm an array or trip a gateway's throttling. Every key is optional;
//! absent keys keep the defaults (no concurrency or rate limit).

use std::time::Duration;

use toml::Value;

use super::setting::{duration, read_table};

/// The table keys of `request_limits`, for errors.
const KEYS: &str = "timeout, read_idle, max_body, max_concurrency, rate";

/// The bounds of one target's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// From sending a request to the last byte of its answer.
    pub timeout: Duration,
    /// The longest pause while an answer streams in.
    pub read_idle: Duration,
    /// The largest answer read, in bytes.
    pub max_body: u64,
    /// The most requests in flight at once; no limit when `None`.
    pub max_concurrency: Option<u32>,
    /// How many requests may start per period; no limit when `None`.
    pub rate: Option<Rate>,
}

/// A rate such as `"20/s"`: `count` requests per `per`, in bursts of at most `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// `"20/s"`, `"100/m"`, `"5/h"`: a count above zero per second, minute or hour.
    pub fn parse(text: &str) -> Option<Self> {
        let (count, unit) = text.trim().split_once('/')?;
        let count: u32 = count.trim().parse().ok().filter(|count| *count > 0)?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return None,
        };
        Some(Self { count, per })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

impl Default for RequestLimits {
    /// Two minutes per request, 30 s of silence, 64 MiB: far more than any documented
    /// answer of the vendors (the largest, a page of 2,000 import sessions, is about
    /// 4 MiB), and short enough that a hung proxy is noticed within a wait's poll.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(120),
            read_idle: Duration::from_secs(30),
            max_body: 64 * 1024 * 1024,
            max_concurrency: None,
            rate: None,
        }
    }
}

/// Reads `request_limits` of target `name`; absent means the defaults.
pub(super) fn request_limits(name: &str, raw: Option<&Value>) -> Result<RequestLimits, String> {
    let mut limits = RequestLimits::default();
    let table = match raw {
        None => return Ok(limits),
        Some(Value::Table(table)) => table,
        Some(other) => {
            return Err(format!(
                "target `{name}`: `request_limits` must be a table with {KEYS}; found {}",
                other.type_str()
            ));
        }
    };
    read_table(name, "request_limits", KEYS, table, |key, field, value| {
        match key {
            "timeout" => limits.timeout = duration_of(name, field, value)?,
            "read_idle" => limits.read_idle = duration_of(name, field, value)?,
            "max_body" => limits.max_body = bytes_of(name, field, value)?,
            "max_concurrency" => limits.max_concurrency = Some(count_of(name, field, value)?),
            "rate" => limits.rate = Some(rate_of(name, field, value)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(limits)
}

/// A duration above zero: a string such as `"30s"`, or milliseconds.
fn duration_of(name: &str, field: &str, value: &Value) -> Result<Duration, String> {
    duration(value).filter(|d| !d.is_zero()).ok_or_else(|| {
        format!(
            "target `{name}`: `{field}` must be a duration above zero such as \"30s\" or \"2m\", or milliseconds"
        )
    })
}

/// A number of requests from 1 to 10,000.
fn count_of(name: &str, field: &str, value: &Value) -> Result<u32, String> {
    match value {
        Value::Integer(count) => u32::try_from(*count)
            .ok()
            .filter(|count| (1..=10_000).contains(count)),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "target `{name}`: `{field}` must be a number of requests from 1 to 10000, such as 8"
        )
    })
}

/// A rate such as `"20/s"`.
fn rate_of(name: &str, field: &str, value: &Value) -> Result<Rate, String> {
    value.as_str().and_then(Rate::parse).ok_or_else(|| {
        format!(
            "target `{name}`: `{field}` must be requests per second, minute or hour, such as \"20/s\" or \"600/m\""
        )
    })
}

/// A size above zero in bytes.
fn bytes_of(name: &str, field: &str, value: &Value) -> Result<u64, String> {
    match value {
        Value::Integer(bytes) => u64::try_from(*bytes).ok().filter(|b| *b > 0),
        _ => None,
    }
    .ok_or_else(|| {
        format!("target `{name}`: `{field}` must be a size in bytes above zero, such as 67108864")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn parse(text: &str) -> Result<RequestLimits, String> {
        crate::config::setting::tests::parse_setting("request_limits", text, request_limits)
    }

    #[test]
    fn concurrency_and_rate_limit_a_fan_out() {
        assert_eq!(
            parse(r#"{ max_concurrency = 8, rate = "20/s" }"#),
            Ok(RequestLimits {
                max_concurrency: Some(8),
                rate: Some(Rate {
                    count: 20,
                    per: Duration::from_secs(1)
                }),
                ..RequestLimits::default()
            })
        );
        #[track_caller]
        fn rate(text: &str, expected: Option<(u32, u64)>) {
            let parsed = Rate::parse(text);
            assert_eq!(
                parsed.map(|r| (r.count, r.per.as_secs())),
                expected,
                "{text}"
            );
            if let Some(parsed) = parsed {
                assert_eq!(Rate::parse(&parsed.to_string()), Some(parsed));
            }
        }
        rate("20/s", Some((20, 1)));
        rate(" 600 / m ", Some((600, 60)));
        rate("5/h", Some((5, 3600)));
        rate("0/s", None);
        rate("20", None);
        rate("20/d", None);
        rate("-1/s", None);
        rate("x/s", None);
        assert_eq!(
            parse("{ max_concurrency = 0 }"),
            Err("target `array1`: `request_limits.max_concurrency` must be a number of requests from 1 to 10000, such as 8".to_owned())
        );
        assert_eq!(
            parse(r#"{ rate = "fast" }"#),
            Err(r#"target `array1`: `request_limits.rate` must be requests per second, minute or hour, such as "20/s" or "600/m""#.to_owned())
        );
    }

    #[test]
    fn a_table_sets_the_limits_and_absent_keys_keep_the_defaults() {
        assert_eq!(request_limits("array1", None), Ok(RequestLimits::default()));
        assert_eq!(
            parse(r#"{ timeout = "10s", read_idle = 500, max_body = 1024 }"#),
            Ok(RequestLimits {
                timeout: Duration::from_secs(10),
                read_idle: Duration::from_millis(500),
                max_body: 1024,
                ..RequestLimits::default()
            })
        );
        assert_eq!(
            parse(r#"{ timeout = "5m" }"#),
            Ok(RequestLimits {
                timeout: Duration::from_secs(300),
                ..RequestLimits::default()
            })
        );
    }

    #[test]
    fn mistakes_name_the_target_and_the_key() {
        crate::config::setting::tests::assert_refused(
            parse,
            &[
                (
                    "30",
                    "target `array1`: `request_limits` must be a table with timeout, read_idle, max_body, max_concurrency, rate; found integer",
                ),
                (
                    "{ deadline = \"1m\" }",
                    "target `array1`: `request_limits` has no `deadline`; use timeout, read_idle, max_body, max_concurrency, rate",
                ),
                (
                    "{ timeout = \"0s\" }",
                    "target `array1`: `request_limits.timeout` must be a duration above zero such as \"30s\" or \"2m\", or milliseconds",
                ),
                (
                    "{ max_body = \"64MB\" }",
                    "target `array1`: `request_limits.max_body` must be a size in bytes above zero, such as 67108864",
                ),
            ],
        );
    }
}

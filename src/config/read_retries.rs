//! `read_retries` of a target: how a read answered with a retryable error (a busy 503, a
//! throttling 429, a connection that dropped) is sent again before a script sees the
//! error. A count (`read_retries = 4`, `0` turns it off) or a table that also sets the
//! backoff and the longest time spent retrying one read.

use std::time::Duration;

use toml::Value;

use super::setting::{duration, read_table};

/// The table keys of `read_retries`, for errors.
const KEYS: &str = "retries, initial, max, max_time";

/// How reads of one target ride out a busy server; the backoff is `retry()`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRetries {
    /// Tries after the first; 0 sends every request once.
    pub retries: u32,
    /// The first backoff ceiling; it doubles with every try.
    pub initial: Duration,
    /// The largest backoff ceiling.
    pub max: Duration,
    /// Retrying one read stops once the next try would start later than this after the
    /// first.
    pub max_time: Duration,
}

impl Default for ReadRetries {
    /// Seven retries from half a second, doubling up to 30 s, within two minutes: what
    /// Huawei's gateway throttling has always been given, and enough for an array that
    /// answers 503 while it fails over.
    fn default() -> Self {
        Self {
            retries: 7,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_time: Duration::from_secs(120),
        }
    }
}

/// Reads `read_retries` of target `name`; absent means the defaults.
pub(super) fn read_retries(name: &str, raw: Option<&Value>) -> Result<ReadRetries, String> {
    let mut policy = ReadRetries::default();
    let table = match raw {
        None => return Ok(policy),
        Some(Value::Integer(count)) => {
            policy.retries = count_of(name, "read_retries", *count)?;
            return Ok(policy);
        }
        Some(Value::Table(table)) => table,
        Some(other) => {
            return Err(format!(
                "target `{name}`: `read_retries` must be a count such as 4, or a table with {KEYS}; found {}",
                other.type_str()
            ));
        }
    };
    read_table(name, "read_retries", KEYS, table, |key, field, value| {
        match (key, value) {
            ("retries", Value::Integer(count)) => policy.retries = count_of(name, field, *count)?,
            ("initial", value) => policy.initial = duration_of(name, field, value)?,
            ("max", value) => policy.max = duration_of(name, field, value)?,
            ("max_time", value) => policy.max_time = duration_of(name, field, value)?,
            ("retries", other) => {
                return Err(format!(
                    "target `{name}`: `{field}` must be a count such as 4, not {}",
                    other.type_str()
                ));
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(policy)
}

fn count_of(name: &str, field: &str, count: i64) -> Result<u32, String> {
    u32::try_from(count).map_err(|_| {
        format!("target `{name}`: `{field}` must be 0 or more (0 turns retries off), not {count}")
    })
}

/// A duration as scripts write them: a string such as `"500ms"` or `"2m"`, or
/// milliseconds.
fn duration_of(name: &str, field: &str, value: &Value) -> Result<Duration, String> {
    duration(value).ok_or_else(|| {
        format!(
            "target `{name}`: `{field}` must be a duration such as \"500ms\" or \"2m\", or milliseconds"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::setting::tests::{assert_refused, parse_setting};

    #[track_caller]
    fn parse(text: &str) -> Result<ReadRetries, String> {
        parse_setting("read_retries", text, read_retries)
    }

    #[test]
    fn a_count_or_a_table_sets_the_policy() {
        let ms = Duration::from_millis;
        assert_eq!(read_retries("array1", None), Ok(ReadRetries::default()));
        assert_eq!(
            parse("0"),
            Ok(ReadRetries {
                retries: 0,
                ..ReadRetries::default()
            })
        );
        assert_eq!(
            parse(r#"{ retries = 3, initial = "10ms", max = 250, max_time = "1m" }"#),
            Ok(ReadRetries {
                retries: 3,
                initial: ms(10),
                max: ms(250),
                max_time: ms(60_000),
            })
        );
        assert_eq!(
            parse(r#"{ max_time = "5s" }"#),
            Ok(ReadRetries {
                max_time: ms(5_000),
                ..ReadRetries::default()
            })
        );
    }

    #[test]
    fn mistakes_name_the_target_and_the_key() {
        assert_refused(
            parse,
            &[
                (
                    "-1",
                    "target `array1`: `read_retries` must be 0 or more (0 turns retries off), not -1",
                ),
                (
                    "true",
                    "target `array1`: `read_retries` must be a count such as 4, or a table with retries, initial, max, max_time; found boolean",
                ),
                (
                    "{ attempts = 3 }",
                    "target `array1`: `read_retries` has no `attempts`; use retries, initial, max, max_time",
                ),
                (
                    r#"{ initial = "soon" }"#,
                    "target `array1`: `read_retries.initial` must be a duration such as \"500ms\" or \"2m\", or milliseconds",
                ),
                (
                    r#"{ retries = "3" }"#,
                    "target `array1`: `read_retries.retries` must be a count such as 4, not string",
                ),
            ],
        );
    }
}

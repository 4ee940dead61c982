//! `request_limits` of a target: how long one request may take in all, how long its
//! answer may go quiet, and how large an answer may be, so a server that holds, trickles
//! or floods never holds a run past its timeouts or fills its memory. Every key is
//! optional; absent keys keep the defaults.

use std::time::Duration;

use toml::Value;

/// The table keys of `request_limits`, for errors.
const KEYS: &str = "timeout, read_idle, max_body";

/// The bounds of one target's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// From sending a request to the last byte of its answer.
    pub timeout: Duration,
    /// The longest pause while an answer streams in.
    pub read_idle: Duration,
    /// The largest answer read, in bytes.
    pub max_body: u64,
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
    for (key, value) in table {
        let field = format!("request_limits.{}", super::excerpt::quoted(key));
        match key.as_str() {
            "timeout" => limits.timeout = duration_of(name, &field, value)?,
            "read_idle" => limits.read_idle = duration_of(name, &field, value)?,
            "max_body" => limits.max_body = bytes_of(name, &field, value)?,
            other => {
                return Err(super::read_retries::unknown_key(
                    name,
                    "request_limits",
                    other,
                    KEYS,
                ));
            }
        }
    }
    Ok(limits)
}

/// A duration above zero: a string such as `"30s"`, or milliseconds.
fn duration_of(name: &str, field: &str, value: &Value) -> Result<Duration, String> {
    super::read_retries::duration(value).filter(|d| !d.is_zero()).ok_or_else(|| {
        format!(
            "target `{name}`: `{field}` must be a duration above zero such as \"30s\" or \"2m\", or milliseconds"
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
        crate::config::read_retries::tests::parse_setting("request_limits", text, request_limits)
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
        #[track_caller]
        fn refused(text: &str, message: &str) {
            assert_eq!(parse(text), Err(message.to_owned()), "{text}");
        }
        refused(
            "30",
            "target `array1`: `request_limits` must be a table with timeout, read_idle, max_body; found integer",
        );
        refused(
            "{ deadline = \"1m\" }",
            "target `array1`: `request_limits` has no `deadline`; use timeout, read_idle, max_body",
        );
        refused(
            "{ timeout = \"0s\" }",
            "target `array1`: `request_limits.timeout` must be a duration above zero such as \"30s\" or \"2m\", or milliseconds",
        );
        refused(
            "{ max_body = \"64MB\" }",
            "target `array1`: `request_limits.max_body` must be a size in bytes above zero, such as 67108864",
        );
    }
}

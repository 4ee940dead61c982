//! Reading script arguments: durations (`"250ms"`, `"2h"` or integer milliseconds) and
//! option maps like `#{ timeout: "1h", every: "30s" }`, rejecting misspelt keys with a
//! suggestion of the key meant ([`suggest`], which other misspelt names use too).

use std::time::Duration;

use rhai::{Dynamic, EvalAltResult, Map};

use crate::script::error_value::invalid_argument;
use crate::suggest::{closest, did_you_mean};

/// The longest duration a script may pass: longer ones are unit slips (seconds written
/// where milliseconds are meant, `1e300`), and would hang a sleep for good.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

/// What every duration error ends with, so the operator sees how to write one.
const HOW: &str = "write e.g. \"250ms\", \"30s\", \"2h\" or milliseconds";

/// `24h`, `90m`, `15s`, `250ms`: `duration` in the largest unit that spells it whole,
/// as a script writes it and [`duration`] reads it back.
pub fn spelled(duration: Duration) -> String {
    let ms = duration.as_millis();
    [(3_600_000, "h"), (60_000, "m"), (1000, "s")]
        .into_iter()
        .find(|(unit, _)| ms > 0 && ms % unit == 0)
        .map_or_else(
            || format!("{ms}ms"),
            |(unit, name)| format!("{}{name}", ms / unit),
        )
}

/// Reads a duration: a string humantime understands, or milliseconds as an integer or
/// a float (`1.5` is 1.5 ms). Negative, non-finite and over [`MAX_DURATION`] are
/// `validation` errors.
pub fn duration(operation: &str, value: &Dynamic) -> Result<Duration, Box<EvalAltResult>> {
    let refuse = |why: String| invalid_argument(operation, format!("{why}; {HOW}"));
    let parsed = if let Ok(ms) = value.as_int() {
        let ms = u64::try_from(ms).map_err(|_| refuse(format!("duration {ms} is negative")))?;
        Duration::from_millis(ms)
    } else if let Ok(ms) = value.as_float() {
        if !ms.is_finite() {
            return Err(refuse(format!("duration {ms} is not a finite number")));
        }
        if ms < 0.0 {
            return Err(refuse(format!("duration {ms} is negative")));
        }
        Duration::try_from_secs_f64(ms / 1000.0)
            .map_err(|_| refuse(too_long(&format!("{ms:e}"))))?
    } else if let Ok(text) = value.as_immutable_string_ref() {
        let text = text.as_str();
        humantime::parse_duration(text.trim())
            .map_err(|err| refuse(format!("`{text}` is not a duration ({err})")))?
    } else {
        return Err(refuse(format!(
            "a duration must be a string or milliseconds, not {}",
            value.type_name()
        )));
    };
    if parsed > MAX_DURATION {
        let shown = match (value.as_immutable_string_ref(), value.as_float()) {
            (Ok(text), _) => format!("`{}`", text.as_str()),
            // `1e300`, not three hundred digits.
            (_, Ok(ms)) => format!("{ms:e}"),
            _ => value.to_string(),
        };
        return Err(refuse(too_long(&shown)));
    }
    Ok(parsed)
}

fn too_long(value: &str) -> String {
    format!("duration {value} is longer than 100 years")
}

/// An option map checked against the keys an operation knows.
pub struct Options<'a> {
    operation: &'a str,
    map: Map,
}

impl<'a> Options<'a> {
    /// Checks `map` has only `known` keys.
    pub fn new(operation: &'a str, map: Map, known: &[&str]) -> Result<Self, Box<EvalAltResult>> {
        if let Some(key) = map.keys().find(|key| !known.contains(&key.as_str())) {
            let hint = closest(key, known.iter().copied())
                .map(did_you_mean)
                .unwrap_or_else(|| format!("; known options: {}", known.join(", ")));
            return Err(invalid_argument(
                operation,
                format!("unknown option `{key}`{hint}"),
            ));
        }
        Ok(Self { operation, map })
    }

    /// Whether the script gave option `key` (`()` counts as not given).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn get(&self, key: &str) -> Option<&Dynamic> {
        self.map.get(key).filter(|value| !value.is_unit())
    }

    /// A duration option, or `default`.
    pub fn duration(&self, key: &str, default: Duration) -> Result<Duration, Box<EvalAltResult>> {
        self.get(key).map_or(Ok(default), |value| {
            duration(&format!("{} {key}", self.operation), value)
        })
    }

    /// A non-negative integer option, or `default`.
    pub fn count(&self, key: &str, default: u64) -> Result<u64, Box<EvalAltResult>> {
        match self.get(key) {
            None => Ok(default),
            Some(value) => value
                .as_int()
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| {
                    invalid_argument(
                        self.operation,
                        format!("`{key}` must be a whole number ≥ 0"),
                    )
                }),
        }
    }

    /// A boolean option, or `default`.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, Box<EvalAltResult>> {
        match self.get(key) {
            None => Ok(default),
            Some(value) => value.as_bool().map_err(|_| {
                invalid_argument(self.operation, format!("`{key}` must be true or false"))
            }),
        }
    }

    /// An optional string option.
    pub fn text(&self, key: &str) -> Result<Option<String>, Box<EvalAltResult>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => {
                value.clone().into_string().map(Some).map_err(|_| {
                    invalid_argument(self.operation, format!("`{key}` must be a string"))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn case(value: Dynamic, expected: Option<Duration>) {
        assert_eq!(duration("t", &value).ok(), expected);
    }

    #[test]
    fn durations_are_strings_or_milliseconds() {
        case("250ms".into(), Some(Duration::from_millis(250)));
        case("30s".into(), Some(Duration::from_secs(30)));
        case("2h".into(), Some(Duration::from_secs(7200)));
        case("1h 30m".into(), Some(Duration::from_secs(5400)));
        case(1500_i64.into(), Some(Duration::from_millis(1500)));
        case((-1_i64).into(), None);
        case(1.5_f64.into(), Some(Duration::from_micros(1500)));
        case(0.0_f64.into(), Some(Duration::ZERO));
        case((-0.5_f64).into(), None);
        case(f64::NAN.into(), None);
        case(f64::INFINITY.into(), None);
        case(1e300_f64.into(), None);
        case(i64::MAX.into(), None);
        case("200y".into(), None);
        case("100y".into(), Some(MAX_DURATION));
        case("soon".into(), None);
        case(true.into(), None);
    }

    #[test]
    fn misspelt_options_suggest_the_right_key() {
        let mut map = Map::new();
        map.insert("timout".into(), "1s".into());
        let err = Options::new("wait_for", map, &["timeout", "every"])
            .err()
            .unwrap();
        let map = crate::script::error_value::error_map(&err).unwrap();
        assert_eq!(
            map["message"].clone().into_string().unwrap(),
            "unknown option `timout`; did you mean `timeout`?"
        );
    }

    #[test]
    fn a_spelled_duration_reads_back_as_itself() {
        let secs = Duration::from_secs;
        assert_eq!(spelled(secs(24 * 3600)), "24h");
        assert_eq!(spelled(secs(90 * 60)), "90m");
        assert_eq!(spelled(Duration::from_millis(1500)), "1500ms");
        assert_eq!(spelled(Duration::ZERO), "0ms");
        for duration in [secs(6 * 3600), secs(90), Duration::from_millis(250)] {
            let text = Dynamic::from(spelled(duration));
            assert_eq!(super::duration("t", &text).ok(), Some(duration));
        }
    }
}

//! Fuzz target: the duration parser of scripts (`"30s"`, `"2m"`, milliseconds) and of the
//! target file. Any value gives a duration within 100 years or the `validation` error
//! that says how to write one; every duration prints and parses back to itself.

use std::time::Duration;

use proptest::prelude::*;
use rhai::Dynamic;

use super::mutate::{self, Format};
use super::support::config;
use crate::script::error_value::error_map;
use crate::script::options::{MAX_DURATION, duration};

const SEEDS: &[&str] = &[
    "30s", "2m", "250ms", "1h 30m", "100y", "1.5s", "2h", "10 days", "0s",
];

/// The whole message of a refused duration, checked to end with how to write one.
fn refused(value: Dynamic) -> Result<String, TestCaseError> {
    let Err(err) = duration("sleep", &value) else {
        return Err(TestCaseError::fail("accepted"));
    };
    let map = error_map(&err).ok_or_else(|| TestCaseError::fail("no error map"))?;
    prop_assert_eq!(
        map["kind"].clone().into_string().ok(),
        Some("validation".to_owned())
    );
    let message = map["message"].clone().into_string().unwrap_or_default();
    prop_assert!(
        message.ends_with("; write e.g. \"250ms\", \"30s\", \"2h\" or milliseconds"),
        "{}",
        message
    );
    Ok(message)
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn any_text_is_a_bounded_duration_or_the_validation_error(text in mutate::text(Format::Json, SEEDS)) {
        match duration("sleep", &Dynamic::from(text.clone())) {
            Ok(parsed) => prop_assert!(parsed <= MAX_DURATION),
            Err(_) => {
                let message = refused(Dynamic::from(text.clone()))?;
                let unreadable = message.starts_with(&format!("`{text}` is not a duration ("));
                let too_long = message.starts_with(&format!("duration `{text}` is longer than 100 years;"));
                prop_assert!(unreadable || too_long, "{}", message);
            }
        }
    }

    #[test]
    fn any_number_is_milliseconds_or_the_validation_error(ms in any::<i64>(), float in any::<f64>()) {
        match u64::try_from(ms) {
            Ok(n) if Duration::from_millis(n) <= MAX_DURATION => {
                prop_assert_eq!(duration("sleep", &Dynamic::from(ms)).ok(), Some(Duration::from_millis(n)));
            }
            _ => { refused(Dynamic::from(ms))?; }
        }
        let fine = float.is_finite() && float >= 0.0 && float / 1000.0 <= MAX_DURATION.as_secs_f64();
        if fine {
            let parsed = duration("sleep", &Dynamic::from(float));
            prop_assert!(parsed.is_ok(), "{} gave {:?}", float, parsed);
        } else if float.is_finite() && float / 1000.0 > MAX_DURATION.as_secs_f64() * 1.000_001 || float < 0.0 || !float.is_finite() {
            refused(Dynamic::from(float))?;
        }
    }

    #[test]
    fn durations_print_and_parse_back(nanos in 0..=MAX_DURATION.as_nanos() as u64 / 1_000_000 * 1_000_000) {
        let d = Duration::from_nanos(nanos);
        let shown = humantime::format_duration(d).to_string();
        prop_assert_eq!(duration("sleep", &Dynamic::from(shown.clone())).ok(), Some(d), "{}", shown);
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        prop_assert_eq!(duration("sleep", &Dynamic::from(ms)).ok(), Some(Duration::from_millis(ms as u64)));
    }

    #[test]
    fn target_file_durations_read_as_script_ones_do(text in mutate::text(Format::Json, SEEDS)) {
        let file = format!(
            "[targets.a]\nkind = \"powerstore\"\nurl = \"https://a\"\nuser = \"u\"\npassword_env = \"P\"\nrequest_limits = {{ timeout = {} }}\n",
            toml::Value::String(text.clone())
        );
        let read = crate::config::Targets::parse(&file, std::path::Path::new("cutover.toml"), &crate::vendors::kinds())
            .map(|t| t.iter().next().map(|t| t.request_limits.timeout));
        match (read, humantime::parse_duration(text.trim())) {
            (Ok(Some(timeout)), Ok(parsed)) => prop_assert_eq!(timeout, parsed),
            (Ok(_), _) => prop_assert!(false, "`{}` accepted or lost", text),
            (Err(err), _) => {
                let message = err.to_string();
                prop_assert!(message.contains("`request_limits.timeout` must be a duration above zero"), "{}", message);
            }
        }
    }
}

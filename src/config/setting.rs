//! What the table settings of a target (`read_retries`, `request_limits`) share: reading
//! each key of the table, and durations as target files write them.

use std::time::Duration;

use toml::Value;

/// Reads each key of table `setting` of target `name` with `read`, which is given the
/// key, its name for errors (`setting.key`) and its value, and answers `false` for a key
/// the setting does not have; `keys` are those it has, for the error that names it.
pub(super) fn read_table(
    name: &str,
    setting: &str,
    keys: &str,
    table: &toml::Table,
    mut read: impl FnMut(&str, &str, &Value) -> Result<bool, String>,
) -> Result<(), String> {
    for (key, value) in table {
        let quoted = super::excerpt::quoted(key);
        if !read(key, &format!("{setting}.{quoted}"), value)? {
            return Err(format!(
                "target `{name}`: `{setting}` has no `{quoted}`; use {keys}"
            ));
        }
    }
    Ok(())
}

/// A target-file duration: a string such as `"500ms"`, or milliseconds.
pub(super) fn duration(value: &Value) -> Option<Duration> {
    match value {
        Value::String(text) => humantime::parse_duration(text.trim()).ok(),
        Value::Integer(ms) => u64::try_from(*ms).ok().map(Duration::from_millis),
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use toml::Value;

    /// Reads `key = text` of target `array1` as a target file holds it, with `read`.
    #[track_caller]
    pub(in crate::config) fn parse_setting<T>(
        key: &str,
        text: &str,
        read: fn(&str, Option<&Value>) -> Result<T, String>,
    ) -> Result<T, String> {
        let value: Value = toml::from_str::<toml::Table>(&format!("{key} = {text}"))
            .unwrap()
            .remove(key)
            .unwrap();
        read("array1", Some(&value))
    }

    /// Checks that `parse` refuses each text with its message.
    #[track_caller]
    pub(in crate::config) fn assert_refused<T: std::fmt::Debug + PartialEq>(
        parse: fn(&str) -> Result<T, String>,
        cases: &[(&str, &str)],
    ) {
        for (text, message) in cases {
            assert_eq!(parse(text), Err((*message).to_owned()), "{text}");
        }
    }
}

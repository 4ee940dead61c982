//! Reading request bodies the way the array's schema validation does: a JSON object
//! with known properties only, and ISO-8601 UTC timestamps; anything else is 400
//! `SCHEMA_VALIDATION`.

use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::LabError;

/// Parses `bytes` as `T`, refusing properties not in `allowed`; an empty body reads as
/// `{}` because several actions take an optional body.
pub(super) fn parse<T: DeserializeOwned>(bytes: &[u8], allowed: &[&str]) -> Result<T, LabError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| LabError::schema("The request body is not valid UTF-8."))?;
    let value: Value = if text.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(text).map_err(|err| {
            LabError::schema(format!("The request body is not valid JSON: {err}."))
        })?
    };
    let Value::Object(object) = &value else {
        return Err(LabError::schema("The request body must be a JSON object."));
    };
    if let Some(unknown) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(LabError::schema(format!(
            "The property {unknown} is not valid in this request."
        )));
    }
    serde_json::from_value(value)
        .map_err(|err| LabError::schema(format!("The request body is not valid: {err}.")))
}

/// Checks an optional body that may hold any object.
pub(super) fn object(bytes: &[u8]) -> Result<(), LabError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(LabError::schema("The request body must be a JSON object.")),
        Err(err) => Err(LabError::schema(format!(
            "The request body is not valid JSON: {err}."
        ))),
    }
}

/// Parses an ISO-8601 UTC timestamp such as `2025-03-01T02:00:00Z` (`+00:00` is
/// accepted too) for the attribute `name`.
pub(super) fn timestamp(name: &str, text: &str) -> Result<SystemTime, LabError> {
    let utc = text
        .strip_suffix("+00:00")
        .map_or_else(|| text.to_owned(), |t| format!("{t}Z"));
    humantime::parse_rfc3339(&utc).map_err(|_| {
        LabError::schema(format!(
            "The value {text} of {name} is not an ISO-8601 UTC timestamp."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::powerstore::wire::CancelRequest;

    #[track_caller]
    fn case(body: &str, expected: Result<bool, &str>) {
        let parsed = parse::<CancelRequest>(body.as_bytes(), &["force"]);
        let got = parsed
            .map(|c| c.force)
            .map_err(|e| e.body().messages[0].message_l10n.clone());
        assert_eq!(got, expected.map_err(str::to_owned), "{body}");
    }

    #[test]
    fn bodies() {
        case("", Ok(false));
        case("{}", Ok(false));
        case(r#"{"force": true}"#, Ok(true));
        case(
            r#"{"force": "yes"}"#,
            Err("The request body is not valid: invalid type: string \"yes\", expected a boolean."),
        );
        case(
            r#"{"forced": true}"#,
            Err("The property forced is not valid in this request."),
        );
        case("[]", Err("The request body must be a JSON object."));
        case(
            "{",
            Err(
                "The request body is not valid JSON: EOF while parsing an object at line 1 column 1.",
            ),
        );
    }

    #[test]
    fn timestamps() {
        let at = timestamp("t", "2025-03-01T02:00:00Z").unwrap();
        assert_eq!(timestamp("t", "2025-03-01T02:00:00+00:00").unwrap(), at);
        assert_eq!(crate::http::lab::timestamp(at), "2025-03-01T02:00:00Z");
        let error = timestamp("scheduled_timestamp", "tomorrow").unwrap_err();
        assert_eq!(
            error.body().messages[0].message_l10n,
            "The value tomorrow of scheduled_timestamp is not an ISO-8601 UTC timestamp."
        );
    }
}

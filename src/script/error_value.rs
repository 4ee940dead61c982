//! The catchable error map of design.md: `#{ kind, message, target, operation, status,
//! vendor_code, retryable, state }` (plus `body`, `retry_after` and, for a mutation
//! whose outcome is unknown, `verification`: how to tell whether it took effect), raised into Rhai and
//! read back out of Rhai errors.

use std::time::Duration;

use rhai::{Dynamic, EvalAltResult, Map, Position};

use crate::api_error::{ApiError, ErrorKind};

/// The map a script's `catch (e)` receives for `err`.
pub fn to_map(err: &ApiError) -> Map {
    fn opt(value: Option<&String>) -> Dynamic {
        value.map_or(Dynamic::UNIT, |v| v.clone().into())
    }
    let mut map = Map::new();
    map.insert("kind".into(), err.kind.as_str().into());
    map.insert("message".into(), err.message.clone().into());
    map.insert("target".into(), opt(err.target.as_ref()));
    map.insert("operation".into(), opt(err.operation.as_ref()));
    map.insert(
        "status".into(),
        err.status.map_or(Dynamic::UNIT, |s| i64::from(s).into()),
    );
    map.insert("vendor_code".into(), opt(err.vendor_code.as_ref()));
    map.insert("retryable".into(), err.retryable.into());
    map.insert("state".into(), opt(err.state.as_ref()));
    map.insert("body".into(), opt(err.body.as_ref()));
    map.insert(
        "verification".into(),
        err.verification
            .as_ref()
            .map_or(Dynamic::UNIT, |v| v.advice().into()),
    );
    map.insert(
        "retry_after".into(),
        err.retry_after.map_or(Dynamic::UNIT, |d| {
            i64::try_from(d.as_millis()).unwrap_or(i64::MAX).into()
        }),
    );
    map
}

/// Raises `err` as a Rhai runtime error; Rhai fills in the position of the call.
pub fn raise(err: ApiError) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        to_map(&err).into(),
        Position::NONE,
    ))
}

/// Raises a `validation` error about the script's own arguments.
pub fn invalid_argument(operation: &str, message: impl Into<String>) -> Box<EvalAltResult> {
    let mut err = ApiError::new(ErrorKind::Validation, message);
    err.operation = Some(operation.to_owned());
    raise(err)
}

/// The error at the bottom of Rhai's function-call and module wrappers.
pub fn innermost(err: &EvalAltResult) -> &EvalAltResult {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => innermost(inner),
        other => other,
    }
}

/// A copy of the error map inside `err`, when it is one of ours (or a script threw a map).
pub fn error_map(err: &EvalAltResult) -> Option<Map> {
    match innermost(err) {
        EvalAltResult::ErrorRuntime(value, _) => value.clone().try_cast::<Map>(),
        // A limit checked between operations stops the script with its error map.
        EvalAltResult::ErrorTerminated(value, _) => value.clone().try_cast::<Map>(),
        _ => None,
    }
}

/// What `err` says, in one line: the message of one of ours, else the thrown value or
/// Rhai's own error.
pub fn message_of(err: &EvalAltResult) -> String {
    if let Some(message) =
        error_map(err).and_then(|map| map.get("message").map(ToString::to_string))
    {
        return message;
    }
    match innermost(err) {
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        other => other.to_string(),
    }
}

/// Whether `err` is one of ours marked `retryable`, and how long the server asked us to
/// wait first.
pub fn retry_hint(err: &EvalAltResult) -> Option<Option<Duration>> {
    let map = error_map(err)?;
    let retryable = map.get("retryable").and_then(|v| v.as_bool().ok())?;
    retryable.then(|| {
        map.get("retry_after")
            .and_then(|v| v.as_int().ok())
            .and_then(|ms| u64::try_from(ms).ok())
            .map(Duration::from_millis)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_has_every_field_of_the_design() {
        let mut err = ApiError::new(ErrorKind::InvalidState, "422 Unprocessable Entity: nope")
            .at("array1", "cutover")
            .with_state("Copy_In_Progress");
        err.status = Some(422);
        err.vendor_code = Some("0xE0A0C0010001".into());
        let map = to_map(&err);
        for key in [
            "kind",
            "message",
            "target",
            "operation",
            "status",
            "vendor_code",
            "retryable",
            "state",
        ] {
            assert!(map.contains_key(key), "{key}");
        }
        assert_eq!(map["kind"].clone().into_string().unwrap(), "invalid_state");
        assert_eq!(map["status"].as_int().unwrap(), 422);
        assert!(map["body"].is_unit());
    }

    #[test]
    fn retry_hints_come_through_function_wrappers() {
        let mut err = ApiError::new(ErrorKind::Http, "503").retryable();
        err.retry_after = Some(Duration::from_secs(2));
        let wrapped = EvalAltResult::ErrorInFunctionCall(
            "f".into(),
            String::new(),
            raise(err),
            Position::NONE,
        );
        assert_eq!(retry_hint(&wrapped), Some(Some(Duration::from_secs(2))));
        let not = raise(ApiError::new(ErrorKind::InvalidState, "422"));
        assert_eq!(retry_hint(&not), None);
        let thrown = EvalAltResult::ErrorRuntime("oops".into(), Position::NONE);
        assert_eq!(retry_hint(&thrown), None);
    }
}

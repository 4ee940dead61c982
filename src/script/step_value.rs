//! A step's result as the journal stores it: plain data as JSON.

use rhai::Dynamic;

use crate::api_error::{ApiError, ErrorKind};
use crate::script::Host;

/// `value` as JSON, or why it cannot be stored.
pub fn to_stored(value: &Dynamic) -> Result<serde_json::Value, String> {
    serde_json::to_value(value).map_err(|err| err.to_string())
}

/// The value stored as `value`.
pub fn from_stored(_host: &Host, value: &serde_json::Value) -> Result<Dynamic, ApiError> {
    rhai::serde::to_dynamic(value)
        .map_err(|err| ApiError::new(ErrorKind::Validation, err.to_string()))
}

//! [`LabError`]: every refusal of the PowerStore simulator, answered with the array's
//! status and `error_response` body (vendor-apis.md §4.6).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::vendors::powerstore::wire::{ErrorMessage, ErrorResponse, Severity, codes};

/// A failed call: an HTTP status and the one message of its `error_response`.
#[derive(Clone, Debug, PartialEq)]
pub struct LabError {
    status: StatusCode,
    message: ErrorMessage,
}

impl LabError {
    fn new(status: StatusCode, code: &str, text: impl Into<String>, arguments: &[&str]) -> Self {
        let arguments =
            (!arguments.is_empty()).then(|| arguments.iter().map(|a| (*a).to_owned()).collect());
        Self {
            status,
            message: ErrorMessage {
                code: code.to_owned(),
                severity: Severity::Error,
                message_l10n: text.into(),
                arguments,
            },
        }
    }

    /// 404 for a path `{id}` (or `name:{name}`) that names nothing.
    pub(super) fn not_found(id: &str) -> Self {
        let text = format!("Instance with id {id} was not found.");
        Self::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, text, &[id])
    }

    /// 400 for a malformed query: a bad `select`, filter, `order` or paging value.
    pub(super) fn invalid_request(text: impl Into<String>, arguments: &[&str]) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            text,
            arguments,
        )
    }

    /// 400 for a body that does not fit the request's schema.
    pub(super) fn schema(text: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::SCHEMA_VALIDATION, text, &[])
    }

    /// 401: no credentials, wrong credentials, or an expired login session.
    pub(super) fn unauthenticated(text: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, codes::UNAUTHENTICATED, text, &[])
    }

    /// 403: a mutation without the login session's `DELL-EMC-TOKEN`.
    pub(super) fn forbidden(text: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, text, &[])
    }

    /// 416: a `limit` below 1 or an offset past the end of the results.
    pub(super) fn range(text: impl Into<String>) -> Self {
        Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            codes::INVALID_REQUEST,
            text,
            &[],
        )
    }

    /// 422: `operation` (a phrase such as `be cut over`) is illegal in `state`.
    pub(super) fn invalid_state(name: &str, operation: &str, state: &str) -> Self {
        let text = format!("Import session {name} cannot {operation} in state {state}.");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::INVALID_STATE,
            text,
            &[name, state],
        )
    }

    /// 422: another import session already has this name.
    pub(super) fn name_in_use(name: &str) -> Self {
        let text = format!("The name {name} is already in use by another import session.");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::NAME_IN_USE,
            text,
            &[name],
        )
    }

    /// 404 for a path the API does not have.
    pub(super) fn no_route(path: &str) -> Self {
        let text = format!("The resource {path} does not exist.");
        Self::new(StatusCode::NOT_FOUND, codes::INVALID_REQUEST, text, &[path])
    }

    /// 405 for a method a path does not support.
    pub(super) fn no_method(path: &str) -> Self {
        let text = format!("The HTTP method is not supported on {path}.");
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::INVALID_REQUEST,
            text,
            &[path],
        )
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error_response` body of the answer.
    pub fn body(&self) -> ErrorResponse {
        ErrorResponse {
            messages: vec![self.message.clone()],
        }
    }
}

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// The body an injected fault answers with: what the array would say for `status`.
pub(super) fn fault_body(status: StatusCode) -> serde_json::Value {
    let code = match status.as_u16() {
        400 => codes::INVALID_REQUEST,
        401 => codes::UNAUTHENTICATED,
        403 => codes::FORBIDDEN,
        404 => codes::NOT_FOUND,
        422 => codes::INVALID_STATE,
        _ => codes::SERVER_ERROR,
    };
    let text = match status.as_u16() {
        429 => "Too many requests; try again later.".to_owned(),
        503 => "The service is temporarily unavailable; try again later.".to_owned(),
        code => format!(
            "The request failed: {code} {}.",
            status.canonical_reason().unwrap_or("Error")
        ),
    };
    let error = LabError::new(status, code, text, &[]);
    serde_json::to_value(error.body()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn not_found_matches_the_documented_example() {
        let body = serde_json::to_value(LabError::not_found("invalid-id").body()).unwrap();
        assert_eq!(
            body,
            json!({"messages": [{"code": "0xE04040020009", "severity": "Error",
                "message_l10n": "Instance with id invalid-id was not found.",
                "arguments": ["invalid-id"]}]})
        );
    }

    #[test]
    fn invalid_state_names_the_operation_and_the_state() {
        let error = LabError::invalid_state("imp-lun17", "be cut over", "Copy_In_Progress");
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            error.body().messages[0].message_l10n,
            "Import session imp-lun17 cannot be cut over in state Copy_In_Progress."
        );
    }

    #[test]
    fn fault_bodies_are_error_responses() {
        let body = fault_body(StatusCode::SERVICE_UNAVAILABLE);
        let parsed: ErrorResponse = serde_json::from_value(body).unwrap();
        assert_eq!(parsed.messages[0].code, codes::SERVER_ERROR);
        let body = fault_body(StatusCode::BAD_GATEWAY);
        assert_eq!(
            body["messages"][0]["message_l10n"],
            "The request failed: 502 Bad Gateway."
        );
    }
}

//! [`LabError`]: every refusal of the SMS simulator, with the status and the
//! `error_code`/`error_msg` body of SMS (vendor-apis.md §5.6) or of the API gateway in
//! front of it (§5.2, §5.7); and IAM's own error body for the token endpoint.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::vendors::huawei_sms::iam_wire::{IamError, IamErrorBody};
use crate::vendors::huawei_sms::wire::{ErrorBody, TaskState, codes};

/// A failed call: a status and an SMS or gateway error body.
#[derive(Clone, Debug, PartialEq)]
pub struct LabError {
    status: StatusCode,
    body: ErrorBody,
}

impl LabError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error_code: code.to_owned(),
                error_msg: message.into(),
                ..ErrorBody::default()
            },
        }
    }

    /// 400: `operation` is not allowed in `state`; "already" when it is where the
    /// operation would take it (§5.5: actions are not idempotent on the wire).
    pub(super) fn conflict(operation: &str, state: TaskState) -> Self {
        use TaskState::*;
        let message = match (operation, state) {
            ("start", Running | Syncing) => "The task is already running.".to_owned(),
            ("stop", Abort | Aborting) => "The task is already stopped.".to_owned(),
            _ => format!("Operation {operation} is not allowed for a task in state {state}."),
        };
        let mut error = Self::new(StatusCode::BAD_REQUEST, codes::STATE_CONFLICT, message);
        error.body.error_param = Some(vec![operation.to_owned(), state.as_str().to_owned()]);
        error
    }

    /// 404: no task has this id.
    pub(super) fn not_found(id: &str) -> Self {
        let mut error = Self::new(
            StatusCode::NOT_FOUND,
            codes::TASK_NOT_FOUND,
            format!("The task {id} does not exist."),
        );
        error.body.error_param = Some(vec![id.to_owned()]);
        error
    }

    /// 400: an `operation` the API does not know.
    pub(super) fn unknown_operation(operation: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::UNKNOWN_OPERATION,
            format!("Operation {operation} is not supported."),
        )
    }

    /// 400: a malformed body or query parameter.
    pub(super) fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID_PARAMETER, message)
    }

    /// 404 for a path the API does not have.
    pub(super) fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            codes::INVALID_PARAMETER,
            format!("The resource {path} does not exist."),
        )
    }

    /// An error of the API gateway: auth (401) or throttling (429), with the request id.
    pub(super) fn gateway(
        status: StatusCode,
        code: &str,
        message: String,
        request_id: &str,
    ) -> Self {
        let mut error = Self::new(status, code, message);
        error.body.request_id = Some(request_id.to_owned());
        error
    }

    /// The HTTP status of the answer.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error body of the answer.
    pub fn body(&self) -> ErrorBody {
        self.body.clone()
    }
}

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// IAM's error answer: `{"error": {"code", "title", "message"}}`.
pub(super) fn iam_error(status: StatusCode, message: &str) -> Response {
    let body = IamErrorBody {
        error: IamError {
            code: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: message.to_owned(),
        },
    };
    (status, Json(body)).into_response()
}

/// The body an injected fault answers with: the gateway's for 429, SMS's otherwise.
pub(super) fn fault_body(status: StatusCode) -> serde_json::Value {
    let (code, message) = match status.as_u16() {
        429 => (
            codes::THROTTLED,
            "The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 minute".to_owned(),
        ),
        401 => (
            codes::GATEWAY_AUTH,
            "Incorrect IAM authentication information".to_owned(),
        ),
        404 => (codes::TASK_NOT_FOUND, "The task does not exist.".to_owned()),
        400 => (codes::INVALID_PARAMETER, "Invalid request.".to_owned()),
        other => (
            codes::INTERNAL,
            format!(
                "Internal error: {other} {}.",
                status.canonical_reason().unwrap_or("Error")
            ),
        ),
    };
    json!({"error_code": code, "error_msg": message})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_name_the_operation_and_the_state() {
        let error = LabError::conflict("test", TaskState::Running);
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            serde_json::to_value(error.body()).unwrap(),
            json!({"error_code": "SMS.1802",
                "error_msg": "Operation test is not allowed for a task in state RUNNING.",
                "error_param": ["test", "RUNNING"]})
        );
    }

    #[test]
    fn fault_bodies_follow_the_gateway_and_sms_formats() {
        assert_eq!(
            fault_body(StatusCode::TOO_MANY_REQUESTS)["error_code"],
            "APIGW.0308"
        );
        assert_eq!(
            fault_body(StatusCode::SERVICE_UNAVAILABLE)["error_msg"],
            "Internal error: 503 Service Unavailable."
        );
    }
}

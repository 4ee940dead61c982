//! [`LabError`]: every refusal of the vCenter simulator, answered with the status and
//! the vAPI error body of vendor-apis.md §1.6 in the encoding of the request's path:
//! `{"type": "com.vmware.vapi.std.errors.<kind>", "value": {"messages": [...]}}` under
//! `/rest`, `{"error_type": "<KIND>", "messages": [...]}` under `/api`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::vendors::vcenter::wire::{Encoding, LocalizableMessage, VapiError, VapiErrorKind};

/// A failed call: the vAPI error, its status and the encoding that answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct LabError {
    status: StatusCode,
    error: VapiError,
    encoding: Encoding,
}

impl LabError {
    /// An error of `kind` with one message, answered in the `/api` encoding until
    /// [`LabError::in_encoding`] says otherwise.
    pub(super) fn new(kind: VapiErrorKind, id: &str, message: impl Into<String>) -> Self {
        let status =
            StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self {
            status,
            error: VapiError::new(kind, vec![LocalizableMessage::new(id, message)]),
            encoding: Encoding::Api,
        }
    }

    /// 400 `invalid_argument`: a body the operation cannot read.
    pub(super) fn invalid_argument(message: impl Into<String>) -> Self {
        let message = LocalizableMessage::new("vapi.lab.invalid.argument", message);
        Self {
            status: StatusCode::BAD_REQUEST,
            error: VapiError {
                raw_type: "INVALID_ARGUMENT".to_owned(),
                kind: None,
                messages: vec![message],
                data: None,
            },
            encoding: Encoding::Api,
        }
    }

    /// 401 `unauthenticated`.
    pub(super) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            VapiErrorKind::Unauthenticated,
            "vapi.security.authentication.invalid",
            message,
        )
    }

    /// 404 `not_found` for a path or action the service does not have.
    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            VapiErrorKind::NotFound,
            "vapi.method.input.invalid",
            message,
        )
    }

    /// The same refusal in `encoding`.
    pub(super) fn in_encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The current state as the message's argument.
    pub(super) fn with_arg(mut self, arg: impl Into<String>) -> Self {
        if let Some(message) = self.error.messages.first_mut() {
            message.args.push(arg.into());
        }
        self
    }

    /// The HTTP status of the answer.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The vAPI error.
    #[cfg(test)]
    pub fn error(&self) -> &VapiError {
        &self.error
    }
}

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        (self.status, Json(self.error.to_json(self.encoding))).into_response()
    }
}

/// The encoding a request path uses: `/rest/…` or anything else (`/api/…`).
pub(super) fn encoding_of(path: &str) -> Encoding {
    if path == "/rest" || path.starts_with("/rest/") {
        Encoding::Rest
    } else {
        Encoding::Api
    }
}

/// The body of an injected fault with `status`: the `/api` form (the fault layer does
/// not see the path), which a `/rest` client's error parser also reads.
pub(super) fn fault_body(status: StatusCode) -> serde_json::Value {
    let kind = match status.as_u16() {
        400 => VapiErrorKind::NotAllowedInCurrentState,
        401 => VapiErrorKind::Unauthenticated,
        403 => VapiErrorKind::Unauthorized,
        404 => VapiErrorKind::NotFound,
        500 => VapiErrorKind::InternalServerError,
        _ => VapiErrorKind::Error,
    };
    let message = format!(
        "The request failed: {} {}; try again later.",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let error = VapiError::new(
        kind,
        vec![LocalizableMessage::new("vapi.lab.fault", message)],
    );
    error.to_json(Encoding::Api)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_follow_the_encoding() {
        let error = LabError::new(VapiErrorKind::AlreadyInDesiredState, "x.y", "Already.");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            error.error().to_json(Encoding::Rest),
            json!({"type": "com.vmware.vapi.std.errors.already_in_desired_state",
                "value": {"messages": [{"id": "x.y", "default_message": "Already.", "args": []}]}})
        );
        assert_eq!(
            error.error().to_json(Encoding::Api),
            json!({"error_type": "ALREADY_IN_DESIRED_STATE",
                "messages": [{"id": "x.y", "default_message": "Already.", "args": []}]})
        );
        let bad = LabError::invalid_argument("no");
        assert_eq!(
            bad.error().to_json(Encoding::Rest)["type"],
            "com.vmware.vapi.std.errors.invalid_argument"
        );
        assert_eq!(encoding_of("/rest/vcenter"), Encoding::Rest);
        assert_eq!(encoding_of("/api/session"), Encoding::Api);
        assert_eq!(
            fault_body(StatusCode::SERVICE_UNAVAILABLE)["error_type"],
            "ERROR"
        );
    }
}

//! [`LabError`]: every refusal of the Cloud Director simulator, answered with the status
//! and body VCD uses (vendor-apis.md §2.8): the cloudapi JSON body
//! `{"minorErrorCode", "message", "stackTrace"}` with the request id in front of the
//! message, or the legacy XML `<Error>` for `/api/*` paths.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::vendors::vcd::wire::{CloudApiError, VCLOUD_XMLNS};

use super::request_id;

/// The content type of legacy error documents.
pub(super) const ERROR_XML: &str = "application/vnd.vmware.vcloud.error+xml";

/// A failed call: status, `minorErrorCode`, message, and which API family answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct LabError {
    status: StatusCode,
    code: &'static str,
    message: String,
    legacy: bool,
}

impl LabError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            legacy: false,
        }
    }

    /// The same refusal as a legacy `/api` XML `<Error>`.
    pub(super) fn legacy(mut self) -> Self {
        self.legacy = true;
        self
    }

    /// 405 for a method a path does not support.
    pub(super) fn no_method(path: &str) -> Self {
        let message = format!("The HTTP method is not supported on {path}");
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST", message)
    }

    /// The HTTP status of the answer.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The cloudapi body, with `request_id` in front of the message.
    pub fn body(&self, request_id: &str) -> CloudApiError {
        CloudApiError {
            minor_error_code: self.code.to_owned(),
            message: format!("[ {request_id} ] {}", self.message),
            stack_trace: Some(format!("{}: {}", exception(self.code), self.message)),
        }
    }

    /// The legacy `<Error>` document.
    pub fn xml(&self) -> String {
        let code = match self.code {
            "NOT_FOUND" => "RESOURCE_NOT_FOUND",
            code => code,
        };
        format!(
            "<Error xmlns=\"{VCLOUD_XMLNS}\" majorErrorCode=\"{}\" minorErrorCode=\"{code}\" message=\"{}\" stackTrace=\"{}: {}\"/>",
            self.status.as_u16(),
            quick_xml::escape::escape(self.message.as_str()),
            exception(self.code),
            quick_xml::escape::escape(self.message.as_str()),
        )
    }
}

/// The refusals by name: each constructor answers its status and `minorErrorCode`.
macro_rules! refusals {
    ($($(#[$doc:meta])* $name:ident: $status:ident, $code:literal;)*) => {
        impl LabError {
            $(
                $(#[$doc])*
                pub(super) fn $name(message: impl Into<String>) -> Self {
                    Self::new(StatusCode::$status, $code, message)
                }
            )*
        }
    };
}

refusals! {
    /// 400 `BAD_REQUEST`.
    bad_request: BAD_REQUEST, "BAD_REQUEST";
    /// 401 `UNAUTHORIZED`: no, wrong or expired credentials.
    unauthorized: UNAUTHORIZED, "UNAUTHORIZED";
    /// 403 `ACCESS_TO_RESOURCE_IS_FORBIDDEN`: the caller may not change this.
    forbidden: FORBIDDEN, "ACCESS_TO_RESOURCE_IS_FORBIDDEN";
    /// 404 `NOT_FOUND` (legacy: `RESOURCE_NOT_FOUND`).
    not_found: NOT_FOUND, "NOT_FOUND";
    /// 406 `NOT_ACCEPTABLE`: `Accept` has no version, or one the server does not offer.
    not_acceptable: NOT_ACCEPTABLE, "NOT_ACCEPTABLE";
    /// 409 `BUSY_ENTITY`: another task is migrating overlapping types.
    busy: CONFLICT, "BUSY_ENTITY";
    /// 412 `PRECONDITION_FAILED`: `If-Match` does not match the entity's `ETag`.
    precondition_failed: PRECONDITION_FAILED, "PRECONDITION_FAILED";
}

/// The Java exception VCD names in `stackTrace` for a code.
fn exception(code: &str) -> &'static str {
    match code {
        "BAD_REQUEST" | "BUSY_ENTITY" => {
            "com.vmware.vcloud.api.presentation.service.BadRequestException"
        }
        "UNAUTHORIZED" => "com.vmware.vcloud.api.presentation.service.NotAuthorizedException",
        "ACCESS_TO_RESOURCE_IS_FORBIDDEN" => {
            "com.vmware.vcloud.api.presentation.service.AccessForbiddenException"
        }
        "NOT_FOUND" => "com.vmware.vcloud.api.presentation.service.NotFoundException",
        "NOT_ACCEPTABLE" => "com.vmware.vcloud.api.presentation.service.NotAcceptableException",
        "PRECONDITION_FAILED" => {
            "com.vmware.vcloud.api.presentation.service.PreconditionFailedException"
        }
        _ => "com.vmware.vcloud.api.presentation.service.InternalServerErrorException",
    }
}

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        let (content_type, body) = if self.legacy {
            (ERROR_XML, self.xml())
        } else {
            let body = serde_json::to_string(&self.body(&request_id::current()));
            ("application/json", body.unwrap_or_default())
        };
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

/// The cloudapi body of an injected fault with `status`.
pub(super) fn fault_body(status: StatusCode) -> serde_json::Value {
    let code = match status.as_u16() {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "ACCESS_TO_RESOURCE_IS_FORBIDDEN",
        404 => "NOT_FOUND",
        409 => "BUSY_ENTITY",
        _ => "INTERNAL_SERVER_ERROR",
    };
    let message = match status.as_u16() {
        503 => "service busy, try again later".to_owned(),
        code => format!(
            "The request failed: {code} {}",
            status.canonical_reason().unwrap_or("Error")
        ),
    };
    let error = LabError::new(status, code, message);
    serde_json::to_value(error.body(&request_id::current())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cloudapi_bodies_carry_the_request_id_and_a_stack_trace() {
        let error = LabError::not_found("Entity type urn:vcloud:type:acme:vm:9.9.9 not found");
        assert_eq!(
            serde_json::to_value(error.body("r-1")).unwrap(),
            json!({"minorErrorCode": "NOT_FOUND",
                "message": "[ r-1 ] Entity type urn:vcloud:type:acme:vm:9.9.9 not found",
                "stackTrace": "com.vmware.vcloud.api.presentation.service.NotFoundException: Entity type urn:vcloud:type:acme:vm:9.9.9 not found"})
        );
    }

    #[test]
    fn legacy_errors_are_xml_with_the_legacy_code() {
        let error = LabError::not_found("No task \"x\" <here>").legacy();
        assert_eq!(
            error.xml(),
            "<Error xmlns=\"http://www.vmware.com/vcloud/v1.5\" majorErrorCode=\"404\" \
             minorErrorCode=\"RESOURCE_NOT_FOUND\" message=\"No task &quot;x&quot; &lt;here&gt;\" \
             stackTrace=\"com.vmware.vcloud.api.presentation.service.NotFoundException: No task &quot;x&quot; &lt;here&gt;\"/>"
        );
    }

    #[test]
    fn fault_bodies_are_cloudapi_errors() {
        let body = fault_body(StatusCode::SERVICE_UNAVAILABLE);
        let parsed: CloudApiError = serde_json::from_value(body).unwrap();
        assert_eq!(parsed.minor_error_code, "INTERNAL_SERVER_ERROR");
        assert!(parsed.message.ends_with("] service busy, try again later"));
    }
}

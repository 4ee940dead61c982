//! `ApiError`: what every vendor call, wait and flow primitive fails with. It carries the
//! fields of the catchable error map of design.md, so the script layer converts it
//! without losing anything, and its `Display` is one line.

use std::fmt;
use std::time::Duration;

mod verification;

pub use verification::{Check, ObjectRef, Verification};

/// Longest response-body excerpt kept in an error (bytes).
const BODY_EXCERPT: usize = 2048;

/// What sort of failure an [`ApiError`] is; scripts see it as `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A transport failure or an HTTP status without a more precise kind.
    Http,
    /// Credentials were refused.
    Auth,
    /// The object does not exist.
    NotFound,
    /// The object is in a state that does not allow the operation.
    InvalidState,
    /// The request or the script's arguments are malformed.
    Validation,
    /// A wait ran out of time.
    Timeout,
    /// The run was interrupted.
    Cancelled,
    /// A mutating request was sent but its answer was lost; re-read state before retrying.
    UnknownOutcome,
    /// An error raised by the script itself.
    Script,
    /// The operator answered no at a `confirm` gate.
    Declined,
}

impl ErrorKind {
    /// The spelling scripts compare against, e.g. `"not_found"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Auth => "auth",
            Self::NotFound => "not_found",
            Self::InvalidState => "invalid_state",
            Self::Validation => "validation",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::UnknownOutcome => "unknown_outcome",
            Self::Script => "script",
            Self::Declined => "declined",
        }
    }

    /// The kind for an unsuccessful HTTP status.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::Validation,
            401 | 403 => Self::Auth,
            404 => Self::NotFound,
            409 | 422 => Self::InvalidState,
            _ => Self::Http,
        }
    }
}

/// Statuses worth trying again: the server said it is busy or a gateway failed.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 502 | 503 | 504)
}

/// A failed vendor call or wait, with everything a script or an operator needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// The target's name from the target file.
    pub target: Option<String>,
    /// The script-facing operation, e.g. `cutover`.
    pub operation: Option<String>,
    pub method: Option<String>,
    /// The request URL; it never carries credentials.
    pub url: Option<String>,
    pub status: Option<u16>,
    pub vendor_code: Option<String>,
    /// The start of the response body, control characters escaped.
    pub body: Option<String>,
    pub retryable: bool,
    /// How long the server asked us to wait before trying again.
    pub retry_after: Option<Duration>,
    /// The remote object's state when the error arose, if known.
    pub state: Option<String>,
    /// For an `unknown_outcome` of a mutation: how to tell whether it took effect.
    pub verification: Option<Box<Verification>>,
    /// A mutation refused with a retryable status (busy, throttled) that the vendor,
    /// asked afterwards, shows did not take effect, or that is safe to repeat: the
    /// client's retries may send it again.
    pub resend_safe: bool,
}

impl ApiError {
    /// An error of `kind` with a message and nothing else yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            target: None,
            operation: None,
            method: None,
            url: None,
            status: None,
            vendor_code: None,
            body: None,
            retryable: false,
            retry_after: None,
            state: None,
            verification: None,
            resend_safe: false,
        }
    }

    /// Names the target and operation the error belongs to.
    pub fn at(mut self, target: &str, operation: &str) -> Self {
        self.target = Some(target.to_owned());
        self.operation = Some(operation.to_owned());
        self
    }

    /// Records the remote object's state.
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Marks the error as worth retrying.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }

    /// Keeps a sanitised excerpt of a response body.
    pub fn with_body(mut self, body: &str) -> Self {
        if !body.trim().is_empty() {
            self.body = Some(excerpt(body));
        }
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(target) = &self.target {
            write!(f, "`{target}` ")?;
        }
        if let Some(operation) = &self.operation {
            write!(f, "{operation}: ")?;
        }
        write!(f, "{} (kind: {}", self.message, self.kind.as_str())?;
        if self.retryable {
            f.write_str(", retryable")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for ApiError {}

/// Cuts `body` to [`BODY_EXCERPT`] bytes on a character boundary and escapes what a
/// terminal would interpret.
fn excerpt(body: &str) -> String {
    let mut end = body.len().min(BODY_EXCERPT);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let mut text = crate::terminal_text::escape_control(&body[..end]);
    if end < body.len() {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_kind_and_retryability() {
        let err = ApiError::new(ErrorKind::Http, "503 Service Unavailable")
            .at("array1", "cutover")
            .retryable();
        assert_eq!(
            err.to_string(),
            "`array1` cutover: 503 Service Unavailable (kind: http, retryable)"
        );
        let bare = ApiError::new(ErrorKind::Timeout, "gave up");
        assert_eq!(bare.to_string(), "gave up (kind: timeout)");
    }

    #[test]
    fn statuses_map_to_kinds_and_retryability() {
        #[track_caller]
        fn case(status: u16, kind: ErrorKind, retryable: bool) {
            assert_eq!(ErrorKind::from_status(status), kind, "{status}");
            assert_eq!(is_retryable_status(status), retryable, "{status}");
        }
        case(400, ErrorKind::Validation, false);
        case(401, ErrorKind::Auth, false);
        case(403, ErrorKind::Auth, false);
        case(404, ErrorKind::NotFound, false);
        case(408, ErrorKind::Http, true);
        case(422, ErrorKind::InvalidState, false);
        case(429, ErrorKind::Http, true);
        case(500, ErrorKind::Http, false);
        case(502, ErrorKind::Http, true);
        case(503, ErrorKind::Http, true);
        case(504, ErrorKind::Http, true);
    }

    #[test]
    fn bodies_are_cut_and_escaped() {
        let long = "é".repeat(2000);
        let err = ApiError::new(ErrorKind::Http, "x").with_body(&long);
        let body = err.body.unwrap();
        assert!(body.len() <= BODY_EXCERPT + "…".len());
        assert!(body.ends_with('…'));
        let err = ApiError::new(ErrorKind::Http, "x").with_body("bad\x1b[31mred");
        assert_eq!(err.body.as_deref(), Some("bad\\u{1b}[31mred"));
        assert_eq!(
            ApiError::new(ErrorKind::Http, "x").with_body("  ").body,
            None
        );
    }
}

//! vCenter wire types for the deferred history import (vendor-apis.md §1): the Info
//! structure, the start spec, the two body encodings (`/rest` wrapped in `value`, `/api`
//! bare), sessions and the vAPI error bodies. Shared by the client and the lab.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// Header carrying the session id after login, on both encodings.
pub const SESSION_HEADER: &str = "vmware-api-session-id";
/// The history import resource in the `/rest` encoding.
pub const REST_HISTORY_PATH: &str = "/rest/vcenter/deployment/history";
/// The history import resource in the `/api` encoding.
pub const API_HISTORY_PATH: &str = "/api/vcenter/deployment/history";
/// Session login/logout in the `/rest` encoding.
pub const REST_SESSION_PATH: &str = "/rest/com/vmware/cis/session";
/// Session login/info/logout in the `/api` encoding.
pub const API_SESSION_PATH: &str = "/api/session";
/// The query key selecting the operation on the history resource.
pub const ACTION_QUERY: &str = "action";
/// The vAPI service id of the history import.
pub const HISTORY_SERVICE: &str = "com.vmware.vcenter.deployment.import_history";
/// Name used by `start` when no spec is given.
pub const DEFAULT_START_NAME: &str = "vcenter.deployment.history.import";
/// Description used by `start` when no spec is given.
pub const DEFAULT_START_DESCRIPTION: &str = "vCenter Server history import";
/// Prefix of `/rest` error type strings.
pub const REST_ERROR_PREFIX: &str = "com.vmware.vapi.std.errors.";

/// The two body encodings of the same vAPI service (§1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Legacy vAPI REST: results wrapped in `value`, params keyed by name.
    Rest,
    /// Current `/api`: bare results and specs.
    Api,
}

impl Encoding {
    /// The history import path in this encoding.
    pub fn history_path(self) -> &'static str {
        match self {
            Self::Rest => REST_HISTORY_PATH,
            Self::Api => API_HISTORY_PATH,
        }
    }

    /// The session path in this encoding.
    pub fn session_path(self) -> &'static str {
        match self {
            Self::Rest => REST_SESSION_PATH,
            Self::Api => API_SESSION_PATH,
        }
    }

    /// `rest` or `api`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::Api => "api",
        }
    }
}

/// Status of the import task (`com.vmware.cis.task.status`, §1.5). Paused is `BLOCKED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HistoryStatus {
    Pending,
    Running,
    Blocked,
    Succeeded,
    Failed,
}

impl HistoryStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Running,
        Self::Blocked,
        Self::Succeeded,
        Self::Failed,
    ];

    /// The vendor's spelling, e.g. `BLOCKED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Blocked => "BLOCKED",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses the vendor's spelling (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether no operation or background work changes this status any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }

    /// Whether `cancel` is accepted (and `cancelable` is true) in this status.
    pub fn is_cancelable(self) -> bool {
        matches!(self, Self::Running | Self::Blocked)
    }
}

impl std::fmt::Display for HistoryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operations on the history resource, selected by `?action=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HistoryAction {
    Start,
    Pause,
    Resume,
    Cancel,
}

impl HistoryAction {
    /// Every action.
    pub const ALL: [Self; 4] = [Self::Start, Self::Pause, Self::Resume, Self::Cancel];

    /// The query value, e.g. `pause`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
        }
    }

    /// Parses the query value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }
}

/// A vAPI LocalizableMessage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizableMessage {
    pub id: String,
    pub default_message: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localized: Option<String>,
}

impl LocalizableMessage {
    /// A message without arguments.
    pub fn new(id: impl Into<String>, default_message: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            default_message: default_message.into(),
            ..Self::default()
        }
    }
}

/// Progress of the import: `completed` out of `total` steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub total: i64,
    pub completed: i64,
    pub message: LocalizableMessage,
}

/// One entry of a `Notifications` list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub message: LocalizableMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<LocalizableMessage>,
}

/// The `result` of the import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    #[serde(default)]
    pub info: Vec<Notification>,
    #[serde(default)]
    pub warnings: Vec<Notification>,
    #[serde(default)]
    pub errors: Vec<Notification>,
}

/// A vAPI DynamicID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicId {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// The Info of the import task (`com.vmware.vcenter.deployment.import_history.info`,
/// §1.4). `description`, `service`, `operation`, `cancelable` and `status` are always
/// present; `progress` and `start_time` from RUNNING on; `end_time` once terminal.
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryInfo {
    pub status: HistoryStatus,
    pub cancelable: bool,
    pub description: LocalizableMessage,
    pub service: String,
    pub operation: String,
    pub progress: Option<Progress>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub result: Option<Notifications>,
    /// A vAPI error value, in the encoding of the response (see [`VapiError::from_value`]).
    pub error: Option<Value>,
    pub parent: Option<String>,
    pub target: Option<DynamicId>,
    pub user: Option<String>,
}

impl HistoryInfo {
    /// The error carried in `error`, whichever encoding it uses.
    pub fn error(&self) -> Option<VapiError> {
        self.error.as_ref().and_then(VapiError::from_value)
    }
}

fn default_start_name() -> String {
    DEFAULT_START_NAME.to_owned()
}

fn default_start_description() -> String {
    DEFAULT_START_DESCRIPTION.to_owned()
}

/// The spec of `start` (`/api` body). Missing fields take the documented defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryStartSpec {
    #[serde(default = "default_start_name")]
    pub name: String,
    #[serde(default = "default_start_description")]
    pub description: String,
}

impl Default for HistoryStartSpec {
    fn default() -> Self {
        Self {
            name: default_start_name(),
            description: default_start_description(),
        }
    }
}

/// The `/rest` body of `start`: `{"spec": {...}}`, or `{}` without a spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestStartRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<HistoryStartSpec>,
}

/// The `/rest` result wrapper `{"value": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapped<T> {
    pub value: T,
}

/// `GET /api/session`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: String,
    pub created_time: String,
    pub last_accessed_time: String,
}

/// The standard vAPI errors this service reports (§1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VapiErrorKind {
    NotAllowedInCurrentState,
    AlreadyInDesiredState,
    Unauthenticated,
    Unauthorized,
    NotFound,
    Error,
    InternalServerError,
}

impl VapiErrorKind {
    /// Every kind.
    pub const ALL: [Self; 7] = [
        Self::NotAllowedInCurrentState,
        Self::AlreadyInDesiredState,
        Self::Unauthenticated,
        Self::Unauthorized,
        Self::NotFound,
        Self::Error,
        Self::InternalServerError,
    ];

    /// The snake spelling, e.g. `not_allowed_in_current_state`.
    pub fn as_snake(self) -> &'static str {
        match self {
            Self::NotAllowedInCurrentState => "not_allowed_in_current_state",
            Self::AlreadyInDesiredState => "already_in_desired_state",
            Self::Unauthenticated => "unauthenticated",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::Error => "error",
            Self::InternalServerError => "internal_server_error",
        }
    }

    /// The `/rest` `type`, e.g. `com.vmware.vapi.std.errors.not_found`.
    pub fn rest_type(self) -> String {
        format!("{REST_ERROR_PREFIX}{}", self.as_snake())
    }

    /// The `/api` `error_type`, e.g. `NOT_FOUND`.
    pub fn api_type(self) -> String {
        self.as_snake().to_ascii_uppercase()
    }

    /// The HTTP status the vAPI maps this error to.
    pub fn status(self) -> u16 {
        match self {
            Self::NotAllowedInCurrentState | Self::AlreadyInDesiredState => 400,
            Self::Unauthenticated => 401,
            Self::Unauthorized => 403,
            Self::NotFound => 404,
            Self::Error | Self::InternalServerError => 500,
        }
    }

    /// Parses the snake spelling, the `/rest` type or the `/api` error_type.
    pub fn parse(text: &str) -> Option<Self> {
        let snake = text.strip_prefix(REST_ERROR_PREFIX).unwrap_or(text);
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_snake().eq_ignore_ascii_case(snake))
    }
}

impl std::fmt::Display for VapiErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_snake())
    }
}

/// The `value` of a `/rest` error body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RestErrorValue {
    #[serde(default)]
    pub messages: Vec<LocalizableMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// A `/rest` error body: `{"type": "com.vmware.vapi.std.errors.<snake>", "value": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestError {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: RestErrorValue,
}

/// An `/api` error body: `{"error_type": "<UPPER_SNAKE>", "messages": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error_type: String,
    #[serde(default)]
    pub messages: Vec<LocalizableMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// A vAPI error independent of its encoding.
#[derive(Clone, Debug, PartialEq)]
pub struct VapiError {
    /// The type as sent (`/rest` type or `/api` error_type).
    pub raw_type: String,
    /// The kind, when it is one this service reports.
    pub kind: Option<VapiErrorKind>,
    pub messages: Vec<LocalizableMessage>,
    pub data: Option<Value>,
}

impl VapiError {
    /// An error of a known kind.
    pub fn new(kind: VapiErrorKind, messages: Vec<LocalizableMessage>) -> Self {
        Self {
            raw_type: kind.api_type(),
            kind: Some(kind),
            messages,
            data: None,
        }
    }

    /// Reads either encoding's error body.
    pub fn from_value(value: &Value) -> Option<Self> {
        if value.get("error_type").is_some() {
            let body: ApiError = serde_json::from_value(value.clone()).ok()?;
            Some(Self::from(body))
        } else if value.get("type").is_some() && value.get("value").is_some() {
            let body: RestError = serde_json::from_value(value.clone()).ok()?;
            Some(Self::from(body))
        } else {
            None
        }
    }

    /// Reads either encoding's error body from response text.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str::<Value>(text)
            .ok()
            .as_ref()
            .and_then(Self::from_value)
    }

    /// The default messages joined, for humans.
    pub fn message(&self) -> String {
        self.messages
            .iter()
            .map(|m| m.default_message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The `/rest` body of this error.
    pub fn to_rest(&self) -> RestError {
        RestError {
            kind: self.kind.map_or_else(
                || format!("{REST_ERROR_PREFIX}{}", self.raw_type.to_ascii_lowercase()),
                VapiErrorKind::rest_type,
            ),
            value: RestErrorValue {
                messages: self.messages.clone(),
                data: self.data.clone(),
            },
        }
    }

    /// The `/api` body of this error.
    pub fn to_api(&self) -> ApiError {
        ApiError {
            error_type: self.kind.map_or_else(
                || {
                    self.raw_type
                        .strip_prefix(REST_ERROR_PREFIX)
                        .unwrap_or(&self.raw_type)
                        .to_ascii_uppercase()
                },
                VapiErrorKind::api_type,
            ),
            messages: self.messages.clone(),
            data: self.data.clone(),
        }
    }

    /// The body in `encoding`, as JSON.
    pub fn to_json(&self, encoding: Encoding) -> Value {
        let body = match encoding {
            Encoding::Rest => serde_json::to_value(self.to_rest()),
            Encoding::Api => serde_json::to_value(self.to_api()),
        };
        body.unwrap_or(Value::Null)
    }
}

impl From<RestError> for VapiError {
    fn from(body: RestError) -> Self {
        Self {
            kind: VapiErrorKind::parse(&body.kind),
            raw_type: body.kind,
            messages: body.value.messages,
            data: body.value.data,
        }
    }
}

impl From<ApiError> for VapiError {
    fn from(body: ApiError) -> Self {
        Self {
            kind: VapiErrorKind::parse(&body.error_type),
            raw_type: body.error_type,
            messages: body.messages,
            data: body.data,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The Info fields every answer holds (§1.4).
    pub(crate) const REQUIRED: [&str; 5] = [
        "status",
        "cancelable",
        "description",
        "service",
        "operation",
    ];
    use serde_json::json;

    fn running_example() -> Value {
        json!({"value": {
          "status": "RUNNING", "cancelable": true,
          "description": {"id": "vcenter.deployment.history.import", "default_message": "vCenter Server history import", "args": []},
          "service": "com.vmware.vcenter.deployment.import_history", "operation": "start",
          "progress": {"total": 100, "completed": 42, "message": {"id": "history.import.progress", "default_message": "Importing events", "args": []}},
          "start_time": "2024-05-01T10:00:00.000Z", "user": "root"}})
    }

    #[test]
    fn the_running_info_example_round_trips() {
        let example = running_example();
        let wrapped: Wrapped<HistoryInfo> = serde_json::from_value(example.clone()).unwrap();
        let info = &wrapped.value;
        assert_eq!(info.status, HistoryStatus::Running);
        assert!(info.cancelable);
        assert_eq!(info.progress.as_ref().unwrap().completed, 42);
        assert_eq!(info.user.as_deref(), Some("root"));
        assert_eq!(serde_json::to_value(&wrapped).unwrap(), example);
        // The bare `/api` form is the inner value.
        let bare: HistoryInfo = serde_json::from_value(example["value"].clone()).unwrap();
        assert_eq!(&bare, info);
    }

    #[test]
    fn an_info_without_a_required_field_is_refused() {
        for field in REQUIRED {
            let mut info = running_example()["value"].clone();
            info.as_object_mut().unwrap().remove(field);
            assert!(
                serde_json::from_value::<HistoryInfo>(info).is_err(),
                "{field} accepted as missing"
            );
        }
    }

    #[test]
    fn a_failed_info_carries_times_result_and_error() {
        let info = json!({
            "status": "FAILED", "cancelable": false,
            "description": {"id": "d", "default_message": "m", "args": []},
            "service": HISTORY_SERVICE, "operation": "start",
            "progress": {"total": 100, "completed": 40, "message": {"id": "p", "default_message": "x", "args": []}},
            "start_time": "2024-05-01T10:00:00.000Z", "end_time": "2024-05-01T10:01:00.000Z",
            "result": {"info": [], "warnings": [], "errors": [{"id": "e", "message": {"id": "e", "default_message": "canceled", "args": []}}]},
            "error": {"error_type": "ERROR", "messages": [{"id": "c", "default_message": "canceled", "args": []}]}
        });
        let parsed: HistoryInfo = serde_json::from_value(info.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), info);
        let error = parsed.error().unwrap();
        assert_eq!(error.kind, Some(VapiErrorKind::Error));
        assert_eq!(error.message(), "canceled");
    }

    #[test]
    fn the_rest_error_example_round_trips() {
        let example = json!({"type": "com.vmware.vapi.std.errors.not_allowed_in_current_state",
         "value": {"messages": [{"id": "vcenter.deployment.history.resume.not.allowed",
                                 "default_message": "Resume is allowed only when the import is blocked.",
                                 "args": []}]}});
        let body: RestError = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(serde_json::to_value(&body).unwrap(), example);
        let error = VapiError::parse(&example.to_string()).unwrap();
        assert_eq!(error.kind, Some(VapiErrorKind::NotAllowedInCurrentState));
        assert_eq!(
            error.message(),
            "Resume is allowed only when the import is blocked."
        );
        assert_eq!(error.to_json(Encoding::Rest), example);
    }

    #[test]
    fn the_api_error_example_round_trips() {
        let example = json!({"error_type": "NOT_ALLOWED_IN_CURRENT_STATE",
         "messages": [{"id": "vcenter.deployment.history.resume.not.allowed",
                       "default_message": "Resume is allowed only when the import is blocked.", "args": []}]});
        let body: ApiError = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(serde_json::to_value(&body).unwrap(), example);
        let error = VapiError::parse(&example.to_string()).unwrap();
        assert_eq!(error.kind, Some(VapiErrorKind::NotAllowedInCurrentState));
        assert_eq!(error.to_json(Encoding::Api), example);
        // The same error converts to the other encoding.
        assert_eq!(
            error.to_json(Encoding::Rest)["type"],
            "com.vmware.vapi.std.errors.not_allowed_in_current_state"
        );
    }

    #[test]
    fn error_kinds_map_to_types_and_statuses() {
        for kind in VapiErrorKind::ALL {
            assert_eq!(VapiErrorKind::parse(&kind.rest_type()), Some(kind));
            assert_eq!(VapiErrorKind::parse(&kind.api_type()), Some(kind));
        }
        assert_eq!(VapiErrorKind::AlreadyInDesiredState.status(), 400);
        assert_eq!(VapiErrorKind::Unauthenticated.status(), 401);
        assert_eq!(VapiErrorKind::Unauthorized.status(), 403);
        assert_eq!(VapiErrorKind::NotFound.status(), 404);
        assert_eq!(VapiErrorKind::InternalServerError.status(), 500);
        assert_eq!(
            VapiErrorKind::Unauthorized.rest_type(),
            "com.vmware.vapi.std.errors.unauthorized"
        );
        assert_eq!(
            VapiErrorKind::AlreadyInDesiredState.api_type(),
            "ALREADY_IN_DESIRED_STATE"
        );
        assert_eq!(VapiError::parse("{\"value\": 1}"), None);
    }

    #[test]
    fn start_bodies_use_the_defaults_when_empty() {
        let rest: RestStartRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(rest.spec, None);
        assert_eq!(serde_json::to_string(&rest).unwrap(), "{}");
        let rest: RestStartRequest =
            serde_json::from_value(json!({"spec": {"name": "n", "description": "d"}})).unwrap();
        assert_eq!(rest.spec.unwrap().name, "n");
        let partial: HistoryStartSpec = serde_json::from_value(json!({"name": "n"})).unwrap();
        assert_eq!(partial.description, DEFAULT_START_DESCRIPTION);
        assert_eq!(HistoryStartSpec::default().name, DEFAULT_START_NAME);
    }

    #[test]
    fn statuses_and_actions_parse_their_spellings() {
        for status in HistoryStatus::ALL {
            assert_eq!(HistoryStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                json!(status.as_str())
            );
        }
        assert!(HistoryStatus::Failed.is_terminal());
        assert!(!HistoryStatus::Blocked.is_terminal());
        assert!(HistoryStatus::Blocked.is_cancelable());
        for action in HistoryAction::ALL {
            assert_eq!(HistoryAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(Encoding::Rest.history_path(), REST_HISTORY_PATH);
        assert_eq!(Encoding::Api.session_path(), API_SESSION_PATH);
    }
}

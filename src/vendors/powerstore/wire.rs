//! PowerStore REST wire types for import sessions (vendor-apis.md §4), shared by the
//! client and the lab so the two cannot drift apart silently.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// Header carrying the CSRF token that every mutation must send back.
pub const TOKEN_HEADER: &str = "DELL-EMC-TOKEN";
/// Name of the session cookie set by `GET /login_session`.
pub const AUTH_COOKIE: &str = "auth_cookie";

/// Every attribute of an import session, in the order of §4.4; the client selects
/// them all because a query without `select` returns only `id`.
pub const IMPORT_SESSION_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "type",
    "type_l10n",
    "remote_system_id",
    "source_resource_id",
    "destination_resource_id",
    "destination_resource_type",
    "destination_resource_type_l10n",
    "parent_session_id",
    "state",
    "state_l10n",
    "progress_percentage",
    "estimated_completion_timestamp",
    "average_transfer_rate",
    "current_transfer_rate",
    "protection_policy_id",
    "volume_group_id",
    "automatic_cutover",
    "scheduled_timestamp",
    "last_update_timestamp",
    "global_storage_discovery_address",
    "error",
];

/// What the client selects: every attribute plus the embedded remote system.
pub const IMPORT_SESSION_SELECT: &str = "id,name,description,type,type_l10n,remote_system_id,\
source_resource_id,destination_resource_id,destination_resource_type,\
destination_resource_type_l10n,parent_session_id,state,state_l10n,progress_percentage,\
estimated_completion_timestamp,average_transfer_rate,current_transfer_rate,\
protection_policy_id,volume_group_id,automatic_cutover,scheduled_timestamp,\
last_update_timestamp,global_storage_discovery_address,error,remote_system(id,name)";

/// The state of an import session, spelled exactly as the array spells it (§4.5).
#[allow(
    non_camel_case_types,
    reason = "the variants are the vendor's own spellings"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImportState {
    Scheduled,
    Paused,
    Queued,
    In_Progress,
    Mirror_Enabled,
    Ready_To_Start_Copy,
    Copy_In_Progress,
    Ready_For_Cutover,
    Cutover_In_Progress,
    Import_Completed,
    Cancelled,
    Failed,
    Cancel_Failed,
    Cancel_In_Progress,
    Cleanup_In_Progress,
    Cleanup_Failed,
    Invalid,
    Cleanup_Required,
    Import_Completed_With_Errors,
    Import_Cutover_Incomplete,
    Cancel_Required,
}

impl ImportState {
    /// Every state, in the order of the vendor's enum.
    pub const ALL: [ImportState; 21] = [
        Self::Scheduled,
        Self::Paused,
        Self::Queued,
        Self::In_Progress,
        Self::Mirror_Enabled,
        Self::Ready_To_Start_Copy,
        Self::Copy_In_Progress,
        Self::Ready_For_Cutover,
        Self::Cutover_In_Progress,
        Self::Import_Completed,
        Self::Cancelled,
        Self::Failed,
        Self::Cancel_Failed,
        Self::Cancel_In_Progress,
        Self::Cleanup_In_Progress,
        Self::Cleanup_Failed,
        Self::Invalid,
        Self::Cleanup_Required,
        Self::Import_Completed_With_Errors,
        Self::Import_Cutover_Incomplete,
        Self::Cancel_Required,
    ];

    /// The vendor's spelling, e.g. `Copy_In_Progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Paused => "Paused",
            Self::Queued => "Queued",
            Self::In_Progress => "In_Progress",
            Self::Mirror_Enabled => "Mirror_Enabled",
            Self::Ready_To_Start_Copy => "Ready_To_Start_Copy",
            Self::Copy_In_Progress => "Copy_In_Progress",
            Self::Ready_For_Cutover => "Ready_For_Cutover",
            Self::Cutover_In_Progress => "Cutover_In_Progress",
            Self::Import_Completed => "Import_Completed",
            Self::Cancelled => "Cancelled",
            Self::Failed => "Failed",
            Self::Cancel_Failed => "Cancel_Failed",
            Self::Cancel_In_Progress => "Cancel_In_Progress",
            Self::Cleanup_In_Progress => "Cleanup_In_Progress",
            Self::Cleanup_Failed => "Cleanup_Failed",
            Self::Invalid => "Invalid",
            Self::Cleanup_Required => "Cleanup_Required",
            Self::Import_Completed_With_Errors => "Import_Completed_With_Errors",
            Self::Import_Cutover_Incomplete => "Import_Cutover_Incomplete",
            Self::Cancel_Required => "Cancel_Required",
        }
    }

    /// Parses the vendor's spelling, ignoring case as the array's filters do.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(text))
    }

    /// The localised label, e.g. `Copy In Progress`.
    pub fn l10n(self) -> String {
        self.as_str().replace('_', " ")
    }

    /// States a session does not leave without an operator's action (§4.5): done,
    /// deletable, or stuck needing cleanup.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Import_Completed
                | Self::Import_Completed_With_Errors
                | Self::Cancelled
                | Self::Failed
                | Self::Cleanup_Required
                | Self::Cancel_Failed
                | Self::Cleanup_Failed
                | Self::Invalid
        )
    }
}

impl std::fmt::Display for ImportState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Non_Disruptive` or `Agentless`.
#[allow(
    non_camel_case_types,
    reason = "the variants are the vendor's own spellings"
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportType {
    #[default]
    Non_Disruptive,
    Agentless,
}

/// An import session as the array returns it (§4.4 ImportSessionInstance). Every field
/// defaults because a query returns only what `select` asked for; the lab serialises all
/// of them (absent values as `null`) and then keeps the selected ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportSession {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub import_type: Option<ImportType>,
    pub type_l10n: Option<String>,
    pub remote_system_id: Option<String>,
    pub source_resource_id: Option<String>,
    pub destination_resource_id: Option<String>,
    /// `volume` or `volume_group`.
    pub destination_resource_type: Option<String>,
    pub destination_resource_type_l10n: Option<String>,
    pub parent_session_id: Option<String>,
    pub state: Option<ImportState>,
    pub state_l10n: Option<String>,
    pub progress_percentage: Option<u8>,
    pub estimated_completion_timestamp: Option<String>,
    /// Bytes per second, `null` outside the copy.
    pub average_transfer_rate: Option<u64>,
    /// Bytes per second, `null` outside the copy.
    pub current_transfer_rate: Option<u64>,
    pub protection_policy_id: Option<String>,
    pub volume_group_id: Option<String>,
    pub automatic_cutover: Option<bool>,
    pub scheduled_timestamp: Option<String>,
    pub last_update_timestamp: Option<String>,
    pub global_storage_discovery_address: Option<String>,
    pub error: Option<SessionError>,
    /// The embedded source system, present when selected as `remote_system(id,name)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_system: Option<RemoteSystem>,
}

/// Body of `POST /import_session`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportSessionCreate {
    pub name: String,
    pub remote_system_id: String,
    pub source_resource_id: String,
    pub description: Option<String>,
    pub automatic_cutover: Option<bool>,
    pub scheduled_timestamp: Option<String>,
    pub protection_policy_id: Option<String>,
    pub volume_group_id: Option<String>,
    #[serde(rename = "type")]
    pub import_type: Option<ImportType>,
    pub host_ids: Option<Vec<String>>,
    pub host_group_ids: Option<Vec<String>>,
    pub global_storage_discovery_address: Option<String>,
}

/// `{"id": "…"}`: the answer to a create, and to any `is_async=true` request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdResponse {
    pub id: String,
}

/// Optional body of `POST /import_session/{id}/cancel`; `force: true` is the forced
/// variant (§4.5 explains the vendor's contradictory field doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CancelRequest {
    #[serde(default)]
    pub force: bool,
}

/// Body of `PATCH /import_session/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportSessionModify {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_timestamp: Option<String>,
}

/// One entry of the list `GET /login_session` returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoginSession {
    pub id: String,
    pub user: String,
    pub role_ids: Vec<String>,
    pub idle_timeout: u64,
    pub is_password_change_required: bool,
    pub is_built_in_user: bool,
}

/// Every attribute of a job (§4.3 async), in the order the lab lists them.
pub const JOB_FIELDS: &[&str] = &[
    "id",
    "resource_action",
    "resource_type",
    "resource_id",
    "description_l10n",
    "state",
    "phase",
    "start_time",
    "end_time",
    "progress_percentage",
    "response_status",
    "response_body",
];

/// State of an asynchronous job, spelled as the array does (`COMPLETED`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Pending,
    Queued,
    InProgress,
    Completed,
    Skipped,
    Failing,
    UnrecoverableFailed,
    Failed,
}

impl JobState {
    /// The newer `phase` spelling of the same state, e.g. `In_Progress`.
    pub fn phase(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Queued => "Queued",
            Self::InProgress => "In_Progress",
            Self::Completed => "Completed",
            Self::Skipped => "Skipped",
            Self::Failing => "Failing",
            Self::UnrecoverableFailed => "Unrecoverable_Failed",
            Self::Failed => "Failed",
        }
    }
}

/// A job as `GET /job/{id}` returns it: the outcome of a request sent with
/// `is_async=true`. Fields default because `select` may leave any of them out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Job {
    pub id: String,
    /// The operation, e.g. `cutover` or `create`.
    pub resource_action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub description_l10n: Option<String>,
    pub state: Option<JobState>,
    pub phase: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub progress_percentage: Option<u8>,
    /// The status the synchronous call would have answered, as a string (`"204"`).
    pub response_status: Option<String>,
    /// The body the synchronous call would have answered: an `error_response` on failure.
    pub response_body: Option<serde_json::Value>,
}

/// Every attribute of a remote system that the lab knows.
pub const REMOTE_SYSTEM_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "serial_number",
    "type",
    "management_address",
    "data_connection_state",
];

/// The older array an import reads from (embeddable in an import session as
/// `remote_system(id,name)`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoteSystem {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub serial_number: Option<String>,
    /// `Unity`, `VNX`, `SC`, `PS`, …
    #[serde(rename = "type")]
    pub system_type: Option<String>,
    pub management_address: Option<String>,
    pub data_connection_state: Option<String>,
}

/// The `error_response` body of every failed call (§4.6).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub messages: Vec<ErrorMessage>,
}

/// One message of an [`ErrorResponse`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub code: String,
    pub severity: Severity,
    pub message_l10n: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<String>>,
}

/// Severity of an [`ErrorMessage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// The `error` attribute of a failed import session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionError {
    pub code: String,
    pub message_l10n: String,
    #[serde(default)]
    pub arguments: Vec<String>,
}

/// Error codes the lab returns and the client recognises. The 404/400/403 codes are
/// the ones seen in public client fixtures; 422 codes are unpublished, so these are
/// stable inventions (§4.6).
pub mod codes {
    /// Instance not found (404).
    pub const NOT_FOUND: &str = "0xE04040020009";
    /// Request body failed schema validation (400).
    pub const SCHEMA_VALIDATION: &str = "0xE04040030001";
    /// Malformed REST request, e.g. a bad filter or select (400).
    pub const INVALID_REQUEST: &str = "0xE04040010005";
    /// Not authorised (403).
    pub const FORBIDDEN: &str = "0xE09040010001";
    /// Not authenticated (401).
    pub const UNAUTHENTICATED: &str = "0xE09040010002";
    /// The operation is not allowed in the session's current state (422).
    pub const INVALID_STATE: &str = "0xE0A0C0010001";
    /// An import session with that name exists already (422).
    pub const NAME_IN_USE: &str = "0xE0A0C0010002";
    /// The array failed while serving the request (5xx).
    pub const SERVER_ERROR: &str = "0xE0F0F0010001";
    /// The `error` of a session whose copy failed.
    pub const COPY_FAILED: &str = "0xE0A0C0010003";
    /// The `error` of a session whose cancel could not roll back (`Cancel_Failed`).
    pub const CANCEL_FAILED: &str = "0xE0A0C0010004";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_selects_every_documented_field() {
        let selected: Vec<&str> = IMPORT_SESSION_SELECT.split(',').collect();
        for field in IMPORT_SESSION_FIELDS {
            assert!(selected.contains(field), "{field}");
        }
        assert!(IMPORT_SESSION_SELECT.ends_with(",remote_system(id,name)"));
    }

    #[test]
    fn error_response_round_trips_the_documented_example() {
        let text = r#"{"messages": [
          {"code": "0xE04040020009", "severity": "Error",
           "message_l10n": "Instance with id invalid-id was not found.",
           "arguments": ["invalid-id"]}]}"#;
        let parsed: ErrorResponse = serde_json::from_str(text).unwrap();
        assert_eq!(parsed.messages[0].code, codes::NOT_FOUND);
        assert_eq!(parsed.messages[0].severity, Severity::Error);
        let again: serde_json::Value = serde_json::to_value(&parsed).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn import_session_reads_a_partial_selection() {
        let text = r#"{"id": "9a1c2f0e-3b5d-4c8e-9f7a-0b1c2d3e4f50", "name": "imp-lun17",
            "state": "Copy_In_Progress", "progress_percentage": 37, "automatic_cutover": false}"#;
        let parsed: ImportSession = serde_json::from_str(text).unwrap();
        assert_eq!(parsed.state, Some(ImportState::Copy_In_Progress));
        assert_eq!(parsed.progress_percentage, Some(37));
        let only_id: ImportSession = serde_json::from_str(r#"{"id": "x"}"#).unwrap();
        assert_eq!(only_id.state, None);
    }

    #[test]
    fn states_parse_case_insensitively_and_print_their_label() {
        assert_eq!(
            ImportState::parse("ready_for_cutover"),
            Some(ImportState::Ready_For_Cutover)
        );
        assert_eq!(ImportState::parse("Done"), None);
        assert_eq!(ImportState::Copy_In_Progress.l10n(), "Copy In Progress");
        for state in ImportState::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
    }

    #[test]
    fn job_reads_the_documented_poll_selection() {
        let text = r#"{"id": "j1", "state": "COMPLETED", "progress_percentage": 100,
            "response_status": "204", "response_body": null, "description_l10n": "Cut over."}"#;
        let job: Job = serde_json::from_str(text).unwrap();
        assert_eq!(job.state, Some(JobState::Completed));
        assert_eq!(
            JobState::UnrecoverableFailed.phase(),
            "Unrecoverable_Failed"
        );
        let state = serde_json::to_string(&JobState::InProgress).unwrap();
        assert_eq!(state, r#""IN_PROGRESS""#);
    }

    #[test]
    fn cancel_body_defaults_to_not_forced() {
        let parsed: CancelRequest = serde_json::from_str("{}").unwrap();
        assert!(!parsed.force);
    }
}

//! VMware Cloud Director wire types for defined-entity migration (vendor-apis.md §2):
//! URNs, entities and types, the cloudapi page envelope and error body, the session, and
//! the legacy XML task. Shared by the client and the lab.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// The API version `migrateEntities` needs (absent from 37.2, present in 38.0).
pub const MIGRATE_API_VERSION: &str = "38.0";
/// Header carrying the bearer token after login.
pub const ACCESS_TOKEN_HEADER: &str = "X-VMWARE-VCLOUD-ACCESS-TOKEN";
/// Header carrying the token type after login.
pub const TOKEN_TYPE_HEADER: &str = "X-VMWARE-VCLOUD-TOKEN-TYPE";
/// Header echoing a request id on every response.
pub const REQUEST_ID_HEADER: &str = "X-VMWARE-VCLOUD-REQUEST-ID";
/// The org whose users log in through `/sessions/provider`.
pub const PROVIDER_ORG: &str = "System";
/// XML namespace of legacy API documents.
pub const VCLOUD_XMLNS: &str = "http://www.vmware.com/vcloud/v1.5";
/// XML namespace of `/api/versions`.
pub const VERSIONS_XMLNS: &str = "http://www.vmware.com/vcloud/versions";

/// What a malformed URN looked like and the shape it should have had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not {what}; expected {shape}")]
pub struct UrnError {
    pub text: String,
    pub what: &'static str,
    pub shape: &'static str,
}

/// An entity type URN in any of the three forms `migrateEntities` accepts: full
/// (`…:1.0.0`, one version), classification (no version: every version), or a partial
/// version prefix (`…:1.0`: versions starting with `1.0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeUrn {
    pub vendor: String,
    pub nss: String,
    /// `None` for a classification URN.
    pub version: Option<String>,
}

const TYPE_SHAPE: &str =
    "urn:vcloud:type:<vendor>:<nss>[:<version>], e.g. urn:vcloud:type:acme:vm:1.0.0";

/// A vendor, nss or uuid part: starts with a letter or digit run that is not a bare
/// version, so `urn:vcloud:type:acme:1.0.0` (no nss) is refused rather than read as a
/// classification URN with nss `1.0.0`.
fn is_name(part: &str) -> bool {
    !part.is_empty()
        && !is_version_prefix(part)
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn is_version_prefix(part: &str) -> bool {
    let pieces: Vec<&str> = part.split('.').collect();
    pieces.len() <= 3
        && pieces
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

impl TypeUrn {
    /// Parses any of the three forms.
    pub fn parse(text: &str) -> Result<Self, UrnError> {
        let fail = || UrnError {
            text: text.to_owned(),
            what: "an entity type URN",
            shape: TYPE_SHAPE,
        };
        let rest = text.strip_prefix("urn:vcloud:type:").ok_or_else(fail)?;
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.as_slice() {
            [vendor, nss] if is_name(vendor) && is_name(nss) => Ok(Self {
                vendor: (*vendor).to_owned(),
                nss: (*nss).to_owned(),
                version: None,
            }),
            [vendor, nss, version]
                if is_name(vendor) && is_name(nss) && is_version_prefix(version) =>
            {
                Ok(Self {
                    vendor: (*vendor).to_owned(),
                    nss: (*nss).to_owned(),
                    version: Some((*version).to_owned()),
                })
            }
            _ => Err(fail()),
        }
    }

    /// Parses a URN that must name exactly one version (`major.minor.patch`).
    pub fn parse_full(text: &str) -> Result<Self, UrnError> {
        let urn = Self::parse(text)?;
        if urn.is_full() {
            Ok(urn)
        } else {
            Err(UrnError {
                text: text.to_owned(),
                what: "a full entity type URN",
                shape: "urn:vcloud:type:<vendor>:<nss>:<major>.<minor>.<patch>",
            })
        }
    }

    /// Whether the URN names one exact version.
    pub fn is_full(&self) -> bool {
        self.version
            .as_deref()
            .is_some_and(|v| v.split('.').count() == 3)
    }

    /// Whether a type of this vendor, nss and `version` is one this URN names.
    pub fn covers(&self, other: &TypeUrn) -> bool {
        let Some(other_version) = other.version.as_deref() else {
            return false;
        };
        self.vendor == other.vendor
            && self.nss == other.nss
            && match self.version.as_deref() {
                None => true,
                Some(version) if self.is_full() => version == other_version,
                Some(prefix) => other_version
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.')),
            }
    }
}

impl std::fmt::Display for TypeUrn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "urn:vcloud:type:{}:{}", self.vendor, self.nss)?;
        match &self.version {
            Some(version) => write!(f, ":{version}"),
            None => Ok(()),
        }
    }
}

/// The state of a defined entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityState {
    PreCreated,
    Resolved,
    ResolutionError,
    InDeletion,
}

impl EntityState {
    /// The vendor's spelling, e.g. `RESOLUTION_ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreCreated => "PRE_CREATED",
            Self::Resolved => "RESOLVED",
            Self::ResolutionError => "RESOLUTION_ERROR",
            Self::InDeletion => "IN_DELETION",
        }
    }
}

/// A name and URN pair (`owner`, `org`, `user`, `site`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRef {
    pub name: String,
    pub id: String,
}

/// A defined entity (§2.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefinedEntity {
    pub id: String,
    pub entity_type: String,
    pub name: String,
    pub external_id: Option<String>,
    #[serde(default)]
    pub entity: serde_json::Value,
    /// The older field, without `IN_DELETION`.
    pub state: Option<String>,
    pub entity_state: Option<EntityState>,
    pub message: Option<String>,
    pub owner: Option<EntityRef>,
    pub org: Option<EntityRef>,
}

/// A defined entity type (§2.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefinedEntityType {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub nss: String,
    pub version: String,
    pub inherited_version: Option<String>,
    pub external_id: Option<String>,
    #[serde(default)]
    pub schema: serde_json::Value,
    pub vendor: String,
    #[serde(default)]
    pub interfaces: Vec<String>,
    #[serde(default)]
    pub hooks: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub readonly: bool,
    pub max_implicit_right: Option<String>,
}

/// The envelope of every cloudapi collection; pages are 1-based.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub result_total: u64,
    pub page_count: u64,
    pub page: u64,
    pub page_size: u64,
    #[serde(default)]
    pub associations: Vec<serde_json::Value>,
    pub values: Vec<T>,
}

/// Body of `migrateEntities` (`DefinedEntitiesVersionMigrate`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_entity_type: Option<String>,
    #[serde(default)]
    pub force_migrate: bool,
}

/// Answer of `POST /entities/{id}/resolve`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveResult {
    pub id: String,
    #[serde(default)]
    pub entity: serde_json::Value,
    pub state: Option<String>,
    pub entity_state: Option<EntityState>,
    pub message: Option<String>,
}

/// The cloudapi error body (§2.8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudApiError {
    pub minor_error_code: String,
    pub message: String,
    pub stack_trace: Option<String>,
}

/// The JSON session a login returns (§2.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub site: EntityRef,
    pub user: EntityRef,
    pub org: EntityRef,
    pub location: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub role_refs: Vec<EntityRef>,
    pub session_idle_timeout_minutes: u64,
}

/// The status of a legacy task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskStatus {
    Queued,
    PreRunning,
    Running,
    Success,
    Error,
    Canceled,
    Aborted,
}

impl TaskStatus {
    /// The vendor's spelling, e.g. `preRunning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::PreRunning => "preRunning",
            Self::Running => "running",
            Self::Success => "success",
            Self::Error => "error",
            Self::Canceled => "canceled",
            Self::Aborted => "aborted",
        }
    }

    /// Parses the vendor's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::PreRunning,
            Self::Running,
            Self::Success,
            Self::Error,
            Self::Canceled,
            Self::Aborted,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the task has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Success | Self::Error | Self::Canceled | Self::Aborted
        )
    }
}

/// A legacy XML reference element (`Owner`, `User`, `Organization`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct XmlRef {
    #[serde(rename = "@href", default)]
    pub href: String,
    #[serde(rename = "@id")]
    pub id: Option<String>,
    #[serde(rename = "@name")]
    pub name: Option<String>,
    #[serde(rename = "@type")]
    pub ref_type: Option<String>,
}

/// The `<Error>` of a failed task, and the body of legacy API errors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct XmlError {
    #[serde(rename = "@majorErrorCode", default)]
    pub major_error_code: String,
    #[serde(rename = "@minorErrorCode", default)]
    pub minor_error_code: String,
    #[serde(rename = "@message", default)]
    pub message: String,
    #[serde(
        rename = "@stackTrace",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stack_trace: Option<String>,
}

/// A legacy task (§2.7), read from and written as XML.
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Task")]
pub struct Task {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: String,
    #[serde(rename = "@status")]
    pub status: String,
    #[serde(rename = "@name", default)]
    pub name: String,
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(rename = "@href")]
    pub href: String,
    #[serde(rename = "@type", default)]
    pub task_type: String,
    #[serde(rename = "@operation", default)]
    pub operation: String,
    #[serde(rename = "@operationName", default)]
    pub operation_name: String,
    #[serde(rename = "@serviceNamespace", default)]
    pub service_namespace: String,
    #[serde(rename = "@startTime")]
    pub start_time: Option<String>,
    #[serde(rename = "@endTime")]
    pub end_time: Option<String>,
    #[serde(rename = "@expiryTime")]
    pub expiry_time: Option<String>,
    #[serde(rename = "@cancelRequested", default)]
    pub cancel_requested: bool,
    #[serde(rename = "Owner")]
    pub owner: Option<XmlRef>,
    #[serde(rename = "User")]
    pub user: Option<XmlRef>,
    #[serde(rename = "Organization")]
    pub organization: Option<XmlRef>,
    #[serde(rename = "Progress")]
    pub progress: Option<u8>,
    #[serde(rename = "Details")]
    pub details: Option<String>,
    #[serde(rename = "Error")]
    pub error: Option<XmlError>,
}

/// Reads a legacy API document. A document type declaration is refused: the API never
/// sends one, and one inside an element makes the XML deserialiser panic (found by
/// fuzzing).
pub fn read_xml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, quick_xml::DeError> {
    let doctype = text
        .as_bytes()
        .windows(b"<!DOCTYPE".len())
        .any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"));
    if doctype {
        return Err(quick_xml::DeError::Custom(
            "a document type declaration (`<!DOCTYPE`) is not allowed".to_owned(),
        ));
    }
    quick_xml::de::from_str(text)
}

impl Task {
    /// Parses a task document.
    pub fn from_xml(text: &str) -> Result<Self, quick_xml::DeError> {
        read_xml(text)
    }

    /// Writes the task document.
    pub fn to_xml(&self) -> Result<String, quick_xml::SeError> {
        quick_xml::se::to_string(self)
    }

    /// The parsed status, `None` for a value this client does not know.
    pub fn status(&self) -> Option<TaskStatus> {
        TaskStatus::parse(&self.status)
    }
}

/// Writes the `/api/versions` document for the given versions, oldest first.
pub fn versions_xml(versions: &[&str], login_url: &str) -> String {
    let mut xml = format!("<SupportedVersions xmlns=\"{VERSIONS_XMLNS}\">");
    for version in versions {
        xml.push_str(&format!(
            "<VersionInfo deprecated=\"false\"><Version>{version}</Version><LoginUrl>{login_url}</LoginUrl></VersionInfo>"
        ));
    }
    xml.push_str("</SupportedVersions>");
    xml
}

#[derive(Deserialize)]
struct SupportedVersions {
    #[serde(rename = "VersionInfo", default)]
    infos: Vec<VersionInfo>,
}

#[derive(Deserialize)]
struct VersionInfo {
    #[serde(rename = "Version")]
    version: String,
}

/// Reads the versions an `/api/versions` document lists.
pub fn parse_versions(xml: &str) -> Result<Vec<String>, quick_xml::DeError> {
    let parsed: SupportedVersions = read_xml(xml)?;
    // Pre-release versions (`39.0.0-alpha`) are not ones to speak in production.
    Ok(parsed
        .infos
        .into_iter()
        .map(|info| info.version)
        .filter(|v| {
            v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect())
}

/// Compares dotted versions numerically (`38.0` > `37.2`), parts of any length: a part
/// too large for a machine number is not taken for 0.
pub fn version_at_least(version: &str, minimum: &str) -> bool {
    // Digits without leading zeros order by length, then as text; a part that is not
    // digits (never offered: `parse_versions` drops it) orders as 0.
    let parse = |v: &str| -> Vec<(usize, String)> {
        v.split('.')
            .map(|part| {
                let digits = part.trim_start_matches('0');
                if digits.bytes().all(|b| b.is_ascii_digit()) {
                    (digits.len(), digits.to_owned())
                } else {
                    (0, String::new())
                }
            })
            .collect()
    };
    parse(version) >= parse(minimum)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A running migration task, as `GET /api/task/{id}` answers it.
    pub(crate) const TASK: &str = r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="running" name="task"
      id="urn:vcloud:task:1111" href="https://vcd/api/task/1111" type="application/vnd.vmware.vcloud.task+xml"
      operation="op" operationName="migrateEntities" serviceNamespace="com.vmware.cloud"
      startTime="2025-01-01T10:00:00.000Z" expiryTime="2025-01-31T10:00:00.000Z" cancelRequested="false">
  <Owner href="" id="urn:vcloud:type:vmware:vspheresddc:1.0.0" name="vspheresddc" type="application/json"/>
  <User href="https://vcd/api/admin/user/1" name="administrator" type="application/vnd.vmware.admin.user+xml"/>
  <Organization href="https://vcd/api/org/1" name="System" type="application/vnd.vmware.vcloud.org+xml"/>
  <Progress>50</Progress>
  <Details>step 2 of 4</Details>
</Task>"#;

    #[track_caller]
    fn covers(pattern: &str, version: &str, expected: bool) {
        let pattern = TypeUrn::parse(pattern).unwrap();
        let concrete = TypeUrn::parse_full(&format!("urn:vcloud:type:acme:vm:{version}")).unwrap();
        assert_eq!(
            pattern.covers(&concrete),
            expected,
            "{pattern} vs {version}"
        );
    }

    #[test]
    fn the_three_source_forms_cover_what_they_name() {
        covers("urn:vcloud:type:acme:vm:1.0.0", "1.0.0", true);
        covers("urn:vcloud:type:acme:vm:1.0.0", "1.0.1", false);
        covers("urn:vcloud:type:acme:vm", "1.0.0", true);
        covers("urn:vcloud:type:acme:vm", "2.3.4", true);
        covers("urn:vcloud:type:acme:vm:1.0", "1.0.7", true);
        covers("urn:vcloud:type:acme:vm:1.0", "1.1.0", false);
        covers("urn:vcloud:type:acme:vm:1", "1.9.0", true);
        covers("urn:vcloud:type:acme:vm:1", "10.0.0", false);
        covers("urn:vcloud:type:acme:db", "1.0.0", false);
    }

    #[test]
    fn malformed_urns_show_the_expected_shape() {
        #[track_caller]
        fn bad(text: &str) {
            let err = TypeUrn::parse(text).unwrap_err();
            assert!(
                err.to_string()
                    .contains("expected urn:vcloud:type:<vendor>:<nss>"),
                "{err}"
            );
        }
        bad("urn:vcloud:type:acme");
        bad("urn:vcloud:entity:acme:vm:1.0.0");
        bad("urn:vcloud:type:acme:vm:1.0.0:extra");
        bad("urn:vcloud:type:acme:vm:v1");
        bad("urn:vcloud:type::vm:1.0.0");
        bad("urn:vcloud:type:acme:1.0.0");
        assert!(TypeUrn::parse_full("urn:vcloud:type:acme:vm:1.0").is_err());
    }

    #[test]
    fn tasks_round_trip_through_xml() {
        let task = Task::from_xml(TASK).unwrap();
        assert_eq!(task.status(), Some(TaskStatus::Running));
        assert_eq!(task.progress, Some(50));
        assert_eq!(
            task.owner.as_ref().and_then(|o| o.name.as_deref()),
            Some("vspheresddc")
        );
        let again = Task::from_xml(&task.to_xml().unwrap()).unwrap();
        assert_eq!(again, task);
        let failed = r#"<Task status="error" id="urn:vcloud:task:2" href="/api/task/2"><Error majorErrorCode="400" minorErrorCode="BAD_REQUEST" message="no"/></Task>"#;
        let failed = Task::from_xml(failed).unwrap();
        assert_eq!(failed.error.unwrap().minor_error_code, "BAD_REQUEST");
    }

    #[test]
    fn versions_are_read_and_compared() {
        let xml = versions_xml(&["37.2", "38.0"], "https://vcd/api/sessions");
        assert_eq!(parse_versions(&xml).unwrap(), ["37.2", "38.0"]);
        let alpha = versions_xml(&["38.0", "40.0.0-alpha"], "x");
        assert_eq!(parse_versions(&alpha).unwrap(), ["38.0"]);
        assert!(version_at_least("38.0", MIGRATE_API_VERSION));
        assert!(version_at_least("39.1", MIGRATE_API_VERSION));
        assert!(!version_at_least("37.2", MIGRATE_API_VERSION));
    }

    /// Found by fuzzing: a document type declaration inside an element made the XML
    /// deserialiser panic (`entered unreachable code`).
    #[test]
    fn a_doctype_is_refused_not_a_panic() {
        let text = r#"<Task status="running" id="t" href="/api/task/t"><Progress>y<!DOCTYPE x [<!ENTITY a "aaaa">]>y</Progress></Task>"#;
        assert_eq!(
            Task::from_xml(text).unwrap_err().to_string(),
            "a document type declaration (`<!DOCTYPE`) is not allowed"
        );
        assert!(parse_versions("<!doctype x><SupportedVersions/>").is_err());
    }

    /// Found by fuzzing: a version part too large for a u64 compared as 0.
    #[test]
    fn huge_version_parts_compare_by_value() {
        assert!(!version_at_least("1", "18500000000000000000"));
        assert!(version_at_least("18500000000000000000.0", "38.0"));
        assert!(version_at_least("038.00", "38.0"));
        assert!(!version_at_least("37.99999999999999999999", "38.0"));
    }

    /// Found by fuzzing: a task without start or expiry time was written with empty
    /// ones, which read back as `Some("")`.
    #[test]
    fn a_task_without_times_round_trips() {
        let text = r#"<Task status="queued" id="urn:vcloud:task:2" href="/api/task/2"/>"#;
        let task = Task::from_xml(text).unwrap();
        assert_eq!(
            (task.start_time.as_deref(), task.expiry_time.as_deref()),
            (None, None)
        );
        let written = task.to_xml().unwrap();
        assert!(!written.contains("startTime"), "{written}");
        assert_eq!(Task::from_xml(&written).unwrap(), task);
    }

    #[test]
    fn entities_read_the_documented_example() {
        let text = r#"{"id": "urn:vcloud:entity:vmware:vspheresddc:5e0b9c44",
 "entityType": "urn:vcloud:type:vmware:vspheresddc:1.0.0", "name": "sddc-01", "externalId": null,
 "entity": {"any": "JSON"}, "state": "RESOLVED", "entityState": "RESOLVED", "message": null,
 "owner": {"name": "admin", "id": "urn:vcloud:user:1"}, "org": {"name": "acme", "id": "urn:vcloud:org:1"}}"#;
        let entity: DefinedEntity = serde_json::from_str(text).unwrap();
        assert_eq!(entity.entity_state, Some(EntityState::Resolved));
        let error =
            r#"{"minorErrorCode": "BAD_REQUEST", "message": "[ x ] nope", "stackTrace": null}"#;
        let error: CloudApiError = serde_json::from_str(error).unwrap();
        assert_eq!(error.minor_error_code, "BAD_REQUEST");
    }
}

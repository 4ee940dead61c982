//! Wire types of the OVF ImportSession service (vendor-apis.md §3.2–§3.4), the `/rest`
//! service `com.vmware.vcenter.ovf.import_session`; shared by the client and the lab.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::vendors::vcenter::ovf::ParseIssue;
use crate::vendors::vcenter::wire::LocalizableMessage;

/// Path of the import-session collection; a session is `…/id:{id}`.
pub const IMPORT_SESSION_PATH: &str = "/rest/com/vmware/vcenter/ovf/import-session";
/// Query key of `/rest` operations (`?~action=create-for-resource-pool`).
pub const REST_ACTION_QUERY: &str = "~action";

/// The state of an import session (§3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are the vendor's own names"
)]
pub enum ImportState {
    ImportOvfTransfer,
    ImportMsgBundlesTransfer,
    ImportSelectingOvfParams,
    ImportFileTransfer,
    ImportInstantiating,
    ImportCompleted,
    ImportError,
}

impl ImportState {
    /// Every state, in the order an import passes them.
    pub const ALL: [ImportState; 7] = [
        Self::ImportOvfTransfer,
        Self::ImportMsgBundlesTransfer,
        Self::ImportSelectingOvfParams,
        Self::ImportFileTransfer,
        Self::ImportInstantiating,
        Self::ImportCompleted,
        Self::ImportError,
    ];

    /// The vendor's spelling, e.g. `IMPORT_COMPLETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImportOvfTransfer => "IMPORT_OVF_TRANSFER",
            Self::ImportMsgBundlesTransfer => "IMPORT_MSG_BUNDLES_TRANSFER",
            Self::ImportSelectingOvfParams => "IMPORT_SELECTING_OVF_PARAMS",
            Self::ImportFileTransfer => "IMPORT_FILE_TRANSFER",
            Self::ImportInstantiating => "IMPORT_INSTANTIATING",
            Self::ImportCompleted => "IMPORT_COMPLETED",
            Self::ImportError => "IMPORT_ERROR",
        }
    }

    /// Parses the vendor's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the session has ended (it is reclaimed some time after).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::ImportCompleted | Self::ImportError)
    }
}

/// Where the package comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are the vendor's own names"
)]
pub enum SourceType {
    PushSource,
    PullSource,
    ContentLibrarySource,
}

/// `create_spec` of a create call (§3.3 CreateSpec).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateSpec {
    pub source_type: SourceType,
    #[serde(default)]
    pub import_flags: Vec<String>,
    pub locale: Option<String>,
    pub pull_source: Option<String>,
    pub ssl_certificate_thumbprint: Option<String>,
    /// `OVF_SOURCE` (default) or `OVA_SOURCE`.
    pub push_source_content_type: Option<String>,
    /// `MANIFEST`, `MANIFEST_CERTIFICATE` or `NONE` (default).
    pub push_source_ovf_option: Option<String>,
    pub content_library_item: Option<String>,
}

/// Body of `create-for-resource-pool`.
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateRequest {
    pub client_token: Option<String>,
    pub resource_pool: String,
    pub host_system: Option<String>,
    pub folder: Option<String>,
    pub create_spec: CreateSpec,
}

#[cfg(test)]
impl CreateRequest {
    /// A create in `resource_pool` of a session pulling `url`, with no client token and
    /// every other option left to the appliance: what the tests send.
    pub fn pull(resource_pool: &str, url: &str) -> Self {
        Self {
            client_token: None,
            resource_pool: resource_pool.to_owned(),
            host_system: None,
            folder: None,
            create_spec: CreateSpec {
                source_type: SourceType::PullSource,
                import_flags: Vec::new(),
                locale: None,
                pull_source: Some(url.to_owned()),
                ssl_certificate_thumbprint: None,
                push_source_content_type: None,
                push_source_ovf_option: None,
                content_library_item: None,
            },
        }
    }
}

/// One file of a session (§3.3 OvfFileInfo).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OvfFileInfo {
    pub name: String,
    /// `OVF`, `MANIFEST`, `CERT`, `MSG_BUNDLE`, `DISK`, `CONTENT`, `OVA` or `NVRAM`.
    pub file_type: String,
    #[serde(default)]
    pub optional_upload: bool,
    /// Where a push client uploads the file.
    pub file_url: Option<String>,
    pub ssl_thumb_print: Option<String>,
    /// `PUT` or `POST`.
    pub upload_method: Option<String>,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub bytes_transferred: i64,
    pub sha256: Option<String>,
}

/// An error or warning of a session (§3.3 OvfError / OvfWarning).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OvfProblem {
    /// `VALIDATION`, `INPUT` or `SERVER`.
    pub category: String,
    #[serde(default)]
    pub issues: Vec<ParseIssue>,
    pub name: Option<String>,
    pub value: Option<String>,
    pub message: Option<LocalizableMessage>,
    pub error: Option<Value>,
}

/// §3.3 OvfInfo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OvfInformation {
    #[serde(default)]
    pub messages: Vec<LocalizableMessage>,
}

/// The Info of an import session (§3.3).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportInfo {
    pub state: ImportState,
    pub progress: i64,
    /// `SERVER_TRANSFER_MODE` or `EXTERNAL_TRANSFER_MODE`.
    pub file_transfer_mode: Option<String>,
    #[serde(default)]
    pub files: Vec<OvfFileInfo>,
    #[serde(default)]
    pub errors: Vec<OvfProblem>,
    #[serde(default)]
    pub warnings: Vec<OvfProblem>,
    #[serde(default)]
    pub information: Vec<OvfInformation>,
    pub vm_id: Option<String>,
    pub vapp_id: Option<String>,
    pub customization_results: Option<serde_json::Map<String, Value>>,
}

/// Body of `try-instantiate` and `instantiate`: polymorphic parameter objects, each with
/// its `@class` and `type`, kept as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstantiateRequest {
    #[serde(default)]
    pub instantiation_parameters: Vec<Value>,
}

/// Answer of `try-instantiate` (§3.3 OvfValidationResult).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationResult {
    #[serde(default)]
    pub parameters: Vec<Value>,
    #[serde(default)]
    pub errors: Vec<OvfProblem>,
    #[serde(default)]
    pub warnings: Vec<OvfProblem>,
    #[serde(default)]
    pub information: Vec<OvfInformation>,
}

/// Answer of `preview`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    #[serde(default)]
    pub files: Vec<PreviewFile>,
    #[serde(default)]
    pub errors: Vec<OvfProblem>,
    #[serde(default)]
    pub warnings: Vec<OvfProblem>,
    #[serde(default)]
    pub information: Vec<OvfInformation>,
}

/// A file `preview` found in a descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewFile {
    pub name: String,
}

/// Answer of `probe`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// `SUCCESS`, `INVALID_URL`, `TIMED_OUT`, `HOST_NOT_FOUND`, `CERTIFICATE_ERROR` or
    /// `UNKNOWN_ERROR`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_thumbprint: Option<String>,
    #[serde(default)]
    pub error_messages: Vec<LocalizableMessage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_keep_the_vendor_spelling() {
        for state in ImportState::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(ImportState::parse(state.as_str()), Some(state));
        }
        assert!(ImportState::ImportError.is_terminal());
        assert!(!ImportState::ImportFileTransfer.is_terminal());
    }

    #[test]
    fn a_create_request_and_an_info_read_the_documented_shapes() {
        let create = r#"{"client_token": "wave1-app", "resource_pool": "resgroup-8",
            "create_spec": {"source_type": "PULL_SOURCE", "import_flags": [],
                            "pull_source": "https://repo/app.ovf"}}"#;
        let create: CreateRequest = serde_json::from_str(create).unwrap();
        assert_eq!(create.create_spec.source_type, SourceType::PullSource);
        let info = r#"{"state": "IMPORT_FILE_TRANSFER", "progress": 40,
            "file_transfer_mode": "EXTERNAL_TRANSFER_MODE",
            "files": [{"name": "disk1.vmdk", "file_type": "DISK", "optional_upload": false,
                       "file_url": "https://vc/nfc/1/disk1.vmdk", "upload_method": "PUT",
                       "size": 1024, "bytes_transferred": 512}],
            "errors": [{"category": "INPUT", "issues": [{"category": "PARSE_ERROR",
                "file": "app.ovf", "line_number": 3, "column_number": 7,
                "message": {"id": "x", "default_message": "bad", "args": []}}]}],
            "warnings": [], "information": []}"#;
        let info: ImportInfo = serde_json::from_str(info).unwrap();
        assert_eq!(info.files[0].bytes_transferred, 512);
        assert_eq!(info.errors[0].issues[0].line_number, 3);
        let again: ImportInfo =
            serde_json::from_value(serde_json::to_value(&info).unwrap()).unwrap();
        assert_eq!(again, info);
    }
}

//! Fuzz target: vSphere OVF import-session answers (vendor-apis.md §3.3), all
//! `value`-wrapped: the created session's id, the session Info, `try-instantiate`,
//! `preview` and `probe` results decode to typed values or to the typed error.

use proptest::prelude::*;

use super::mutate;
use super::support::{config, decode};
use crate::vendors::vcenter::ovf_wire::{ImportInfo, Preview, ProbeResult, ValidationResult};
use crate::vendors::vcenter::wire::Wrapped;

const INFO: &str = r#"{"value": {"state": "IMPORT_FILE_TRANSFER", "progress": 40,
 "file_transfer_mode": "EXTERNAL_TRANSFER_MODE",
 "files": [{"name": "disk1.vmdk", "file_type": "DISK", "optional_upload": false,
            "file_url": "https://*/nfc/1/disk1.vmdk", "ssl_thumb_print": "AA:BB", "upload_method": "PUT",
            "size": 1024, "bytes_transferred": 512, "sha256": "00"}],
 "errors": [{"category": "INPUT", "issues": [{"category": "PARSE_ERROR",
     "file": "app.ovf", "line_number": 3, "column_number": 7,
     "message": {"id": "x", "default_message": "bad", "args": []}}],
     "name": "n", "value": "v", "message": {"id": "m", "default_message": "bad", "args": []},
     "error": {"error_type": "ERROR", "messages": []}}],
 "warnings": [], "information": [{"messages": [{"id": "i", "default_message": "fine", "args": []}]}],
 "vm_id": "vm-42", "customization_results": {"a": 1}}}"#;
const VALIDATION: &str = r#"{"value": {"parameters": [{"@class": "com.vmware.vcenter.ovf.property_params",
 "type": "PropertyParams", "properties": []}], "errors": [{"category": "VALIDATION", "issues": []}],
 "warnings": [], "information": []}}"#;
const PREVIEW: &str = r#"{"value": {"files": [{"name": "app.ovf"}, {"name": "disk1.vmdk"}],
 "errors": [], "warnings": [], "information": []}}"#;
const PROBE: &str = r#"{"value": {"status": "CERTIFICATE_ERROR", "ssl_thumbprint": "AA:BB",
 "error_messages": [{"id": "e", "default_message": "untrusted", "args": []}]}}"#;
const CREATED: &str = r#"{"value": "ovf-session-7"}"#;
const SEEDS: &[&str] = &[INFO, VALIDATION, PREVIEW, PROBE, CREATED];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn answers_decode_or_give_the_typed_error(body in mutate::json(SEEDS)) {
        if let Ok(info) = decode::<Wrapped<ImportInfo>>(&body) {
            let again = serde_json::to_value(&info.value).map(serde_json::from_value::<ImportInfo>);
            prop_assert!(matches!(again, Ok(Ok(ref same)) if *same == info.value));
        }
        let _ = decode::<Wrapped<ValidationResult>>(&body);
        let _ = decode::<Wrapped<Preview>>(&body);
        let _ = decode::<Wrapped<ProbeResult>>(&body);
        let _ = decode::<Wrapped<String>>(&body);
    }
}

#[test]
fn the_seeds_decode_whole() {
    let info: Wrapped<ImportInfo> = decode(INFO.as_bytes()).unwrap();
    assert_eq!(info.value.files[0].bytes_transferred, 512);
    let preview: Wrapped<Preview> = decode(PREVIEW.as_bytes()).unwrap();
    assert_eq!(preview.value.files.len(), 2);
    let probe: Wrapped<ProbeResult> = decode(PROBE.as_bytes()).unwrap();
    assert_eq!(probe.value.status, "CERTIFICATE_ERROR");
    let created: Wrapped<String> = decode(CREATED.as_bytes()).unwrap();
    assert_eq!(created.value, "ovf-session-7");
    let validation: Wrapped<ValidationResult> = decode(VALIDATION.as_bytes()).unwrap();
    assert_eq!(validation.value.errors[0].category, "VALIDATION");
}

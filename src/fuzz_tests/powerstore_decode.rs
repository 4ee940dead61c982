//! Fuzz target: PowerStore answers (vendor-apis.md §4). Session pages, one session and
//! `error_response` bodies decode to typed values or to the typed error, never a
//! panic, and an error's text stays one bounded line.

use proptest::prelude::*;

use super::mutate;
use super::support::{check_error, config, decode, error_bodies_property, status_error};
use crate::vendors::powerstore::client::parse_error;
use crate::vendors::powerstore::wire::ImportSession;

const SESSION: &str = r#"{"id": "9a1c2f0e-3b5d-4c8e-9f7a-0b1c2d3e4f50", "name": "imp-lun17",
 "description": null, "type": "Non_Disruptive", "type_l10n": "Non Disruptive",
 "remote_system_id": "rs-1", "source_resource_id": "lun-17", "destination_resource_id": "vol-9",
 "destination_resource_type": "volume", "destination_resource_type_l10n": "Volume",
 "parent_session_id": null, "state": "Copy_In_Progress", "state_l10n": "Copy In Progress",
 "progress_percentage": 37, "estimated_completion_timestamp": "2025-01-01T12:00:00Z",
 "average_transfer_rate": 104857600, "current_transfer_rate": 99614720,
 "protection_policy_id": null, "volume_group_id": null, "automatic_cutover": false,
 "scheduled_timestamp": null, "last_update_timestamp": "2025-01-01T10:00:00Z",
 "global_storage_discovery_address": null, "error": null,
 "remote_system": {"id": "rs-1", "name": "unity-01"}}"#;
const PAGE: &str = r#"[{"id": "a", "name": "imp-1", "state": "Ready_For_Cutover", "progress_percentage": 100,
 "error": {"code": "0xE0A0C0010003", "message_l10n": "copy failed", "arguments": ["x"]}},
 {"id": "b", "state": "Failed", "automatic_cutover": true}]"#;
const ERROR: &str = r#"{"messages": [{"code": "0xE04040020009", "severity": "Error",
 "message_l10n": "Instance with id invalid-id was not found.", "arguments": ["invalid-id"]}]}"#;
const SEEDS: &[&str] = &[SESSION, PAGE, ERROR];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn answers_decode_or_give_the_typed_error(body in mutate::json(SEEDS)) {
        if let Ok(page) = decode::<Vec<ImportSession>>(&body) {
            let again = serde_json::to_value(&page).map(serde_json::from_value::<Vec<ImportSession>>);
            prop_assert!(matches!(again, Ok(Ok(ref same)) if *same == page));
        }
        let _ = decode::<ImportSession>(&body);
    }
}

error_bodies_property!(mutate::json(SEEDS), parse_error);

#[test]
fn the_seeds_decode_whole() {
    let session: ImportSession = decode(SESSION.as_bytes()).unwrap();
    assert_eq!(session.progress_percentage, Some(37));
    let page: Vec<ImportSession> = decode(PAGE.as_bytes()).unwrap();
    assert_eq!(page.len(), 2);
    let err = status_error(404, ERROR.as_bytes(), parse_error);
    assert_eq!(
        err.to_string(),
        "404 Not Found: Instance with id invalid-id was not found. (kind: not_found)"
    );
    check_error(&err);
}

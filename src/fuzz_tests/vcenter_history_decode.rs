//! Fuzz target: vCenter history import answers (vendor-apis.md §1) in both encodings:
//! the Info (bare and `value`-wrapped), the session id a login returns, and vAPI error
//! bodies decode to typed values or to the typed error, never a panic.

use proptest::prelude::*;

use super::mutate;
use super::support::{config, decode, error_bodies_property, status_error};
use crate::vendors::vcenter::client::parse_error;
use crate::vendors::vcenter::wire::{Encoding, HistoryInfo, VapiError, Wrapped};

const REST_RUNNING: &str = r#"{"value": {
  "status": "RUNNING", "cancelable": true,
  "description": {"id": "vcenter.deployment.history.import", "default_message": "vCenter Server history import", "args": []},
  "service": "com.vmware.vcenter.deployment.import_history", "operation": "start",
  "progress": {"total": 100, "completed": 42, "message": {"id": "history.import.progress", "default_message": "Importing events", "args": []}},
  "start_time": "2024-05-01T10:00:00.000Z", "user": "root"}}"#;
const API_FAILED: &str = r#"{"status": "FAILED", "cancelable": false,
  "description": {"id": "d", "default_message": "vCenter Server history import", "args": [], "params": {"a": {"s": "x"}}, "localized": "x"},
  "service": "com.vmware.vcenter.deployment.import_history", "operation": "start",
  "progress": {"total": 100, "completed": 100, "message": {"id": "p", "default_message": "done", "args": ["1"]}},
  "start_time": "2024-05-01T10:00:00.000Z", "end_time": "2024-05-01T11:00:00.000Z",
  "result": {"info": [], "warnings": [{"id": "w", "time": "2024-05-01T10:30:00.000Z",
    "message": {"id": "w", "default_message": "slow", "args": []}}], "errors": []},
  "error": {"error_type": "ERROR", "messages": [{"id": "e", "default_message": "disk full", "args": []}]},
  "target": {"type": "x", "id": "y"}}"#;
const REST_ERROR: &str = r#"{"type": "com.vmware.vapi.std.errors.not_allowed_in_current_state",
 "value": {"messages": [{"id": "vcenter.deployment.history.resume.not.allowed",
   "default_message": "Resume is allowed only when the import is blocked.", "args": []}]}}"#;
const API_ERROR: &str = r#"{"error_type": "ALREADY_IN_DESIRED_STATE",
 "messages": [{"id": "x", "default_message": "Already paused.", "args": []}], "data": null}"#;
const SESSION: &str = r#"{"value": "b00db39f4c6e1d0a8c2fb9a4d4b0c2e1"}"#;
const SEEDS: &[&str] = &[REST_RUNNING, API_FAILED, REST_ERROR, API_ERROR, SESSION];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn answers_decode_or_give_the_typed_error(body in mutate::json(SEEDS)) {
        for info in [
            decode::<Wrapped<HistoryInfo>>(&body).map(|w| w.value),
            decode::<HistoryInfo>(&body),
        ].into_iter().flatten() {
            // The embedded error reads in either encoding and writes back in both.
            if let Some(error) = info.error() {
                for encoding in [Encoding::Rest, Encoding::Api] {
                    let again = VapiError::from_value(&error.to_json(encoding));
                    prop_assert_eq!(again.map(|e| e.kind), Some(error.kind));
                }
            }
        }
        let _ = decode::<Wrapped<String>>(&body);
        let _ = decode::<String>(&body);
    }
}

error_bodies_property!(mutate::json(SEEDS), parse_error);

#[test]
fn the_seeds_decode_whole() {
    let running: Wrapped<HistoryInfo> = decode(REST_RUNNING.as_bytes()).unwrap();
    assert_eq!(running.value.progress.unwrap().completed, 42);
    let failed: HistoryInfo = decode(API_FAILED.as_bytes()).unwrap();
    assert_eq!(failed.error().unwrap().message(), "disk full");
    let err = status_error(400, REST_ERROR.as_bytes(), parse_error);
    assert_eq!(
        err.to_string(),
        "400 Bad Request: Resume is allowed only when the import is blocked. (kind: validation)"
    );
    assert_eq!(
        err.vendor_code.as_deref(),
        Some("not_allowed_in_current_state")
    );
}

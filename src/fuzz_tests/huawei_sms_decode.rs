//! Fuzz target: Huawei SMS and IAM answers (vendor-apis.md §5). Task pages and tasks
//! (read as JSON, then typed as the client does), a task's `error_json`, IAM's token body,
//! and SMS, gateway and IAM error bodies decode to typed values or to the typed error.

use proptest::prelude::*;
use serde_json::Value;

use super::mutate;
use super::support::{config, decode, error_bodies_property, status_error};
use crate::vendors::huawei_sms::client::{TaskRecord, parse_error};
use crate::vendors::huawei_sms::iam_wire::TokenResponse;
use crate::vendors::huawei_sms::wire::TaskError;
use crate::vendors::huawei_sms::wire::tests::EXAMPLE;

const LIST_ITEM: &str = r#"{"id": "9f1", "name": "web-01", "type": "MIGRATE_BLOCK", "os_type": "WINDOWS",
 "state": "SYNC_F_ROLLBACK_SUCCESS", "error_json": "{\"error_code\":\"SMS.3802\",\"error_param\":[\"x\"]}",
 "sub_tasks": [{"id": 1, "name": "CREATE_CLOUD_SERVER", "progress": 40, "start_date": 1600159847000,
 "end_date": null, "user_op": "CUTOVER1", "migrate_speed": 12.5, "process_trace": ""}],
 "log_collect_status": "INIT", "syncing": false, "special_config": []}"#;
const SMS_ERROR: &str = r#"{"error_code": "SMS.0204",
 "error_msg": "Permission sms:server:migrationServer missing for this user.",
 "encoded_authorization_message": "x", "error_param": ["sms:server:migrationServer"],
 "details": [{"error_code": "SMS.0204", "error_msg": "x"}]}"#;
const GATEWAY_ERROR: &str = r#"{"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached", "request_id": "r1"}"#;
const IAM_ERROR: &str = r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}}"#;
const TOKEN: &str = r#"{"token": {"expires_at": "2025-01-04T09:08:49.965000Z", "issued_at": "2025-01-03T09:08:49.965000Z",
 "methods": ["password"], "catalog": [],
 "project": {"id": "0215", "name": "eu-west-101", "domain": {"id": "d78c", "name": "account-name"}},
 "roles": [{"id": "0", "name": "te_admin"}],
 "user": {"id": "u1", "name": "iam-user", "domain": {"id": "d78c", "name": "account-name"}, "password_expires_at": ""}}}"#;
const ERROR_JSON: &str = r#"{"error_code":"SMS.3802","error_param":[]}"#;

/// The documented task, a list page around it and a list item, and the other bodies.
fn seeds() -> &'static [&'static str] {
    static SEEDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let page = format!(r#"{{"count": 2, "tasks": [{EXAMPLE}, {LIST_ITEM}]}}"#);
        vec![
            EXAMPLE,
            LIST_ITEM,
            Box::leak(page.into_boxed_str()),
            SMS_ERROR,
            GATEWAY_ERROR,
            IAM_ERROR,
            TOKEN,
            ERROR_JSON,
        ]
    })
}

/// What the client makes of a task or of each task of a page: typed records, or the
/// `unexpected answer` error.
fn read_tasks(json: Value) -> Vec<Result<TaskRecord, String>> {
    let items = match json.get("tasks") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![json],
    };
    items
        .into_iter()
        .map(|item| TaskRecord::from_json(item).map_err(|err| err.to_string()))
        .collect()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn answers_decode_or_give_the_typed_error(body in mutate::json(seeds())) {
        if let Ok(json) = decode::<Value>(&body) {
            for record in read_tasks(json).into_iter().flatten() {
                let task = serde_json::to_value(&record.task).map(serde_json::from_value::<crate::vendors::huawei_sms::wire::Task>);
                prop_assert!(matches!(task, Ok(Ok(ref same)) if *same == record.task));
                let _ = TaskError::parse(&record.task.error_json);
            }
        }
        let _ = decode::<TokenResponse>(&body);
        if let Some(error) = TaskError::parse(&String::from_utf8_lossy(&body)) {
            prop_assert!(!error.error_code.is_empty());
        }
    }
}

error_bodies_property!(mutate::json(seeds()), parse_error);

#[test]
fn the_seeds_decode_whole() {
    let page: Value = decode(seeds()[2].as_bytes()).unwrap();
    let tasks = read_tasks(page);
    assert_eq!(tasks.len(), 2);
    let item = tasks[1].as_ref().unwrap();
    assert_eq!(
        TaskError::parse(&item.task.error_json).unwrap().error_code,
        "SMS.3802"
    );
    let token: TokenResponse = decode(TOKEN.as_bytes()).unwrap();
    assert_eq!(token.token.roles[0].name, "te_admin");
    let err = status_error(401, IAM_ERROR.as_bytes(), parse_error);
    assert_eq!(
        err.to_string(),
        "401 Unauthorized: The username or password is wrong. (kind: auth)"
    );
    assert_eq!(err.vendor_code.as_deref(), Some("401"));
}

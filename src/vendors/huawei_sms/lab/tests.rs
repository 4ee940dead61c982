//! The simulator through its router: IAM, the gateway's two schemes and throttling,
//! paging, the task JSON, actions with their lag, and the error bodies; and the IAM
//! login and SDK signing the control tests share.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use axum::Router;

use crate::clock::Clock;
use crate::http::lab::estate::{Estate, Scenario};
use crate::http::lab::testing::TestLab;
use crate::lab::testing::seeded_lab;
use crate::vendors::huawei_sms::signer::{self, Signable};

pub(super) use crate::http::lab::testing::{Answer, PASSWORD as SECRET, configure, send};

use super::{LabState, router};

#[tokio::test]
async fn iam_hands_out_tokens_and_refuses_a_bad_password_in_its_own_body() {
    let (state, clock) = lab();
    let answer = send(
        &state,
        "POST",
        "/iam/v3/auth/tokens?nocatalog=true",
        &[],
        &login_body(SECRET),
    )
    .await;
    assert_eq!(answer.status, 201);
    assert!(answer.header("x-subject-token").unwrap().starts_with("MII"));
    assert_eq!(
        answer.body["token"]["expires_at"],
        "2025-03-02T00:00:00.000000Z"
    );
    assert_eq!(answer.body["token"]["project"]["id"], super::LAB_PROJECT_ID);
    let wrong = send(
        &state,
        "POST",
        "/iam/v3/auth/tokens",
        &[],
        &login_body("nope"),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.body,
        json!({"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}})
    );
    configure(&state, r#"{"token_ttl_seconds": 60}"#).await;
    let token = token(&state).await;
    assert_eq!(
        with_token(&state, &token, "GET", "/v3/tasks", "")
            .await
            .status,
        200
    );
    clock.advance(Duration::from_secs(61));
    let expired = with_token(&state, &token, "GET", "/v3/tasks", "").await;
    assert_eq!(
        (expired.status, &expired.body["error_code"]),
        (401, &json!("APIGW.0307"))
    );
    assert_eq!(
        expired.body["request_id"].as_str(),
        expired.header("x-request-id")
    );
    let forged = with_token(&state, "MIIforged", "GET", "/v3/tasks", "").await;
    assert_eq!(forged.body["error_code"], "APIGW.0301");
    let none = send(&state, "GET", "/v3/tasks", &[], "").await;
    assert_eq!(
        none.body["error_msg"],
        "Incorrect IAM authentication information: x-auth-token not found"
    );
}

#[tokio::test]
async fn issued_tokens_never_show_in_debug_output() {
    let (state, _clock) = lab();
    let token = token(&state).await;
    let inventory = state.at_now();
    let shown = format!("{:?} {:?}", *inventory, inventory.tokens);
    let tail = &token[token.len() - 40..];
    assert!(!shown.contains(tail), "a token shows in Debug output");
    assert!(shown.contains("tokens_issued: 1"), "{shown}");
}

#[tokio::test]
async fn signatures_are_recomputed_and_skewed_dates_refused() {
    let (state, _) = lab();
    let ok = signed(&state, "GET", "/v3/tasks?limit=2&name=web", "", SECRET, 0).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["count"], 2);
    let body = r#"{"operation":"collect_log"}"#;
    let id = ok.body["tasks"][0]["id"].as_str().unwrap().to_owned();
    let action = signed(
        &state,
        "POST",
        &format!("/v3/tasks/{id}/action"),
        body,
        SECRET,
        -600,
    )
    .await;
    assert_eq!(action.status, 200, "{}", action.text);
    let wrong = signed(&state, "GET", "/v3/tasks", "", "not-the-key", 0).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        (&wrong.body["error_code"], &wrong.body["error_msg"]),
        (
            &json!("APIGW.0301"),
            &json!("Incorrect IAM authentication information: verify aksk signature fail")
        )
    );
    let late = signed(&state, "GET", "/v3/tasks", "", SECRET, -16 * 60).await;
    assert_eq!(late.status, 401);
    assert!(
        late.body["error_msg"]
            .as_str()
            .unwrap()
            .contains("more than 15 minutes"),
        "{}",
        late.text
    );
    configure(&state, r#"{"gateway_clock_offset_seconds": 960}"#).await;
    let skewed = signed(&state, "GET", "/v3/tasks", "", SECRET, 0).await;
    assert_eq!(skewed.status, 401, "{}", skewed.text);
    let shown = send(&state, "GET", "/_lab/state", &[], "").await.body;
    assert_eq!(shown["auth_refused"], 3);
    assert_eq!(shown["counts"], json!({"collect_log": 1}));
}

#[tokio::test]
async fn lists_page_with_a_total_count_and_filter() {
    let (state, _) = lab();
    let token = token(&state).await;
    let page = with_token(&state, &token, "GET", "/v3/tasks?limit=3&offset=2", "").await;
    assert_eq!(page.body["count"], 7);
    let names: Vec<&str> = page.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db-01", "app-01", "win-01"]);
    assert_eq!(page.body["tasks"][0]["log_collect_status"], "INIT");
    let running = with_token(&state, &token, "GET", "/v3/tasks?state=RUNNING", "").await;
    assert_eq!(running.body["count"], 1);
    for bad in [
        "/v3/tasks?limit=101",
        "/v3/tasks?state=DONE",
        "/v3/tasks?offset=-1",
    ] {
        let answer = with_token(&state, &token, "GET", bad, "").await;
        assert_eq!(
            (answer.status, &answer.body["error_code"]),
            (400, &json!("SMS.1804")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_task_json_has_every_documented_field_and_consistent_estimates() {
    let (state, clock) = lab();
    let token = token(&state).await;
    let id = task_id(&state, &token, "app-01").await;
    clock.advance(Duration::from_secs(100));
    let task = with_token(&state, &token, "GET", &format!("/v3/tasks/{id}"), "")
        .await
        .body;
    let documented: Value =
        serde_json::from_str(crate::vendors::huawei_sms::wire::tests::EXAMPLE).unwrap();
    assert_has_every_key(&documented, &task, "task");
    assert_eq!(task["state"], "RUNNING");
    assert!(
        task["subtask_info"]
            .as_str()
            .unwrap()
            .starts_with("MIGRATE_LINUX_FILE:")
    );
    let now_ms = (crate::http::lab::testing::START as i64 + 100) * 1000;
    let remain = task["remain_seconds"].as_i64().unwrap();
    let estimate = task["estimate_complete_time"].as_i64().unwrap();
    assert!(
        (estimate - now_ms - remain * 1000).abs() < 1000,
        "{estimate} {remain}"
    );
    assert!(task["migrate_speed"].as_f64().unwrap() > 0.0);
    let subs = task["sub_tasks"].as_array().unwrap();
    assert_eq!(subs.len(), 4);
    assert_eq!(subs[3]["end_date"], Value::Null);
}

/// Every key of `documented` is in `shown`, in nested objects and in the first element
/// of lists too.
#[track_caller]
fn assert_has_every_key(documented: &Value, shown: &Value, at: &str) {
    match (documented, shown) {
        (Value::Object(keys), Value::Object(values)) => {
            for (key, example) in keys {
                let value = values
                    .get(key)
                    .unwrap_or_else(|| panic!("{at} lacks `{key}`"));
                assert_has_every_key(example, value, &format!("{at}.{key}"));
            }
        }
        (Value::Array(examples), Value::Array(values)) => {
            if let (Some(example), Some(value)) = (examples.first(), values.first()) {
                assert_has_every_key(example, value, &format!("{at}[0]"));
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn actions_show_after_the_lag_and_repeats_are_state_conflicts() {
    let (state, clock) = lab();
    let token = token(&state).await;
    let id = task_id(&state, &token, "web-01").await;
    let action = |op: &str| format!(r#"{{"operation": "{op}"}}"#);
    let uri = format!("/v3/tasks/{id}/action");
    let started = with_token(&state, &token, "POST", &uri, &action("start")).await;
    assert_eq!((started.status, started.text.as_str()), (200, ""));
    let get = format!("/v3/tasks/{id}");
    assert_eq!(
        with_token(&state, &token, "GET", &get, "").await.body["state"],
        "READY"
    );
    let again = with_token(&state, &token, "POST", &uri, &action("start")).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["error_code"], "SMS.1802");
    assert_eq!(again.body["error_msg"], "The task is already running.");
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        with_token(&state, &token, "GET", &get, "").await.body["state"],
        "RUNNING"
    );
    let unknown = with_token(&state, &token, "POST", &uri, &action("launch")).await;
    assert_eq!(
        (unknown.status, &unknown.body["error_code"]),
        (400, &json!("SMS.1803"))
    );
    let missing = with_token(&state, &token, "GET", "/v3/tasks/0000", "").await;
    assert_eq!(
        (missing.status, &missing.body["error_code"]),
        (404, &json!("SMS.1801"))
    );
    let shown = send(&state, "GET", "/_lab/state", &[], "").await.body;
    let task = shown["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap();
    assert_eq!(task["lab"]["actions"], json!({"start": 1}));
}

#[tokio::test]
async fn the_token_bucket_answers_the_gateway_429_and_faults_use_its_body() {
    let (state, clock) = lab();
    let token = token(&state).await;
    let limit = r#"{"rate_limit": {"capacity": 2, "per_second": 1}}"#;
    configure(&state, limit).await;
    for _ in 0..2 {
        assert_eq!(
            with_token(&state, &token, "GET", "/v3/tasks", "")
                .await
                .status,
            200
        );
    }
    let throttled = with_token(&state, &token, "GET", "/v3/tasks", "").await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.body["error_code"], "APIGW.0308");
    assert!(
        throttled.body["error_msg"]
            .as_str()
            .unwrap()
            .starts_with("The throttling threshold has been reached")
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        with_token(&state, &token, "GET", "/v3/tasks", "")
            .await
            .status,
        200
    );
    configure(
        &state,
        r#"{"rate_limit": {"capacity": 0, "per_second": 0}}"#,
    )
    .await;
    send(
        &state,
        "POST",
        "/_lab/faults",
        &[],
        r#"{"status": 429, "count": 1}"#,
    )
    .await;
    let faulted = with_token(&state, &token, "GET", "/v3/tasks", "").await;
    assert_eq!(
        (faulted.status, &faulted.body["error_code"]),
        (429, &json!("APIGW.0308"))
    );
    assert_eq!(
        send(&state, "GET", "/_lab/state", &[], "").await.body["throttled"],
        1
    );
}

#[tokio::test]
async fn tasks_can_be_added_in_any_state_and_tokens_expired() {
    let (state, _) = lab();
    let token = token(&state).await;
    let added = send(
        &state,
        "POST",
        "/_lab/tasks",
        &[],
        r#"{"name": "w2", "state": "SYNC_SUCCESS", "os_type": "WINDOWS"}"#,
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let id = added.body["id"].as_str().unwrap();
    let task = with_token(&state, &token, "GET", &format!("/v3/tasks/{id}"), "")
        .await
        .body;
    assert_eq!(
        (&task["state"], &task["type"]),
        (&json!("SYNC_SUCCESS"), &json!("MIGRATE_BLOCK"))
    );
    assert_eq!(task["sub_tasks"][8]["name"], "SYNC_WINDOWS_BLOCK");
    for bad in [
        r#"{"name": "x", "state": "DELETING"}"#,
        r#"{"name": "x", "os_type": "WINDOWS", "type": "MIGRATE_FILE"}"#,
        r#"{"nom": "x"}"#,
    ] {
        assert_eq!(
            send(&state, "POST", "/_lab/tasks", &[], bad).await.status,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        send(&state, "POST", "/_lab/expire_tokens", &[], "")
            .await
            .body["expired"],
        1
    );
    assert_eq!(
        with_token(&state, &token, "GET", "/v3/tasks", "")
            .await
            .status,
        401
    );
    assert!(state.mutations().entries().is_empty());
}

impl TestLab for LabState {
    const ROUTER: fn(Self) -> Router = router;
}

/// A lab seeded with 7 on the tests' manual clock, with no wave estate; password and
/// secret key [`SECRET`].
pub(super) fn lab() -> (LabState, Clock) {
    lab_with(&Estate::new(Scenario::Happy, 0))
}

/// [`lab`] with the tasks of `estate` too.
pub(super) fn lab_with(estate: &Estate) -> (LabState, Clock) {
    seeded_lab(estate, LabState::new)
}

/// The IAM login body for `password`.
pub(super) fn login_body(password: &str) -> String {
    serde_json::to_string(
        &crate::vendors::huawei_sms::iam_wire::TokenRequest::password(
            super::LAB_USER,
            password,
            super::LAB_DOMAIN,
            super::LAB_PROJECT_ID,
        ),
    )
    .unwrap()
}

/// Logs in and answers the token.
pub(super) async fn token(lab: &LabState) -> String {
    let answer = send(lab, "POST", "/iam/v3/auth/tokens", &[], &login_body(SECRET)).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.header("x-subject-token").unwrap().to_owned()
}

/// A request with an IAM token.
pub(super) async fn with_token(
    lab: &LabState,
    token: &str,
    method: &str,
    uri: &str,
    body: &str,
) -> Answer {
    send(lab, method, uri, &[("x-auth-token", token)], body).await
}

/// A request signed with `secret` and dated `skew` away from now (negative: behind).
pub(super) async fn signed(
    lab: &LabState,
    method: &str,
    uri: &str,
    body: &str,
    secret: &str,
    skew_seconds: i64,
) -> Answer {
    let now = SystemTime::now();
    let shift = Duration::from_secs(skew_seconds.unsigned_abs());
    let at = if skew_seconds >= 0 {
        now + shift
    } else {
        now - shift
    };
    let date = signer::sdk_date(at);
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("host".to_owned(), "sms.lab".to_owned()),
        ("x-project-id".to_owned(), super::LAB_PROJECT_ID.to_owned()),
        ("x-sdk-date".to_owned(), date.clone()),
    ];
    let pairs = signer::parse_query(query);
    let request = Signable {
        method,
        path,
        query: &pairs,
        headers: &headers,
        body: body.as_bytes(),
    };
    let (signature, names) = signer::sign(&request, &date, secret.as_bytes());
    let authorization = signer::authorization(super::LAB_ACCESS_KEY, &names, &signature);
    let mut all: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("authorization", &authorization));
    send(lab, method, uri, &all, body).await
}

/// The id of the seeded task `name`.
pub(super) async fn task_id(lab: &LabState, token: &str, name: &str) -> String {
    let list = with_token(lab, token, "GET", &format!("/v3/tasks?name={name}"), "").await;
    list.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

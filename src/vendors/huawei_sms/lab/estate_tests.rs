//! The estate's tasks through the simulator's routes: one `READY` task per application
//! migrating its source server, migrations of 15 to 40 lab minutes from `start`, the
//! `rough` task that fails once, and seeded timelines that wait for the first read.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::LabState;
use super::super::tests::{lab_with, task_id, token, with_token};
use super::{LONGEST, SHORTEST};
use crate::clock::Clock;
use crate::http::lab::estate::{Estate, Fault, Scenario};
use crate::vendors::huawei_sms::wire::codes;

/// The task named `name` as `GET /v3/tasks/{id}` shows it.
async fn task(lab: &LabState, token: &str, name: &str) -> Value {
    let id = task_id(lab, token, name).await;
    with_token(lab, token, "GET", &format!("/v3/tasks/{id}"), "")
        .await
        .body
}

/// Sends `operation` to the task named `name`; the answer's status.
async fn act(lab: &LabState, token: &str, name: &str, operation: &str) -> u16 {
    let id = task_id(lab, token, name).await;
    let body = format!(r#"{{"operation": "{operation}"}}"#);
    with_token(lab, token, "POST", &format!("/v3/tasks/{id}/action"), &body)
        .await
        .status
}

/// `name: state` of every task of `estate`.
async fn states(lab: &LabState, token: &str, estate: &Estate) -> Vec<String> {
    let mut shown = Vec::new();
    for app in &estate.apps {
        let state = task(lab, token, &app.name).await["state"].clone();
        shown.push(format!("{}: {}", app.name, state.as_str().unwrap()));
    }
    shown
}

#[tokio::test]
async fn each_application_has_a_ready_task_migrating_its_source_server() {
    let estate = Estate::new(Scenario::Happy, 12);
    let (state, _) = lab_with(&estate);
    let token = token(&state).await;
    for (index, app) in estate.apps.iter().enumerate() {
        let t = task(&state, &token, &app.name).await;
        assert_eq!(t["name"], app.name.as_str());
        assert_eq!(t["state"], "READY", "{}", app.name);
        assert_eq!(t["start_date"], Value::Null, "{}", app.name);
        assert_eq!(t["sub_tasks"], json!([]), "{}", app.name);
        assert_eq!(t["error_json"], "", "{}", app.name);
        assert_eq!(
            (&t["source_server"]["name"], &t["source_server"]["state"]),
            (&json!(app.name), &json!("waiting"))
        );
        let flavour = [
            ("LINUX", "MIGRATE_FILE"),
            ("LINUX", "MIGRATE_BLOCK"),
            ("WINDOWS", "MIGRATE_BLOCK"),
        ][index % 3];
        assert_eq!(
            (t["os_type"].as_str(), t["type"].as_str()),
            (Some(flavour.0), Some(flavour.1))
        );
    }
    let all = with_token(&state, &token, "GET", "/v3/tasks?state=READY&limit=100", "").await;
    // The seeded `web-01` and `db-02`, and the wave's twelve.
    assert_eq!(all.body["count"], 14);
}

#[tokio::test]
async fn a_started_migration_takes_fifteen_to_forty_lab_minutes() {
    let estate = Estate::new(Scenario::Happy, 12);
    let (state, clock) = lab_with(&estate);
    let token = token(&state).await;
    for app in &estate.apps {
        assert_eq!(act(&state, &token, &app.name, "start").await, 200);
    }
    clock.advance(SHORTEST - Duration::from_secs(5));
    let early = states(&state, &token, &estate).await;
    assert!(early.iter().all(|s| s.ends_with("RUNNING")), "{early:#?}");
    clock.advance((LONGEST - SHORTEST) / 2);
    let middle = states(&state, &token, &estate).await;
    let running = middle.iter().filter(|s| s.ends_with("RUNNING")).count();
    assert!(running > 2 && running < 10, "{middle:#?}");
    clock.advance(LONGEST);
    let done = states(&state, &token, &estate).await;
    assert!(
        done.iter().all(|s| s.ends_with("MIGRATE_SUCCESS")),
        "{done:#?}"
    );
    let t = task(&state, &token, "crm").await;
    assert_eq!(t["source_server"]["state"], "finished");
    assert_eq!(t["sub_tasks"].as_array().unwrap().len(), 6);
}

/// A rough wave's lab in which the task of the application that fails once was started
/// and its run has had time to end: the lab, its clock, a token and the application.
async fn started_rough_task() -> (LabState, Clock, String, String) {
    let estate = Estate::new(Scenario::Rough, 12);
    let app = estate.with_fault(Fault::SmsFailsOnce).unwrap().name.clone();
    let (state, clock) = lab_with(&estate);
    let token = token(&state).await;
    assert_eq!(act(&state, &token, &app, "start").await, 200);
    clock.advance(LONGEST);
    (state, clock, token, app)
}

#[tokio::test]
async fn the_rough_task_fails_on_its_first_run_and_succeeds_when_restarted() {
    let (state, clock, token, app) = started_rough_task().await;
    let failed = task(&state, &token, &app).await;
    assert_eq!(failed["state"], "MIGRATE_FAIL");
    assert_eq!(
        failed["error_json"],
        format!(
            r#"{{"error_code":"{}","error_param":[]}}"#,
            codes::MIGRATION_FAILED
        )
    );
    assert_eq!(failed["source_server"]["state"], "error");
    let copy = &failed["sub_tasks"].as_array().unwrap()[3];
    let at = copy["progress"].as_i64().unwrap();
    assert!((30..=70).contains(&at), "{copy}");
    assert_eq!(act(&state, &token, &app, "restart").await, 200);
    clock.advance(Duration::from_secs(5));
    let again = task(&state, &token, &app).await;
    assert_eq!(
        (&again["state"], &again["error_json"]),
        (&json!("RUNNING"), &json!(""))
    );
    clock.advance(LONGEST);
    assert_eq!(task(&state, &token, &app).await["state"], "MIGRATE_SUCCESS");
    // Only that application's task fails.
    assert_eq!(act(&state, &token, "crm", "start").await, 200);
    clock.advance(LONGEST);
    assert_eq!(
        task(&state, &token, "crm").await["state"],
        "MIGRATE_SUCCESS"
    );
}

#[tokio::test]
async fn a_failed_once_task_also_succeeds_when_started_again() {
    let (state, clock, token, app) = started_rough_task().await;
    assert_eq!(task(&state, &token, &app).await["state"], "MIGRATE_FAIL");
    assert_eq!(act(&state, &token, &app, "start").await, 200);
    clock.advance(LONGEST);
    assert_eq!(task(&state, &token, &app).await["state"], "MIGRATE_SUCCESS");
}

#[tokio::test]
async fn a_seeded_running_task_waits_for_its_first_read() {
    let (state, clock) = lab_with(&Estate::new(Scenario::Happy, 1));
    let progress = |t: &Value| t["subtask_info"].as_str().unwrap().to_owned();
    let lab_view = |body: Value| {
        body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "app-01")
            .unwrap()
            .clone()
    };
    let seeded = lab_view(
        crate::http::lab::testing::send(&state, "GET", "/_lab/state", &[], "")
            .await
            .body,
    );
    // A day later nobody has read it: it is where it was seeded.
    clock.advance(Duration::from_secs(24 * 3600));
    let unread = lab_view(
        crate::http::lab::testing::send(&state, "GET", "/_lab/state", &[], "")
            .await
            .body,
    );
    assert_eq!(unread["lab"]["started"], false);
    assert_eq!(progress(&unread), progress(&seeded));
    let token = token(&state).await;
    let first = task(&state, &token, "app-01").await;
    assert_eq!(
        (first["state"].as_str(), progress(&first)),
        (Some("RUNNING"), progress(&seeded))
    );
    clock.advance(Duration::from_secs(600));
    let later = task(&state, &token, "app-01").await;
    assert_ne!(progress(&later), progress(&first));
    assert_eq!(later["state"], "RUNNING");
}

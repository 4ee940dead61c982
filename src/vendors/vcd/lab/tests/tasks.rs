//! The legacy task over lab time: states, progress, cancel, forced failure, 404.

use std::time::Duration;

use crate::vendors::vcd::wire::{Task, TaskStatus};

use super::{Client, configure, entity, lab, lab_state};

const V100: &str = "urn:vcloud:type:acme:vm:1.0.0";
const V110: &str = "urn:vcloud:type:acme:vm:1.1.0";
const V200: &str = "urn:vcloud:type:acme:vm:2.0.0";

async fn poll(c: &Client, path: &str) -> Task {
    let answer = c.get(path).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.header("content-type"),
        Some("application/vnd.vmware.vcloud.task+xml;version=38.0")
    );
    Task::from_xml(&answer.text).unwrap()
}

#[tokio::test]
async fn a_task_advances_on_the_lab_clock_and_applies_at_success() {
    let (state, clock) = lab();
    let c = Client::login(&state).await;
    let path = c.migrate(V100, V110, false).await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        let task = poll(&c, &path).await;
        seen.push((task.status.clone(), task.progress));
        let shown = lab_state(&state).await;
        let migrated = entity(&shown, "web-01")["entityType"] == V110;
        assert_eq!(
            migrated,
            task.status() == Some(TaskStatus::Success),
            "{seen:?}"
        );
        clock.advance(Duration::from_millis(1500));
    }
    let seen: Vec<(&str, u8)> = seen.iter().map(|(s, p)| (s.as_str(), p.unwrap())).collect();
    assert_eq!(
        seen,
        [
            ("queued", 0),
            ("preRunning", 0),
            ("running", 33),
            ("running", 83),
            ("success", 100),
            ("success", 100)
        ]
    );
    let task = poll(&c, &path).await;
    assert_eq!(task.xmlns, "http://www.vmware.com/vcloud/v1.5");
    assert_eq!(task.href, format!("http://vcd.test{path}"));
    assert_eq!(
        task.owner.as_ref().and_then(|o| o.id.as_deref()),
        Some(V100)
    );
    assert_eq!(
        task.user.as_ref().and_then(|u| u.name.as_deref()),
        Some("administrator")
    );
    assert_eq!(
        task.organization.as_ref().and_then(|o| o.name.as_deref()),
        Some("System")
    );
    assert_eq!(task.end_time.as_deref(), Some("2025-03-01T00:00:05Z"));
    assert!(
        task.details
            .unwrap()
            .starts_with("migrated 6, rolled back 0")
    );
}

#[tokio::test]
async fn a_canceled_task_migrates_nothing() {
    let (state, clock) = lab();
    let c = Client::login(&state).await;
    let path = c.migrate(V100, V200, false).await;
    clock.advance(Duration::from_secs(3));
    assert_eq!(
        c.post(&format!("{path}/action/cancel"), "").await.status,
        204
    );
    clock.advance(Duration::from_secs(10));
    let task = poll(&c, &path).await;
    assert_eq!(
        (task.status(), task.progress, task.cancel_requested),
        (Some(TaskStatus::Canceled), Some(33), true)
    );
    let shown = lab_state(&state).await;
    assert_eq!(entity(&shown, "web-01")["entityType"], V100);
    assert!(shown["events"].as_array().unwrap().is_empty());
    assert_eq!(shown["counts"].get("migrateEntities"), None);
    assert_eq!(
        c.post(&format!("{path}/action/cancel"), "").await.status,
        204
    );
}

#[tokio::test]
async fn a_forced_failure_ends_in_error_with_the_error_element() {
    let (state, clock) = lab();
    let c = Client::login(&state).await;
    configure(&state, r#"{"fail_next_migration": true}"#).await;
    let path = c.migrate(V100, V110, false).await;
    clock.advance(Duration::from_secs(6));
    let task = poll(&c, &path).await;
    assert_eq!(task.status(), Some(TaskStatus::Error));
    let error = task.error.unwrap();
    assert_eq!(
        (
            error.major_error_code.as_str(),
            error.minor_error_code.as_str()
        ),
        ("500", "INTERNAL_SERVER_ERROR")
    );
    let shown = lab_state(&state).await;
    assert_eq!(entity(&shown, "web-01")["entityType"], V100);
    assert_eq!(shown["config"]["fail_next_migration"], false);
    let again = c.migrate(V100, V110, false).await;
    clock.advance(Duration::from_secs(6));
    assert_eq!(poll(&c, &again).await.status(), Some(TaskStatus::Success));
}

#[tokio::test]
async fn an_unknown_task_is_a_legacy_404() {
    let c = Client::fresh().await;
    let answer = c
        .get("/api/task/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.header("content-type"),
        Some("application/vnd.vmware.vcloud.error+xml")
    );
    assert!(
        answer
            .text
            .contains(r#"minorErrorCode="RESOURCE_NOT_FOUND""#),
        "{}",
        answer.text
    );
    assert!(answer.header("x-vmware-vcloud-request-id").is_some());
}

//! The wave estate in Cloud Director: each application's `web` and `db` entities in its
//! org, the rough estate's entity that 2.0.0 refuses (its migration task ends in error
//! with the schema violation), migration tasks that last longer the more they cover, and
//! who may modify which org's entities.

use std::time::Duration;

use serde_json::Value;

use crate::http::lab::estate::{Estate, Scenario};
use crate::vendors::vcd::lab::task::{MAX_RUNNING_FOR, running_for};
use crate::vendors::vcd::wire::{Task, TaskStatus};

use super::{Client, entity, estate_lab, lab_state, minor_error};

const V100: &str = "urn:vcloud:type:acme:vm:1.0.0";
const V200: &str = "urn:vcloud:type:acme:vm:2.0.0";

async fn task(c: &Client, path: &str) -> Task {
    let answer = c.get(path).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    Task::from_xml(&answer.text).unwrap()
}

#[track_caller]
fn type_of<'a>(shown: &'a Value, name: &str) -> &'a str {
    entity(shown, name)["entityType"].as_str().unwrap()
}

#[test]
fn a_task_runs_three_seconds_per_ten_instances_and_at_most_five_minutes() {
    let secs = |n| running_for(n).as_secs();
    assert_eq!([secs(0), secs(10), secs(11), secs(30)], [3, 3, 6, 9]);
    assert_eq!(running_for(40_000), MAX_RUNNING_FOR);
    assert_eq!(MAX_RUNNING_FOR.as_secs(), 300);
}

#[tokio::test]
async fn the_rough_estates_invalid_entity_is_left_behind_by_a_migration_that_succeeds() {
    let (state, clock) = estate_lab(&Estate::new(Scenario::Rough, 12));
    let c = Client::login(&state).await;
    let path = c.migrate(V100, V200, false).await;
    // 30 instances of 1.0.0 (6 seeded, 24 of the estate): 2 s queued and pre-running,
    // then 9 s running.
    clock.advance(Duration::from_secs(10));
    let running = task(&c, &path).await;
    assert_eq!(
        (running.status(), running.progress),
        (Some(TaskStatus::Running), Some(88))
    );
    assert_eq!(type_of(&lab_state(&state).await, "crm-web"), V100);
    clock.advance(Duration::from_secs(1));
    // As vendor-apis.md says, the task succeeds even when it skipped instances.
    let ended = task(&c, &path).await;
    assert_eq!(ended.status(), Some(TaskStatus::Success));
    assert_eq!(ended.end_time.as_deref(), Some("2025-03-01T00:00:11Z"));
    assert!(ended.error.is_none());
    assert_eq!(
        ended.details.as_deref(),
        Some(
            "migrated 28, rolled back 2 (invalid against the target), skipped 0 (no modify right), skipped 0 (concurrently modified)"
        )
    );
    let shown = lab_state(&state).await;
    assert_eq!(
        (
            entity(&shown, "erp-web")["entityState"].as_str(),
            type_of(&shown, "erp-web")
        ),
        (Some("RESOLVED"), V100)
    );
    for name in [
        "erp-db",
        "crm-web",
        "billing-web",
        "billing-db",
        "reports-db",
    ] {
        assert_eq!(type_of(&shown, name), V200, "{name}");
    }
}

#[tokio::test]
async fn a_system_administrator_migrates_the_entities_of_every_org() {
    let (state, clock) = estate_lab(&Estate::default());
    let c = Client::login(&state).await;
    c.migrate(V100, V200, false).await;
    clock.advance(Duration::from_secs(60));
    let shown = lab_state(&state).await;
    let estate: Vec<_> = shown["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let name = e["name"].as_str().unwrap();
            name.ends_with("-web") || name.ends_with("-db")
        })
        .collect();
    assert_eq!(estate.len(), 24);
    let globex = estate.iter().filter(|e| e["org"] == "globex").count();
    assert_eq!(globex, 8);
    assert!(
        estate
            .iter()
            .all(|e| e["entityType"] == V200 && e["entityState"] == "RESOLVED"),
        "{estate:?}"
    );
    assert_eq!(type_of(&shown, "gx-web-01"), V200);
}

#[tokio::test]
async fn a_tenant_migrates_only_its_own_orgs_entities() {
    let (state, clock) = estate_lab(&Estate::default());
    let tenant = Client::login_as(&state, "tenant@acme").await;
    let path = tenant.migrate(V100, V200, false).await;
    clock.advance(Duration::from_secs(60));
    let ended = task(&tenant, &path).await;
    assert_eq!(
        ended.details.as_deref(),
        Some(
            "migrated 20, rolled back 1 (invalid against the target), skipped 9 (no modify right), skipped 0 (concurrently modified)"
        )
    );
    let shown = lab_state(&state).await;
    assert_eq!(type_of(&shown, "crm-web"), V200);
    assert_eq!(type_of(&shown, "billing-web"), V100);
    assert_eq!(type_of(&shown, "gx-web-01"), V100);
}

#[tokio::test]
async fn a_tenant_modifies_only_what_its_orgs_published_rights_allow() {
    let (state, _) = estate_lab(&Estate::default());
    let provider = Client::login(&state).await;
    let id = |name: &'static str| {
        let provider = &provider;
        async move {
            let page = provider
                .get(&format!(
                    "/cloudapi/1.0.0/entities/types/acme/{}?filter=name=={name}",
                    if name.contains("pg") { "db" } else { "vm" }
                ))
                .await
                .body;
            page["values"][0]["id"].as_str().unwrap().to_owned()
        }
    };
    let globex = Client::login_as(&state, "tenant@globex").await;
    let resolve = |id: String| format!("/cloudapi/1.0.0/entities/{id}/resolve");
    // acme:vm's rights bundle is published to globex: its own vm entities it may change.
    let vm = globex.post(&resolve(id("billing-web").await), "").await;
    assert_eq!(vm.status, 200, "{}", vm.text);
    // acme:db's is not: its db entity it may read, not change.
    let db = id("gx-pg-01").await;
    assert_eq!(
        globex
            .get(&format!("/cloudapi/1.0.0/entities/{db}"))
            .await
            .status,
        200
    );
    let refused = globex.post(&resolve(db.clone()), "").await;
    assert_eq!(
        minor_error(&refused),
        (403, Some("ACCESS_TO_RESOURCE_IS_FORBIDDEN"))
    );
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "User tenant@globex does not have the right to modify entity {db}"
            )),
        "{}",
        refused.text
    );
    // Another org's entities it does not even see.
    let acme = id("crm-web").await;
    let hidden = globex.post(&resolve(acme), "").await;
    assert_eq!(minor_error(&hidden), (404, Some("NOT_FOUND")));
}

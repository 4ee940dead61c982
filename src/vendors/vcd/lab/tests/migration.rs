//! `migrateEntities` through the router: the §2.6 table on real instances, the three
//! source forms, request errors, rights, concurrent modification, events and the log.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Client, configure, entity, lab, lab_state, minor_error, send};

const V100: &str = "urn:vcloud:type:acme:vm:1.0.0";
const V101: &str = "urn:vcloud:type:acme:vm:1.0.1";
const V110: &str = "urn:vcloud:type:acme:vm:1.1.0";
const V200: &str = "urn:vcloud:type:acme:vm:2.0.0";

/// Adds entities of every state, valid or not against 2.0.0, on 1.0.1.
async fn add_table(state: &crate::vendors::vcd::lab::LabState) {
    let valid = json!({"name": "x", "cpus": 1, "guestOs": "linux"});
    let invalid = json!({"name": "x", "cpus": 1});
    for entity_state in ["PRE_CREATED", "RESOLVED", "RESOLUTION_ERROR", "IN_DELETION"] {
        for (label, contents) in [("valid", &valid), ("invalid", &invalid)] {
            let body = json!({"name": format!("t-{entity_state}-{label}"), "entityType": V101,
                "entityState": entity_state, "entity": contents});
            let added = send(state, "POST", "/_lab/entities", &[], &body.to_string()).await;
            assert_eq!(added.status, 201, "{}", added.text);
        }
    }
}

/// [`add_table`] to a fresh lab, migrated from 1.0.1 to 2.0.0 with or without `force`;
/// the lab's state after.
async fn migrate_table(force: bool) -> Value {
    let (state, _) = lab();
    add_table(&state).await;
    run(&Client::login(&state).await, V101, V200, force).await
}

#[track_caller]
fn row(shown: &Value, name: &str, entity_type: &str, entity_state: &str) {
    let e = entity(shown, name);
    assert_eq!(
        (e["entityType"].as_str(), e["entityState"].as_str()),
        (Some(entity_type), Some(entity_state)),
        "{name}"
    );
}

async fn run(c: &Client, source: &str, target: &str, force: bool) -> Value {
    c.migrate(source, target, force).await;
    c.lab.clock().advance(Duration::from_secs(10));
    lab_state(&c.lab).await
}

#[tokio::test]
async fn the_per_instance_rules_without_force() {
    let shown = migrate_table(false).await;
    for label in ["valid", "invalid"] {
        row(
            &shown,
            &format!("t-PRE_CREATED-{label}"),
            V200,
            "PRE_CREATED",
        );
        row(
            &shown,
            &format!("t-RESOLUTION_ERROR-{label}"),
            V200,
            "PRE_CREATED",
        );
        row(
            &shown,
            &format!("t-IN_DELETION-{label}"),
            V200,
            "IN_DELETION",
        );
    }
    row(&shown, "t-RESOLVED-valid", V200, "RESOLVED");
    row(&shown, "t-RESOLVED-invalid", V101, "RESOLVED");
    row(&shown, "app-02", V101, "RESOLVED");
    row(&shown, "gx-app-01", V200, "PRE_CREATED");
    row(&shown, "web-01", V100, "RESOLVED");
}

#[tokio::test]
async fn the_per_instance_rules_with_force() {
    let shown = migrate_table(true).await;
    row(&shown, "t-RESOLVED-valid", V200, "RESOLVED");
    row(&shown, "t-RESOLVED-invalid", V200, "RESOLUTION_ERROR");
    assert!(
        entity(&shown, "t-RESOLVED-invalid")["message"]
            .as_str()
            .unwrap()
            .contains("guestOs")
    );
    row(&shown, "t-RESOLUTION_ERROR-invalid", V200, "PRE_CREATED");
}

fn types_of(shown: &Value, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| entity(shown, n)["entityType"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_source_form_migrates_exactly_the_versions_it_names() {
    let picks = ["web-03", "gx-app-01", "app-03", "batch-02", "pg-01"];
    for (source, expected) in [
        (V100, [V110, V101, V101, V110]),
        ("urn:vcloud:type:acme:vm:1.0", [V110, V110, V110, V110]),
        ("urn:vcloud:type:acme:vm", [V110, V110, V110, V110]),
    ] {
        let c = Client::fresh().await;
        let shown = run(&c, source, V110, false).await;
        let got = types_of(&shown, &picks);
        assert_eq!(got[..4], expected, "{source}");
        assert_eq!(got[4], "urn:vcloud:type:acme:db:1.0.0");
    }
}

#[tokio::test]
async fn events_and_the_mutation_log_record_each_migrated_instance() {
    let c = Client::fresh().await;
    let shown = run(&c, V100, V200, false).await;
    let events = shown["events"].as_array().unwrap();
    // web-01 (valid), web-03, web-04, web-05 and gx-web-01 (the provider may modify
    // every org's entities); web-02 rolls back.
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["type"], "modify");
    assert_eq!(events[0]["entity"], entity(&shown, "web-01")["id"]);
    assert_eq!(
        (
            events[0]["definedEntity.type"].as_str(),
            events[0]["definedEntity.was.type"].as_str()
        ),
        (Some(V200), Some(V100))
    );
    assert_eq!(shown["counts"]["migrateEntities"], 1);
    assert_eq!(
        shown["tasks"][0]["details"],
        "migrated 5, rolled back 1 (invalid against the target), skipped 0 (no modify right), skipped 0 (concurrently modified)"
    );
    assert_eq!(shown["tasks"][0]["status"], "success");
    row(&shown, "gx-web-01", V200, "RESOLVED");
}

#[tokio::test]
async fn request_errors_use_the_cloudapi_body() {
    let (state, _) = lab();
    let c = Client::login(&state).await;
    let post = |source: &str, body: &str| {
        let uri = format!("/cloudapi/1.0.0/entityTypes/{source}/migrateEntities");
        let (c, body) = (&c, body.to_owned());
        async move { c.post(&uri, &body).await }
    };
    let target = |t: &str| format!(r#"{{"targetEntityType": "{t}"}}"#);
    for (source, body, status, code) in [
        ("urn:vcloud:type:acme", target(V200), 400, "BAD_REQUEST"),
        (
            V100,
            target("urn:vcloud:type:acme:vm:2.0"),
            400,
            "BAD_REQUEST",
        ),
        (V100, "{}".to_owned(), 400, "BAD_REQUEST"),
        (
            V100,
            target("urn:vcloud:type:acme:db:1.0.0"),
            400,
            "BAD_REQUEST",
        ),
        (V200, target(V200), 400, "BAD_REQUEST"),
        ("urn:vcloud:type:acme:vm:7", target(V200), 404, "NOT_FOUND"),
        (
            V100,
            target("urn:vcloud:type:acme:vm:9.9.9"),
            404,
            "NOT_FOUND",
        ),
    ] {
        let answer = post(source, &body).await;
        assert_eq!(
            minor_error(&answer),
            (status, Some(code)),
            "{source} {body}"
        );
        let id = answer.header("x-vmware-vcloud-request-id").unwrap();
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("[ {id} ] "))
        );
    }
    let missing = post(V100, &target("urn:vcloud:type:acme:vm:9.9.9")).await;
    assert!(
        missing.body["message"]
            .as_str()
            .unwrap()
            .ends_with("Target entity type urn:vcloud:type:acme:vm:9.9.9 not found")
    );
    let mut old = Client::login(&state).await;
    old.accept = "application/json;version=37.2".to_owned();
    let uri = format!("/cloudapi/1.0.0/entityTypes/{V100}/migrateEntities");
    assert_eq!(old.post(&uri, &target(V200)).await.status, 404);
    assert!(
        lab_state(&state).await["tasks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn overlapping_migrations_are_busy_until_the_first_ends() {
    let (state, clock) = lab();
    let c = Client::login(&state).await;
    c.migrate(V100, V110, false).await;
    let uri = "/cloudapi/1.0.0/entityTypes/urn:vcloud:type:acme:vm:1.1.0/migrateEntities";
    let busy = c
        .post(uri, &format!(r#"{{"targetEntityType": "{V200}"}}"#))
        .await;
    assert_eq!(minor_error(&busy), (409, Some("BUSY_ENTITY")));
    clock.advance(Duration::from_secs(5));
    c.migrate(V110, V200, false).await;
}

#[tokio::test]
async fn concurrently_modified_instances_are_left_for_a_rerun() {
    let (state, _) = lab();
    let c = Client::login(&state).await;
    configure(&state, r#"{"concurrent_share": 0.5}"#).await;
    let first = run(&c, "urn:vcloud:type:acme:vm:1", V110, true).await;
    let left = |shown: &Value| {
        shown["entities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["org"] == "acme" && [V100, V101].contains(&e["entityType"].as_str().unwrap())
            })
            .count()
    };
    let after_first = left(&first);
    assert!(after_first > 0 && after_first < 8, "{after_first} left");
    configure(&state, r#"{"concurrent_share": 0}"#).await;
    let second = run(&c, "urn:vcloud:type:acme:vm:1", V110, true).await;
    assert_eq!(left(&second), 0);
    assert_eq!(second["counts"]["migrateEntities"], 2);
}

//! Cloud Director end to end: real scripts through the binary against the lab, checked
//! afterwards against the lab's `/_lab/state`.

use serde_json::{Value, json};

use crate::test::{Test, TestLab, kind, next_line};

const V1: &str = "urn:vcloud:type:acme:vm:1.0.0";
const V2: &str = "urn:vcloud:type:acme:vm:2.0.0";

fn state(lab: &TestLab) -> Value {
    lab.state_of(kind::VCD)
}

fn entity<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no entity {name}"))
}

/// The `definedEntity.was.type` of every modify event.
fn migrated_from(state: &Value) -> Vec<String> {
    state["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "modify")
        .map(|e| e["definedEntity.was.type"].as_str().unwrap().to_owned())
        .collect()
}

fn add(lab: &TestLab, name: &str, entity_state: &str, contents: Value) {
    lab.post_to(
        kind::VCD,
        "/_lab/entities",
        json!({"name": name, "entityType": V1, "entityState": entity_state, "entity": contents}),
    );
}

fn migrate_script(source: &str, target: &str, force: bool) -> String {
    format!(
        r#"let task = vcd("prod-vcd").migrate_entities("{source}", #{{ target: "{target}", force: {force} }});
task.wait(#{{ timeout: "60s", every: "20ms" }});
print(task.status);
"#
    )
}

/// Each entity state of the §2.6 table, with the name prefix of its test instances.
const TABLE_STATES: [(&str, &str); 4] = [
    ("t-pre", "PRE_CREATED"),
    ("t-err", "RESOLUTION_ERROR"),
    ("t-del", "IN_DELETION"),
    ("t-res", "RESOLVED"),
];

/// Checks that each of `names` was migrated V1 → V2 by exactly one modify event.
#[track_caller]
fn one_event_each(state: &Value, names: &[&str]) {
    let events = state["events"].as_array().unwrap();
    for name in names {
        let id = &entity(state, name)["id"];
        let mine: Vec<_> = events.iter().filter(|e| &e["entity"] == id).collect();
        assert_eq!(mine.len(), 1, "one modify event for {name}");
        assert_eq!(mine[0]["definedEntity.type"], V2, "{name}");
        assert_eq!(mine[0]["definedEntity.was.type"], V1, "{name}");
    }
}

/// Adds a valid and an invalid instance for each row of the §2.6 table, migrates with `force`, and returns
/// the lab state afterwards.
fn migrate_table(force: bool) -> Value {
    let test = Test::new().lab();
    let lab = test.test_lab();
    let valid = json!({"name": "t", "cpus": 2, "guestOs": "linux"});
    let invalid = json!({"name": "t", "cpus": 2});
    for (name, entity_state) in TABLE_STATES {
        add(lab, &format!("{name}-valid"), entity_state, valid.clone());
        add(
            lab,
            &format!("{name}-invalid"),
            entity_state,
            invalid.clone(),
        );
    }
    let outcome = test
        .script("wave.rhai", &migrate_script(V1, V2, force))
        .args(["run", "wave.rhai"])
        .stdout("success\n")
        .success();
    state(outcome.lab())
}

#[track_caller]
fn row(state: &Value, name: &str, entity_type: &str, entity_state: &str) {
    let e = entity(state, name);
    assert_eq!(
        (e["entityType"].as_str(), e["entityState"].as_str()),
        (Some(entity_type), Some(entity_state)),
        "{name}"
    );
}

/// The rows that migrate whatever `force` says: PRE_CREATED and RESOLUTION_ERROR become
/// PRE_CREATED, IN_DELETION stays, valid RESOLVED stays RESOLVED; each with one event.
#[track_caller]
fn rows_migrated_either_way(after: &Value) {
    for contents in ["valid", "invalid"] {
        row(after, &format!("t-pre-{contents}"), V2, "PRE_CREATED");
        row(after, &format!("t-err-{contents}"), V2, "PRE_CREATED");
        row(after, &format!("t-del-{contents}"), V2, "IN_DELETION");
    }
    row(after, "t-res-valid", V2, "RESOLVED");
    one_event_each(
        after,
        &[
            "t-pre-valid",
            "t-pre-invalid",
            "t-err-valid",
            "t-err-invalid",
            "t-del-valid",
            "t-del-invalid",
            "t-res-valid",
        ],
    );
}

#[test]
fn migration_applies_every_row_of_the_table_without_force() {
    let after = migrate_table(false);
    rows_migrated_either_way(&after);
    row(&after, "t-res-invalid", V1, "RESOLVED");
    let id = &entity(&after, "t-res-invalid")["id"];
    let events = after["events"].as_array().unwrap();
    assert!(
        events.iter().all(|e| &e["entity"] != id),
        "t-res-invalid was not modified"
    );
    // A System administrator may modify the entities of every org.
    row(&after, "gx-web-01", V2, "RESOLVED");
    let task = &after["tasks"][0];
    assert_eq!(task["status"], "success");
    assert_eq!(
        task["details"],
        "migrated 36, rolled back 2 (invalid against the target), skipped 0 (no modify right), skipped 0 (concurrently modified)"
    );
}

#[test]
fn forced_migration_moves_invalid_contents_into_resolution_error() {
    let after = migrate_table(true);
    rows_migrated_either_way(&after);
    row(&after, "t-res-invalid", V2, "RESOLUTION_ERROR");
    one_event_each(&after, &["t-res-invalid"]);
}

#[track_caller]
fn versions_migrated(source: &str) -> Vec<String> {
    let outcome = Test::new()
        .lab()
        .script("wave.rhai", &migrate_script(source, V2, false))
        .args(["run", "wave.rhai"])
        .stdout("success\n")
        .success();
    let mut versions = migrated_from(&state(outcome.lab()));
    versions.sort();
    versions.dedup();
    versions
}

#[test]
fn each_source_form_migrates_exactly_the_versions_it_names() {
    assert_eq!(versions_migrated(V1), [V1]);
    assert_eq!(
        versions_migrated("urn:vcloud:type:acme:vm:1.0"),
        [
            "urn:vcloud:type:acme:vm:1.0.0",
            "urn:vcloud:type:acme:vm:1.0.1"
        ]
    );
    assert_eq!(
        versions_migrated("urn:vcloud:type:acme:vm"),
        [
            "urn:vcloud:type:acme:vm:1.0.0",
            "urn:vcloud:type:acme:vm:1.0.1",
            "urn:vcloud:type:acme:vm:1.1.0"
        ]
    );
}

#[test]
fn a_malformed_urn_is_a_validation_error_before_any_request() {
    let outcome = Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            let vcd = vcd("prod-vcd");
            for urn in ["urn:vcloud:type:acme", "urn:vcloud:entity:acme:vm:1.0.0", "acme:vm:1.0.0"] {
                try { vcd.migrate_entities(urn, #{ target: "urn:vcloud:type:acme:vm:2.0.0" }); }
                catch (e) { print(`${e.kind}: ${e.message}`); }
            }
            try { vcd.migrate_entities("urn:vcloud:type:acme:vm:1", #{ target: "urn:vcloud:type:acme:vm:2" }); }
            catch (e) { print(`${e.kind}: ${e.message}`); }
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            "
            validation: `urn:vcloud:type:acme` is not an entity type URN; expected urn:vcloud:type:<vendor>:<nss>[:<version>], e.g. urn:vcloud:type:acme:vm:1.0.0
            validation: `urn:vcloud:entity:acme:vm:1.0.0` is not an entity type URN; expected urn:vcloud:type:<vendor>:<nss>[:<version>], e.g. urn:vcloud:type:acme:vm:1.0.0
            validation: `acme:vm:1.0.0` is not an entity type URN; expected urn:vcloud:type:<vendor>:<nss>[:<version>], e.g. urn:vcloud:type:acme:vm:1.0.0
            validation: `urn:vcloud:type:acme:vm:2` is not a full entity type URN; expected urn:vcloud:type:<vendor>:<nss>:<major>.<minor>.<patch>
            ",
        )
        .success();
    let after = state(outcome.lab());
    assert_eq!(after["logins"], 0, "nothing was sent");
    assert_eq!(after["tasks"].as_array().unwrap().len(), 0);
}

#[test]
fn an_unknown_target_type_is_not_found_with_the_cloudapi_body() {
    Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            try {
                vcd("prod-vcd").migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:9.9.9" });
            } catch (e) {
                print(`${e.kind} ${e.status} ${e.vendor_code}`);
                print(json_decode(e.body).minorErrorCode);
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout("not_found 404 NOT_FOUND\nNOT_FOUND\n")
        .success();
    let outcome = Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            try {
                vcd("prod-vcd").migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:9.9.9" });
            } catch (e) {
                print(e.body);
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .success();
    let body: Value = serde_json::from_str(outcome.stdout.trim()).unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("[ "), "{message}");
    assert!(
        message.contains("urn:vcloud:type:acme:vm:9.9.9"),
        "{message}"
    );
    assert!(body.get("stackTrace").is_some(), "{body}");
}

#[test]
fn a_target_older_than_the_migration_api_gives_a_clear_error() {
    let test = Test::new().lab();
    test.test_lab()
        .post_to(kind::VCD, "/_lab/config", json!({"max_version": "37.2"}));
    test.script("wave.rhai", &migrate_script(V1, V2, false))
        .args(["run", "wave.rhai"])
        .status(1)
        .stderr(
            r#"
            error: `prod-vcd` migrate_entities: the server's newest API version is 37.2; migrate_entities needs 38.0 or newer (VCD 10.5) (kind: validation)
             --> wave.rhai:1:28
              |
            1 | let task = vcd("prod-vcd").migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0", force: false });
              |                            ^^^^^^^^^^^^^^^^
            "#,
        )
        .run();
}

#[test]
fn an_expired_token_is_renewed_without_the_script_noticing() {
    let test = Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            let vcd = vcd("prod-vcd");
            print(vcd.entity_type("urn:vcloud:type:acme:vm:2.0.0").version);
            wait_for_file("expired", #{ settle: 0, every: "20ms" });
            print(vcd.entities("urn:vcloud:type:acme:vm:2.0.0").len());
            "#,
        )
        .args(["run", "wave.rhai"]);
    let mut child = crate::test::Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(next_line(&mut lines), "2.0.0");
    let expired = test
        .test_lab()
        .post_to(kind::VCD, "/_lab/expire_sessions", json!({}));
    assert_eq!(expired["expired"], 1);
    test.touch("expired");
    assert_eq!(next_line(&mut lines), "1");
    assert!(child.wait(std::time::Duration::from_secs(30)).success());
    assert_eq!(state(test.test_lab())["logins"], 2);
}

#[test]
fn concurrently_modified_instances_stay_behind_and_the_rerun_helper_picks_them_up() {
    let test = Test::new().lab();
    let lab = test.test_lab();
    lab.post_to(kind::VCD, "/_lab/config", json!({"concurrent_share": 0.5}));
    let first = test
        .script("first.rhai", &migrate_script(V1, V2, false))
        .args(["run", "first.rhai"])
        .stdout("success\n")
        .success();
    // Instances the migration could have moved (acme, and web-02 aside, valid or not
    // RESOLVED) that it skipped as concurrently modified are still on 1.0.0.
    let after_first = state(first.lab());
    let movable = ["web-01", "web-03", "web-04", "web-05"];
    let skipped: Vec<&str> = movable
        .into_iter()
        .filter(|name| entity(&after_first, name)["entityType"] == V1)
        .collect();
    assert!(!skipped.is_empty(), "a share of 0.5 left nothing behind");
    let outcome = Test::new()
        .reuse_lab(first)
        .script(
            "wave.rhai",
            r#"
            import "cutover/vcd" as cd;
            // Half the instances change during each run here, far more than usual.
            let result = cd::migrate_all(vcd("prod-vcd"), "urn:vcloud:type:acme:vm:1.0.0",
                "urn:vcloud:type:acme:vm:2.0.0", #{ every: "20ms", max_runs: 20, patience: 3 });
            print(result.left.map(|e| `${e.name} ${e.entityState}`));
            "#,
        )
        .args(["run", "wave.rhai"])
        .success();
    // Left at the end: only the instance whose contents 2.0.0 refuses (the provider
    // may modify every org's); each skipped one was migrated once.
    assert_eq!(outcome.stdout, "[\"web-02 RESOLVED\"]\n");
    one_event_each(&state(outcome.lab()), &skipped);
}

#[test]
fn a_failed_task_is_an_error_carrying_its_error_element() {
    let test = Test::new().lab();
    test.test_lab().post_to(
        kind::VCD,
        "/_lab/config",
        json!({"fail_next_migration": true}),
    );
    test.script(
        "wave.rhai",
        r#"
        let task = vcd("prod-vcd").migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0" });
        try { task.wait(#{ every: "20ms" }); } catch (e) { print(`${e.kind} ${e.state} ${e.status} ${e.vendor_code}`); }
        print(task.error.minorErrorCode);
        "#,
    )
    .args(["run", "wave.rhai"])
    .stdout("invalid_state error 500 INTERNAL_SERVER_ERROR\nINTERNAL_SERVER_ERROR\n")
    .success();
}

#[test]
fn a_cancelled_task_migrates_nothing() {
    // The task stays queued, so the cancel always comes before it could succeed.
    let test = Test::new().lab_paused();
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let task = vcd("prod-vcd").migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0" });
            task.cancel();
            print(task.status);
            try { task.wait(#{ every: "20ms" }); } catch (e) { print(e.kind); }
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout("canceled\ninvalid_state\n")
        .success();
    assert!(migrated_from(&state(outcome.lab())).is_empty());
}

#[test]
fn entities_and_types_read_every_page_with_filters() {
    Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            let vcd = vcd("prod-vcd");
            print(vcd.entity_types().map(|t| t.version));
            print(vcd.entities("urn:vcloud:type:acme:vm", #{ page_size: 2 }).len());
            print(vcd.entities("urn:vcloud:type:acme:vm", #{ filter: "entityState==IN_DELETION" }).map(|e| e.name));
            let e = vcd.entity(vcd.entities("urn:vcloud:type:acme:vm:2.0.0")[0].id);
            print(`${e.name} ${e.etag != ()}`);
            print(vcd.resolve(e.id).entityState);
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            r#"
            ["1.0.0", "1.0.1", "1.1.0", "2.0.0", "1.0.0"]
            38
            ["web-05", "batch-03"]
            new-01 true
            RESOLVED
            "#,
        )
        .success();
}

#[test]
fn the_password_never_shows() {
    let test = Test::new().lab();
    let password = test.test_lab().password();
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let vcd = vcd("prod-vcd");
            print(vcd.entity_types().len());
            vcd.migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:9.9.9" });
            "#,
        )
        .args(["run", "-vvv", "wave.rhai"])
        .status(1)
        .run();
    outcome.assert_no_secret("administrator@System", &password);
    assert!(
        outcome.stderr.contains("(kind: not_found)"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_tenant_user_logs_in_through_sessions_and_sees_its_own_org() {
    let test = Test::new().lab();
    let url = test.test_lab().lab.url(kind::VCD).unwrap();
    let password = test.test_lab().password();
    test.file(
        "tenant.toml",
        &format!(
            "[targets.acme]\nkind = \"vcd\"\nurl = \"{url}\"\nuser = \"tenant@acme\"\npassword_env = \"CUTOVER_TEST_TENANT_PASSWORD\"\n"
        ),
    )
    .env("CUTOVER_TEST_TENANT_PASSWORD", &password)
    .script(
        "wave.rhai",
        r#"
        let vcd = vcd("acme");
        print(vcd.entity_types(#{ filter: "nss==db" }).map(|t| t.id));
        let orgs = vcd.entities("urn:vcloud:type:acme:vm").map(|e| e.org.name);
        print(orgs.filter(|o| o != "acme").len());
        "#,
    )
    .args(["run", "--targets", "tenant.toml", "wave.rhai"])
    .stdout("[\"urn:vcloud:type:acme:db:1.0.0\"]\n0\n")
    .success();
}

//! PowerStore end to end: real scripts through the binary against the lab, checked
//! afterwards against `/_lab/state`.

use serde_json::json;

use crate::test::{Child, PATIENCE, Test, next_line, unindent};

#[test]
fn cutover_of_a_ready_session_completes_it_once() {
    let outcome = Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            let s = powerstore("array1").import_session("wave1-lun03");
            print(s.state);
            s.cutover();
            s.wait_for("Import_Completed", #{ timeout: "60s", every: "50ms" });
            print(s.state);
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout("Ready_For_Cutover\nImport_Completed\n")
        .success();
    let lab = outcome.lab();
    let session = lab.session("wave1-lun03");
    assert_eq!(session["state"], "Import_Completed");
    assert_eq!(lab.applied("cutover", session["id"].as_str().unwrap()), 1);
    assert_eq!(lab.state()["counts"]["cutover"], 1);
    assert_eq!(
        lab.state()["active_login_sessions"],
        0,
        "the run logged out"
    );
}

#[test]
fn cutover_during_the_copy_is_a_catchable_invalid_state_error_with_the_body() {
    let test = Test::new().lab();
    let id = test.test_lab().add_session(
        "t-copy",
        "Copy_In_Progress",
        json!({"progress_percentage": 40, "stall_at": 50}),
    );
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let s = powerstore("array1").import_session("t-copy");
            try {
                s.cutover();
                print("cut over?!");
            } catch (e) {
                print(`${e.kind} ${e.status} ${e.vendor_code} ${e.state} ${e.retryable}`);
                print(e.target + " " + e.operation);
                print(json_decode(e.body).messages[0].message_l10n);
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            "
            invalid_state 422 0xE0A0C0010001 Copy_In_Progress false
            array1 cutover
            Import session t-copy cannot be cut over in state Copy_In_Progress.
            ",
        )
        .success();
    assert_eq!(outcome.lab().applied("cutover", &id), 0);
}

#[test]
fn cancel_ends_cancelled_from_every_state_that_allows_it() {
    // Lab time stands still while the script cancels, so each session is cancelled in
    // the state it was made in (a Queued one would start its copy after three seconds).
    let test = Test::new().lab_paused();
    let lab = test.test_lab();
    let ids: Vec<(&str, String)> = [
        (
            "t-scheduled",
            "Scheduled",
            json!({"scheduled_timestamp": "2099-01-01T00:00:00Z"}),
        ),
        ("t-queued", "Queued", json!({})),
        (
            "t-copy",
            "Copy_In_Progress",
            json!({"progress_percentage": 10}),
        ),
        ("t-ready", "Ready_For_Cutover", json!({})),
        ("t-paused", "Paused", json!({"progress_percentage": 30})),
    ]
    .into_iter()
    .map(|(name, state, extra)| (name, lab.add_session(name, state, extra)))
    .collect();
    let test = test
        .script(
            "wave.rhai",
            r#"
            let array = powerstore("array1");
            let sessions = ["t-scheduled", "t-queued", "t-copy", "t-ready", "t-paused"]
                .map(|name| array.import_session(name));
            for s in sessions {
                let was = s.state;
                s.cancel();
                print(`${s.name} ${was} -> ${s.refresh().state}`);
            }
            for s in sessions {
                s.wait_for("Cancelled", #{ timeout: "60s", every: "20ms" });
                print(`${s.name} ${s.state}`);
            }
            "#,
        )
        .args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    let cancelled: Vec<String> = (0..5).map(|_| next_line(&mut lines)).collect();
    assert_eq!(
        cancelled,
        [
            "t-scheduled Scheduled -> Cancel_In_Progress",
            "t-queued Queued -> Cancel_In_Progress",
            "t-copy Copy_In_Progress -> Cancel_In_Progress",
            "t-ready Ready_For_Cutover -> Cancel_In_Progress",
            "t-paused Paused -> Cancelled",
        ]
    );
    test.test_lab().resume_clock();
    let (code, rest, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        rest,
        [
            "t-scheduled Cancelled",
            "t-queued Cancelled",
            "t-copy Cancelled",
            "t-ready Cancelled",
            "t-paused Cancelled",
        ]
    );
    for (name, id) in &ids {
        assert_eq!(test.test_lab().applied("cancel", id), 1, "{name}");
        assert_eq!(test.test_lab().session(name)["state"], "Cancelled");
    }
}

#[test]
fn an_unknown_id_is_not_found() {
    Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            try {
                powerstore("array1").import_session("00000000-0000-4000-8000-000000000000");
            } catch (e) {
                print(`${e.kind} ${e.status} ${e.vendor_code}`);
                print(e.message);
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            "
            not_found 404 0xE04040020009
            404 Not Found: Instance with id 00000000-0000-4000-8000-000000000000 was not found.
            ",
        )
        .success();
}

#[test]
fn waiting_for_ready_on_a_session_that_fails_errors_at_once() {
    let test = Test::new().lab();
    test.test_lab().add_session(
        "t-fail",
        "Copy_In_Progress",
        json!({"progress_percentage": 10, "fail_at": 15}),
    );
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let s = powerstore("array1").import_session("t-fail");
            s.wait_for("Ready_For_Cutover", #{ timeout: "10m", every: "50ms" });
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .run();
    // The wait logs what it sees first; the error follows.
    let first = outcome
        .stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        first.starts_with(
            "error: `array1` wait_for: import session `t-fail` reached Failed while waiting for Ready_For_Cutover: "
        ),
        "{}",
        outcome.stderr
    );
    assert!(first.ends_with("(kind: invalid_state)"), "{first}");
    assert!(
        outcome.stderr.contains(&unindent(
            r#"
             --> wave.rhai:2:3
              |
            2 | s.wait_for("Ready_For_Cutover", #{ timeout: "10m", every: "50ms" });
              |   ^^^^^^^^
            "#
        )),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_503_is_retried_and_honours_retry_after() {
    let test = Test::new().lab();
    let lab = test.test_lab();
    let id = lab.add_session("t-ready", "Ready_For_Cutover", json!({}));
    lab.post(
        "/_lab/faults",
        json!({"status": 503, "count": 2, "method": "POST", "path": "/api/rest/import_session", "retry_after": 1}),
    );
    let started = std::time::Instant::now();
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let s = powerstore("array1").import_session("t-ready");
            s.cutover();
            print(s.state);
            "#,
        )
        // The client sends it again once the array shows it not applied, by the
        // target's `read_retries`, which log each retry at debug.
        .env("CUTOVER_LOG", "warn,cutover::http::retry=debug")
        .args(["run", "wave.rhai"])
        .stdout("Import_Completed\n")
        .success();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After was not honoured"
    );
    assert_eq!(
        outcome.stderr.matches("retrying in").count(),
        2,
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("(attempt 2 of 8)"),
        "{}",
        outcome.stderr
    );
    assert_eq!(outcome.lab().applied("cutover", &id), 1);
}

#[test]
fn a_422_is_not_retried() {
    let test = Test::new().lab();
    test.test_lab().add_session(
        "t-copy",
        "Copy_In_Progress",
        json!({"progress_percentage": 10, "stall_at": 20}),
    );
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let s = powerstore("array1").import_session("t-copy");
            try {
                retry(#{ attempts: 5, initial: "10ms" }, || s.cutover());
            } catch (e) {
                print(e.kind);
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout("invalid_state\n")
        .success();
    assert!(!outcome.stderr.contains("retrying"), "{}", outcome.stderr);
}

#[test]
fn an_expired_login_is_renewed_without_the_script_noticing() {
    let test = Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            let array = powerstore("array1");
            print(array.import_session("wave1-lun03").state);
            wait_for_file("expired", #{ settle: 0, every: "20ms" });
            print(array.import_session("wave1-lun03").cutover().state);
            "#,
        )
        .args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(next_line(&mut lines), "Ready_For_Cutover");
    let expired = test.test_lab().post("/_lab/expire_sessions", json!({}));
    assert_eq!(expired["expired"], 1);
    test.touch("expired");
    assert_eq!(next_line(&mut lines), "Import_Completed");
    assert!(child.wait(std::time::Duration::from_secs(30)).success());
    assert_eq!(test.test_lab().state()["logins"], 2);
}

#[test]
fn listing_follows_every_page_and_filters() {
    Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            let array = powerstore("array1");
            let all = array.import_sessions(#{ page_size: 4 });
            print(all.len());
            print(all.map(|s| s.name).filter(|n| n.starts_with("wave1")));
            print(array.import_sessions(#{ name: "old-*" }).map(|s| s.state));
            print(array.import_sessions(#{ state: "Paused" }).map(|s| s.name));
            print(array.import_sessions(#{ limit: 2 }).len());
            "#,
        )
        .args(["run", "wave.rhai"])
        // 13 seeded sessions and the default wave's `-data` and `-logs` of 12 applications.
        .stdout(
            r#"
            37
            ["wave1-lun01", "wave1-lun02", "wave1-lun03", "wave1-lun04", "wave1-lun05"]
            ["Import_Completed", "Cancelled"]
            ["paused-lun11"]
            2
            "#,
        )
        .success();
}

#[test]
fn every_documented_field_is_a_property_with_the_lab_value() {
    let names = cutover::lab::POWERSTORE_IMPORT_SESSION_FIELDS;
    let script = format!(
        "let s = powerstore(\"array1\").import_session(\"wave1-lun03\");\nprint(json_encode(#{{ {} }}));\n",
        names
            .iter()
            .map(|f| format!("{f}: s.{f}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let outcome = Test::new()
        .lab()
        .script("wave.rhai", &script)
        .args(["run", "wave.rhai"])
        .success();
    let seen: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
    let truth = outcome.lab().session("wave1-lun03");
    for name in names {
        assert_eq!(seen[name], truth[name], "{name}");
    }
    assert_eq!(seen["state"], "Ready_For_Cutover");
    assert!(seen["remote_system_id"].is_string());
}

#[test]
fn the_password_never_shows() {
    // `wave1-lun01` is held in its copy from the start, so the cutover below is refused.
    let test = Test::new().lab_paused();
    let password = test.test_lab().password();
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let array = powerstore("array1");
            print(array.import_session("wave1-lun03"));
            try { array.import_session("nope"); } catch (e) { print(e); }
            debug(array);
            array.import_session("wave1-lun01").cutover();
            "#,
        )
        .args(["run", "-vvv", "wave.rhai"])
        .status(1)
        .run();
    outcome.assert_no_secret("admin", &password);
    assert!(
        outcome.stderr.contains("kind: invalid_state"),
        "{}",
        outcome.stderr
    );

    let wrong = Test::new()
        .lab()
        .env("CUTOVER_TEST_ARRAY1_PASSWORD", "not-the-password-xyzzy")
        .script("wave.rhai", "powerstore(\"array1\").import_sessions();")
        .args(["run", "-vvv", "wave.rhai"])
        .status(1)
        .run();
    assert!(
        wrong.stderr.contains("`array1` login: 401"),
        "{}",
        wrong.stderr
    );
    wrong.assert_no_secret("admin", "not-the-password-xyzzy");
}

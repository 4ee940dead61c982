//! vCenter's deferred history import end to end: real scripts through the binary against
//! the lab's appliance and proxy listeners.

use serde_json::json;

use crate::test::{PATIENCE, Test, TestLab, kind, next_line};

/// A running import 10% done, at the pace of imports seeded through the lab.
fn seed_running(lab: &TestLab) {
    lab.post_to(
        kind::VCENTER,
        "/_lab/history",
        json!({"status": "RUNNING", "completed": 10, "total": 100}),
    );
}

fn seed(lab: &TestLab, status: &str) {
    lab.post_to(
        kind::VCENTER,
        "/_lab/history",
        json!({"status": status, "completed": 40, "total": 100}),
    );
}

/// Runs `op` on the history import of `target` from `status`; what the script saw. Lab
/// time stands still, so a RUNNING import is still running when the script acts on it.
fn cell(target: &str, status: &str, op: &str) -> String {
    let test = Test::new().lab_paused();
    seed(test.test_lab(), status);
    let script = format!(
        r#"let h = vcenter("{target}").history();
try {{ print(h.{op}().status); }} catch (e) {{ print(`${{e.kind}} ${{e.vendor_code}} ${{e.state}}`); }}
"#
    );
    test.script("cell.rhai", &script)
        .args(["run", "cell.rhai"])
        .success()
        .stdout
        .trim()
        .to_owned()
}

#[test]
fn every_row_of_the_history_table_holds() {
    let refused = |state: &str| format!("invalid_state not_allowed_in_current_state {state}");
    let already = |state: &str| format!("invalid_state already_in_desired_state {state}");
    // The appliance's root speaks /rest, the SSO user /api: every cell in both.
    #[track_caller]
    fn case(status: &str, op: &str, expected: &str) {
        for target in ["vc-root", "prod-vc"] {
            assert_eq!(
                cell(target, status, op),
                expected,
                "{op} from {status} as {target}"
            );
        }
    }
    case("PENDING", "start", "RUNNING");
    case("PENDING", "pause", &refused("PENDING"));
    case("PENDING", "resume", &refused("PENDING"));
    case("PENDING", "cancel", &refused("PENDING"));
    case("RUNNING", "start", &already("RUNNING"));
    case("RUNNING", "pause", "BLOCKED");
    case("RUNNING", "resume", &already("RUNNING"));
    case("RUNNING", "cancel", "FAILED");
    case("BLOCKED", "start", &refused("BLOCKED"));
    case("BLOCKED", "pause", &already("BLOCKED"));
    case("BLOCKED", "resume", "RUNNING");
    case("BLOCKED", "cancel", "FAILED");
    case("SUCCEEDED", "start", &refused("SUCCEEDED"));
    case("SUCCEEDED", "pause", &refused("SUCCEEDED"));
    case("SUCCEEDED", "resume", &refused("SUCCEEDED"));
    case("SUCCEEDED", "cancel", &refused("SUCCEEDED"));
    case("FAILED", "start", &refused("FAILED"));
    case("FAILED", "pause", &refused("FAILED"));
    case("FAILED", "resume", &refused("FAILED"));
    // A canceled import (FAILED) refuses a second cancel as already done.
    case("FAILED", "cancel", &already("FAILED"));
}

#[test]
fn an_import_blocked_by_an_error_fails_the_wait_at_once_and_resumes_once_fixed() {
    let test = Test::new().lab();
    test.test_lab().post_to(
        kind::VCENTER,
        "/_lab/history",
        json!({"status": "RUNNING", "completed": 10, "total": 100, "block_at": 20}),
    );
    test.script(
        "wave.rhai",
        r#"
        let h = vcenter("prod-vc").history();
        try { h.wait_for("SUCCEEDED", #{ timeout: "1h", every: "20ms" }); }
        catch (e) { print(`${e.kind} ${e.state}`); print(e.message.contains("resume")); }
        print(h.resume().status);
        print(h.wait_for("SUCCEEDED", #{ timeout: "5m", every: "20ms" }).status);
        "#,
    )
    .args(["run", "wave.rhai"])
    .stdout("invalid_state BLOCKED\ntrue\nRUNNING\nSUCCEEDED\n")
    .success();
}

/// `scripts/history_import.rhai` with a maintenance window of 10 ms: without `--lab`
/// its sleep is on the wall clock.
fn history_playbook() -> String {
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/history_import.rhai"
    ))
    .unwrap();
    let window = "const WINDOW = \"30s\";";
    assert!(script.contains(window), "{script}");
    script.replace(window, "const WINDOW = \"10ms\";")
}

#[test]
fn the_playbook_counts_an_already_paused_import_as_paused() {
    let test = Test::new().lab();
    seed(test.test_lab(), "BLOCKED");
    let outcome = test
        .script("history.rhai", &history_playbook())
        .env("WAVE_POLL", "20ms")
        .args(["run", "history.rhai"])
        .success();
    assert!(
        outcome.stdout.contains("\npause: already\n"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("\nresume: done\n"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("history import SUCCEEDED: 100/100"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn resume_after_cancel_says_the_upgrade_must_be_redone() {
    // Still running when it is cancelled.
    let test = Test::new().lab_paused();
    seed(test.test_lab(), "RUNNING");
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let h = vcenter("prod-vc").history();
            print(h.cancel().status);
            try { h.cancel(); } catch (e) { print(e.vendor_code); }
            h.resume();
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .run();
    assert_eq!(outcome.stdout, "FAILED\nalready_in_desired_state\n");
    let first = outcome.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: `prod-vc` history.resume: 400 Bad Request: "),
        "{first}"
    );
    assert!(first.contains("redo the upgrade or migration"), "{first}");
    assert!(first.ends_with("(kind: invalid_state)"), "{first}");
}

#[test]
fn both_encodings_and_both_listeners_see_one_import() {
    // The seeded import is still running when the appliance's root pauses it.
    let test = Test::new().lab_paused();
    test.script(
        "wave.rhai",
        r#"
            let root = vcenter("vc-root");
            let sso = vcenter("prod-vc");
            print(`${root.encoding} ${sso.encoding}`);
            root.history().pause();
            print(sso.history().status().status);
            let info = sso.history().status();
            print(info.service);
            print(info.cancelable);
            "#,
    )
    .args(["run", "wave.rhai"])
    .stdout("rest api\nBLOCKED\ncom.vmware.vcenter.deployment.import_history\ntrue\n")
    .success();
}

#[test]
fn waiting_for_success_follows_progress_and_fails_at_once_on_failure() {
    // Seeded through the lab, the import runs its 100 steps in a minute of lab time
    // (the estate's own takes 8 hours).
    let test = Test::new().lab();
    seed_running(test.test_lab());
    test.script(
            "wave.rhai",
            r#"
            let h = vcenter("vc-root").history();
            let done = h.wait_for("SUCCEEDED", #{ timeout: "5m", every: "50ms" });
            print(`${done.status} ${done.progress.completed}/${done.progress.total} ${done.end_time != ()}`);
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout("SUCCEEDED 100/100 true\n")
        .success();
    let test = Test::new().lab();
    seed(test.test_lab(), "FAILED");
    let outcome = test
        .script("wave.rhai", "vcenter(\"vc-root\").history().wait_for(\"SUCCEEDED\", #{ timeout: \"10m\", every: \"50ms\" });\n")
        .args(["run", "wave.rhai"])
        .status(1)
        .run();
    assert!(
        outcome.stderr.contains("\nerror: `vc-root` history.wait_for: the history import ended FAILED while waiting for SUCCEEDED"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn an_expired_session_is_renewed_without_the_script_noticing() {
    // The seeded import is still running when the script pauses it.
    let test = Test::new().lab_paused();
    let test = test
        .script(
            "wave.rhai",
            r#"
            let h = vcenter("prod-vc").history();
            print(h.status().status);
            wait_for_file("expired", #{ settle: 0, every: "20ms" });
            print(h.pause().status);
            "#,
        )
        .args(["run", "wave.rhai"]);
    let mut child = crate::test::Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(next_line(&mut lines), "RUNNING");
    let expired = test
        .test_lab()
        .post_to(kind::VCENTER, "/_lab/expire_sessions", json!({}));
    assert_eq!(expired["expired"], 1);
    test.touch("expired");
    assert_eq!(next_line(&mut lines), "BLOCKED");
    assert!(child.wait(PATIENCE).success());
    assert_eq!(test.test_lab().state_of(kind::VCENTER)["logins"], 2);
}

#[test]
fn a_user_without_rights_is_refused() {
    let test = Test::new().lab();
    let url = test.test_lab().lab.url(kind::VCENTER).unwrap();
    let password = test.test_lab().password();
    let outcome = test
        .file(
            "viewer.toml",
            &format!("[targets.vc]\nkind = \"vcenter\"\nurl = \"{url}\"\nuser = \"viewer@vsphere.local\"\npassword_env = \"CUTOVER_TEST_VIEWER\"\n"),
        )
        .env("CUTOVER_TEST_VIEWER", &password)
        .script("wave.rhai", "try { vcenter(\"vc\").history().status(); } catch (e) { print(`${e.kind} ${e.status} ${e.vendor_code}`); }\n")
        .args(["run", "--targets", "viewer.toml", "wave.rhai"])
        .success();
    assert_eq!(outcome.stdout, "auth 403 unauthorized\n");
}

#[test]
fn the_history_playbook_pauses_for_the_window_and_waits_for_success() {
    // Lab time stands still until the playbook has paused the running import (seeded
    // through the lab, it would otherwise finish in a minute of lab time), then runs
    // for the wait for success.
    let test = Test::new().lab_paused();
    seed_running(test.test_lab());
    let test = test
        .script("history.rhai", &history_playbook())
        .env("WAVE_POLL", "20ms")
        .args(["run", "history.rhai"]);
    let mut child = crate::test::Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(next_line(&mut lines), "history import: RUNNING, 10/100");
    assert_eq!(next_line(&mut lines), "pause: done");
    test.test_lab().resume_clock();
    let (code, rest, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(code, Some(0), "{stderr}");
    let stdout = rest.join("\n") + "\n";
    assert!(
        stdout.starts_with("paused at 10/100 for the window\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\nresume: done\n"), "{stdout}");
    assert!(
        stdout.contains("history import SUCCEEDED: 100/100"),
        "{stdout}"
    );
}

#[test]
fn the_password_never_shows() {
    let test = Test::new().lab();
    let password = test.test_lab().password();
    let outcome = test
        .script(
            "wave.rhai",
            "print(vcenter(\"vc-root\").history().status().status);\nprint(vcenter(\"prod-vc\").history().status().status);\nvcenter(\"prod-vc\").history().start();\n",
        )
        .args(["run", "-vvv", "wave.rhai"])
        .status(1)
        .run();
    outcome.assert_no_secret("root", &password);
    outcome.assert_no_secret("administrator@vsphere.local", &password);
}

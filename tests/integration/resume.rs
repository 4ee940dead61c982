//! Durable runs (issue 13): a run killed with SIGKILL at the worst moments — before a
//! change is sent, after it was applied but before the journal heard, after it was
//! recorded, while the lab holds it — is resumed with `--resume last`, and every change
//! is applied exactly once, with the outcome of a run never interrupted. The kill points
//! are exact: a crash point of the debug binary (`CUTOVER_CRASH_AT`) or a request the lab
//! holds, never a sleep. Each test that keeps a journal runs once on SQLite and once on
//! PostgreSQL (`on_each_journal!`), with the same assertions.

use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, Output};

use serde_json::json;

use crate::journal_kind::{Journal, Store, on_each_journal};
use crate::test::{Child, PATIENCE, Test, eventually, kind};

/// Three steps: two cut-overs and a pause, none checking state first, so only the
/// journal keeps a resumed run from sending a change twice.
const PLAYBOOK: &str = r#"
let array = powerstore("array1");
let first = step("first", || { let s = array.import_session("res-a"); s.cutover(); s.refresh(); s.state });
let second = step("second", || { let s = array.import_session("res-b"); s.cutover(); s.refresh(); s.state });
let third = step("third", || { let s = array.import_session("res-c"); s.pause(); s.refresh(); s.state });
print(`${first} ${second} ${third}`);
"#;

/// What the playbook prints when it runs through, interrupted or not.
const FINAL: &str = "Import_Completed Import_Completed Paused\n";

/// A test with the playbook and its three sessions, lab time standing still so states
/// stay where the changes put them.
fn playbook() -> (Test, [String; 3]) {
    let test = Test::new().lab_paused();
    let lab = test.test_lab();
    let ids = [
        lab.add_session("res-a", "Ready_For_Cutover", json!({})),
        lab.add_session("res-b", "Ready_For_Cutover", json!({})),
        lab.add_session("res-c", "Copy_In_Progress", json!({})),
    ];
    (test.script("play.rhai", PLAYBOOK), ids)
}

/// Runs `cutover` with `args` in the test's folder and on `journal`, crashing at `crash`
/// if given.
fn cutover(test: &Test, journal: &Store, args: &[&str], crash: Option<&str>) -> Output {
    let mut command = command(test, journal);
    command.args(args);
    if let Some(crash) = crash {
        command.env("CUTOVER_CRASH_AT", crash);
    }
    command.output().unwrap()
}

#[track_caller]
fn assert_killed(output: &Output) {
    assert_eq!(
        output.status.signal(),
        Some(9),
        "not killed: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[track_caller]
fn assert_ok(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The test's command (no arguments yet) on `journal`.
fn command(test: &Test, journal: &Store) -> Command {
    let mut command = test.command();
    journal.apply(&mut command);
    command
}

/// How many times the lab applied `operation` to each session.
fn applied(test: &Test, operation: &str, ids: &[String]) -> Vec<usize> {
    ids.iter()
        .map(|id| test.test_lab().applied(operation, id))
        .collect()
}

/// `runs show` with its clock times made fixed.
fn runs_show(test: &Test, journal: &Store, ids: &[String; 3]) -> String {
    let output = cutover(test, journal, &["runs", "show", "last"], None);
    let text = assert_ok(&output);
    let mut text = text
        .replace(&ids[0], "ID-A")
        .replace(&ids[1], "ID-B")
        .replace(&ids[2], "ID-C");
    // `started 2026-…Z, ended 2026-…Z (1.2 s)` → fixed.
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("  started ") {
                "  started T, ended T".to_owned()
            } else if line.starts_with("  files: ") {
                line.split(" (blake3:").next().unwrap_or(line).to_owned() + " (…)"
            } else {
                line.to_owned()
            }
        })
        .collect();
    text = lines.join("\n");
    text
}

on_each_journal!(
    a_run_killed_at_each_point_of_a_change_resumes_and_applies_every_change_once,
    tls
);
fn a_run_killed_at_each_point_of_a_change_resumes_and_applies_every_change_once(kind: Journal) {
    let journal = kind.store();
    // The same playbook run through once, for what an uninterrupted run does.
    let (plain, plain_ids) = playbook();
    let stdout = assert_ok(&cutover(&plain, &kind.store(), &["run", "play.rhai"], None));
    assert_eq!(stdout, FINAL);
    assert_eq!(applied(&plain, "cutover", &plain_ids), [1, 1, 0]);
    assert_eq!(applied(&plain, "pause", &plain_ids), [0, 0, 1]);

    let (test, ids) = playbook();
    let run = ["run", "play.rhai"];
    let resume = ["run", "play.rhai", "--resume", "last"];
    // 1. Written to the journal, not sent.
    assert_killed(&cutover(
        &test,
        &journal,
        &run,
        Some("before_send:cutover:1"),
    ));
    journal.assert_whole();
    assert_eq!(applied(&test, "cutover", &ids), [0, 0, 0]);
    // 2. The first cut-over is sent now; the second is applied by the array, and the
    //    process dies before the journal hears the answer.
    assert_killed(&cutover(
        &test,
        &journal,
        &resume,
        Some("after_answer:cutover:2"),
    ));
    journal.assert_whole();
    assert_eq!(applied(&test, "cutover", &ids), [1, 1, 0]);
    // 3. The pause is applied and recorded; the process dies right after.
    assert_killed(&cutover(
        &test,
        &journal,
        &resume,
        Some("after_record:pause:1"),
    ));
    journal.assert_whole();
    assert_eq!(applied(&test, "pause", &ids), [0, 0, 1]);
    // 4. The rest runs through: nothing is sent again.
    let stdout = assert_ok(&cutover(&test, &journal, &resume, None));
    journal.assert_whole();
    assert_eq!(stdout, FINAL, "the same outcome as a run never interrupted");
    assert_eq!(applied(&test, "cutover", &ids), [1, 1, 0]);
    assert_eq!(applied(&test, "pause", &ids), [0, 0, 1]);
    assert_eq!(
        runs_show(&test, &journal, &ids),
        crate::test::unindent(
            "
            run 1 of play.rhai: succeeded, 4 attempts, 3 changes
              started T, ended T
              targets: array1, eu-sms, eu-sms-aksk, prod-vc, prod-vcd, vc-root
              files: play.rhai (…)

            the playbook
              step first: begun, not ended
                `array1` cutover import session `ID-A`: cut over (POST /api/rest/import_session/ID-A/cutover): outcome unknown, then verified: did not take effect (state `Ready_For_Cutover`)
              attempt 2:
              step first: done: \"Import_Completed\"
                `array1` cutover import session `ID-A`: cut over (POST /api/rest/import_session/ID-A/cutover): done, 204 No Content
              step second: begun, not ended
                `array1` cutover import session `ID-B`: cut over (POST /api/rest/import_session/ID-B/cutover): outcome unknown, then verified: took effect (state `Import_Completed`)
              attempt 3:
              step second: done: \"Import_Completed\"
                `array1` cutover import session `ID-B`: cut over (POST /api/rest/import_session/ID-B/cutover): not sent again: an earlier attempt's call took effect: state `Import_Completed`
              step third: begun, not ended
                `array1` pause import session `ID-C`: pause the copy (POST /api/rest/import_session/ID-C/pause): done, 204 No Content
              attempt 4:
              step third: done: \"Paused\"
                `array1` pause import session `ID-C`: pause the copy (POST /api/rest/import_session/ID-C/pause): not sent again: an earlier attempt's call took effect: state `Paused`"
        )
        .trim_start()
    );
}

on_each_journal!(a_run_killed_while_the_lab_holds_its_change_resumes_without_sending_it_twice);
fn a_run_killed_while_the_lab_holds_its_change_resumes_without_sending_it_twice(kind: Journal) {
    let journal = kind.store();
    let (test, ids) = playbook();
    let lab = test.test_lab();
    let path = format!("/api/rest/import_session/{}/cutover", ids[1]);
    let hold = json!({"status": 200, "hold": true, "method": "POST", "path": path});
    lab.post_to(kind::POWERSTORE, "/_lab/faults", hold);
    let mut command = command(&test, &journal);
    command.args(["run", "play.rhai"]);
    let mut child = Child::spawn(command);
    eventually("the second cut-over reaches the lab", || {
        lab.state()["faults"]["pending"] == json!([])
    });
    child.0.kill().unwrap();
    assert_eq!(child.wait(PATIENCE).signal(), Some(9));
    // Released after its sender died: the array applies it or not; the resume asks.
    lab.delete_to(kind::POWERSTORE, "/_lab/faults");
    journal.assert_whole();
    let stdout = assert_ok(&cutover(
        &test,
        &journal,
        &["run", "play.rhai", "--resume", "last"],
        None,
    ));
    assert_eq!(stdout, FINAL);
    assert_eq!(applied(&test, "cutover", &ids), [1, 1, 0]);
    assert_eq!(applied(&test, "pause", &ids), [0, 0, 1]);
}

on_each_journal!(a_change_whose_answer_is_dropped_after_it_was_applied_is_verified_not_sent_again);
fn a_change_whose_answer_is_dropped_after_it_was_applied_is_verified_not_sent_again(kind: Journal) {
    let journal = kind.store();
    let (test, ids) = playbook();
    let path = format!("/api/rest/import_session/{}/cutover", ids[0]);
    let drop = json!({"status": 200, "drop_connection": true, "method": "POST", "path": path});
    test.test_lab()
        .post_to(kind::POWERSTORE, "/_lab/faults", drop);
    let stdout = assert_ok(&cutover(&test, &journal, &["run", "play.rhai"], None));
    assert_eq!(stdout, FINAL);
    assert_eq!(applied(&test, "cutover", &ids), [1, 1, 0]);
    let show = runs_show(&test, &journal, &ids);
    assert!(
        show.contains("`array1` cutover import session `ID-A`: cut over (POST /api/rest/import_session/ID-A/cutover): outcome unknown, then verified: took effect (state `Import_Completed`)\n"),
        "{show}"
    );
}

on_each_journal!(resume_refuses_a_changed_playbook_unless_forced);
fn resume_refuses_a_changed_playbook_unless_forced(kind: Journal) {
    let journal = kind.store();
    let (test, ids) = playbook();
    assert_killed(&cutover(
        &test,
        &journal,
        &["run", "play.rhai"],
        Some("after_record:cutover:1"),
    ));
    std::fs::write(
        test.path().join("play.rhai"),
        format!("{PLAYBOOK}// changed\n"),
    )
    .unwrap();
    let refused = cutover(
        &test,
        &journal,
        &["run", "play.rhai", "--resume", "1"],
        None,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "error: run 1 cannot be resumed: `play.rhai` changed since the run began; resume it with the files it began with, or pass --force to go on with these\n"
    );
    let forced = cutover(
        &test,
        &journal,
        &["run", "play.rhai", "--resume", "1", "--force"],
        None,
    );
    assert_eq!(assert_ok(&forced), FINAL);
    assert_eq!(applied(&test, "cutover", &ids), [1, 1, 0]);
}

on_each_journal!(two_processes_share_one_journal_and_never_run_one_run_at_once);
fn two_processes_share_one_journal_and_never_run_one_run_at_once(kind: Journal) {
    let journal = kind.store();
    let (test, ids) = playbook();
    let lab = test.test_lab();
    let path = format!("/api/rest/import_session/{}/pause", ids[2]);
    let hold = json!({"status": 200, "hold": true, "method": "POST", "path": path});
    lab.post_to(kind::POWERSTORE, "/_lab/faults", hold);
    let mut command = command(&test, &journal);
    command.args(["run", "play.rhai"]);
    let mut first = Child::spawn(command);
    eventually("the first run's pause reaches the lab", || {
        lab.state()["faults"]["pending"] == json!([])
    });
    let taken = cutover(
        &test,
        &journal,
        &["run", "play.rhai", "--resume", "1"],
        None,
    );
    assert_eq!(taken.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&taken.stderr);
    let pid = first.0.id();
    assert!(
        stderr.starts_with(&format!("error: run 1 is being run by process {pid} on ")),
        "{stderr}"
    );
    // Another run of its own shares the journal meanwhile.
    let other = test.file(
        "other.rhai",
        r#"print(powerstore("array1").import_session("res-a").name);"#,
    );
    let output = cutover(&other, &journal, &["run", "other.rhai"], None);
    assert_eq!(assert_ok(&output), "res-a\n");
    other.test_lab().delete_to(kind::POWERSTORE, "/_lab/faults");
    let lines = first.lines();
    let (status, stdout, stderr) = first.finish(lines, PATIENCE);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(stdout, [FINAL.trim_end()]);
    journal.assert_whole();
    let listed = assert_ok(&cutover(&other, &journal, &["runs"], None));
    let outcomes: Vec<(&str, &str)> = listed
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            (cells[1], cells[cells.len() - 2])
        })
        .collect();
    assert_eq!(
        outcomes,
        [("other.rhai", "succeeded"), ("play.rhai", "succeeded")]
    );
}

on_each_journal!(steps_in_loops_and_parallel_items_are_found_again_and_a_handle_is_read_again);
fn steps_in_loops_and_parallel_items_are_found_again_and_a_handle_is_read_again(kind: Journal) {
    let journal = kind.store();
    let (test, ids) = playbook();
    let test = test.script(
        "items.rhai",
        r#"
        let array = powerstore("array1");
        let results = parallel(["res-a", "res-b", "res-c"], |name| {
            // A handle: recorded as a reference, read again on resume.
            let s = step("find", || array.import_session(name));
            let sum = 0;
            for i in 0..3 { sum += step("count", || i); }
            step("act", || {
                if name == "res-c" { s.pause() } else { s.cutover() }
                s.refresh();
                `${s.name} ${s.state} ${sum}`
            })
        });
        for r in results { print(r.value); }
        "#,
    );
    assert_killed(&cutover(
        &test,
        &journal,
        &["run", "items.rhai"],
        Some("after_record:cutover:1"),
    ));
    journal.assert_whole();
    let stdout = assert_ok(&cutover(
        &test,
        &journal,
        &["run", "items.rhai", "--resume", "last"],
        None,
    ));
    assert!(
        stdout.starts_with("res-a Import_Completed 3\nres-b Import_Completed 3\nres-c Paused 3\n"),
        "{stdout}"
    );
    assert_eq!(applied(&test, "cutover", &ids), [1, 1, 0]);
    assert_eq!(applied(&test, "pause", &ids), [0, 0, 1]);
    let json = assert_ok(&cutover(
        &test,
        &journal,
        &["runs", "show", "last", "--json"],
        None,
    ));
    let shown: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(shown["run"]["standing"], "succeeded");
    assert_eq!(shown["run"]["attempts"], 2);
    let steps = shown["steps"].as_array().unwrap();
    let done = |key: &str| {
        steps
            .iter()
            .filter(|s| s["key"] == key && s["status"] == "done")
            .map(|s| s["occurrence"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    // Each item's loop made three occurrences of its step, each done once.
    for name in ["res-a", "res-b", "res-c"] {
        assert_eq!(done(&format!("{name}/count")), [1, 2, 3], "{name}");
        assert_eq!(done(&format!("{name}/find")), [1], "{name}");
        assert_eq!(done(&format!("{name}/act")), [1], "{name}");
    }
    let find = steps.iter().find(|s| s["key"] == "res-a/find").unwrap();
    assert_eq!(find["result"]["$handle"], "ImportSession");
    assert_eq!(find["result"]["id"], ids[0].as_str());
    // No secret reaches the journal (which the text is read from: it holds the steps).
    let password = test.test_lab().password();
    let text = journal.text();
    assert!(text.contains("res-a/find"), "{text}");
    assert!(!text.contains(&password));
}

#[test]
fn a_journal_that_cannot_be_written_stops_the_run_before_anything_is_sent() {
    let (test, ids) = playbook();
    // Its own journal is a file that cannot be made; this one is never opened.
    let journal = Journal::Sqlite.store();
    std::fs::write(test.path().join("not-a-folder"), "").unwrap();
    let output = cutover(
        &test,
        &journal,
        &["run", "play.rhai", "--journal", "not-a-folder/journal.db"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: journal `not-a-folder/journal.db`: cannot create its folder: "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("; pass --journal FILE to keep it elsewhere, or --no-journal\n"),
        "{stderr}"
    );
    assert_eq!(applied(&test, "cutover", &ids), [0, 0, 0]);
    let stdout = assert_ok(&cutover(
        &test,
        &journal,
        &["run", "play.rhai", "--no-journal"],
        None,
    ));
    assert_eq!(stdout, FINAL);
}

on_each_journal!(
    a_resume_verifies_a_change_left_unknown_even_when_the_playbook_does_not_make_it_again
);
fn a_resume_verifies_a_change_left_unknown_even_when_the_playbook_does_not_make_it_again(
    kind: Journal,
) {
    let journal = kind.store();
    let (test, ids) = playbook();
    let test = test.script(
        "careful.rhai",
        r#"
        let s = powerstore("array1").import_session("res-a");
        // This playbook looks before it changes: a resumed run finds the cut-over done.
        step("cut over", || { if s.state == "Ready_For_Cutover" { s.cutover(); } s.refresh(); s.state });
        print(s.state);
        "#,
    );
    assert_killed(&cutover(
        &test,
        &journal,
        &["run", "careful.rhai"],
        Some("after_answer:cutover:1"),
    ));
    let stdout = assert_ok(&cutover(
        &test,
        &journal,
        &["run", "careful.rhai", "--resume", "last"],
        None,
    ));
    assert_eq!(stdout, "Import_Completed\n");
    assert_eq!(applied(&test, "cutover", &ids), [1, 0, 0]);
    let show = runs_show(&test, &journal, &ids);
    assert!(
        show.ends_with("\n    `array1` cutover import session `ID-A`: cut over (POST /api/rest/import_session/ID-A/cutover): outcome unknown, then verified: took effect (state `Import_Completed`)\n  attempt 2:\n  step cut over: done: \"Import_Completed\""),
        "{show}"
    );
}

/// A password belongs in `CUTOVER_JOURNAL_PASSWORD`, never in the URL, which messages and
/// the shell's history show: such a URL is refused before anything is sent, and the
/// refusal does not repeat the password.
#[test]
fn a_journal_url_with_a_password_is_refused() {
    let (test, ids) = playbook();
    let output = test
        .command()
        .args(["run", "play.rhai", "--journal"])
        .arg("postgres://cutover:secret@127.0.0.1:1/x")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        !stdout.contains("secret") && !stderr.contains("secret"),
        "the password was repeated:\n{stdout}{stderr}"
    );
    assert_eq!(
        stderr,
        "error: journal `postgres://cutover@127.0.0.1:1/x`: the URL holds a password; put it in CUTOVER_JOURNAL_PASSWORD or a file named by CUTOVER_JOURNAL_PASSWORD_FILE instead; pass --journal FILE to keep it elsewhere, or --no-journal\n"
    );
    assert_eq!(stdout, "");
    assert_eq!(applied(&test, "cutover", &ids), [0, 0, 0]);
}

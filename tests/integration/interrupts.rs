//! Ctrl-C while a change is on its way (issue 13, item 5): the first SIGINT stops the
//! run but lets the change already sent be answered, and its real outcome is recorded;
//! a second one stops waiting, and the change stays an unknown outcome that a resume
//! verifies. The lab holds the change until the test releases it, so the signals always
//! reach the run while the change is in flight, without sleeps.

use std::io::{BufRead as _, BufReader, Lines};
use std::process::ChildStderr;

use serde_json::json;

use crate::stop::without_durations;
use crate::test::{Child, PATIENCE, Test, eventually, kind, unindent};

/// Two cut-overs in steps, then a print the interrupted run never reaches.
const PLAYBOOK: &str = r#"
let array = powerstore("array1");
let first = step("first", || { let s = array.import_session("int-a"); s.cutover(); s.refresh(); s.state });
let second = step("second", || { let s = array.import_session("int-b"); s.cutover(); s.refresh(); s.state });
print(`${first} ${second}`);
"#;

/// The line a run stopped with one change in flight shows while it waits for it.
const WAITING: &str =
    "waiting for 1 change in flight to be answered; press Ctrl-C again to stop waiting";

/// A test with the playbook and its two ready sessions, lab time standing still; the
/// second cut-over is held by the lab. Answers the test, the sessions' ids, and the
/// running `cutover run` once the held cut-over reached the lab.
fn held_run() -> (Test, [String; 2], Child) {
    let test = Test::new().lab_paused();
    let lab = test.test_lab();
    let ids = [
        lab.add_session("int-a", "Ready_For_Cutover", json!({})),
        lab.add_session("int-b", "Ready_For_Cutover", json!({})),
    ];
    let test = test.script("play.rhai", PLAYBOOK);
    let lab = test.test_lab();
    let path = format!("/api/rest/import_session/{}/cutover", ids[1]);
    let hold = json!({"status": 200, "hold": true, "method": "POST", "path": path});
    lab.post_to(kind::POWERSTORE, "/_lab/faults", hold);
    let mut command = test.command();
    command.args(["run", "play.rhai"]);
    let child = Child::spawn(command);
    eventually("the second cut-over reaches the lab", || {
        lab.state()["faults"]["pending"] == json!([])
    });
    (test, ids, child)
}

/// The child's stderr, line by line.
fn stderr_lines(child: &mut Child) -> Lines<BufReader<ChildStderr>> {
    BufReader::new(child.0.stderr.take().unwrap()).lines()
}

/// The rest of `lines`, each ending in a newline, call durations made fixed (`(N ms)`
/// becomes `(… ms)`, also before an unknown outcome's advice).
fn rest(lines: Lines<BufReader<ChildStderr>>) -> String {
    lines
        .map(|line| {
            let line = line.unwrap();
            match line.split_once(" ms); ") {
                Some((head, advice)) => {
                    let at = head.rfind(" (").unwrap();
                    assert!(head[at + 2..].chars().all(|c| c.is_ascii_digit()), "{line}");
                    format!("{} (… ms); {advice}\n", &head[..at])
                }
                None => without_durations(&line),
            }
        })
        .collect()
}

/// Runs `cutover` with `args` in the test's folder; answers its stdout, failing unless
/// it exits 0.
fn cutover_ok(test: &Test, args: &[&str]) -> String {
    let mut command = test.command();
    command.args(args);
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// `runs show last` with clock times, hashes and session ids made fixed.
fn runs_show(test: &Test, ids: &[String; 2]) -> String {
    cutover_ok(test, &["runs", "show", "last"])
        .replace(&ids[0], "ID-A")
        .replace(&ids[1], "ID-B")
        .lines()
        .map(|line| {
            if line.starts_with("  started ") {
                "  started T, ended T\n".to_owned()
            } else if line.starts_with("  files: ") {
                format!("{} (…)\n", line.split(" (blake3:").next().unwrap_or(line))
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

/// The stderr of the interrupted run after its waiting line.
fn stopped(first: &str, second: &str) -> String {
    let cutover = |id: &str, outcome: &str| {
        format!("  `array1` cutover POST /api/rest/import_session/{id}/cutover: {outcome}\n")
    };
    format!(
        "error: interrupted by SIGINT; the run stopped before its end\n\
         the run made 2 mutating calls:\n{}{}\
         note: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`\n",
        cutover("ID-A", first),
        cutover("ID-B", second),
    )
}

#[test]
fn ctrl_c_lets_the_change_in_flight_be_answered_and_records_it() {
    let (test, ids, mut child) = held_run();
    let lab = test.test_lab();
    child.interrupt();
    let mut stderr = stderr_lines(&mut child);
    assert_eq!(stderr.next().unwrap().unwrap(), WAITING);
    // The run waits for the held change: only the release lets it end.
    assert!(child.0.try_wait().unwrap().is_none(), "it did not wait");
    lab.delete_to(kind::POWERSTORE, "/_lab/faults");
    assert_eq!(child.wait(PATIENCE).code(), Some(130));
    let lines = child.lines();
    assert_eq!(lines.count(), 0, "the script went on after SIGINT");
    assert_eq!(
        rest(stderr)
            .replace(&ids[0], "ID-A")
            .replace(&ids[1], "ID-B"),
        stopped("204 No Content (… ms)", "204 No Content (… ms)")
    );
    assert_eq!(lab.applied("cutover", &ids[0]), 1);
    assert_eq!(lab.applied("cutover", &ids[1]), 1);
    assert_eq!(
        runs_show(&test, &ids),
        unindent(
            "
            run 1 of play.rhai: interrupted, 1 attempt, 2 changes
              started T, ended T
              targets: array1, eu-sms, eu-sms-aksk, prod-vc, prod-vcd, vc-root
              files: play.rhai (…)

            the playbook
              step first: done: \"Import_Completed\"
                `array1` cutover import session `ID-A`: cut over (POST /api/rest/import_session/ID-A/cutover): done, 204 No Content
              step second: failed: the run was interrupted
                `array1` cutover import session `ID-B`: cut over (POST /api/rest/import_session/ID-B/cutover): done, 204 No Content
            "
        )
        .trim_start()
    );
    // The resume finds the second cut-over done and sends nothing again.
    let stdout = cutover_ok(&test, &["run", "play.rhai", "--resume", "last"]);
    assert_eq!(stdout, "Import_Completed Import_Completed\n");
    assert_eq!(lab.applied("cutover", &ids[0]), 1);
    assert_eq!(lab.applied("cutover", &ids[1]), 1);
}

#[test]
fn a_second_ctrl_c_stops_waiting_and_the_change_stays_unknown_until_a_resume_verifies_it() {
    let (test, ids, mut child) = held_run();
    let lab = test.test_lab();
    child.interrupt();
    let mut stderr = stderr_lines(&mut child);
    assert_eq!(stderr.next().unwrap().unwrap(), WAITING);
    child.interrupt();
    // Still held: the run ends without its answer.
    assert_eq!(child.wait(PATIENCE).code(), Some(130));
    let stopped_text = rest(stderr)
        .replace(&ids[0], "ID-A")
        .replace(&ids[1], "ID-B");
    assert_eq!(
        stopped_text,
        stopped(
            "204 No Content (… ms)",
            "unknown_outcome, the run stopped before the answer came (… ms); read import session `ID-B` before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed`"
        )
    );
    let show = runs_show(&test, &ids);
    assert!(
        show.contains("  step second: failed: the run was interrupted\n    `array1` cutover import session `ID-B`: cut over (POST /api/rest/import_session/ID-B/cutover): sent, the run stopped before the answer: outcome unknown\n"),
        "{show}"
    );
    // Released after its sender stopped waiting: the array applies it or not; the
    // resume asks, and sends it only if it did not take effect.
    lab.delete_to(kind::POWERSTORE, "/_lab/faults");
    let stdout = cutover_ok(&test, &["run", "play.rhai", "--resume", "last"]);
    assert_eq!(stdout, "Import_Completed Import_Completed\n");
    assert_eq!(lab.applied("cutover", &ids[0]), 1);
    assert_eq!(lab.applied("cutover", &ids[1]), 1);
}

#[test]
fn sigterm_waits_the_same_way_and_says_how_to_stop_waiting() {
    let (test, ids, mut child) = held_run();
    let lab = test.test_lab();
    child.terminate();
    let mut stderr = stderr_lines(&mut child);
    assert_eq!(
        stderr.next().unwrap().unwrap(),
        "waiting for 1 change in flight to be answered; send SIGTERM again to stop waiting"
    );
    lab.delete_to(kind::POWERSTORE, "/_lab/faults");
    assert_eq!(child.wait(PATIENCE).code(), Some(143));
    assert_eq!(
        rest(stderr)
            .replace(&ids[0], "ID-A")
            .replace(&ids[1], "ID-B"),
        stopped("204 No Content (… ms)", "204 No Content (… ms)").replace("SIGINT", "SIGTERM")
    );
    assert_eq!(lab.applied("cutover", &ids[1]), 1);
}

//! Stopping a run with SIGINT or SIGTERM (issue 17, item 6; issue 14): the run ends with
//! 130 or 143, logs out of its targets, and prints every mutating call it made with its
//! outcome. The script cuts over sessions the lab holds ready, prints a line, then waits
//! on something that never happens; the signal goes out once that line is read.

use std::time::Duration;

use serde_json::json;

use crate::test::{Child, Test};

/// Cuts over two ready sessions, has a third refused (still copying), then waits.
const WAVE: &str = r#"
    let array = powerstore("array1");
    for name in ["stop-a", "stop-b", "stop-c"] {
        try {
            array.import_session(name).cutover();
        } catch (e) {
            print(`${name}: ${e.kind}`);
        }
    }
    print("cutovers sent");
    wait_until(|| false, #{ timeout: "1h", every: "1s" });
    print("never");
    "#;

/// `(N ms)` becomes `(… ms)`: how long a call took is not the test's business.
pub fn without_durations(text: &str) -> String {
    text.lines()
        .map(|line| match line.rfind(" (") {
            Some(at) if line.ends_with(" ms)") => {
                let digits = &line[at + 2..line.len() - 4];
                assert!(digits.chars().all(|c| c.is_ascii_digit()), "{line}");
                format!("{} (… ms)\n", &line[..at])
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// Runs [`WAVE`], sends `signal` once the cutovers are sent, and checks what the
/// operator sees and what the lab was left with.
fn stop_after_cutovers(send: fn(&Child), name: &str, code: i32) {
    let test = Test::new()
        .lab()
        .script("wave.rhai", WAVE)
        .args(["run", "wave.rhai"]);
    let lab = test.test_lab();
    let ready = [
        lab.add_session("stop-a", "Ready_For_Cutover", json!({})),
        lab.add_session("stop-b", "Ready_For_Cutover", json!({})),
    ];
    // Its copy stalls, so it never becomes ready however slow the machine.
    let copying = lab.add_session(
        "stop-c",
        "Copy_In_Progress",
        json!({"progress_percentage": 10, "stall_at": 10}),
    );
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(lines.next().unwrap().unwrap(), "stop-c: invalid_state");
    assert_eq!(lines.next().unwrap().unwrap(), "cutovers sent");
    send(&child);
    let status = child.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(code));
    assert!(lines.next().is_none(), "the script went on after {name}");
    let cutover = |id: &str, outcome: &str| {
        format!("  `array1` cutover POST /api/rest/import_session/{id}/cutover: {outcome} (… ms)\n")
    };
    assert_eq!(
        without_durations(&child.stderr()),
        format!(
            "error: interrupted by {name}; the run stopped before its end\n\
             the run made 3 mutating calls:\n{}{}{}\
             note: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`\n",
            cutover(&ready[0], "204 No Content"),
            cutover(&ready[1], "204 No Content"),
            cutover(&copying, "422 Unprocessable Entity"),
        )
    );
    let state = lab.state();
    assert_eq!(
        (
            state["logins"].as_u64(),
            state["active_login_sessions"].as_u64()
        ),
        (Some(1), Some(0)),
        "the run logged out on {name}"
    );
    for id in &ready {
        assert_eq!(lab.applied("cutover", id), 1);
    }
}

#[test]
fn sigterm_stops_the_run_logs_out_and_lists_its_mutating_calls() {
    stop_after_cutovers(Child::terminate, "SIGTERM", 143);
}

#[test]
fn sigint_stops_the_run_the_same_way() {
    stop_after_cutovers(Child::interrupt, "SIGINT", 130);
}

/// Runs `before` then waits for ever, stops the run with `stop` once it waits, and
/// returns the exit code and stderr.
fn stopped_while_waiting(before: &str, stop: fn(&Child)) -> (Option<i32>, String) {
    let script = format!(
        "{before}\nprint(\"waiting\");\nwait_until(|| false, #{{ timeout: \"1h\", every: \"1s\" }});\n"
    );
    let test = Test::new()
        .script("wait.rhai", &script)
        .args(["run", "wait.rhai"]);
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(lines.next().unwrap().unwrap(), "waiting");
    stop(&child);
    let code = child.wait(Duration::from_secs(30)).code();
    (code, child.stderr())
}

#[test]
fn a_run_stopped_before_any_mutation_says_so() {
    assert_eq!(
        stopped_while_waiting("", Child::terminate),
        (
            Some(143),
            "error: interrupted by SIGTERM; the run stopped before its end\n\
             the run made no mutating call\n"
                .to_owned()
        )
    );
}

#[test]
fn reasons_given_before_the_stop_are_shown_with_it() {
    assert_eq!(
        stopped_while_waiting("fail_run(\"lun07 was skipped\");", Child::interrupt),
        (
            Some(130),
            "error: interrupted by SIGINT; the run stopped before its end\n\
             error: the playbook marked the run failed: lun07 was skipped\n\
             the run made no mutating call\n"
                .to_owned()
        )
    );
}

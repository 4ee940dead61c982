//! Waits are never silent (issue 17, item 7): `wait_for` and `wait_until` log each change
//! of state or percent they see, with the job's name, and a heartbeat every minute of
//! clock time once a wait has lasted a minute. The jobs are held still or moved by the
//! lab's control routes between two lines the test has read, so what is logged never
//! depends on timing.

use std::io::BufRead;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::test::{Child, Test, kind, unindent};

/// Stderr with each log line's timestamp cut off, so it reads `INFO message`.
fn without_timestamps(stderr: &str) -> String {
    stderr
        .lines()
        .map(|line| match line.split_once("Z  INFO ") {
            Some((_, message)) => format!("INFO {message}"),
            None => line.to_owned(),
        })
        .map(|line| line + "\n")
        .collect()
}

#[test]
fn a_long_wait_beats_every_minute_even_when_nothing_changes() {
    // `paused-lun11` stays paused at 55% until resumed; at speed 200 a lab minute is
    // 0.3 s. Every heartbeat up to the timeout is logged, however late the process
    // wakes: each says its own minute.
    let outcome = Test::new()
        .script(
            "wave.rhai",
            r#"
            let s = powerstore("powerstore").import_session("paused-lun11");
            try {
                s.wait_for("Ready_For_Cutover", #{ timeout: "3m", every: "2m" });
            } catch (e) {
                print(e.message);
            }
            wait_until(|| s.refresh().state == "Ready_For_Cutover", #{ timeout: "150s", every: "20s" });
            "#,
        )
        .args(["run", "wave.rhai", "--lab", "--speed", "200"])
        .stdout("import session `paused-lun11` did not reach Ready_For_Cutover within 3m; it is Paused\n")
        .status(1)
        .run();
    assert_eq!(
        without_timestamps(&outcome.stderr),
        unindent(
            r#"
            INFO import session `paused-lun11` is Paused 55%
            INFO still waiting for import session `paused-lun11` to reach Ready_For_Cutover: Paused 55%, 1m elapsed, 2m left
            INFO still waiting for import session `paused-lun11` to reach Ready_For_Cutover: Paused 55%, 2m elapsed, 1m left
            INFO import session `paused-lun11` is Paused 55%
            INFO still waiting for the condition at wave.rhai:7: import session `paused-lun11` Paused 55%, 1m elapsed, 1m 30s left
            INFO still waiting for the condition at wave.rhai:7: import session `paused-lun11` Paused 55%, 2m elapsed, 30s left
            error: wait_until: the condition was not met within 2m 30s (kind: timeout)
             --> wave.rhai:7:1
              |
            7 | wait_until(|| s.refresh().state == "Ready_For_Cutover", #{ timeout: "150s", every: "20s" });
              | ^^^^^^^^^^
            "#
        )
    );
}

#[test]
fn each_change_of_state_or_percent_is_logged_with_the_jobs_name() {
    let test = Test::new().lab().script(
        "wave.rhai",
        r#"
        let done = vcenter("vc-root").history().wait_for("SUCCEEDED", #{ timeout: "2m", every: "20ms" });
        print(done.status);
        "#,
    );
    let history = |status: &str, completed: u32| {
        test.test_lab().post_to(
            kind::VCENTER,
            "/_lab/history",
            json!({"status": status, "completed": completed, "total": 100}),
        );
    };
    // BLOCKED by the user (not by an error) stays where it is until told otherwise.
    history("BLOCKED", 40);
    let mut command = test.command();
    command.args(["run", "wave.rhai"]).stderr(Stdio::piped());
    let mut child = Child::spawn(command);
    let mut lines = std::io::BufReader::new(child.0.stderr.take().unwrap()).lines();
    let mut next = || {
        let line = lines.next().unwrap().unwrap();
        line.split_once("Z  INFO ")
            .map_or(line.clone(), |(_, message)| message.to_owned())
    };
    assert_eq!(next(), "the history import is BLOCKED 40%");
    history("BLOCKED", 55);
    assert_eq!(next(), "the history import BLOCKED 40% → 55%");
    history("SUCCEEDED", 100);
    assert_eq!(next(), "the history import BLOCKED 55% → SUCCEEDED 100%");
    assert!(child.wait(Duration::from_secs(30)).success());
    assert_eq!(child.lines().next().unwrap().unwrap(), "SUCCEEDED");
    assert!(lines.next().is_none(), "nothing else is logged");
}

//! Durations scripts pass (issue 14, items 1 and 11): integers and floats are
//! milliseconds on the run's clock, `--speed` scales them, Ctrl-C ends a sleep, bad ones
//! are `validation` errors; `now()` is an instant that times a step.

use std::time::Duration;

use crate::test::{Child, Test};

/// Far more than any of these runs takes, far less than the hours a sleep read as
/// seconds (Rhai's own `sleep`) would take.
const CEILING: Duration = Duration::from_secs(120);

/// Runs `script` with `args`, failing at [`CEILING`]; returns status, stdout, stderr.
fn run_within(script: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["run", "d.rhai"];
    all.extend_from_slice(args);
    let test = Test::new().script("d.rhai", script);
    let mut command = test.command();
    command.args(&all);
    let mut child = Child::spawn(command);
    let lines = child.lines();
    let (code, stdout, stderr) = child.finish(lines, CEILING);
    (code, stdout.join("\n"), stderr)
}

#[test]
fn integer_sleeps_are_lab_milliseconds_under_speed() {
    // 30000 read as seconds is over eight hours even at this speed; as milliseconds it
    // is 30 ms of wall time.
    let (code, stdout, stderr) = run_within(
        r#"
        let t0 = now();
        sleep(2);
        sleep(30000);
        let took = now() - t0;
        print(`${type_of(took)} ${took >= 30002} ${t0.elapsed >= took}`);
        "#,
        &["--lab", "--speed", "1000"],
    );
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (Some(0), "i64 true true", "")
    );
}

#[test]
fn a_float_sleep_is_milliseconds_too() {
    // At a thousandth of wall speed, 1.5 ms of lab time is 1.5 s of wall time; 1.5 read
    // as seconds would be 25 minutes.
    let (code, stdout, stderr) = run_within(
        "let t0 = now();\nsleep(1.5);\nprint(t0.elapsed >= 1);\n",
        &["--lab", "--speed", "0.001"],
    );
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (Some(0), "true", "")
    );
}

#[test]
fn negative_non_finite_and_huge_durations_are_validation_errors() {
    Test::new()
        .script(
            "d.rhai",
            r#"
            for d in [-1, -0.5, 0.0 / 0.0, 1e300, 9223372036854775807, "200y", (), 1 == 1] {
                try { sleep(d); print("slept"); } catch (e) { print(`${e.kind}: ${e.operation}: ${e.message}`); }
            }
            try { wait_until(|| false, #{ timeout: -5 }); } catch (e) { print(`${e.kind}: ${e.message}`); }
            try { retry(#{ initial: 1e300 }, || 1); } catch (e) { print(`${e.kind}: ${e.message}`); }
            try { millis(-2.5); } catch (e) { print(`${e.kind}: ${e.message}`); }
            print(millis("1m 30s"));
            print(millis(2.9));
            "#,
        )
        .args(["run", "d.rhai"])
        .stdout(
            r#"
            validation: sleep: duration -1 is negative; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: sleep: duration -0.5 is negative; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: sleep: duration NaN is not a finite number; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: sleep: duration 1e300 is longer than 100 years; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: sleep: duration 9223372036854775807 is longer than 100 years; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: sleep: duration `200y` is longer than 100 years; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: sleep: a duration must be a string or milliseconds, not (); write e.g. "250ms", "30s", "2h" or milliseconds
            validation: sleep: a duration must be a string or milliseconds, not bool; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: duration -5 is negative; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: duration 1e300 is longer than 100 years; write e.g. "250ms", "30s", "2h" or milliseconds
            validation: duration -2.5 is negative; write e.g. "250ms", "30s", "2h" or milliseconds
            90000
            2
            "#,
        )
        .success();
}

#[test]
fn now_is_an_instant_that_takes_durations() {
    Test::new()
        .script(
            "d.rhai",
            r#"
            let t0 = now();
            print(type_of(t0));
            print(type_of(timestamp()));
            let later = t0 + millis("1h");
            print(later - t0);
            print(later - 3600000 == t0);
            print(`${t0}`.ends_with("Z") && `${t0}` == t0.to_string());
            print(timestamp(1600159831250) + 750);
            print(t0.elapsed >= 0);
            print(json_encode(#{ at: [timestamp(1600159831250)] }));
            "#,
        )
        .args(["run", "d.rhai"])
        .stdout("Timestamp\nTimestamp\n3600000\ntrue\ntrue\n2020-09-15T08:50:32Z\ntrue\n{\"at\":[\"2020-09-15T08:50:31.250Z\"]}\n")
        .success();
}

#[test]
fn ctrl_c_ends_a_long_sleep() {
    // Ten hours in milliseconds: Rhai's own `sleep` would take it as seconds, and not hear
    // the signal.
    let test = Test::new().script(
        "d.rhai",
        "print(\"sleeping\");\nsleep(36000000);\nprint(\"never\");\n",
    );
    let mut command = test.command();
    command.args(["run", "d.rhai"]);
    let mut child = Child::spawn(command);
    let mut lines = child.lines();
    assert_eq!(lines.next().unwrap().unwrap(), "sleeping");
    child.interrupt();
    let (code, rest, stderr) = child.finish(lines, CEILING);
    assert_eq!(code, Some(130));
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(
        stderr,
        "error: interrupted by SIGINT; the run stopped before its end\nthe run made no mutating call\n"
    );
}

//! `cutover run`: flow primitives, limits, interruption and how uncaught errors look.

use std::time::{Duration, Instant};

use crate::test::{Child, PRODUCTION_TARGETS, Test, unindent};

#[test]
fn an_endless_loop_is_stopped_by_the_operations_limit() {
    let outcome = Test::new()
        .script("loop.rhai", "let n = 0;\nloop { n += 1; }\n")
        .args(["run", "loop.rhai", "--max-operations", "100000"])
        .status(1)
        .run();
    assert!(
        outcome.stderr.starts_with(
            "error: the script ran too many operations and was stopped; look for an endless loop, \
             or raise --max-operations\n --> loop.rhai:2:"
        ),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains("2 | loop { n += 1; }\n"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn ctrl_c_ends_a_waiting_script_with_130() {
    let test = Test::new()
        .script(
            "wait.rhai",
            r#"
            print("waiting");
            wait_until(|| false, #{ timeout: "1h", every: "1s" });
            print("never");
            "#,
        )
        .args(["run", "wait.rhai"]);
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(lines.next().unwrap().unwrap(), "waiting");
    child.interrupt();
    let status = child.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    assert!(lines.next().is_none(), "the script went on after SIGINT");
    let stderr = child.stderr();
    assert_eq!(
        stderr,
        "error: interrupted by SIGINT; the run stopped before its end\n\
         the run made no mutating call\n"
    );
}

#[test]
fn an_uncaught_error_shows_the_call_chain_and_the_vendor_body() {
    let outcome = Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            fn fetch(array, name) {
                array.import_session(name)
            }
            fn wave(array) {
                fetch(array, "missing-lun")
            }
            wave(powerstore("array1"));
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .run();
    let body = r#"{"messages":[{"code":"0xE04040020009","severity":"Error","message_l10n":"Instance with id name:missing-lun was not found.","arguments":["name:missing-lun"]}]}"#;
    assert_eq!(
        outcome.stderr,
        unindent(&format!(
            "
            error: `array1` import_session: 404 Not Found: Instance with id name:missing-lun was not found. (kind: not_found)
             --> wave.rhai:2:11
              |
            2 |     array.import_session(name)
              |           ^^^^^^^^^^^^^^
              = in fn `fetch`, called from wave.rhai:5:5
              = in fn `wave`, called from wave.rhai:7:1
            response body:
            ----
            {body}
            ----
            "
        ))
    );
}

#[test]
fn scripts_throw_and_catch_their_own_errors() {
    Test::new()
        .script(
            "wave.rhai",
            r#"
            try { throw "two sessions failed"; } catch (e) { print(e); }
            throw "wave 1 aborted";
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .stdout("two sessions failed\n")
        .stderr(
            r#"
            error: wave 1 aborted
             --> wave.rhai:2:1
              |
            2 | throw "wave 1 aborted";
              | ^^^^^
            "#,
        )
        .run();
}

#[test]
fn flow_primitives_behave() {
    Test::new()
        .env("CUTOVER_TEST_WAVE", "wave1")
        .script(
            "flow.rhai",
            r#"
            print(env("CUTOVER_TEST_WAVE"));
            print(env("CUTOVER_TEST_UNSET") == ());
            let text = json_encode(#{ name: "lun", sizes: [1, 2] });
            print(json_decode(text).sizes[1]);
            try { json_decode("{"); } catch (e) { print(e.kind); }
            try { wait_until(|| false, #{ timeout: "30ms", every: 10 }); } catch (e) { print(`${e.kind}: ${e.message}`); }
            try { sleep("soon"); } catch (e) { print(e.message); }
            try { wait_until(|| false, #{ timout: "1s" }); } catch (e) { print(e.message); }
            try { retry(#{ attempts: 3 }, || throw "plain"); } catch (e) { print(e); }
            let n = retry(|| 42);
            print(n);
            print(type_of(now()) == "Timestamp" && now().to_string().ends_with("Z"));
            sleep(1);
            log("warn", "a warning");
            "#,
        )
        .args(["run", "flow.rhai"])
        .stdout(
            r#"
            wave1
            true
            2
            validation
            timeout: the condition was not met within 30ms
            `soon` is not a duration (expected number at 0); write e.g. "250ms", "30s", "2h" or milliseconds
            unknown option `timout`; did you mean `timeout`?
            plain
            42
            true
            "#,
        )
        .success();
}

#[test]
fn env_refuses_a_target_password_variable() {
    Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"try { env("CUTOVER_TEST_ARRAY1_PASSWORD"); } catch (e) { print(e.message); }"#,
        )
        .args(["run", "wave.rhai"])
        .stdout("`CUTOVER_TEST_ARRAY1_PASSWORD` holds the password of target `array1`; scripts cannot read it\n")
        .success();
}

#[test]
fn a_missing_password_variable_is_named() {
    let outcome = Test::new()
        .lab()
        .env("CUTOVER_TEST_ARRAY1_PASSWORD", "")
        .script("wave.rhai", "print(\"never\");\npowerstore(\"array1\");\n")
        .args(["run", "wave.rhai"])
        .status(2)
        .stdout("")
        .run();
    assert!(
        outcome.stderr.starts_with(
            "error: no password for target `array1`: environment variable `CUTOVER_TEST_ARRAY1_PASSWORD` is not set (kind: auth)"
        ),
        "{}",
        outcome.stderr
    );
}

#[test]
fn lab_targets_keep_their_names_and_add_lab() {
    Test::new()
        .file("cutover.toml", PRODUCTION_TARGETS)
        .script(
            "wave.rhai",
            r#"
            print(powerstore("array1").import_session("wave1-lun03").state);
            print(powerstore("powerstore").import_session("wave1-lun03").state);
            "#,
        )
        .args(["run", "wave.rhai", "--lab", "--speed", "10"])
        .stdout("Ready_For_Cutover\nReady_For_Cutover\n")
        .success();
}

#[test]
fn the_lab_speed_scales_script_sleeps() {
    let started = Instant::now();
    Test::new()
        .script("wave.rhai", "sleep(\"100s\");\nprint(\"done\");\n")
        .args(["run", "wave.rhai", "--lab", "--speed", "1000"])
        .stdout("done\n")
        .success();
    assert!(started.elapsed() < Duration::from_secs(30));
}

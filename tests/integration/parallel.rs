//! `parallel`, `step` and `confirm` through the real binary: the limit on items in
//! flight (the lab's peak of concurrent requests), input order, `fail_fast` (the lab's
//! mutation log), failures with their place, closures over captured variables and
//! imported modules, Ctrl-C, and the approval gate with and without a terminal.

use serde_json::json;

use crate::test::{Child, PATIENCE, Test, eventually, kind};

/// Stderr with each log line's timestamp cut off, so it reads `WARN message`.
fn without_timestamps(stderr: &str) -> String {
    stderr
        .lines()
        .map(|line| match line.split_once("Z  ") {
            Some((stamp, message)) if stamp.starts_with("20") => message.trim_start().to_owned(),
            _ => line.to_owned(),
        })
        .map(|line| line + "\n")
        .collect()
}

/// The lines of stdout before the summary table a run with items ends with.
fn before_summary(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .take_while(|line| !line.starts_with("application  step"))
        .collect()
}

#[test]
fn no_more_than_limit_items_are_in_flight_and_results_keep_input_order() {
    let test = Test::new().lab();
    let lab = test.test_lab();
    let names: Vec<String> = (1..=6).map(|n| format!("par-lun{n}")).collect();
    for name in &names {
        lab.add_session(name, "Ready_For_Cutover", json!({}));
    }
    // The first two reads are held: both items of the limit are then in flight at once,
    // and no third may start until the test releases them.
    let hold = json!({"status": 200, "hold": true, "count": 2, "method": "GET", "path": "/api/rest/import_session"});
    lab.post_to(kind::POWERSTORE, "/_lab/faults", hold);
    let test = test.script(
        "wave.rhai",
        r#"
        let array = powerstore("array1");
        let names = ["par-lun1", "par-lun2", "par-lun3", "par-lun4", "par-lun5", "par-lun6"];
        let results = parallel(names, #{ limit: 2 }, |name| array.import_session(name).name);
        for r in results { print(`${r.ok} ${r.value}`); }
        "#,
    );
    let test = test.args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    let lab = test.test_lab();
    eventually("both held reads arrive", || {
        lab.state()["faults"]["pending"] == json!([])
    });
    assert_eq!(lab.state()["peak_concurrent_requests"], json!(2));
    lab.delete_to(kind::POWERSTORE, "/_lab/faults");
    let lines = child.lines();
    let (status, stdout, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(status, Some(0), "{stderr}");
    let stdout = before_summary(stdout);
    let expected: Vec<String> = names.iter().map(|name| format!("true {name}")).collect();
    assert_eq!(stdout, expected, "{stderr}");
    assert_eq!(lab.state()["peak_concurrent_requests"], json!(2));
}

#[test]
fn fail_fast_cancels_the_items_in_flight_and_never_starts_the_rest() {
    let test = Test::new().lab();
    for name in ["ff-lun2", "ff-lun3", "ff-lun4"] {
        test.test_lab()
            .add_session(name, "Ready_For_Cutover", json!({}));
    }
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            let array = powerstore("array1");
            let results = parallel(["ff-missing", "ff-lun2", "ff-lun3", "ff-lun4"], #{ limit: 2, fail_fast: true }, |name| {
                if name == "ff-lun2" { sleep("1h"); }
                array.import_session(name).cutover();
                name
            });
            for r in results {
                if r.ok { print(`ok ${r.value}`); } else { print(`${r.error.kind}: ${r.error.message}`); }
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .without_view()
        .stdout(
            "
            not_found: 404 Not Found: Instance with id name:ff-missing was not found.
            cancelled: cancelled: `ff-missing` failed and `fail_fast` is set
            cancelled: cancelled: `ff-missing` failed and `fail_fast` is set
            cancelled: cancelled: `ff-missing` failed and `fail_fast` is set
            ",
        )
        .run();
    let state = outcome.lab().state();
    assert_eq!(state["counts"], json!({}), "no cutover was sent: {state}");
    let logged = without_timestamps(&outcome.stderr);
    assert!(
        logged.starts_with(
            "WARN parallel: `ff-missing` failed: `array1` import_session: 404 Not Found: \
             Instance with id name:ff-missing was not found. (kind: not_found) at \
             wave.rhai:4:11\n"
        ),
        "{logged}"
    );
}

#[test]
fn items_see_captured_variables_and_modules_and_fail_alone_with_their_place() {
    Test::new()
        .script(
            "naming.rhai",
            "
            fn tag(name) { `app-${name}` }
            fn check(name) { if name == \"bad\" { throw #{ kind: \"script\", message: `no ${name}` }; } name }
            ",
        )
        .script(
            "wave.rhai",
            r#"
            import "naming" as naming;
            let suffix = "!";
            fn shout(text) { text + "?" }
            let apps = [#{ name: "crm" }, #{ name: "bad" }, #{ name: "erp" }, #{ name: "zero" }];
            let results = parallel(apps, #{ limit: 1 }, |app| {
                let name = naming::check(app.name);
                if name == "zero" { let x = 1 / 0; }
                step("tagging", || shout(naming::tag(name)) + suffix)
            });
            for r in results { print(r); }
            print(step("outside", || 42));
            "#,
        )
        .args(["run", "wave.rhai"])
        .without_view()
        .stdout(
            r#"
            #{"ok": true, "value": "app-crm?!"}
            #{"error": #{"kind": "script", "message": "no bad"}, "ok": false}
            #{"ok": true, "value": "app-erp?!"}
            #{"error": #{"line": 7, "message": "Division by zero: 1 / 0", "position": 35, "source": "wave.rhai"}, "ok": false}
            42
            "#,
        )
        .run();
}

#[test]
fn failed_items_are_logged_with_file_line_and_column() {
    let outcome = Test::new()
        .script("naming.rhai", "fn check(name) { throw `no ${name}`; }\n")
        .script(
            "wave.rhai",
            r#"
            import "naming" as naming;
            let results = parallel(["a", "b"], #{ limit: 1 }, |name| {
                if name == "a" { naming::check(name) } else { [1][name] }
            });
            print(results.len());
            "#,
        )
        .args(["run", "wave.rhai"])
        .without_view()
        .stdout("2\n")
        .run();
    assert_eq!(
        without_timestamps(&outcome.stderr),
        "WARN parallel: `a` failed: no a at naming:1:18\n\
         WARN parallel: `b` failed: Data type incorrect: string (expecting i64) at wave.rhai:3:55\n"
    );
}

#[test]
fn an_item_past_a_limit_stops_the_whole_script() {
    Test::new()
        .script(
            "wave.rhai",
            r#"
            let results = parallel([1, 2], |n| { if n == 2 { loop { n += 1; } } n });
            print("not reached");
            "#,
        )
        .args(["run", "--max-operations", "100000", "wave.rhai"])
        .without_view()
        .stderr(
            "
            error: the script ran too many operations and was stopped; look for an endless loop, or raise --max-operations
             --> wave.rhai:1:15
              |
            1 | let results = parallel([1, 2], |n| { if n == 2 { loop { n += 1; } } n });
              |               ^^^^^^^^
            ",
        )
        .status(1)
        .run();
}

#[test]
fn an_item_past_its_memory_budget_stops_the_whole_script_without_aborting() {
    Test::new()
        .script(
            "wave.rhai",
            r#"
            let r = parallel([1, 2], |n| { if n == 2 { let x = "ab"; loop { x = [x, x]; } } n });
            print("not reached");
            "#,
        )
        .args(["run", "--max-memory", "8000000", "wave.rhai"])
        .without_view()
        .stderr(
            r#"
            error: the script holds more than 8000000 bytes of memory; look for a value that grows without end, or raise `--max-memory` (kind: validation)
             --> wave.rhai:1:9
              |
            1 | let r = parallel([1, 2], |n| { if n == 2 { let x = "ab"; loop { x = [x, x]; } } n });
              |         ^^^^^^^^
            "#,
        )
        .status(1)
        .run();
}

#[test]
fn two_thousand_items_run_at_once() {
    Test::new()
        .script(
            "wave.rhai",
            r#"
            let items = [];
            for i in 0..2000 { items.push(i); }
            let results = parallel(items, |i| { sleep("200ms"); i * 2 });
            let sum = 0;
            for r in results { sum += r.value; }
            print(sum);
            "#,
        )
        .args(["run", "wave.rhai"])
        .without_view()
        .stdout("3998000\n")
        .run();
}

#[test]
fn ctrl_c_cancels_every_item() {
    let test = Test::new().script(
        "wave.rhai",
        r#"
        let results = parallel(["a", "b", "c"], |name| { print(`started ${name}`); sleep("1h"); name });
        print("not reached");
        "#,
    );
    let test = test.args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    let mut started: Vec<String> = (0..3).map(|_| crate::test::next_line(&mut lines)).collect();
    started.sort();
    assert_eq!(started, ["started a", "started b", "started c"]);
    child.interrupt();
    let (status, rest, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(status, Some(130), "{stderr}");
    let rest = before_summary(rest);
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(
        crate::test::without_view("", &stderr).1,
        "error: interrupted by SIGINT; the run stopped before its end\n\
         the run made no mutating call\n"
    );
}

#[test]
fn a_gate_without_a_terminal_or_yes_says_to_pass_yes() {
    Test::new()
        .script(
            "gate.rhai",
            "print(\"before\");\nconfirm(\"Cut over `crm`?\");\nprint(\"after\");\n",
        )
        .args(["run", "gate.rhai"])
        .stdout("before\n")
        .stderr(
            "
            error: confirm: `Cut over `crm`?` needs an operator's approval and there is no terminal to ask on; pass `--yes` to approve every gate (kind: validation)
             --> gate.rhai:2:1
              |
            2 | confirm(\"Cut over `crm`?\");
              | ^^^^^^^
            ",
        )
        .status(1)
        .run();
}

#[test]
fn yes_approves_every_gate_and_logs_it() {
    let outcome = Test::new()
        .script(
            "gate.rhai",
            r#"
            let answers = parallel(["crm", "erp"], #{ limit: 1 }, |app| confirm(`Cut over ${app}?`, #{ timeout: "1m" }));
            print(answers.map(|a| a.value));
            "#,
        )
        .args(["run", "--yes", "gate.rhai"])
        .without_view()
        .stdout("[true, true]\n")
        .run();
    assert_eq!(
        without_timestamps(&outcome.stderr),
        "INFO confirm `Cut over crm?`: approved by --yes\n\
         INFO confirm `Cut over erp?`: approved by --yes\n"
    );
}

#[test]
fn a_misspelt_gate_option_is_refused() {
    Test::new()
        .script("gate.rhai", "confirm(\"go?\", #{ timout: \"1m\" });\n")
        .args(["run", "--yes", "gate.rhai"])
        .stderr(
            "
            error: confirm: unknown option `timout`; did you mean `timeout`? (kind: validation)
             --> gate.rhai:1:1
              |
            1 | confirm(\"go?\", #{ timout: \"1m\" });
              | ^^^^^^^
            ",
        )
        .status(1)
        .run();
}

#[cfg(unix)]
mod terminal {
    use std::process::Stdio;

    use rexpect::session::Options;

    use crate::test::Test;

    /// `script` run as `gate.rhai` on a pseudo-terminal.
    fn on_terminal(script: &str) -> (rexpect::session::PtySession, Test) {
        let test = Test::new()
            .script("gate.rhai", script)
            .args(["run", "gate.rhai"]);
        let mut command = test.command();
        command
            .stdin(Stdio::inherit())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .env("TERM", "xterm");
        let options = Options::new()
            .timeout_ms(Some(15_000))
            .strip_ansi_escape_codes(true);
        let session = rexpect::session::spawn_with_options(command, options).unwrap();
        (session, test)
    }

    /// Runs a gate on a pseudo-terminal, answers it with `answer`, and returns everything
    /// the terminal showed after the answer, and the exit status.
    fn answer_gate(answer: &str) -> (String, rexpect::process::WaitStatus) {
        let (mut session, _test) = on_terminal(
            r#"
            try { confirm("Cut over `crm`?"); print("approved"); }
            catch (e) { print(`${e.kind}: ${e.message}`); }
            "#,
        );
        session.exp_string("Cut over `crm`? [y/N] ").unwrap();
        session.send_line(answer).unwrap();
        let shown = session.exp_eof().unwrap();
        let status = session.process().wait().unwrap();
        (shown, status)
    }

    #[test]
    fn an_operator_approves_with_y() {
        let (shown, status) = answer_gate("y");
        assert!(shown.contains("approved\r\n"), "{shown:?}");
        assert!(
            shown.contains("INFO confirm `Cut over `crm`?`: approved at the terminal"),
            "{shown:?}"
        );
        assert!(
            matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
            "{status:?}"
        );
    }

    #[test]
    fn an_operator_declines_with_n() {
        let (shown, _) = answer_gate("n");
        assert!(
            shown.contains("declined: the operator declined `Cut over `crm`?`\r\n"),
            "{shown:?}"
        );
        assert!(
            shown.contains("INFO confirm `Cut over `crm`?`: declined at the terminal"),
            "{shown:?}"
        );
    }

    #[test]
    fn gates_from_parallel_items_are_asked_one_at_a_time() {
        let (mut session, _test) = on_terminal(
            r#"
            let answers = parallel(["crm", "erp"], |app| confirm(`Cut over ${app}?`));
            print(answers.map(|a| if a.ok { "approved" } else { a.error.kind }));
            "#,
        );
        let prompt = r"Cut over (crm|erp)\? \[y/N\] ";
        let (_, first) = session.exp_regex(prompt).unwrap();
        session.send_line("y").unwrap();
        let (between, second) = session.exp_regex(prompt).unwrap();
        assert_ne!(first, second);
        // The second question comes only once the first was answered (and logged).
        let first_app = if first.contains("crm") { "crm" } else { "erp" };
        assert!(
            between.contains(&format!(
                "INFO confirm `Cut over {first_app}?`: approved at the terminal"
            )),
            "{between:?}"
        );
        session.send_line("n").unwrap();
        let shown = session.exp_eof().unwrap();
        let expected = if first_app == "crm" {
            "[\"approved\", \"declined\"]"
        } else {
            "[\"declined\", \"approved\"]"
        };
        assert!(shown.contains(expected), "{shown:?}");
    }
}

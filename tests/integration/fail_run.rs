//! `fail_run(reason)` and `report::fail_unless` (issue 17, item 3): a playbook marks its
//! run failed without stopping it, so it still reports everything, then exits 1.

use crate::test::Test;

#[test]
fn a_marked_run_goes_on_to_its_end_then_exits_1_with_every_reason() {
    Test::new()
        .script(
            "wave.rhai",
            r#"
            fail_run("wave1-lun05 failed");
            print("table");
            fail_run(`${2} instances left on the old type`);
            print("summary");
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .stdout(
            "
            table
            summary
            ",
        )
        .stderr(
            "
            error: the playbook marked the run failed: wave1-lun05 failed
            error: the playbook marked the run failed: 2 instances left on the old type
            ",
        )
        .run();
}

#[test]
fn an_uncaught_error_after_fail_run_shows_both() {
    Test::new()
        .script("wave.rhai", "fail_run(\"first\");\nthrow \"boom\";\n")
        .args(["run", "wave.rhai"])
        .status(1)
        .stderr(
            r#"
            error: boom
             --> wave.rhai:2:1
              |
            2 | throw "boom";
              | ^^^^^
            error: the playbook marked the run failed: first
            "#,
        )
        .run();
}

#[test]
fn fail_unless_marks_the_run_only_when_other_outcomes_were_counted() {
    Test::new()
        .script(
            "wave.rhai",
            r#"
            import "cutover/report" as report;
            let clean = #{ "cut over": 3, "already done": 1 };
            print(report::fail_unless(clean, ["cut over", "already done"], "sessions not cut over"));
            let partial = #{ "cut over": 3, failed: 1, cancelled: 2 };
            print(report::fail_unless(partial, ["cut over"], "sessions not cut over"));
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .stdout(
            "
            true
            false
            ",
        )
        .stderr(
            "error: the playbook marked the run failed: sessions not cut over: 2 cancelled, 1 failed\n",
        )
        .run();
}

#[test]
fn a_clean_run_of_fail_unless_exits_0() {
    Test::new()
        .script(
            "wave.rhai",
            r#"
            import "cutover/report" as report;
            report::fail_unless(#{ "SYNC_SUCCESS": 2 }, ["SYNC_SUCCESS"], "tasks not migrated");
            "#,
        )
        .args(["run", "wave.rhai"])
        .stderr("")
        .success();
}

#[test]
fn a_piped_repl_session_marked_failed_exits_1() {
    Test::new()
        .stdin(
            r#"
            fail_run("lun07 checked by hand")
            1 + 1
            "#,
        )
        .args(["repl"])
        .status(1)
        .stdout("2\n")
        .stderr("error: the session was marked failed: lun07 checked by hand\n")
        .run();
}

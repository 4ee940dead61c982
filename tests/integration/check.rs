//! `cutover check`: compile errors, calls nothing answers and target names the target file
//! lacks, each with its position and caret, and exit code 2.

use crate::test::{PRODUCTION_TARGETS, Test};

#[test]
fn a_syntax_error_shows_file_line_column_and_caret() {
    Test::new()
        .script(
            "wave.rhai",
            "
            let sessions = [];
            let ready = sessions.filter(|s| s.state == );
            ",
        )
        .args(["check", "wave.rhai"])
        .status(2)
        .stderr(
            "
            error: Unexpected ')'
             --> wave.rhai:2:44
              |
            2 | let ready = sessions.filter(|s| s.state == );
              |                                            ^
            ",
        )
        .run();
}

#[test]
fn a_clean_script_checks_ok() {
    Test::new()
        .script(
            "wave.rhai",
            "import \"cutover/report\" as report;\nprint(report::table([], [\"a\"]));\n",
        )
        .args(["check", "wave.rhai"])
        .stdout("wave.rhai: ok\n")
        .success();
}

#[test]
fn an_unknown_stdlib_module_is_named() {
    let outcome = Test::new()
        .script("wave.rhai", "import \"cutover/nope\" as n;\n")
        .args(["check", "wave.rhai"])
        .status(2)
        .run();
    assert!(
        outcome.stderr.contains(
            "no stdlib module `cutover/nope`; there are: cutover/powerstore, cutover/report, cutover/vcd"
        ),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains(" --> wave.rhai:1:"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_missing_file_is_a_usage_error() {
    Test::new()
        .args(["check", "nowhere.rhai"])
        .status(2)
        .stderr("error: cannot read `nowhere.rhai`: No such file or directory (os error 2)\n")
        .run();
}

// See: issue 17, item 2 ("`cutover check` catches what a compiler would").
#[test]
fn a_misspelt_function_is_named_with_the_one_meant() {
    Test::new()
        .script("wave.rhai", "let array = powerstor(\"array1\");\n")
        .args(["check", "wave.rhai"])
        .status(2)
        .stderr(
            "
            error: unknown function `powerstor`; did you mean `powerstore`?
             --> wave.rhai:1:13
              |
            1 | let array = powerstor(\"array1\");
              |             ^^^^^^^^^
            ",
        )
        .run();
}

#[test]
fn a_misspelt_method_is_named_with_the_one_meant() {
    Test::new()
        .script(
            "wave.rhai",
            "
            let array = powerstore(\"array1\");
            let s = array.import_sesion(\"wave1-lun01\");
            ",
        )
        .args(["check", "wave.rhai"])
        .status(2)
        .stderr(
            "
            error: unknown method `import_sesion`; did you mean `import_session`?
             --> wave.rhai:2:15
              |
            2 | let s = array.import_sesion(\"wave1-lun01\");
              |               ^^^^^^^^^^^^^
            ",
        )
        .run();
}

#[test]
fn a_misspelt_method_of_a_session_is_named_with_the_one_meant() {
    Test::new()
        .script(
            "wave.rhai",
            "
            let s = powerstore(\"array1\").import_session(\"wave1-lun01\");
            s.wait_for(\"Ready_For_Cutover\");
            s.cutovr();
            ",
        )
        .args(["check", "wave.rhai"])
        .status(2)
        .stderr(
            "
            error: unknown method `cutovr`; did you mean `cutover`?
             --> wave.rhai:3:3
              |
            3 | s.cutovr();
              |   ^^^^^^
            ",
        )
        .run();
}

#[test]
fn every_call_nothing_answers_is_reported_in_the_order_written() {
    Test::new()
        .script(
            "wave.rhai",
            "
            import \"cutover/powerstore\" as ps;
            let array = powerstor(\"array1\");
            let s = array.import_sesion(\"wave1-lun01\");
            fn finish(s) {
                s.cutovr();
                report::summary(#{});
            }
            ps::wait_redy([s]);
            s.wait_for(\"Ready_For_Cutover\", #{}, 5);
            ",
        )
        .args(["check", "wave.rhai"])
        .status(2)
        .stderr(
            "
            error: unknown function `powerstor`; did you mean `powerstore`?
             --> wave.rhai:2:13
              |
            2 | let array = powerstor(\"array1\");
              |             ^^^^^^^^^

            error: unknown method `import_sesion`; did you mean `import_session`?
             --> wave.rhai:3:15
              |
            3 | let s = array.import_sesion(\"wave1-lun01\");
              |               ^^^^^^^^^^^^^

            error: unknown method `cutovr`; did you mean `cutover`?
             --> wave.rhai:5:7
              |
            5 |     s.cutovr();
              |       ^^^^^^

            error: no module is imported as `report`; add `import \"cutover/report\" as report;` before it
             --> wave.rhai:6:5
              |
            6 |     report::summary(#{});
              |     ^^^^^^

            error: unknown function `ps::wait_redy`; did you mean `ps::wait_ready`?
             --> wave.rhai:8:5
              |
            8 | ps::wait_redy([s]);
              |     ^^^^^^^^^

            error: method `wait_for` takes 1 or 2 arguments, not 3
             --> wave.rhai:9:3
              |
            9 | s.wait_for(\"Ready_For_Cutover\", #{}, 5);
              |   ^^^^^^^^
            ",
        )
        .run();
}

#[test]
fn every_target_name_the_target_file_lacks_is_reported() {
    // `array1`'s password is in an unset variable: `check` reaches nothing, so it needs
    // none, and only names and kinds are checked.
    Test::new()
        .file("cutover.toml", PRODUCTION_TARGETS)
        .script(
            "wave.rhai",
            "
            let a = powerstore(\"aray1\");
            let b = vcd(\"array1\");
            let c = powerstore(\"array1\");
            ",
        )
        .args(["check", "wave.rhai"])
        .status(2)
        .stderr(
            "
            error: no powerstore target `aray1` in `cutover.toml`; did you mean `array1`? (kind: validation)
             --> wave.rhai:1:9
              |
            1 | let a = powerstore(\"aray1\");
              |         ^^^^^^^^^^

            error: target `array1` is of kind powerstore, not vcd (kind: validation)
             --> wave.rhai:2:9
              |
            2 | let b = vcd(\"array1\");
              |         ^^^
            ",
        )
        .run();
    Test::new()
        .file("cutover.toml", PRODUCTION_TARGETS)
        .script("wave.rhai", "let c = powerstore(\"array1\");\n")
        .args(["check", "wave.rhai"])
        .stdout("wave.rhai: ok\n")
        .success();
}

#[test]
fn target_names_are_checked_against_the_lab_with_lab() {
    let script = "let a = powerstore(\"powerstore\");\nlet b = powerstore(\"array1\");\n";
    Test::new()
        .file("cutover.toml", PRODUCTION_TARGETS)
        .script("wave.rhai", script)
        .args(["check", "wave.rhai", "--lab"])
        .stdout("wave.rhai: ok\n")
        .success();
    Test::new()
        .file("cutover.toml", PRODUCTION_TARGETS)
        .script("wave.rhai", script)
        .args(["check", "wave.rhai"])
        .status(2)
        .stderr(
            "
            error: no powerstore target `powerstore` in `cutover.toml` (kind: validation)
             --> wave.rhai:1:9
              |
            1 | let a = powerstore(\"powerstore\");
              |         ^^^^^^^^^^
            ",
        )
        .run();
}

#[test]
fn without_a_target_file_target_names_are_not_checked_and_it_says_so() {
    Test::new()
        .script("wave.rhai", "let a = powerstore(\"array1\");\n")
        .args(["check", "wave.rhai"])
        .stdout(
            "wave.rhai: ok (target names not checked: no target file; pass --targets, \
             set CUTOVER_TARGETS or create ./cutover.toml)\n",
        )
        .success();
}

//! `cutover check`: compile errors with positions, carets and exit code 2.

use crate::test::Test;

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

//! The call check outside `cutover check`: a run, a hook and a REPL entry with a call
//! nothing answers stop before anything runs; calls only the run can settle are never
//! false alarms; a function missing at run time still gets "did you mean".
//! See: issue 17, item 2, and its small item "REPL 'did you mean' for unknown functions".

use std::path::Path;

use crate::test::{Test, run_from_repo};

#[test]
fn a_misspelt_call_stops_the_run_before_its_first_statement() {
    let outcome = Test::new()
        .lab()
        .script(
            "wave.rhai",
            "
            print(\"started\");
            let s = powerstore(\"array1\").import_session(\"wave1-lun03\");
            s.cutover();
            s.refersh();
            ",
        )
        .args(["run", "wave.rhai"])
        .status(2)
        .stdout("")
        .stderr(
            "
            error: unknown method `refersh`; did you mean `refresh`?
             --> wave.rhai:4:3
              |
            4 | s.refersh();
              |   ^^^^^^^
            ",
        )
        .run();
    let state = outcome.lab().state();
    assert_eq!(state["mutations"].as_array().unwrap().len(), 0, "{state}");
}

#[test]
fn a_function_missing_at_run_time_suggests_the_one_meant() {
    Test::new()
        .lab()
        .script(
            "wave.rhai",
            "
            let make = Fn(\"powerstor\");
            let array = make.call(\"array1\");
            ",
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .stderr(
            "
            error: unknown function `powerstor`; did you mean `powerstore`?
             --> wave.rhai:2:18
              |
            2 | let array = make.call(\"array1\");
              |                  ^^^^
            ",
        )
        .run();
    // A method every session has, on a number: the name is right, the receiver is not.
    Test::new()
        .lab()
        .script("wave.rhai", "let n = 5;\nn.cutover();\n")
        .args(["run", "wave.rhai"])
        .status(1)
        .stderr(
            "
            error: `cutover` cannot be called with (i64); `cutover doc` lists what each function takes
             --> wave.rhai:2:3
              |
            2 | n.cutover();
              |   ^^^^^^^
            ",
        )
        .run();
}

#[test]
fn calls_only_the_run_can_settle_are_never_false_alarms() {
    // Function pointers, closures, `Fn`, `call`, `curry`, a method a map answers with a
    // closure, a script function called as a method, a module calling back into the
    // playbook (checked alone, the module does not know its importer), and methods of
    // strings, arrays and maps: each checks and runs.
    Test::new()
        .file(
            "helpers.rhai",
            "
            /// Calls back into the playbook: a module's functions may call the importer's.
            fn doubled(x) { twice(x) }
            ",
        )
        .script(
            "wave.rhai",
            r#"
            import "helpers" as h;
            import "cutover/report" as report;
            fn twice(x) { x * 2 }
            fn add(a, b) { a + b }
            fn dbl() { this * 2 }
            let inc = |x| x + 1;
            let add_one = Fn("add").curry(1);
            let named = Fn("twice");
            let later = Fn("defined_nowhere");
            print(inc.call(1));
            print(call(inc, 2));
            print(add_one.call(2));
            print(curry(named, 5).call());
            print(5.dbl());
            print(h::doubled(3));
            let obj = #{ act: |x| x * 10 };
            obj.then = |x| x + 100;
            print(obj.act(2));
            print(obj.then(1));
            let s = "wave1";
            print(s.to_upper());
            print(s.len());
            let sessions = [3, 1, 2];
            sessions.push(4);
            sessions.sort();
            print(sessions.map(|v| v * 2).filter(|v| v > 2));
            print(sessions.contains(2) && 2 in sessions);
            print(#{ b: 1, a: 2 }.keys().len());
            print(type_of(later));
            print(is_def_fn("twice", 1));
            print(report::summary(#{ done: 1 }));
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            "
            2
            3
            3
            10
            10
            6
            20
            101
            WAVE1
            5
            [4, 6, 8]
            true
            2
            Fn
            true
            1 done
            ",
        )
        .success();
    // A module imported from a computed path is known only at run time: calls through
    // it, and methods (it may hand out maps of closures), are left alone.
    Test::new()
        .script(
            "wave.rhai",
            "
            let path = \"cutover/report\";
            import path as computed;
            print(computed::summary(#{ done: 2 }));
            ",
        )
        .args(["run", "wave.rhai"])
        .stdout("2 done\n")
        .success();
}

#[test]
fn every_script_of_the_repository_checks_ok() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scripts = Vec::new();
    for dir in ["scripts", "scripts/hooks", "stdlib"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".rhai") {
                scripts.push(format!("{dir}/{name}"));
            }
        }
    }
    scripts.sort();
    for expected in [
        "scripts/powerstore_cutover.rhai",
        "scripts/hooks/ovf_dropbox.rhai",
        "stdlib/report.rhai",
    ] {
        assert!(scripts.iter().any(|s| s == expected), "{scripts:?}");
    }
    for script in &scripts {
        assert_eq!(
            run_from_repo(&["check", script], None),
            format!("{script}: ok\n")
        );
    }
}

#[test]
fn a_hook_with_a_misspelt_call_does_not_load() {
    Test::new()
        .script(
            "hooks.rhai",
            "on_file(\"in/*\", |event| {\n    print(event.name.to_uper());\n});\n",
        )
        .args(["watch", "hooks.rhai"])
        .status(2)
        .stderr(
            "
            error: unknown method `to_uper`; did you mean `to_upper`?
             --> hooks.rhai:2:22
              |
            2 |     print(event.name.to_uper());
              |                      ^^^^^^^
            ",
        )
        .run();
}

#[test]
fn a_repl_entry_with_a_misspelt_call_runs_none_of_it_and_says_what_was_meant() {
    Test::new()
        .args(["repl", "--lab"])
        .stdin(
            r#"
            let a = powerstore("powerstore");
            let s = a.import_session("wave1-lun03"); s.cutover(); s.refersh()
            powerstor("powerstore")
            a.import_session("wave1-lun03").state
            "#,
        )
        .status(1)
        .stdout(
            r#"
            "Ready_For_Cutover"
            "#,
        )
        .stderr(
            r#"
            error: unknown method `refersh`; did you mean `refresh`?
             --> <stdin>:2:57
              |
            2 | let s = a.import_session("wave1-lun03"); s.cutover(); s.refersh()
              |                                                         ^^^^^^^
            error: unknown function `powerstor`; did you mean `powerstore`?
             --> <stdin>:3:1
              |
            3 | powerstor("powerstore")
              | ^^^^^^^^^
            "#,
        )
        .run();
}

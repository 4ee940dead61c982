//! The command line itself: help, version, completions, doc, target-file errors.

use crate::test::{Child, PRODUCTION_TARGETS, Test};

#[test]
fn version_names_the_package() {
    Test::new()
        .args(["--version"])
        .stdout(&format!("cutover {}\n", env!("CARGO_PKG_VERSION")))
        .success();
}

#[test]
fn help_lists_every_command() {
    let outcome = Test::new().args(["--help"]).success();
    for command in ["run", "check", "doc", "lab", "completions"] {
        assert!(
            outcome.stdout.contains(&format!("  {command} ")),
            "{command}: {}",
            outcome.stdout
        );
    }
}

#[test]
fn completions_are_printed_for_a_shell() {
    let outcome = Test::new().args(["completions", "bash"]).success();
    assert!(outcome.stdout.contains("_cutover()"), "{}", outcome.stdout);
}

#[test]
fn doc_lists_functions_with_their_comments() {
    let outcome = Test::new().args(["doc"]).success();
    for expected in [
        "wait_for(session: ImportSession, state: &str, options: Map) -> ImportSession\n    Polls until the session reaches `state`.",
        "retry(options: Map, f: FnPtr) -> Dynamic\n    Calls `f` until it succeeds",
        "powerstore(name: &str) -> PowerStore\n    The PowerStore target `name` from the target file.",
        "ImportSession.progress_percentage",
        "migrate_entities(vcd: Vcd, type_urn: &str, options: Map) -> VcdTask\n    Migrates every instance",
        "# import \"cutover/vcd\"",
        "migrate_all(vcd, source, target, options)\n    Migrates every instance",
        "# import \"cutover/report\"\n\ncount_by(rows, key)\n    Counts the rows",
        "table(rows, columns)\n    Formats `rows`",
    ] {
        assert!(
            outcome.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            outcome.stdout
        );
    }
}

#[test]
fn every_script_function_has_documentation() {
    let outcome = Test::new().args(["doc"]).success();
    let functions = outcome
        .stdout
        .split("# Read-only properties")
        .next()
        .unwrap();
    let bare: Vec<&str> = functions
        .split("\n\n")
        .filter(|entry| entry.contains(") -> ") && !entry.contains("\n    "))
        .collect();
    assert!(bare.is_empty(), "undocumented: {bare:#?}");
}

#[test]
fn doc_writes_editor_definitions() {
    let outcome = Test::new().args(["doc", "--definitions", "defs"]).success();
    let dir = outcome.path().join("defs");
    let all: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(all.contains("fn wait_for(session: ImportSession"), "{all}");
}

#[test]
fn speed_without_lab_is_refused() {
    let outcome = Test::new()
        .script("wave.rhai", "print(1);")
        .args(["run", "wave.rhai", "--speed", "10"])
        .status(2)
        .run();
    assert!(outcome.stderr.contains("--lab"), "{}", outcome.stderr);
}

#[test]
fn a_malformed_target_file_names_file_line_and_key() {
    let outcome = Test::new()
        .file(
            "cutover.toml",
            "
            [targets.array1]
            kind = \"powerstore\"
            url = \"https://array1.example.com\"
            user = \"admin\"
            pasword_env = \"X\"
            ",
        )
        .script("wave.rhai", "print(1);")
        .args(["run", "wave.rhai"])
        .status(2)
        .run();
    let stderr = &outcome.stderr;
    assert!(
        stderr.starts_with("error: invalid target file `cutover.toml`:"),
        "{stderr}"
    );
    assert!(stderr.contains("line 5"), "{stderr}");
    assert!(stderr.contains("unknown field `pasword_env`"), "{stderr}");
}

#[test]
fn an_unknown_target_suggests_the_closest_name() {
    let outcome = Test::new()
        .file("cutover.toml", PRODUCTION_TARGETS)
        .script("wave.rhai", "let a = powerstore(\"aray1\");\n")
        .args(["run", "wave.rhai"])
        .status(2)
        .run();
    assert_eq!(
        outcome.stderr,
        crate::test::unindent(
            "
            error: no powerstore target `aray1` in `cutover.toml`; did you mean `array1`? (kind: validation)
             --> wave.rhai:1:9
              |
            1 | let a = powerstore(\"aray1\");
              |         ^^^^^^^^^^
            "
        )
    );
}

#[test]
fn the_standalone_lab_writes_a_target_file_scripts_can_use() {
    let test = Test::new()
        .script(
            "wave.rhai",
            "print(powerstore(\"powerstore\").import_session(\"wave1-lun03\").state);\n",
        )
        .args(["lab", "--targets-out", "lab.toml", "--seed", "3"]);
    let mut lab = Child::spawn(test.command());
    let mut lines = lab.lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("powerstore         http://127.0.0.1:"),
        "{first}"
    );
    let second = lines.next().unwrap().unwrap();
    assert!(
        second.starts_with("vcd                http://127.0.0.1:")
            && second.ends_with("(user `administrator@System`)"),
        "{second}"
    );
    let third = lines.next().unwrap().unwrap();
    assert!(
        third.starts_with("vcenter            http://127.0.0.1:")
            && third.ends_with("(user `administrator@vsphere.local`)"),
        "{third}"
    );
    let fourth = lines.next().unwrap().unwrap();
    assert!(
        fourth.starts_with("vcenter-appliance  http://127.0.0.1:")
            && fourth.ends_with("(user `root`)"),
        "{fourth}"
    );
    let fifth = lines.next().unwrap().unwrap();
    assert!(
        fifth.starts_with("huawei_sms         http://127.0.0.1:")
            && fifth.ends_with("(user `migration-bot`)"),
        "{fifth}"
    );
    let sixth = lines.next().unwrap().unwrap();
    assert!(
        sixth.starts_with("huawei_sms-aksk    http://127.0.0.1:")
            && sixth.ends_with("(user `CUTOVERLABACCESSKEY1`)"),
        "{sixth}"
    );
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "target file written to lab.toml"
    );
    let toml = std::fs::read_to_string(test.path().join("lab.toml")).unwrap();
    assert!(toml.contains("[targets.powerstore]"), "{toml}");
    assert!(toml.contains("[targets.vcenter-appliance]"), "{toml}");
    assert!(toml.contains("[targets.huawei_sms-aksk]"), "{toml}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(test.path().join("lab.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the lab target file holds a password");
    }
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["run", "wave.rhai", "--targets", "lab.toml"])
        .current_dir(test.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "Ready_For_Cutover\n",
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    lab.interrupt();
    assert!(lab.wait(std::time::Duration::from_secs(10)).success());
}

//! The command line itself: help, version, completions, doc, target-file errors.

use crate::test::{Child, PRODUCTION_TARGETS, StandaloneLab, Test};

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
    let outcome = Test::new()
        .args(["doc", "--definitions", "defs"])
        .stdout("wrote 1 definition file to defs: __static__.d.rhai\n")
        .success();
    let dir = outcome.path().join("defs");
    let all: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(all.contains("fn wait_for(session: ImportSession"), "{all}");
}

#[test]
fn a_negative_speed_gets_the_range_not_a_tip_about_dashes() {
    Test::new()
        .script("wave.rhai", "print(1);\n")
        .args(["run", "wave.rhai", "--lab", "--speed", "-1"])
        .status(2)
        .stderr(
            "error: invalid value '-1' for '--speed <N>': `-1` is not a speed from 0.001 to 100000\n\n\
             For more information, try '--help'.\n",
        )
        .run();
}

#[test]
fn another_tools_flag_gets_cutovers_way_of_doing_it() {
    Test::new()
        .script("wave.rhai", "print(1);\n")
        .args(["run", "wave.rhai", "--dry-run"])
        .status(2)
        .stderr(
            "error: unexpected argument '--dry-run' found\n\n  \
             tip: cutover has no dry run: `cutover check FILE` compiles a playbook and checks the \
             targets it names, and `--lab` rehearses it against the built-in lab\n\n\
             Usage: cutover run [OPTIONS] <FILE>\n\n\
             For more information, try '--help'.\n",
        )
        .run();
    Test::new()
        .args(["lab", "--json"])
        .status(2)
        .stderr(
            "error: unexpected argument '--json' found\n\n  \
             tip: cutover prints for people; a playbook writes machine-readable output itself \
             with `json_encode(value)`, and the lab's state is JSON at `<url>/_lab/state`\n\n\
             Usage: cutover lab [OPTIONS]\n\n\
             For more information, try '--help'.\n",
        )
        .run();
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
fn an_unknown_target_under_the_lab_names_the_labs_targets() {
    let outcome = Test::new()
        .file("cutover.toml", PRODUCTION_TARGETS)
        .script("wave.rhai", "let a = powerstore(\"lab\");\n")
        .args(["run", "wave.rhai", "--lab"])
        .status(2)
        .run();
    assert_eq!(
        outcome.stderr,
        crate::test::unindent(
            "
            error: no powerstore target `lab` in `cutover.toml` or in the lab; its powerstore targets are `array1`, `powerstore`; did you mean `powerstore`? (kind: validation)
             --> wave.rhai:1:9
              |
            1 | let a = powerstore(\"lab\");
              |         ^^^^^^^^^^
            "
        )
    );
}

#[test]
fn a_lab_port_in_use_is_named_and_exits_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let outcome = Test::new().args(["lab", "--port", &port]).status(2).run();
    assert_eq!(
        outcome.stderr,
        format!(
            "error: cannot start the lab: port {port} on 127.0.0.1 is already in use; pick another with --port, or 0 for free ones\n"
        )
    );
}

/// The lab's own targets, as every listing and target file names them.
const LAB_TARGETS: [(&str, &str, &str); 6] = [
    ("powerstore", "powerstore", "admin"),
    ("vcd", "vcd", "administrator@System"),
    ("vcenter", "vcenter", "administrator@vsphere.local"),
    ("vcenter-appliance", "vcenter", "root"),
    ("huawei_sms", "huawei_sms", "migration-bot"),
    ("huawei_sms-aksk", "huawei_sms", "CUTOVERLABACCESSKEY1"),
];

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
    for (name, kind, user) in LAB_TARGETS {
        let line = lines.next().unwrap().unwrap();
        let start = format!("{name:<17}  {kind:<10}  http://127.0.0.1:");
        assert!(
            line.starts_with(&start) && line.ends_with(&format!("(user `{user}`)")),
            "{line}"
        );
    }
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "target file written to lab.toml"
    );
    let toml = std::fs::read_to_string(test.path().join("lab.toml")).unwrap();
    for (name, _, _) in LAB_TARGETS {
        assert!(toml.contains(&format!("[targets.{name}]")), "{toml}");
    }
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

/// The example playbooks name production targets (`array1`, `prod-vcd`, ...): the lab's
/// target file carries them too, so they run unchanged against a standalone lab.
#[test]
fn the_examples_run_unchanged_against_the_standalone_lab() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let test = Test::new().args([
        "lab",
        "--targets",
        &format!("{repo}/cutover.toml"),
        "--targets-out",
        "lab.toml",
        "--speed",
        "50",
    ]);
    let mut lab = StandaloneLab::start(&test);
    let (listing, lines) = (&lab.listing, &mut lab.lines);
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "estate: scenario `happy`, 12 applications (`crm` to `reports`)"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .unwrap()
            .starts_with("state of each listener")
    );
    let names: Vec<&str> = listing
        .iter()
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "array1",
            "eu-sms",
            "eu-sms-signed",
            "prod-vc",
            "prod-vcd",
            "vc-root",
            "powerstore",
            "vcd",
            "vcenter",
            "vcenter-appliance",
            "huawei_sms",
            "huawei_sms-aksk"
        ],
        "{listing:#?}"
    );
    let lab_file = test.path().join("lab.toml");
    // The history import sleeps through a 30 s maintenance window on the wall clock here;
    // the others show the same redirect.
    for playbook in [
        "powerstore_cutover",
        "vcd_type_upgrade",
        "ovf_import",
        "sms_migrate",
    ] {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["run", &format!("scripts/{playbook}.rhai"), "--targets"])
            .arg(&lab_file)
            .current_dir(repo)
            .env_remove("CUTOVER_TARGETS")
            .env("WAVE_POLL", "100ms")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        let stderr = String::from_utf8_lossy(&run.stderr);
        // A playbook may report a partial wave (exit 1); a target problem would be 2.
        assert!(
            matches!(run.status.code(), Some(0 | 1)) && !stderr.contains("target"),
            "{playbook}: {:?}\n{stdout}\n{stderr}",
            run.status
        );
    }
    lab.stop();
}

//! Every playbook in `scripts/` runs against the lab the way the README runs it, and
//! every stdlib module is exercised by one of them.

use crate::test::Test;

fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_playbook_and_hook_checks() {
    for folder in ["scripts", "scripts/hooks"] {
        for entry in std::fs::read_dir(repo(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "rhai") {
                Test::new()
                    .args(["check", path.to_str().unwrap()])
                    .success();
            }
        }
    }
}

/// The README's command, word for word, from the repository root. A session failed and
/// one was cancelled, so the run says so and exits 1.
#[test]
fn the_readme_wave_cuts_over_cancels_the_stalled_and_reports() {
    let (stdout, stderr) = crate::test::run_from_repo_ending(
        &["run", "scripts/powerstore_cutover.rhai", "--lab"],
        None,
        1,
    );
    assert_eq!(
        stderr,
        "error: the playbook marked the run failed: sessions not cut over: 1 cancelled, 1 failed\nnote: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`\n"
    );
    assert!(
        stdout.starts_with("wave wave1-*: 5 import sessions on array1\n"),
        "{stdout}"
    );
    for row in [
        "wave1-lun01  cut over   Import_Completed  -",
        "wave1-lun02  cut over   Import_Completed  -",
        "wave1-lun03  cut over   Import_Completed  -",
        "wave1-lun04  cancelled  Cancelled         copy stalled at 60%",
        "wave1-lun05  failed     Failed            The copy of source resource",
    ] {
        assert!(stdout.contains(row), "missing {row:?} in:\n{stdout}");
    }
    assert!(
        stdout.ends_with("summary: 1 cancelled, 3 cut over, 1 failed\n"),
        "{stdout}"
    );
}

#[test]
fn running_the_wave_again_does_nothing_twice() {
    let script = repo("scripts/powerstore_cutover.rhai");
    let first = Test::new()
        .lab()
        .env("WAVE_POLL", "50ms")
        .args(["run", &script])
        .status(1)
        .ignoring_progress()
        .stderr(
            "error: the playbook marked the run failed: sessions not cut over: 1 cancelled, 1 failed\nnote: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`\n",
        )
        .run();
    assert!(
        first
            .stdout
            .ends_with("summary: 1 cancelled, 3 cut over, 1 failed\n"),
        "{}",
        first.stdout
    );
    let again = Test::new()
        .reuse_lab(first)
        .env("WAVE_POLL", "50ms")
        .args(["run", &script])
        .status(1)
        .ignoring_progress()
        .stderr(
            "error: the playbook marked the run failed: sessions not cut over: 1 cancelled earlier, 1 failed\n",
        )
        .run();
    assert!(
        again
            .stdout
            .ends_with("summary: 3 already done, 1 cancelled earlier, 1 failed\n"),
        "{}",
        again.stdout
    );
    let counts = &again.lab().state()["counts"];
    assert_eq!(
        (counts["cutover"].as_u64(), counts["cancel"].as_u64()),
        (Some(3), Some(1))
    );
}

#[test]
fn the_vcd_type_upgrade_reports_what_it_could_not_migrate() {
    let (stdout, stderr) = crate::test::run_from_repo_ending(
        &[
            "run",
            "scripts/vcd_type_upgrade.rhai",
            "--lab",
            "--speed",
            "20",
        ],
        None,
        1,
    );
    assert_eq!(
        stderr,
        "error: the playbook marked the run failed: 3 instances left on the old type\nnote: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`\n"
    );
    let expected = crate::test::unindent(
        r#"
        prod-vcd: API 39.0, upgrading urn:vcloud:type:acme:vm:1 to urn:vcloud:type:acme:vm:2.0.0
        34 instances migrated in 2 runs; 3 left on the old type

        name      org   type                           state     why
        --------  ----  -----------------------------  --------  ----------------------------------------------------------------------
        web-02    acme  urn:vcloud:type:acme:vm:1.0.0  RESOLVED  does not validate against the target: "guestOs" is a required property
        app-02    acme  urn:vcloud:type:acme:vm:1.0.1  RESOLVED  does not validate against the target: "guestOs" is a required property
        batch-01  acme  urn:vcloud:type:acme:vm:1.1.0  RESOLVED  does not validate against the target: "guestOs" is a required property
        "#,
    );
    assert_eq!(stdout, expected);
}

#[test]
fn the_report_module_formats_tables() {
    Test::new()
        .script(
            "report.rhai",
            r#"
            import "cutover/report" as report;
            let rows = [#{ name: "lun1", state: "Ready" }, #{ name: "lun10", note: "slow" }];
            print(report::table(rows, ["name", "state", "note"]));
            print(report::count_by(rows, "name"));
            print(report::summary(report::count_by(rows, "name")));
            "#,
        )
        .args(["run", "report.rhai"])
        .stdout(
            r#"
            name   state  note
            -----  -----  ----
            lun1   Ready  -
            lun10  -      slow
            #{"lun1": 1, "lun10": 1}
            1 lun1, 1 lun10
            "#,
        )
        .success();
}

/// Against the test's lab, whose clock is held until each start shows: under `--lab` a
/// task could finish before the playbook saw it running.
#[test]
fn the_sms_playbook_resumes_the_wave_syncs_it_and_reports() {
    let test = Test::new()
        .lab()
        .env("WAVE_POLL", "40ms")
        .args(["run", &repo("scripts/sms_migrate.rhai")]);
    let (code, lines, stderr) = crate::sms::run_starting_step_by_step(&test, &["web-02", "db-01"]);
    assert_eq!(code, Some(0), "{stderr}");
    let stdout = lines.join("\n") + "\n";
    for line in [
        "wave on eu-sms: 2 tasks\n",
        "web-02: ABORT -> RUNNING\n",
        "db-01: MIGRATE_FAIL -> RUNNING (it had failed with SMS.3802)\n",
        "web-02: MIGRATE_SUCCESS; final incremental sync\n",
        "db-01: MIGRATE_SUCCESS; final incremental sync\n",
        "task    type           result        subtasks  synced               note\n",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    for row in [
        "web-02  MIGRATE_FILE   SYNC_SUCCESS  11        RESYNC0 at ",
        "db-01   MIGRATE_BLOCK  SYNC_SUCCESS  11        RESYNC0 at ",
    ] {
        assert!(stdout.contains(row), "missing {row:?} in:\n{stdout}");
    }
    assert!(stdout.ends_with("summary: 2 SYNC_SUCCESS\n"), "{stdout}");
}

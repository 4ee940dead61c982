//! `cutover run --plan`: every change listed and none sent. A small playbook's whole
//! output against the lab, and the README wave planned and then run for real against
//! one standalone lab: the plan lists every change the real run made, and the lab
//! applied nothing while the plan ran.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::test::{StandaloneLab, Test, kind, unindent};

/// Cuts over a session behind a gate, then starts an SMS task, waiting on both.
const SMALL: &str = r#"
let array = powerstore("array1");
let s = array.import_session("plan-lun");
confirm("cut over plan-lun and migrate web-01?");
s.cutover();
s.wait_for("Import_Completed", #{ every: "50ms" });
print(`${s.name} ${s.state}`);
let t = huawei_sms("eu-sms").task("web-01");
print(`${t.name} ${t.state}`);
t.start();
t.wait_for("MIGRATE_SUCCESS", #{ every: "50ms" });
print(`${t.name} ${t.state} planning: ${planning()}`);
"#;

#[test]
fn a_plan_lists_changes_waits_and_gates_and_sends_no_change() {
    let test = Test::new().lab().script("small.rhai", SMALL);
    let lab = test.test_lab();
    let session = lab.add_session("plan-lun", "Ready_For_Cutover", json!({}));
    let sms = lab.state_of(kind::HUAWEI_SMS);
    let task = sms["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "web-01")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = unindent(&format!(
        "
        plan-lun Import_Completed
        web-01 READY
        web-01 MIGRATE_SUCCESS planning: true
        plan: 2 changes, nothing was sent
        the playbook
          gate: cut over plan-lun and migrate web-01? (shown, not asked)
          would `cutover` import session `{session}` on `array1`: cut over
          would wait for import session `plan-lun` to reach `Import_Completed`
          would `start` migration task `{task}` on `eu-sms`: start
          would wait for task `web-01` to reach `MIGRATE_SUCCESS`
        "
    ));
    // No `--yes` and no terminal: a gate that was asked would fail the run.
    let outcome = test
        .args(["run", "small.rhai", "--plan"])
        .stdout(&expected)
        .success();
    let lab = outcome.lab();
    assert_eq!(lab.state()["mutations"], json!([]));
    assert_eq!(lab.state_of(kind::HUAWEI_SMS)["mutations"], json!([]));
    assert_eq!(lab.session("plan-lun")["state"], "Ready_For_Cutover");
    // A plan writes no journal.
    assert!(!outcome.dir.path().join(".cutover/journal.db").exists());
}

#[test]
fn a_plan_cannot_resume_a_run() {
    let outcome = Test::new()
        .script("small.rhai", "print(1);")
        .args(["run", "small.rhai", "--plan", "--resume", "last"])
        .status(2)
        .run();
    assert!(
        outcome
            .stderr
            .starts_with("error: the argument '--plan' cannot be used with '--resume <ID|last>'"),
        "{}",
        outcome.stderr
    );
}

const WAVE: &str = include_str!("../../scripts/wave.rhai");
const WAVE_FILE: &str = include_str!("../../scripts/wave.json");
const TARGETS: &str = include_str!("../../cutover.toml");

/// A change as (target, operation, object id or name).
type Change = (String, String, Option<String>);

/// The changes a plan's text lists: `would `OP` OBJECT on `TARGET`: SUMMARY`, the object
/// `KIND`, ``KIND `ID` `` or ``KIND `NAME` (id `ID`)``.
fn planned(stdout: &str) -> Vec<Change> {
    let plan = &stdout[stdout.find("plan: ").expect("no plan")..];
    plan.lines()
        .filter_map(|line| line.trim_start().strip_prefix("would `"))
        .filter_map(|rest| {
            let (operation, rest) = rest.split_once("` ")?;
            let (object, rest) = rest.split_once(" on `")?;
            let (target, _) = rest.split_once('`')?;
            let quoted: Vec<&str> = object.split('`').skip(1).step_by(2).collect();
            Some((
                target.to_owned(),
                operation.to_owned(),
                quoted.last().map(|id| (*id).to_owned()),
            ))
        })
        .collect()
}

#[test]
fn the_plan_of_the_wave_lists_every_change_its_real_run_makes() {
    let test = Test::new()
        .file("cutover.toml", TARGETS)
        .file("wave.json", WAVE_FILE)
        .script("wave.rhai", WAVE);
    // Two labs of the same scenario and seed: the plan against one, the real run against
    // the other, so each begins where the lab seeded it (the history import runs from
    // its first read on; a real run after the plan would find it ended).
    let start = |targets_out: &str| {
        let args = [
            "lab",
            "--speed",
            "3000",
            "--targets",
            "cutover.toml",
            "--targets-out",
            targets_out,
        ]
        .map(str::to_owned);
        let lab = StandaloneLab::spawn(test.command_with(&args));
        // vCenter reclaims ended import sessions after a while; keep them for the check.
        lab.post(
            "prod-vc",
            "/_lab/ovf",
            json!({ "reclaim_after": 30 * 24 * 3600 }),
        );
        lab
    };
    let planned_lab = start("plan.toml");
    let lab = start("lab.toml");
    let targets = ["array1", "eu-sms", "prod-vc", "prod-vcd", "vc-root"];
    let mutations = |target: &str| {
        planned_lab.state(target)["mutations"]
            .as_array()
            .unwrap()
            .len()
    };
    let run = |targets: &str, extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["run", "wave.rhai", "--targets", targets, "--no-journal"])
            .args(extra)
            .current_dir(test.path())
            .env_remove("CUTOVER_TARGETS")
            .env("WAVE_POLL", "50ms")
            .output()
            .unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr),
        )
    };

    let (code, plan, stderr) = run("plan.toml", &["--plan"]);
    assert_eq!(code, Some(0), "{plan}\n{stderr}");
    for target in targets {
        assert_eq!(mutations(target), 0, "{target} changed during the plan");
    }
    let (code, stdout, stderr) = run("lab.toml", &["--yes", "--report", "report.json"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(test.path().join("report.json")).unwrap())
            .unwrap();

    // A session a planned create would have made is named by its client token; the real
    // run's is the one the lab made for that token.
    let sessions = lab.state("prod-vc")["ovf_sessions"].clone();
    let session_of = |token: &str| -> String {
        sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["client_token"] == token)
            .unwrap_or_else(|| panic!("no session for {token}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let planned: Vec<Change> = planned(&plan)
        .into_iter()
        .map(|(target, operation, id)| {
            let id = id.map(|id| match id.strip_prefix("planned-") {
                Some(token) if operation.starts_with("ovf.") => session_of(token),
                _ => id,
            });
            (target, operation, id)
        })
        .collect();
    let made: Vec<Change> = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != 401)
        .map(|c| {
            let object = &c["object"];
            let id = object["id"].as_str().or(object["name"].as_str());
            (
                c["target"].as_str().unwrap().to_owned(),
                c["operation"].as_str().unwrap().to_owned(),
                id.map(str::to_owned),
            )
        })
        .collect();
    let distinct = |changes: &[Change]| changes.iter().cloned().collect::<BTreeSet<_>>();
    assert_eq!(distinct(&planned), distinct(&made));
    // 12 applications: an import, its instantiation, a cutover (the other volume cuts
    // over by itself) and a start each; the history import paused and resumed; the
    // entity type migrated once.
    assert_eq!(planned.len(), 12 * 4 + 3, "{plan}");
    // The real run makes the same changes, except that it runs the migration again while
    // it moves instances (the lab skips some the first time); a plan cannot foresee that.
    let repeats = made
        .iter()
        .filter(|(_, operation, _)| operation == "migrate_entities")
        .count()
        - 1;
    assert_eq!(made.len() - repeats, planned.len(), "{made:?}");
}

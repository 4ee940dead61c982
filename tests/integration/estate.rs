//! The wave estate of a standalone lab (`cutover lab --scenario rough --apps 12`), driven
//! by a playbook through the vendors' APIs: the PowerStore session whose source array
//! stopped answering cancels only when forced, and the Huawei SMS task that fails once
//! succeeds when restarted. The lab's own view confirms each mutation was applied once.

use serde_json::{Value, json};

use crate::test::{StandaloneLab, Test, unindent};

/// Waits on the rough applications (`ledger`'s source array stops answering, `search`'s
/// task fails once, per the estate's naming contract) through the lab's targets. The
/// script's sleeps run on the wall clock (it is not a `--lab` run), the lab at 3000 times
/// that: 50 ms polls are 2.5 lab minutes.
const PLAYBOOK: &str = r#"
let array = powerstore("powerstore");
let s = array.import_session("ledger-data");
print(`${s.name}: ${s.description}, automatic cutover ${s.automatic_cutover}`);
// The copy stops moving once the source array stops answering.
let polls = 0;
while s.refresh().current_transfer_rate != 0 {
    polls += 1;
    if polls > 1000 { throw "the copy never stalled"; }
    sleep("50ms");
}
print(`${s.name}: ${s.state}, no transfer`);
s.cancel();
try {
    s.wait_for("Cancelled", #{ every: "50ms" });
} catch (e) {
    print(`plain cancel: ${e.kind} in ${e.state}`);
    print(s.refresh().error.message_l10n);
}
s.cancel(#{ force: true });
s.wait_for("Cancelled", #{ every: "50ms" });
print(`forced cancel: ${s.state}, no error: ${s.error == ()}`);

let sms = huawei_sms("huawei_sms");
let t = sms.task("search");
print(`${t.name}: ${t.state}, source server ${t.source_server.name}`);
t.start();
try {
    t.wait_for("MIGRATE_SUCCESS", #{ every: "50ms" });
} catch (e) {
    print(`first run: ${e.kind} in ${e.state}, ${t.refresh().error.error_code}`);
}
t.restart();
t.wait_for("MIGRATE_SUCCESS", #{ every: "50ms" });
print(`restarted: ${t.state}, error_json "${t.error_json}"`);
"#;

#[test]
fn the_rough_estate_cancels_an_unreachable_source_only_by_force_and_restarts_a_failed_task() {
    let test = Test::new().script("wave.rhai", PLAYBOOK).args([
        "lab",
        "--scenario",
        "rough",
        "--apps",
        "12",
        "--speed",
        "3000",
        "--targets-out",
        "lab.toml",
    ]);
    let mut lab = StandaloneLab::start(&test);
    assert_eq!(
        lab.lines.next().unwrap().unwrap(),
        "estate: scenario `rough`, 12 applications (`crm` to `reports`)"
    );
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["run", "wave.rhai", "--targets", "lab.toml", "-q"])
        .current_dir(test.path())
        .env_remove("CUTOVER_TARGETS")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "{stdout}\n{stderr}");
    let expected = unindent(
        r#"
        ledger-data: application ledger: data volume, automatic cutover true
        ledger-data: Copy_In_Progress, no transfer
        plain cancel: invalid_state in Cancel_Failed
        The import of source resource sv_5014 could not be rolled back: the source system is not reachable. Cancel with the force option to stop the import without rolling back.
        forced cancel: Cancelled, no error: true
        search: READY, source server search
        first run: invalid_state in MIGRATE_FAIL, SMS.3802
        restarted: MIGRATE_SUCCESS, error_json ""
        "#,
    );
    assert_eq!(stdout, expected, "{stderr}");

    let powerstore = lab.state("powerstore");
    let session = find(&powerstore["import_sessions"], "ledger-data");
    assert_eq!(session["state"], "Cancelled");
    assert_eq!(
        powerstore["counts"]["cancel"], 2,
        "{}",
        powerstore["counts"]
    );
    assert_eq!(powerstore["mutations"].as_array().unwrap().len(), 2);
    let sms = lab.state("huawei_sms");
    let task = find(&sms["tasks"], "search");
    assert_eq!(task["state"], "MIGRATE_SUCCESS");
    assert_eq!(task["lab"]["actions"], json!({"start": 1, "restart": 1}));
    lab.stop();
}

#[test]
fn scenario_and_application_count_are_checked_before_anything_starts() {
    Test::new()
        .args(["run", "wave.rhai", "--lab", "--scenario", "sunny"])
        .status(2)
        .stderr(
            "
            error: invalid value 'sunny' for '--scenario <NAME>': `sunny` is not a lab scenario; use one of `happy`, `rough`

            For more information, try '--help'.
            ",
        )
        .run();
    Test::new()
        .args(["lab", "--apps", "20001"])
        .status(2)
        .stderr(
            "
            error: invalid value '20001' for '--apps <N>': `20001` is not a number of applications from 1 to 20000

            For more information, try '--help'.
            ",
        )
        .run();
}

/// The item of `list` named `name`.
fn find(list: &Value, name: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|item| item["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {list}"))
        .clone()
}

/// `run --lab` seeds the estate it is asked for and runs lab time 300 times the wall's
/// unless `--speed` says otherwise: a lab minute's sleep takes a fifth of a second.
#[test]
fn a_lab_rehearsal_serves_the_estate_asked_for_at_the_default_speed() {
    let started = std::time::Instant::now();
    Test::new()
        .script(
            "wave.rhai",
            r#"
            let array = powerstore("powerstore");
            let data = array.import_sessions(#{ name: "*-data" });
            print(data.map(|s| `${s.name} ${s.automatic_cutover}`));
            print(array.import_sessions(#{ name: "*-logs" }).map(|s| s.automatic_cutover));
            print(huawei_sms("huawei_sms").tasks(#{ state: "READY" }).map(|t| t.name));
            sleep("1m");
            "#,
        )
        .args([
            "run",
            "wave.rhai",
            "--lab",
            "--scenario",
            "rough",
            "--apps",
            "3",
        ])
        .stdout(
            r#"
            ["billing-data true", "crm-data true", "erp-data true"]
            [false, false, false]
            ["web-01", "db-02", "crm", "erp", "billing"]
            "#,
        )
        .success();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

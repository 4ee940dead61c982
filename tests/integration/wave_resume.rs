//! The README wave survives a crash (issue 13): `scripts/wave.rhai` with its `wave.json`,
//! against a lab started on its own (an in-process `--lab` would die with the killed
//! run), is killed with SIGKILL at exact points of the mutation gate (`CUTOVER_CRASH_AT`),
//! resumed with `--resume last` each time, and run through. It must end as a wave never
//! interrupted ends against a fresh lab of the same scenario and seed: the same exit
//! code, the same summary, and the same changes in every vendor's mutation log, each
//! applied as often (once, in the happy wave).
//!
//! The kill points are chosen so each one is reached whatever the timing of the
//! `parallel` applications: every application of the wave makes exactly one appliance
//! instantiation, one manual cut-over and one task start, and an application only makes
//! one after the one before it, so a resumed run always has enough of each left.
//!
//! vCenter keeps ended import sessions here, as `wave.rs` has it: at 3000 times the
//! wall's pace its default of a lab hour is 1.2 s, and a resume that comes after vCenter
//! forgot them is the ignored test's case.
//!
//! Each test runs once journaling to SQLite and once to PostgreSQL (`on_each_journal!`).

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::process::Output;

use serde_json::Value;

use crate::journal_kind::{Journal, Store, on_each_journal};
use crate::test::{StandaloneLab, Test};

const WAVE: &str = include_str!("../../scripts/wave.rhai");
const WAVE_FILE: &str = include_str!("../../scripts/wave.json");
const TARGETS: &str = include_str!("../../cutover.toml");

/// The listeners whose mutation logs the test compares (`vc-root` shares `prod-vc`'s).
const LISTENERS: [&str; 4] = ["array1", "eu-sms", "prod-vc", "prod-vcd"];

/// `migrateEntities` moves a whole entity type and is safe to send again by design
/// (Cloud Director picks up what it skipped); `cutover/vcd`'s `migrate_all` sends it
/// until nothing moves, so how many are sent depends on timing and on how often the
/// run starts. It is checked apart.
const REPEAT_SAFE: &str = "migrateEntities";

/// An OVF import session is created with the application's client token, which the gate
/// deems safe to send again: a resumed `ovf` step sends it again and vCenter answers the
/// same session, logging the request once more. Such a session is counted once.
const CLIENT_TOKEN: &str = "create-for-resource-pool";

/// Each listener's applied changes, as (operation, object id), sorted.
type Applied = BTreeMap<&'static str, Vec<(String, String)>>;

/// A wave's folder, the standalone lab it runs against and its own journal.
struct Wave {
    test: Test,
    lab: StandaloneLab,
    journal: Store,
}

impl Wave {
    /// Starts a lab of `scenario` (seed 1, lab time 3000 times the wall's) on its own,
    /// vCenter keeping ended or idle OVF import sessions for 30 lab days instead of one
    /// lab hour; its journal a new one of `journal`'s kind.
    fn start(scenario: &str, journal: Journal) -> Self {
        let test = Test::new()
            .file("cutover.toml", TARGETS)
            .file("wave.json", WAVE_FILE)
            .script("wave.rhai", WAVE)
            .args([
                "lab",
                "--scenario",
                scenario,
                "--seed",
                "1",
                "--speed",
                "3000",
                "--targets",
                "cutover.toml",
                "--targets-out",
                "lab.toml",
            ]);
        let lab = StandaloneLab::start(&test);
        lab.post("prod-vc", "/_lab/ovf", keep_sessions());
        Self {
            test,
            lab,
            journal: journal.store(),
        }
    }

    /// `cutover run wave.rhai` (more `args` after), killing itself at `crash` if given.
    fn run(&self, args: &[&str], crash: Option<&str>) -> Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"));
        self.journal.apply(&mut command);
        command
            .args(["run", "wave.rhai", "--targets", "lab.toml", "--yes", "-q"])
            .args(["--report", "report.json", "--journal"])
            .arg(self.journal.location())
            .args(args)
            .current_dir(self.test.path())
            .env_remove("CUTOVER_TARGETS")
            .env_remove("CUTOVER_CRASH_AT")
            // A standalone lab: the script's clock is the wall's, the lab's 3000 times it.
            .env("WAVE_POLL", "50ms");
        if let Some(crash) = crash {
            command.env("CUTOVER_CRASH_AT", crash);
        }
        command.output().unwrap()
    }

    /// The summary's rows from the run's report: application, step, outcome, error.
    /// vCenter numbers OVF import sessions in the order they are created, which the
    /// `parallel` applications make in any order, so an error names a session `ID`.
    fn rows(&self) -> Vec<[String; 4]> {
        let text = std::fs::read_to_string(self.test.path().join("report.json")).unwrap();
        let report: Value = serde_json::from_str(&text).unwrap();
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                ["application", "step", "outcome", "error"]
                    .map(|key| without_session_id(item[key].as_str().unwrap_or("-")))
            })
            .collect()
    }

    /// Each listener's applied mutations, as (operation, object id) in order, without
    /// the repeat-safe ones and with each client-token creation once; and how many
    /// repeat-safe ones there were.
    fn mutations(&self) -> (Applied, usize) {
        let mut repeat_safe = 0;
        let mut all = BTreeMap::new();
        for target in LISTENERS {
            let state = self.lab.state(target);
            // vCenter numbers import sessions in the order the `parallel` applications
            // create them; a session is named by its client token instead.
            let tokens: BTreeMap<&str, &str> = state["ovf_sessions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    (
                        s["id"].as_str().unwrap(),
                        s["client_token"].as_str().unwrap(),
                    )
                })
                .collect();
            let mut applied: Vec<(String, String)> = Vec::new();
            for m in state["mutations"].as_array().unwrap() {
                let operation = m["operation"].as_str().unwrap().to_owned();
                let id = m["id"].as_str().unwrap();
                if operation == REPEAT_SAFE {
                    repeat_safe += 1;
                } else {
                    let id = tokens.get(id).copied().unwrap_or(id);
                    applied.push((operation, id.to_owned()));
                }
            }
            applied.sort();
            let (mut created, mut applied): (Vec<_>, Vec<_>) =
                applied.into_iter().partition(|(op, _)| op == CLIENT_TOKEN);
            created.dedup();
            applied.extend(created);
            applied.sort();
            all.insert(target, applied);
        }
        (all, repeat_safe)
    }

    /// `cutover runs show last` of the journal.
    fn runs_show(&self) -> String {
        let output = self
            .journal
            .apply(&mut std::process::Command::new(env!(
                "CARGO_BIN_EXE_cutover"
            )))
            .args(["runs", "show", "last", "--journal"])
            .arg(self.journal.location())
            .current_dir(self.test.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        String::from_utf8(output.stdout).unwrap()
    }
}

/// `text` with the id in "import session `…`" written `ID`.
fn without_session_id(text: &str) -> String {
    const SESSION: &str = "import session `";
    match text.split_once(SESSION) {
        Some((before, after)) => match after.split_once('`') {
            Some((_, rest)) => format!("{before}{SESSION}ID`{rest}"),
            None => text.to_owned(),
        },
        None => text.to_owned(),
    }
}

/// vCenter's OVF settings that keep import sessions for 30 lab days.
fn keep_sessions() -> Value {
    serde_json::json!({ "reclaim_after": 30 * 24 * 3600 })
}

/// The summary's last line and its exit code, and what the run printed, for messages.
fn ended(output: &Output) -> (Option<i32>, String, String) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    (output.status.code(), last, format!("{stdout}\n{stderr}"))
}

#[track_caller]
fn assert_killed(output: &Output, crash: &str) {
    assert_eq!(
        output.status.signal(),
        Some(9),
        "not killed at {crash}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every (operation, object) pair once.
#[track_caller]
fn assert_each_once(mutations: &Applied) {
    for (target, applied) in mutations {
        let mut seen = applied.clone();
        seen.dedup();
        assert_eq!(&seen, applied, "{target} applied a change twice");
    }
}

/// Runs the wave of `scenario` once uninterrupted and once killed at each of `crashes`
/// in turn (each a resume of the one before), and compares how they end. Answers how
/// both ended (the summary's last line and its rows) and the journal's `runs show last`
/// of the interrupted wave. Each wave journals to a new journal of `journal`'s kind.
fn interrupted_wave_ends_as_an_uninterrupted_one(
    scenario: &str,
    journal: Journal,
    crashes: &[&str],
) -> (String, Vec<[String; 4]>, String) {
    let plain = Wave::start(scenario, journal);
    let (code, last, printed) = ended(&plain.run(&[], None));
    let (applied, migrations) = plain.mutations();
    // The rough wave itself changes some objects twice (a failed task started again, a
    // plain cancel and then a forced one); there the resumed wave must do the same.
    if scenario == "happy" {
        assert_each_once(&applied);
    }
    let rows = plain.rows();
    plain.lab.stop();

    let wave = Wave::start(scenario, journal);
    let mut resume: &[&str] = &[];
    for crash in crashes {
        assert_killed(&wave.run(resume, Some(crash)), crash);
        wave.journal.assert_whole();
        resume = &["--resume", "last"];
    }
    let (resumed_code, resumed_last, resumed_printed) = ended(&wave.run(resume, None));
    wave.journal.assert_whole();
    assert_eq!(
        (resumed_code, &resumed_last),
        (code, &last),
        "uninterrupted:\n{printed}\nresumed:\n{resumed_printed}"
    );
    assert_eq!(wave.rows(), rows);
    let (resumed_applied, repeat_safe) = wave.mutations();
    assert_eq!(resumed_applied, applied, "the changes of both, sorted");
    // The entity type was migrated in a step the first attempt finished: a resume
    // returns its recorded result and migrates nothing again.
    assert_eq!(repeat_safe, migrations, "migrateEntities");
    let show = wave.runs_show();
    wave.lab.stop();
    (last, rows, show)
}

on_each_journal!(
    a_happy_wave_killed_three_times_ends_as_one_never_interrupted,
    tls
);
fn a_happy_wave_killed_three_times_ends_as_one_never_interrupted(journal: Journal) {
    let (last, _, show) = interrupted_wave_ends_as_an_uninterrupted_one(
        "happy",
        journal,
        &[
            // An appliance's parameters chosen and recorded; the process dies after.
            "after_record:ovf.instantiate:4",
            // A manual cut-over applied by the array, its answer never recorded.
            "after_answer:cutover:3",
            // A task start written to the journal, never sent.
            "before_send:start:2",
        ],
    );
    assert_eq!(last, "12 done");
    assert!(
        show.starts_with("run 1 of wave.rhai: succeeded, 4 attempts, "),
        "{show}"
    );
    for attempt in 2..=4 {
        assert!(show.contains(&format!("  attempt {attempt}:\n")), "{show}");
    }
    // The cut-over whose answer was lost: the resume verified it before the playbook
    // ran again, and the resumed step read the session `Import_Completed` and did not
    // cut it over again.
    assert!(
        show.contains(
            "/cutover): outcome unknown, then verified: took effect (state `Import_Completed`)\n"
        ),
        "{show}"
    );
    // The start written and never sent: the resume asked the task, found it not
    // started and sent it.
    assert!(
        show.contains("start (POST /v3/tasks/")
            && show.contains(
                "/action): outcome unknown, then verified: did not take effect (state `READY`)\n"
            ),
        "{show}"
    );
}

on_each_journal!(
    a_wave_resumed_after_vcenter_reclaimed_its_import_sessions_imports_no_appliance_twice
);
/// A resume that comes after vCenter reclaimed the wave's OVF import sessions (an hour
/// after they ended or went idle, by default): each `ovf` step the kill interrupted runs
/// again, and its `ovf_import`, which took effect in the first attempt, is not sent again
/// (vCenter no longer knows its client token, so it would create another session and
/// import the appliance twice). The step is handed the earlier answer, finds that session
/// gone, and fails its application with vCenter's `not_found`, naming the session: no
/// appliance is imported twice, and the operator sees which applications to look at.
fn a_wave_resumed_after_vcenter_reclaimed_its_import_sessions_imports_no_appliance_twice(
    journal: Journal,
) {
    let wave = Wave::start("happy", journal);
    let crash = "after_record:ovf.instantiate:4";
    assert_killed(&wave.run(&[], Some(crash)), crash);
    // Each session's client token (the application), read before vCenter forgets them.
    let mut tokens = session_tokens(&wave);
    // vCenter forgets every ended or idle import session before the resume.
    let forget = serde_json::json!({ "reclaim_after": 1 });
    wave.lab.post("prod-vc", "/_lab/ovf", forget);
    crate::test::eventually("vCenter reclaims the import sessions", || {
        wave.lab.state("prod-vc")["ovf_sessions"] == serde_json::json!([])
    });
    // And keeps the ones the resume creates.
    wave.lab.post("prod-vc", "/_lab/ovf", keep_sessions());
    let (code, _, printed) = ended(&wave.run(&["--resume", "last"], None));
    let failed: Vec<&str> = printed
        .lines()
        .filter(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            cells.get(1..3) == Some(&["ovf", "failed"][..])
        })
        .collect();
    // Those whose session was made before the kill fail (usually most of them; how many
    // depends on how far each had got), the rest move.
    let failed_code = if failed.is_empty() { 0 } else { 1 };
    assert_eq!(code, Some(failed_code), "{printed}");
    for line in &failed {
        assert!(
            line.contains("404 Not Found: There is no import session ")
                && line.contains("; it may have been reclaimed or deleted. (kind: not_found)"),
            "{line}"
        );
    }
    // An application whose import had not begun before the kill imports now, once;
    // none imports twice.
    tokens.extend(session_tokens(&wave));
    let mut imported: Vec<String> = wave.lab.state("prod-vc")["mutations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["operation"] == "instantiate")
        .map(|m| {
            let id = m["id"].as_str().unwrap();
            tokens.get(id).cloned().unwrap_or_else(|| id.to_owned())
        })
        .collect();
    let count = imported.len();
    imported.sort();
    imported.dedup();
    assert_eq!(
        imported.len(),
        count,
        "no appliance imported twice:\n{printed}"
    );
    wave.lab.stop();
}

/// The client token of each import session the lab's vCenter knows, by session id.
fn session_tokens(wave: &Wave) -> BTreeMap<String, String> {
    wave.lab.state("prod-vc")["ovf_sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["client_token"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

on_each_journal!(a_rough_wave_killed_three_times_ends_as_one_never_interrupted);
/// The rough wave, killed at the same kinds of points: it ends as the uninterrupted one
/// does, exit 1 with four applications failed, each at the same step for the same reason.
/// Fewer applications get as far as an appliance, a cut-over or a server start here, so
/// the points come earlier.
fn a_rough_wave_killed_three_times_ends_as_one_never_interrupted(journal: Journal) {
    let (last, rows, show) = interrupted_wave_ends_as_an_uninterrupted_one(
        "rough",
        journal,
        &[
            "after_record:ovf.instantiate:3",
            "after_answer:cutover:2",
            "before_send:start:1",
        ],
    );
    assert_eq!(last, "8 done, 4 failed");
    let failed: Vec<[&str; 2]> = rows
        .iter()
        .filter(|[_, _, outcome, _]| outcome != "done")
        .map(|[app, step, ..]| [app.as_str(), step.as_str()])
        .collect();
    let expected = [
        ["erp", "entities"],
        ["payroll", "ovf"],
        ["mail", "volumes"],
        ["ledger", "volumes"],
    ];
    assert_eq!(failed, expected);
    assert!(
        show.starts_with("run 1 of wave.rhai: failed, 4 attempts, "),
        "{show}"
    );
}

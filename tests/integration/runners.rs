//! Several runners share one wave through a PostgreSQL journal (issue 18): three runners
//! move a wave of 60 applications against one standalone lab; one is killed with SIGKILL
//! while it holds applications; the others take them over and finish the wave, and the
//! lab's mutation log shows every change applied once. `--only-targets` keeps items away
//! from runners that cannot reach their targets.

use std::collections::BTreeMap;
use std::fs::File;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::chaos_wave::wave_file;
use crate::postgres::{Database, database};
use crate::test::{Child, PATIENCE, StandaloneLab, Test, eventually};

const WAVE: &str = include_str!("../../scripts/wave.rhai");
const TARGETS: &str = include_str!("../../cutover.toml");
/// A wave target of each simulator (vCenter's two listeners share one).
const SIMULATORS: [&str; 4] = ["prod-vcd", "prod-vc", "array1", "eu-sms"];
/// How long the whole shared wave may take, on a busy machine.
const WAVE_PATIENCE: Duration = Duration::from_secs(300);

/// `cutover run <script> --runners` against `db`, its output in files of the test's
/// folder named after `name`.
fn runner(test: &Test, db: &Database, name: &str, args: &[&str]) -> Child {
    runner_crashing(test, db, name, args, None)
}

/// [`runner`], killing itself with SIGKILL at the crash point `crash` (`CUTOVER_CRASH_AT`).
fn runner_crashing(
    test: &Test,
    db: &Database,
    name: &str,
    args: &[&str],
    crash: Option<&str>,
) -> Child {
    let mut command: Command = test.command_with(
        &[
            "run",
            "--yes",
            "--runners",
            // Longer than any pause of a busy machine's heartbeat thread; a killed
            // runner on this host is seen gone at the next heartbeat anyway.
            "--lease",
            "6s",
            "--journal",
            &db.url,
        ]
        .iter()
        .chain(args)
        .map(ToString::to_string)
        .collect::<Vec<_>>(),
    );
    command
        .env("CUTOVER_JOURNAL", &db.url)
        .env("CUTOVER_JOURNAL_PASSWORD", &db.password)
        .stdout(File::create(test.path().join(format!("{name}.out"))).unwrap())
        .stderr(File::create(test.path().join(format!("{name}.err"))).unwrap());
    if let Some(crash) = crash {
        command.env("CUTOVER_CRASH_AT", crash);
    }
    Child(command.spawn().unwrap())
}

/// How many of `run`'s work items runner process `pid` holds now.
fn held_by(db: &Database, pid: u32) -> usize {
    db.psql(&format!(
        "SELECT count(*) FROM work_items w JOIN runners r ON r.id = w.runner \
         WHERE r.name LIKE '{pid}@%' AND w.status = 'running'"
    ))
    .trim()
    .parse()
    .unwrap()
}

/// How many runners have joined; none before the first made the journal's tables.
fn runners_joined(db: &Database) -> usize {
    if db
        .psql("SELECT to_regclass('public.runners') IS NOT NULL")
        .trim()
        != "t"
    {
        return 0;
    }
    db.psql("SELECT count(*) FROM runners")
        .trim()
        .parse()
        .unwrap()
}

/// `cutover runs show last` of the shared journal, as text or JSON.
fn runs_show(test: &Test, db: &Database, json: bool) -> String {
    let mut args = vec!["show", "last"];
    if json {
        args.push("--json");
    }
    runs(test, db, &args)
}

/// `cutover runs ARGS` of the shared journal.
fn runs(test: &Test, db: &Database, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg("runs")
        .args(args)
        .args(["--journal", &db.url])
        .current_dir(test.path())
        .env("CUTOVER_JOURNAL_PASSWORD", &db.password)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Kills `killed` with SIGKILL while it holds applications: the lab's clock stands
/// meanwhile, so none of them can end first. Answers how many it held.
fn hold_and_kill(lab: &StandaloneLab, db: &Database, killed: &mut Child) -> usize {
    lab.post(
        "array1",
        "/_lab/clock",
        serde_json::json!({ "paused": true }),
    );
    let held = held_by(db, killed.0.id());
    assert!(held > 0);
    killed.0.kill().unwrap();
    killed.0.wait().unwrap();
    lab.post(
        "array1",
        "/_lab/clock",
        serde_json::json!({ "paused": false }),
    );
    held
}

fn read(test: &Test, name: &str) -> String {
    std::fs::read_to_string(test.path().join(name)).unwrap()
}

#[test]
fn three_runners_share_a_wave_and_a_killed_followers_applications_are_taken_over() {
    shared_wave_with_a_runner_killed(1, None);
}

#[test]
fn three_runners_share_a_wave_and_a_killed_leaders_work_is_taken_over() {
    shared_wave_with_a_runner_killed(0, None);
}

#[test]
fn a_runner_killed_after_a_change_applied_leaves_it_unknown_and_the_taker_verifies_it() {
    // Killed after the lab applied its second cutover and before its journal heard:
    // the row says "sent, outcome unknown"; the runner that takes the application over
    // asks the array, finds it applied and does not send it again.
    shared_wave_with_a_runner_killed(1, Some("after_answer:cutover:2"));
}

/// Three runners share a wave of 60 applications; runner `victim` (0: the first, which
/// leads the run; 1: the second) is killed with SIGKILL while it holds applications: by
/// the test, or by itself at the crash point `crash`.
fn shared_wave_with_a_runner_killed(victim: usize, crash: Option<&str>) {
    let apps = 60;
    let db = database();
    let test = Test::new()
        .file("cutover.toml", TARGETS)
        .file("wave.json", &wave_file(apps))
        .script("wave.rhai", WAVE)
        .env("WAVE_POLL", "50ms")
        // Each runner moves at most 15 applications at once: the wave needs them all.
        .env("WAVE_LIMIT", "15")
        .args([
            "lab",
            "--apps",
            "60",
            "--speed",
            "300",
            "--targets",
            "cutover.toml",
            "--targets-out",
            "lab.toml",
        ]);
    let lab = StandaloneLab::start(&test);
    // vCenter reclaims ended import sessions after a lab hour; keep them for the check.
    lab.post(
        "prod-vc",
        "/_lab/ovf",
        serde_json::json!({ "reclaim_after": 30 * 24 * 3600 }),
    );
    let args = ["wave.rhai", "--targets", "lab.toml"];
    // The first runner begins the run and leads it; the others join it.
    let names = ["first", "second", "third"];
    let crashing = |index: usize| crash.filter(|_| index == victim);
    let mut runners = vec![runner_crashing(&test, &db, names[0], &args, crashing(0))];
    eventually("the first runner joins", || runners_joined(&db) == 1);
    for (index, name) in names.iter().enumerate().skip(1) {
        runners.push(runner_crashing(&test, &db, name, &args, crashing(index)));
    }
    let mut killed = runners.remove(victim);
    let killed_pid = killed.0.id();
    let held = if crash.is_some() {
        let status = killed.wait(WAVE_PATIENCE);
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{}",
            read(&test, &format!("{}.err", names[victim]))
        );
        held_by(&db, killed_pid)
    } else {
        eventually("the runner to kill holds applications", || {
            held_by(&db, killed_pid) > 0
        });
        hold_and_kill(&lab, &db, &mut killed)
    };

    let survivors = names.iter().enumerate().filter(|(i, _)| *i != victim);
    for ((_, name), child) in survivors.zip(&mut runners) {
        let status = child.wait(WAVE_PATIENCE);
        if status.code() != Some(0) {
            let err = read(&test, &format!("{name}.err"));
            let errors: Vec<&str> = err.lines().filter(|l| !l.contains(" INFO ")).collect();
            panic!(
                "{name} exited {status}: {}\n{}\n{}",
                read(&test, &format!("{name}.out")),
                errors.join("\n"),
                runs_show(&test, &db, false)
            );
        }
    }

    // Every application finished, each by a runner that lived; the killed runner's
    // were taken over.
    let shown: Value = serde_json::from_str(&runs_show(&test, &db, true)).unwrap();
    let items = shown["items"].as_array().unwrap();
    assert_eq!(items.len(), apps);
    let killed_name = shown["runners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .find(|name| name.starts_with(&format!("{killed_pid}@")))
        .unwrap();
    for item in items {
        assert_eq!(item["status"], "done", "{item}");
        assert_ne!(
            item["runner"].as_str(),
            Some(killed_name.as_str()),
            "{item}"
        );
    }
    let taken = items.iter().filter(|i| i["takeovers"] != 0).count();
    assert!(
        taken >= held,
        "{taken} taken over, {held} held by the killed runner"
    );
    assert_eq!(shown["run"]["outcome"], "succeeded");
    if crash.is_some() {
        // The change the killed runner left unknown, verified by the runner that took
        // its application over.
        let statuses = db.psql(&format!(
            "SELECT c.status FROM calls c JOIN runners r ON r.run = c.run AND r.attempt = c.attempt \
             WHERE r.name LIKE '{killed_pid}@%' AND c.operation = 'cutover' ORDER BY c.id"
        ));
        assert_eq!(
            statuses.lines().collect::<Vec<_>>(),
            ["answered", "verified_applied"]
        );
    }

    // Every change applied once, and every application's changes made.
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for target in SIMULATORS {
        let state = lab.state(target);
        let mut seen: BTreeMap<(String, String), u32> = BTreeMap::new();
        for mutation in state["mutations"].as_array().unwrap() {
            let operation = mutation["operation"].as_str().unwrap().to_owned();
            let id = mutation["id"].as_str().unwrap().to_owned();
            *seen.entry((operation.clone(), id)).or_default() += 1;
            *applied.entry(operation).or_default() += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|(_, count)| **count > 1).collect();
        assert!(twice.is_empty(), "`{target}` applied twice: {twice:?}");
    }
    for operation in [
        "create-for-resource-pool",
        "instantiate",
        "cutover",
        "start",
    ] {
        assert_eq!(applied.get(operation), Some(&apps), "{applied:?}");
    }

    // `runs show` says who did what: the runners, the items taken over, and each
    // application's steps under the runner that did them.
    let items = format!(
        "items: {apps} done, 0 in flight, 0 waiting, 0 failed; {taken} taken over from a runner that stopped\n"
    );
    let list = runs(&test, &db, &[]);
    assert!(list.ends_with(&format!("    {items}")), "{list}");
    let text = runs_show(&test, &db, false);
    assert!(text.contains(&format!("  {items}")), "{text}");
    assert!(text.matches("  by runner ").count() >= apps, "{text}");
    assert!(text.contains(", taken over once)\n"), "{text}");
    let killed_line = text
        .lines()
        .find(|line| line.starts_with(&format!("    {killed_name} (attempt ")))
        .unwrap();
    assert!(killed_line.contains(", stopped "), "{text}");
    lab.stop();
}

#[test]
fn only_targets_keeps_items_away_from_runners_that_cannot_reach_them() {
    let db = database();
    let script = r#"
let items = [
    #{ name: "a", targets: ["powerstore"] },
    #{ name: "b", targets: ["vcd"] },
    #{ name: "c", targets: ["powerstore"] },
    #{ name: "d", targets: ["vcd"] },
    #{ name: "e", targets: ["powerstore"], strays: true },
];
let results = parallel(items, |item| {
    if item.targets[0] == "powerstore" && item.strays != true {
        powerstore("powerstore").import_session("crm-data").state
    } else {
        vcd("vcd").entity_type("urn:vcloud:type:acme:vm:2.0.0").id
    }
});
for r in results { print(if r.ok { `ok ${r.value}` } else { `failed: ${r.error.message}` }); }
"#;
    let test = Test::new().script("play.rhai", script);
    let args = |only: &str| ["play.rhai", "--lab", "--only-targets", only].map(str::to_owned);
    let arrays = runner(
        &test,
        &db,
        "arrays",
        &args("powerstore").each_ref().map(String::as_str),
    );
    // The runner that reaches only the array leases its items, and waits for the others.
    eventually("the first runner joins", || runners_joined(&db) == 1);
    eventually("the array's items are done", || {
        db.psql("SELECT count(*) FROM work_items WHERE status IN ('done', 'failed')")
            .trim()
            == "3"
    });
    let mut arrays = arrays;
    let mut clouds = runner(
        &test,
        &db,
        "clouds",
        &args("vcd").each_ref().map(String::as_str),
    );
    for (name, child) in [("arrays", &mut arrays), ("clouds", &mut clouds)] {
        let status = child.wait(PATIENCE);
        assert_eq!(
            status.code(),
            Some(0),
            "{name}: {}",
            read(&test, &format!("{name}.err"))
        );
    }
    let shown: Value = serde_json::from_str(&runs_show(&test, &db, true)).unwrap();
    let runner_of = |name: &str| -> String {
        let item = shown["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["label"] == name)
            .unwrap();
        item["runner"].as_str().unwrap().to_owned()
    };
    let pid_of = |child: &Child| format!("{}@", child.0.id());
    for name in ["a", "c", "e"] {
        assert!(runner_of(name).starts_with(&pid_of(&arrays)), "{shown}");
    }
    for name in ["b", "d"] {
        assert!(runner_of(name).starts_with(&pid_of(&clouds)), "{shown}");
    }
    // Both runners answer every item's result, the others' read back from the journal.
    let expected = "ok ";
    for name in ["arrays", "clouds"] {
        let out = read(&test, &format!("{name}.out"));
        let lines: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("ok ") || l.starts_with("failed: "))
            .collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert!(lines[..4].iter().all(|l| l.starts_with(expected)), "{out}");
        // An item that touches a target its runner cannot reach fails, and says why.
        assert_eq!(
            lines[4],
            "failed: this runner reaches only `powerstore` (--only-targets), not `vcd`; an item that needs `vcd` must say so in its `targets`, so that a runner that reaches it takes it",
            "{out}"
        );
    }
}

#[test]
fn runners_need_a_journal_on_postgresql() {
    let test = Test::new().script("play.rhai", "print(1);");
    let output = test
        .command_with(&["run", "play.rhai", "--lab", "--runners"].map(str::to_owned))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: --runners needs a journal runners on several machines can share: a PostgreSQL database (--journal postgres://user@host:port/db), not the file `{}`\n",
            test.path().join(".cutover/journal.db").display()
        )
    );
}

#[test]
fn the_journal_password_may_come_from_a_file() {
    let db = database();
    let test = Test::new().file("journal-password", &format!("{}\n", db.password));
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["runs", "--journal", &db.url])
        .current_dir(test.path())
        .env_remove("CUTOVER_JOURNAL_PASSWORD")
        .env(
            "CUTOVER_JOURNAL_PASSWORD_FILE",
            test.path().join("journal-password"),
        )
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "no runs in this journal yet\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success());
}

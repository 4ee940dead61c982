//! Shared polling (issue 16, item 3): a hundred waits on the import sessions of one
//! array cost one list request per interval (`id=in.(…)`), not a `GET` each, by the
//! lab's own count of how its sessions were read.

use serde_json::{Value, json};

use crate::test::{Child, PATIENCE, Test, eventually};

const WAITS: usize = 100;

/// Every item waits for its own session, reading every 200 ms.
const WAVE: &str = r#"let array = powerstore("array1");
let sessions = array.import_sessions(#{ name: "poll-*" });
let results = parallel(sessions, |s| {
    s.wait_for("Ready_For_Cutover", #{ every: "200ms", timeout: "10m" });
    s.state
});
print(results.filter(|r| r.ok && r.value == "Ready_For_Cutover").len());"#;

/// The id-filtered lists the lab answered so far: `(ids named, rows answered)`.
fn lists_by_id(state: &Value) -> Vec<(u64, u64)> {
    state["session_reads"]["recent_lists"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|list| Some((list["ids"].as_u64()?, list["rows"].as_u64()?)))
        .collect()
}

#[test]
fn a_hundred_waits_on_one_array_cost_one_list_request_per_interval() {
    // Lab time stands still: every session stays mid-copy until the test moves it on.
    let test = Test::new().lab_paused();
    let lab = test.test_lab();
    for n in 0..WAITS {
        let extra = json!({"progress_percentage": 50, "size_gib": 1, "rate_mib_s": 100});
        lab.add_session(&format!("poll-{n:03}"), "Copy_In_Progress", extra);
    }
    let test = test
        .script("wave.rhai", WAVE)
        .args(["run", "wave.rhai"])
        .env("CUTOVER_LOG", "warn");
    let mut child = Child::spawn(test.command());
    let lab = test.test_lab();
    // Once every wait is in one list, each later reading of them all is one list: wait
    // for three such, however long the machine takes.
    let full = |state: &Value| {
        lists_by_id(state)
            .iter()
            .filter(|(ids, _)| *ids == WAITS as u64)
            .count()
    };
    eventually("three lists of every session", || full(&lab.state()) >= 3);
    // The copies end, so the next reading finds every session ready.
    lab.advance_clock(3600);
    let lines = child.lines();
    let (status, stdout, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(stdout.first().map(String::as_str), Some("100"), "{stderr}");

    let state = lab.state();
    let reads = &state["session_reads"];
    // Each wait's first reading is its own, at once, as it always was.
    assert_eq!(reads["gets"], WAITS, "{reads}");
    let lists = lists_by_id(&state);
    let first_full = lists
        .iter()
        .position(|(ids, _)| *ids == WAITS as u64)
        .unwrap();
    // The waits meet on the grid of their `every` once their first readings are in:
    // from the first list of them all on, every reading of every wait is in one list.
    assert!(
        lists[first_full..]
            .iter()
            .all(|list| *list == (WAITS as u64, WAITS as u64)),
        "{lists:?}"
    );
    let readings: u64 = lists.iter().map(|(ids, _)| ids).sum();
    eprintln!(
        "{WAITS} waits: {WAITS} first readings alone, then {readings} readings in {} list \
         requests ({first_full} before every wait was in one)",
        lists.len()
    );
}

//! The operator's view of `cutover run`: the plain lines a run logs when stderr is not
//! a terminal, the live display and the summary table on a pseudo-terminal, and the
//! JSON report of `--report`.

use serde_json::{Value, json};

use crate::test::Test;

const PASSWORD: &str = "pw-view-7f3a";
const SECRET_KEY: &str = "sk-view-91c2";

/// The report `name` in the test's folder, with what changes from run to run (times,
/// ids the lab generates) replaced by placeholders.
fn report(dir: &std::path::Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(
        !text.contains(PASSWORD) && !text.contains(SECRET_KEY),
        "{text}"
    );
    let mut report: Value = serde_json::from_str(&text).unwrap();
    for key in ["started", "ended"] {
        assert!(report[key].as_str().unwrap().ends_with('Z'), "{report}");
        report[key] = json!("…");
    }
    for call in report["calls"].as_array_mut().unwrap() {
        assert!(call["sent"].as_str().unwrap().ends_with('Z'), "{call}");
        assert!(call["took_ms"].is_u64(), "{call}");
        call["sent"] = json!("…");
        call["took_ms"] = json!("…");
    }
    for item in report["items"].as_array_mut().unwrap() {
        assert!(item["duration_ms"].is_u64(), "{item}");
        item["duration_ms"] = json!("…");
    }
    report
}

#[test]
fn a_run_without_items_still_reports_its_calls_and_outcome() {
    let outcome = Test::new()
        .lab_with_secrets(PASSWORD, SECRET_KEY)
        .script(
            "cut.rhai",
            r#"
            let s = powerstore("array1").import_session("wave1-lun03");
            s.cutover();
            try { s.cutover(); } catch (err) { print(err.status); }
            "#,
        )
        .args(["run", "cut.rhai", "--report", "out.json"])
        .stdout("422\n")
        .success();
    let id = outcome.lab().session("wave1-lun03")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/rest/import_session/{id}/cutover");
    let call = |outcome: &str, status: u16, detail: &str| {
        json!({
            "target": "array1", "operation": "cutover",
            "object": { "kind": "import session", "id": id, "name": null },
            "summary": "cut over", "method": "POST", "path": path,
            "outcome": outcome, "status": status, "detail": detail,
            "sent": "…", "took_ms": "…",
        })
    };
    assert_eq!(
        report(outcome.dir.path(), "out.json"),
        json!({
            "script": "cut.rhai",
            "started": "…",
            "ended": "…",
            "outcome": "success",
            "exit_code": 0,
            "items": [],
            "calls": [
                call("succeeded", 204, "204 No Content"),
                call("refused", 422, "422 Unprocessable Entity"),
            ],
            "calls_not_kept": 0,
        })
    );
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_it_starts() {
    let outcome = Test::new()
        .lab()
        .script(
            "cut.rhai",
            r#"
            print("started");
            powerstore("array1").import_session("wave1-lun03").cutover();
            "#,
        )
        .args(["run", "cut.rhai", "--report", "missing/out.json"])
        .stdout("")
        .stderr(
            "error: cannot write the report `missing/out.json`: No such file or directory \
             (os error 2); check that its folder exists and is writable\n",
        )
        .status(2)
        .run();
    assert_eq!(outcome.lab().state()["counts"]["cutover"], Value::Null);
}

//! The mutation gate (issue 11, item 4; issue 13, item 4): a mutation whose answer is
//! lost before any of it came (the lab applies it, then drops the connection) is
//! verified with the vendor. Where the vendor shows it took effect the script goes on;
//! where nothing tells, it is `unknown_outcome` and its message says how to tell. It is
//! sent once either way, even inside `retry()`: a second rule behind the first,
//! answering 503, would catch a second try.

use cutover::config::TargetKind;
use serde_json::json;

use crate::test::Test;

/// A mutation of each vendor inside `retry()`, the path it goes to, and the advice its
/// lost answer ends with (`{id}` stands for the object's id in the lab).
struct Case {
    kind: TargetKind,
    path: &'static str,
    script: &'static str,
    advice: &'static str,
}

const CASES: [Case; 4] = [
    Case {
        kind: TargetKind::Powerstore,
        path: "/api/rest/import_session",
        script: r#"let s = powerstore("array1").import_session("wave1-lun03");
print(s.id);
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || s.cutover()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
        advice: "read import session `{id}` before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed`",
    },
    Case {
        kind: TargetKind::Vcd,
        path: "/cloudapi/1.0.0/entityTypes",
        script: r#"let vcd = vcd("prod-vcd");
print("urn:vcloud:type:acme:vm:1.0.0");
try {
    retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || vcd.migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0" })); print("took effect");
} catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
        advice: "sending it again is safe: running the migration again is how Cloud Director picks up instances it skipped",
    },
    Case {
        kind: TargetKind::Vcenter,
        path: "/rest/vcenter/deployment/history",
        script: r#"let h = vcenter("vc-root").history();
print("history");
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || h.pause()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
        advice: "read the history import before trying again: it took effect if its state is `BLOCKED`",
    },
    Case {
        kind: TargetKind::HuaweiSms,
        path: "/v3/tasks",
        script: r#"let t = huawei_sms("eu-sms").task("web-01");
print(t.id);
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || t.start()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
        advice: "read migration task `{id}` before trying again: it took effect if its state is `RUNNING` or `SYNCING`",
    },
];

/// `text` with every lab URL's port replaced by `PORT`: the lab listens on free ports.
fn without_ports(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(before);
        out.push_str("PORT");
        rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

#[test]
fn a_mutation_whose_connection_drops_is_verified_or_an_unknown_outcome_and_sent_once() {
    for case in CASES {
        let test = Test::new().lab();
        let rule =
            json!({"status": 0, "drop_connection": true, "method": "POST", "path": case.path});
        test.test_lab().post_to(case.kind, "/_lab/faults", rule);
        let resent = json!({"status": 503, "method": "POST", "path": case.path});
        test.test_lab().post_to(case.kind, "/_lab/faults", resent);
        let outcome = test
            .script("wave.rhai", case.script)
            .args(["run", "wave.rhai"])
            .run();
        let state = outcome.lab().state_of(case.kind);
        let (object, said) = outcome.stdout.split_once('\n').unwrap_or_default();
        let sent_to = match case.kind {
            TargetKind::Powerstore => format!("{}/{object}/cutover", case.path),
            TargetKind::Vcd => format!("{}/{object}/migrateEntities", case.path),
            TargetKind::Vcenter => format!("{}?action=pause", case.path),
            _ => format!("{}/{object}/action", case.path),
        };
        // Only Cloud Director's migration shows nothing to verify by.
        let expected = if case.kind == TargetKind::Vcd {
            format!(
                "unknown_outcome false\nthe request was sent but its answer was lost (error sending request for url (http://127.0.0.1:PORT{sent_to}): client error (SendRequest): connection closed before message completed); {advice}\n{advice}\n",
                advice = case.advice.replace("{id}", object)
            )
        } else {
            "took effect\n".to_owned()
        };
        assert_eq!(
            without_ports(said),
            expected,
            "{}: {}",
            case.kind,
            outcome.stderr
        );
        assert_eq!(
            state["faults"],
            json!({"pending": [{"status": 503, "count": 1, "method": "POST", "path": case.path}], "injected": 1}),
            "{}: sent once",
            case.kind
        );
        if case.kind == TargetKind::Vcd {
            // The lab logs a migration when its task ends, on lab time: count its tasks.
            assert_eq!(
                state["tasks"].as_array().map(Vec::len),
                Some(1),
                "vcd: applied once, though its answer was lost"
            );
            continue;
        }
        let applied = match case.kind {
            TargetKind::Powerstore => "cutover",
            TargetKind::Vcenter => "pause",
            _ => "start",
        };
        assert_eq!(
            state["counts"],
            json!({ applied: 1 }),
            "{}: applied once, though its answer was lost",
            case.kind
        );
    }
}

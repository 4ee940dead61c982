//! The mutation gate (issue 11, item 4; issue 13, item 4): a mutation whose answer is
//! lost before any of it came (the lab applies it, then drops the connection) is
//! verified with the vendor. Where the vendor shows it took effect the script goes on,
//! and it is sent once, even inside `retry()`: a second rule behind the first,
//! answering 503, would catch a second try. Cloud Director's migration shows nothing to
//! verify by, and is safe to send again: it is sent again, finds the first one running,
//! and follows its task, so the lab still runs one migration.

use cutover::config::TargetKind;
use serde_json::json;

use crate::test::Test;
use crate::test::kind;

/// A mutation of each vendor inside `retry()`, and the path it goes to.
struct Case {
    kind: TargetKind,
    path: &'static str,
    script: &'static str,
}

const CASES: [Case; 4] = [
    Case {
        kind: kind::POWERSTORE,
        path: "/api/rest/import_session",
        script: r#"let s = powerstore("array1").import_session("wave1-lun03");
print(s.id);
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || s.cutover()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
    },
    Case {
        kind: kind::VCD,
        path: "/cloudapi/1.0.0/entityTypes",
        script: r#"let vcd = vcd("prod-vcd");
print("urn:vcloud:type:acme:vm:1.0.0");
try {
    retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || vcd.migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0" })); print("took effect");
} catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
    },
    Case {
        kind: kind::VCENTER,
        path: "/rest/vcenter/deployment/history",
        script: r#"let h = vcenter("vc-root").history();
print("history");
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || h.pause()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
    },
    Case {
        kind: kind::HUAWEI_SMS,
        path: "/v3/tasks",
        script: r#"let t = huawei_sms("eu-sms").task("web-01");
print(t.id);
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || t.start()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); print(e.verification); }"#,
    },
];

#[test]
fn a_mutation_whose_connection_drops_is_verified_and_applied_once() {
    for case in CASES {
        let test = Test::new().lab();
        let rule =
            json!({"status": 0, "drop_connection": true, "method": "POST", "path": case.path});
        test.test_lab().post_to(case.kind, "/_lab/faults", rule);
        if case.kind == kind::VCD {
            // Held still, the first migration is running when it is sent again.
            test.test_lab().clock(json!({"paused": true}));
        }
        let resent = json!({"status": 503, "method": "POST", "path": case.path});
        test.test_lab().post_to(case.kind, "/_lab/faults", resent);
        let outcome = test
            .script("wave.rhai", case.script)
            .args(["run", "wave.rhai"])
            .run();
        let state = outcome.lab().state_of(case.kind);
        let (_, said) = outcome.stdout.split_once('\n').unwrap_or_default();
        assert_eq!(said, "took effect\n", "{}: {}", case.kind, outcome.stderr);
        let canary = if case.kind == kind::VCD {
            // Sent again: the 503 behind the first rule, then a third time by the
            // client's retries, which finds the first migration running.
            json!({"pending": [], "injected": 2})
        } else {
            json!({"pending": [{"status": 503, "count": 1, "method": "POST", "path": case.path}], "injected": 1})
        };
        assert_eq!(state["faults"], canary, "{}", case.kind);
        if case.kind == kind::VCD {
            // The lab logs a migration when its task ends, on lab time: count its tasks.
            assert_eq!(
                state["tasks"].as_array().map(Vec::len),
                Some(1),
                "vcd: applied once, though its answer was lost"
            );
            continue;
        }
        let applied = match case.kind {
            kind::POWERSTORE => "cutover",
            kind::VCENTER => "pause",
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

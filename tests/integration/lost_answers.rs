//! A change whose answer is lost is applied once (issue 14, item 3): for each vendor,
//! the lab applies a mutation and then cuts its answer short (status 200, half the body,
//! the connection closed). Its status came, so the change was accepted: the gate asks
//! the vendor, and the call succeeds where the object shows it took effect, sent once,
//! even inside `retry()`: a second rule behind the first, answering 503, would catch a
//! second try.

use cutover::config::TargetKind;
use serde_json::json;

use crate::test::Test;
use crate::test::kind;

/// A mutation of each vendor inside `retry()`, and the path it goes to.
struct Mutation {
    kind: TargetKind,
    path: &'static str,
    script: &'static str,
}

const MUTATIONS: [Mutation; 4] = [
    Mutation {
        kind: kind::POWERSTORE,
        path: "/api/rest/import_session",
        script: r#"let s = powerstore("array1").import_session("wave1-lun03");
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || s.cutover()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); }"#,
    },
    Mutation {
        kind: kind::VCD,
        path: "/cloudapi/1.0.0/entityTypes",
        script: r#"let vcd = vcd("prod-vcd");
try {
    retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || vcd.migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0" })); print("took effect");
} catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); }"#,
    },
    Mutation {
        kind: kind::VCENTER,
        path: "/rest/vcenter/deployment/history",
        script: r#"let h = vcenter("vc-root").history();
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || h.pause()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); }"#,
    },
    Mutation {
        kind: kind::HUAWEI_SMS,
        path: "/v3/tasks",
        script: r#"let t = huawei_sms("eu-sms").task("web-01");
try { retry(#{ attempts: 3, initial: "0ms", max: "0ms" }, || t.start()); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); }"#,
    },
];

#[test]
fn a_mutation_whose_answer_is_cut_short_is_verified_and_sent_once() {
    for mutation in MUTATIONS {
        let test = Test::new().lab();
        let rule =
            json!({"status": 200, "cut_short": true, "method": "POST", "path": mutation.path});
        test.test_lab().post_to(mutation.kind, "/_lab/faults", rule);
        if mutation.kind == kind::VCD {
            // Held still, the first migration is running when it is sent again.
            test.test_lab().clock(json!({"paused": true}));
        }
        let resent = json!({"status": 503, "method": "POST", "path": mutation.path});
        test.test_lab()
            .post_to(mutation.kind, "/_lab/faults", resent);
        let outcome = test
            .script("wave.rhai", mutation.script)
            .args(["run", "wave.rhai"])
            .run();
        let state = outcome.lab().state_of(mutation.kind);
        assert_eq!(
            outcome.stdout, "took effect\n",
            "{}: {}",
            mutation.kind, outcome.stderr
        );
        let canary = if mutation.kind == kind::VCD {
            // A migration shows nothing to verify by and is safe to send again: sent
            // again (into the 503, then by the client's retries), it finds the first
            // one running and follows its task.
            json!({"pending": [], "injected": 2})
        } else {
            json!({"pending": [{"status": 503, "count": 1, "method": "POST", "path": mutation.path}], "injected": 1})
        };
        assert_eq!(state["faults"], canary, "{}", mutation.kind);
        if mutation.kind == kind::VCD {
            assert_eq!(
                state["tasks"].as_array().map(Vec::len),
                Some(1),
                "one migration"
            );
        }
        if mutation.kind == kind::POWERSTORE {
            // The lab applied the cutover before it cut the answer short.
            assert_eq!(state["counts"], json!({"cutover": 1}));
        }
    }
}

#[test]
fn a_wait_ends_at_its_timeout_while_the_target_holds_the_answer() {
    // The lab holds every read of one session until the test releases it, so only the
    // wait's timeout can end the wait.
    let test = Test::new().lab();
    let rule = json!({"status": 200, "hold": true, "count": 100, "method": "GET", "path": "/api/rest/import_session/"});
    test.test_lab()
        .post_to(kind::POWERSTORE, "/_lab/faults", rule);
    let script = r#"let s = powerstore("array1").import_sessions(#{ name: "wave1-lun03" })[0];
try { s.wait_for("Ready_For_Cutover", #{ timeout: "1s", every: "5s" }); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); }"#;
    let started = std::time::Instant::now();
    let outcome = test
        .script("wave.rhai", script)
        .args(["run", "wave.rhai"])
        .run();
    let took = started.elapsed();
    outcome.lab().delete_to(kind::POWERSTORE, "/_lab/faults");
    assert_eq!(
        outcome.stdout, "timeout false\nthe wait timed out before the answer came\n",
        "{}",
        outcome.stderr
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}

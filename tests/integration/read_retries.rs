//! Reads survive a busy target (issue 17, item 5): every vendor's reads are sent again
//! after a retryable error, by the target's `read_retries`; a change only once the
//! vendor shows it did not take effect, or it is safe to repeat (issue 15). Each
//! test queues the lab's own fault rules (`POST /_lab/faults`), so which request fails is
//! decided by a count, never by timing.

use std::time::{Duration, Instant};

use cutover::config::TargetKind;
use serde_json::{Value, json};

use crate::test::Test;
use crate::test::kind;

/// Retries without backoff, so the tests wait on nothing but the lab.
const NO_BACKOFF: &str = r#"{ retries = 3, initial = "0ms", max = "0ms" }"#;

/// Gives every target of the test's target file `read_retries = setting`.
fn read_retries(test: Test, setting: &str) -> Test {
    test.target_setting(None, &format!("read_retries = {setting}"))
}

/// Queues a fault rule on the listener of `kind`.
fn fault(test: &Test, kind: TargetKind, rule: Value) {
    test.test_lab().post_to(kind, "/_lab/faults", rule);
}

/// A read of each vendor, the path its request goes to, and what the script prints.
struct Read {
    kind: TargetKind,
    path: &'static str,
    script: &'static str,
    stdout: &'static str,
}

/// Holds the lab's jobs still, so what a read shows does not depend on when it runs:
/// the history import, left alone, finishes a lab minute after the lab starts.
fn hold_still(test: &Test) {
    test.test_lab().post_to(
        kind::VCENTER,
        "/_lab/history",
        json!({"status": "BLOCKED", "completed": 40, "total": 100}),
    );
}

const READS: [Read; 4] = [
    Read {
        kind: kind::POWERSTORE,
        path: "/api/rest/import_session",
        script: r#"print(powerstore("array1").import_sessions(#{ name: "wave1-*" }).len());"#,
        stdout: "5\n",
    },
    Read {
        kind: kind::VCD,
        path: "/cloudapi/1.0.0/entityTypes",
        script: r#"print(vcd("prod-vcd").entity_types(#{ filter: "nss==db" }).len());"#,
        stdout: "1\n",
    },
    Read {
        kind: kind::VCENTER,
        path: "/rest/vcenter/deployment/history",
        script: r#"print(vcenter("vc-root").history().status().status);"#,
        stdout: "BLOCKED\n",
    },
    Read {
        kind: kind::HUAWEI_SMS,
        path: "/v3/tasks",
        script: r#"print(huawei_sms("eu-sms").task("web-01").state);"#,
        stdout: "READY\n",
    },
];

#[test]
fn every_vendor_reads_through_two_503s() {
    for read in READS {
        let test = read_retries(Test::new().lab(), NO_BACKOFF);
        hold_still(&test);
        fault(
            &test,
            read.kind,
            json!({"status": 503, "count": 2, "method": "GET", "path": read.path}),
        );
        let outcome = test
            .script("wave.rhai", read.script)
            .args(["run", "wave.rhai"])
            .stdout(read.stdout)
            .stderr("")
            .success();
        assert_eq!(
            outcome.lab().state_of(read.kind)["faults"],
            json!({"pending": [], "injected": 2}),
            "{}: both faults were met and the third try went through",
            read.kind
        );
    }
}

#[test]
fn no_read_retries_means_the_script_sees_the_503() {
    for read in READS {
        let test = read_retries(Test::new().lab(), "0");
        hold_still(&test);
        fault(
            &test,
            read.kind,
            json!({"status": 503, "count": 1, "method": "GET", "path": read.path}),
        );
        // The first try meets the fault; run again, the read goes through.
        let script = format!(
            "try {{ {} }} catch (e) {{ print(`${{e.kind}} ${{e.status}} ${{e.retryable}}`); }}\n{}",
            read.script, read.script
        );
        let outcome = test
            .script("wave.rhai", &script)
            .args(["run", "wave.rhai"])
            .stdout(&format!("http 503 true\n{}", read.stdout))
            .success();
        assert_eq!(
            outcome.lab().state_of(read.kind)["faults"],
            json!({"pending": [], "injected": 1}),
            "{}",
            read.kind
        );
    }
}

/// A mutation of each vendor, the path it goes to, and the operation the lab counts.
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
try { s.cutover(); } catch (e) { print(`${e.kind} ${e.status} ${e.retryable}`); }"#,
    },
    Mutation {
        kind: kind::VCD,
        path: "/cloudapi/1.0.0/entityTypes",
        script: r#"let vcd = vcd("prod-vcd");
try {
    vcd.migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0" });
} catch (e) { print(`${e.kind} ${e.status} ${e.retryable}`); }"#,
    },
    Mutation {
        kind: kind::VCENTER,
        path: "/rest/vcenter/deployment/history",
        script: r#"let h = vcenter("vc-root").history();
try { h.pause(); } catch (e) { print(`${e.kind} ${e.status} ${e.retryable}`); }"#,
    },
    Mutation {
        kind: kind::HUAWEI_SMS,
        path: "/v3/tasks",
        script: r#"let t = huawei_sms("eu-sms").task("web-01");
try { t.start(); } catch (e) { print(`${e.kind} ${e.status} ${e.retryable}`); }"#,
    },
];

#[test]
fn a_change_answered_503_is_sent_again_only_when_the_vendor_shows_it_did_not_take_effect() {
    for mutation in MUTATIONS {
        let test = read_retries(Test::new().lab(), NO_BACKOFF);
        let rule = json!({"status": 503, "count": 2, "method": "POST", "path": mutation.path});
        fault(&test, mutation.kind, rule);
        if mutation.kind == kind::VCD {
            // A migration shows nothing to verify by; it is safe to send again, and its
            // task stays running, held still, so the lab shows it.
            test.test_lab().clock(json!({"paused": true}));
        }
        let outcome = test
            .script("wave.rhai", mutation.script)
            .args(["run", "wave.rhai"])
            .stdout("")
            .success();
        let state = outcome.lab().state_of(mutation.kind);
        assert_eq!(
            state["faults"],
            json!({"pending": [], "injected": 2}),
            "{}",
            mutation.kind
        );
        let applied = match mutation.kind {
            kind::VCD => json!(state["tasks"].as_array().map(Vec::len)),
            _ => state["counts"].clone(),
        };
        let once = match mutation.kind {
            kind::POWERSTORE => json!({"cutover": 1}),
            kind::VCD => json!(1),
            kind::VCENTER => json!({"pause": 1}),
            _ => json!({"start": 1}),
        };
        assert_eq!(
            applied, once,
            "{}: applied once\n{}",
            mutation.kind, outcome.stderr
        );
    }
}

#[test]
fn reads_retry_by_default_and_log_each_retry_at_debug() {
    // The README's playbook listing sessions while the array answers 503 twice, with
    // the target file saying nothing about retries.
    let test = Test::new().lab();
    fault(
        &test,
        kind::POWERSTORE,
        json!({"status": 503, "count": 2, "method": "GET", "path": "/api/rest/import_session"}),
    );
    let outcome = test
        .script("wave.rhai", READS[0].script)
        .env("CUTOVER_LOG", "warn,cutover::http::retry=debug")
        .args(["run", "wave.rhai"])
        .stdout("5\n")
        .success();
    let retries: Vec<String> = outcome
        .stderr
        .lines()
        .filter_map(|line| line.split_once(" DEBUG "))
        .map(|(_, message)| without_wait(message))
        .collect();
    let retry = |attempt: u32| {
        format!(
            "retrying in … (attempt {attempt} of 8): `array1` import_sessions: 503 Service Unavailable: \
             The service is temporarily unavailable; try again later. (kind: http, retryable) \
             target=array1 operation=\"import_sessions\" attempt={attempt}"
        )
    };
    assert_eq!(retries, [retry(2), retry(3)], "{}", outcome.stderr);
}

/// `message` with the randomised backoff of "retrying in 350ms (…" left out.
fn without_wait(message: &str) -> String {
    match message
        .strip_prefix("retrying in ")
        .and_then(|rest| rest.split_once(" ("))
    {
        Some((_, rest)) => format!("retrying in … ({rest}"),
        None => message.to_owned(),
    }
}

#[test]
fn a_read_waits_as_long_as_retry_after_asks() {
    let test = read_retries(Test::new().lab(), NO_BACKOFF);
    fault(
        &test,
        kind::POWERSTORE,
        json!({"status": 503, "count": 1, "method": "GET", "path": "/api/rest/import_session", "retry_after": 1}),
    );
    let started = Instant::now();
    let outcome = test
        .script("wave.rhai", READS[0].script)
        .env("CUTOVER_LOG", "warn,cutover::http::retry=debug")
        .args(["run", "wave.rhai"])
        .stdout("5\n")
        .success();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert!(
        outcome
            .stderr
            .contains(" DEBUG retrying in 1s (attempt 2 of 4): `array1` import_sessions: 503"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn a_bad_read_retries_setting_names_the_target_and_key() {
    read_retries(Test::new().lab(), r#"{ attempts = 3 }"#)
        .script("wave.rhai", READS[0].script)
        .args(["run", "wave.rhai"])
        .status(2)
        .stderr(
            "error: invalid target file `cutover.toml`: line 1: target `array1`: `read_retries` has no `attempts`; use retries, initial, max, max_time\n",
        )
        .run();
}

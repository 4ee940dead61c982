//! Seeded chaos (`--chaos`, issue 15 part 2) seen from outside: a standalone lab answers
//! vendor requests with the faults asked for, never its control routes, records each in
//! its listener's `/_lab/state` and sums them up when stopped; a rehearsal prints the
//! same summary on stderr; a bad spec is refused before anything starts.

use serde_json::{Value, json};

use crate::test::{StandaloneLab, Test};

/// `GET url`, whatever its status: the status and the body as JSON.
fn get(url: &str) -> (u16, Value) {
    let url = url.to_owned();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let response = reqwest::Client::new().get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap())
        })
}

#[test]
fn a_lab_with_chaos_records_every_fault_in_its_state_and_sums_them_up_at_exit() {
    let test = Test::new().args([
        "lab",
        "--chaos",
        "rate=1,kinds=503",
        "--targets-out",
        "lab.toml",
    ]);
    let lab = StandaloneLab::start(&test);
    // A paused clock stamps every fault with one time, the one the clock answers.
    let clock = lab.post("powerstore", "/_lab/clock", json!({"paused": true}));
    let now = clock["now"].as_str().unwrap().to_owned();
    let powerstore = lab.url("powerstore");
    let unavailable = json!({"messages": [{
        "code": "0xE0F0F0010001",
        "message_l10n": "The service is temporarily unavailable; try again later.",
        "severity": "Error",
    }]});
    for _ in 0..2 {
        assert_eq!(
            get(&format!("{powerstore}/api/rest/appliance")),
            (503, unavailable.clone())
        );
    }
    let (status, _) = get(&format!("{}/cloudapi/1.0.0/orgs", lab.url("vcd")));
    assert_eq!(status, 503);

    let fault = |path: &str| json!({"kind": "503", "method": "GET", "path": path, "at": now});
    // Reading the state is a control route: answered, and not a fault.
    for _ in 0..2 {
        assert_eq!(
            lab.state("powerstore")["chaos"],
            json!({
                "spec": "rate=1,kinds=503",
                "counts": {"503": 2},
                "faults": [fault("/api/rest/appliance"), fault("/api/rest/appliance")],
            })
        );
    }
    assert_eq!(
        lab.state("vcd")["chaos"],
        json!({
            "spec": "rate=1,kinds=503",
            "counts": {"503": 1},
            "faults": [fault("/cloudapi/1.0.0/orgs")],
        })
    );
    assert_eq!(lab.state("vcenter")["chaos"]["faults"], json!([]));
    let rest = lab.stop_and_read();
    assert_eq!(
        rest.last().map(String::as_str),
        Some("chaos: 3 faults injected (503 ×3)"),
        "{rest:?}"
    );
}

/// A production target that retries no read, so each call meets one fault.
const TARGETS: &str = r#"
[targets.array]
kind = "powerstore"
url = "https://array.example.com"
user = "admin"
password_env = "CUTOVER_ARRAY_PASSWORD"
read_retries = 0
"#;

#[test]
fn a_rehearsal_with_chaos_prints_its_summary_on_stderr_at_the_end() {
    Test::new()
        .file("cutover.toml", TARGETS)
        .script(
            "list.rhai",
            r#"
            let array = powerstore("array");
            try { array.import_sessions(#{}); } catch (e) { print(`failed: ${e.kind}`); }
            "#,
        )
        .args(["run", "list.rhai", "--lab", "--chaos", "rate=1,kinds=503"])
        .stdout("failed: http\n")
        .stderr("chaos: 1 fault injected (503 ×1)\n")
        .success();
}

#[test]
fn a_bad_chaos_spec_or_one_without_the_lab_is_refused_before_anything_starts() {
    Test::new()
        .args(["lab", "--chaos", "rate=0.1,kinds=503,rest"])
        .status(2)
        .stderr(
            "
            error: invalid value 'rate=0.1,kinds=503,rest' for '--chaos <SPEC>': unknown chaos kind `rest`; did you mean `reset`?

            For more information, try '--help'.
            ",
        )
        .run();
    Test::new()
        .args(["lab", "--chaos", "rate=2"])
        .status(2)
        .stderr(
            "
            error: invalid value 'rate=2' for '--chaos <SPEC>': chaos rate `2` is not a number above 0 and at most 1, e.g. `rate=0.1` for one request in ten

            For more information, try '--help'.
            ",
        )
        .run();
    Test::new()
        .args(["run", "wave.rhai", "--chaos", "rate=0.1"])
        .status(2)
        .stderr(
            "
            error: the following required arguments were not provided:
              --lab

            Usage: cutover run --lab --chaos <SPEC> --journal <FILE> <FILE>

            For more information, try '--help'.
            ",
        )
        .run();
}

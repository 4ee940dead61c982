//! Huawei Cloud SMS end to end: real scripts through the binary against the lab, with an
//! IAM token (`eu-sms`) and with signed requests (`eu-sms-aksk`), checked afterwards
//! against `/_lab/state`.

use serde_json::{Value, json};

use crate::test::{
    Child, PATIENCE, SMS_PASSWORD, SMS_SECRET_KEY, Test, TestLab, eventually, kind, next_line,
};

/// Slow enough that a task started by a script is seen RUNNING before it ends.
const SPEED: f64 = 20.0;

impl TestLab {
    /// `GET <sms>/_lab/state`.
    fn sms(&self) -> Value {
        self.state_of(kind::HUAWEI_SMS)
    }

    /// The task `name` in the SMS lab's state.
    pub fn sms_task(&self, name: &str) -> Value {
        let state = self.sms();
        state["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no task {name} in {state}"))
    }

    /// `POST` to an SMS lab control path.
    fn sms_post(&self, path: &str, body: Value) -> Value {
        self.post_to(kind::HUAWEI_SMS, path, body)
    }
}

/// Lab seconds between an action and its new state showing (the lab's default).
const ACTION_LAG: u64 = 5;

/// Runs `test`'s command, whose script starts the tasks `names` one after the other and
/// prints a line starting with each name once its start shows. Lab time stands still
/// but for the action lag: once the lab has applied a start, it moves on just past the
/// lag, so the script sees the task RUNNING however fast it polls, and early in its
/// run. Then time runs again until the script ends. Returns the exit code, every line
/// of stdout and stderr.
pub fn run_starting_step_by_step(
    test: &Test,
    names: &[&str],
) -> (Option<i32>, Vec<String>, String) {
    let lab = test.test_lab();
    lab.pause_clock();
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    let mut stdout = Vec::new();
    for name in names {
        eventually(&format!("the lab applies the start of {name}"), || {
            lab.sms_task(name)["lab"]["actions"]["start"] == 1
        });
        lab.advance_clock(ACTION_LAG + 1);
        loop {
            let line = next_line(&mut lines);
            let shown = line.starts_with(name);
            stdout.push(line);
            if shown {
                break;
            }
        }
    }
    lab.resume_clock();
    let (code, rest, stderr) = child.finish(lines, PATIENCE);
    stdout.extend(rest);
    (code, stdout, stderr)
}

/// Starts a READY, a paused (ABORT) and a failed (MIGRATE_FAIL) task through `target`,
/// sees each RUNNING, waits for each to succeed; each start applied exactly once.
fn start_three_tasks(target: &str) -> Test {
    let script = format!(
        r#"
        let sms = huawei_sms("{target}");
        let tasks = ["web-01", "web-02", "db-01"].map(|name| sms.task(name));
        for t in tasks {{
            let was = t.state;
            t.start();
            print(`${{t.name}} ${{was}} -> ${{t.state}}`);
        }}
        for t in tasks {{
            t.wait_for("MIGRATE_SUCCESS", #{{ timeout: "1h", every: "100ms" }});
            print(`${{t.name}} ${{t.state}} ${{t.sub_tasks.len()}} ${{t.remain_seconds}}`);
        }}
        "#
    );
    let test = Test::new()
        .lab_at_speed(SPEED)
        .script("wave.rhai", &script)
        .args(["run", "wave.rhai"]);
    let (code, stdout, stderr) = run_starting_step_by_step(&test, &["web-01", "web-02", "db-01"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        [
            "web-01 READY -> RUNNING",
            "web-02 ABORT -> RUNNING",
            "db-01 MIGRATE_FAIL -> RUNNING",
            "web-01 MIGRATE_SUCCESS 6 0",
            "web-02 MIGRATE_SUCCESS 6 0",
            "db-01 MIGRATE_SUCCESS 6 0",
        ],
        "{stderr}"
    );
    let lab = test.test_lab();
    for name in ["web-01", "web-02", "db-01"] {
        assert_eq!(
            lab.sms_task(name)["lab"]["actions"],
            json!({"start": 1}),
            "{name}"
        );
    }
    let output = [stdout.join("\n"), stderr];
    crate::test::assert_no_secret(&output, "migration-bot", &lab.password());
    test
}

#[test]
fn starts_from_ready_abort_and_fail_succeed_with_an_iam_token() {
    let test = start_three_tasks("eu-sms");
    let state = test.test_lab().sms();
    assert!(state["tokens_issued"].as_u64().unwrap() >= 1, "{state}");
    assert_eq!(state["auth_refused"], 0);
}

#[test]
fn starts_from_ready_abort_and_fail_succeed_with_signed_requests() {
    let test = start_three_tasks("eu-sms-aksk");
    let state = test.test_lab().sms();
    assert_eq!(state["tokens_issued"], 0, "every request was signed");
    assert_eq!(state["auth_refused"], 0);
}

#[test]
fn start_on_a_running_task_is_invalid_state_with_the_state_found() {
    // `app-01` keeps running for as long as the script needs.
    let test = Test::new().lab_paused();
    let outcome = test
        .script(
            "wave.rhai",
            r#"
            for target in ["eu-sms", "eu-sms-aksk"] {
                let t = huawei_sms(target).task("app-01");
                try {
                    t.start();
                    print("started?!");
                } catch (e) {
                    print(`${e.kind} ${e.state} ${e.status} ${e.vendor_code} ${e.retryable}`);
                    print(e.message);
                }
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            "
            invalid_state RUNNING 400 SMS.1802 false
            400 Bad Request: The task is already running.
            invalid_state RUNNING 400 SMS.1802 false
            400 Bad Request: The task is already running.
            ",
        )
        .success();
    let task = outcome.lab().sms_task("app-01");
    assert_eq!(task["lab"]["actions"], json!({}));
    assert_eq!(task["state"], "RUNNING");
}

#[test]
fn a_task_that_fails_ends_wait_for_at_once_with_its_error_json() {
    let outcome = Test::new()
        .lab_at_speed(SPEED)
        .script(
            "wave.rhai",
            r#"
            let t = huawei_sms("eu-sms").task("db-02");
            t.start();
            t.wait_for("MIGRATE_SUCCESS", #{ timeout: "24h", every: "100ms" });
            print("migrated?!");
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .run();
    assert_eq!(outcome.stdout, "");
    let expected = crate::test::unindent(
        r#"
        error: `eu-sms` wait_for: task `db-02` reached MIGRATE_FAIL while waiting for MIGRATE_SUCCESS: SMS.3802 (kind: invalid_state)
         --> wave.rhai:3:3
          |
        3 | t.wait_for("MIGRATE_SUCCESS", #{ timeout: "24h", every: "100ms" });
          |   ^^^^^^^^
        response body:
        ----
        {"error_code":"SMS.3802","error_param":[]}
        ----
        note: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`
        "#,
    );
    assert!(outcome.stderr.ends_with(&expected), "{}", outcome.stderr);
    assert_eq!(outcome.lab().sms_task("db-02")["state"], "MIGRATE_FAIL");
}

#[test]
fn an_expired_token_is_renewed_transparently() {
    let test = Test::new().lab_paused();
    let lab = test.test_lab();
    lab.sms_post("/_lab/config", json!({"token_ttl_seconds": 10}));
    let test = test
        .script(
            "wave.rhai",
            r#"
            let sms = huawei_sms("eu-sms");
            print(sms.task("web-01").state);
            wait_for_file("expired", #{ settle: 0, every: "20ms" });
            print(sms.task("web-01").state);
            "#,
        )
        .args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(next_line(&mut lines), "READY");
    // Past the token's ten lab seconds; the script's clock says it is fresh.
    test.test_lab().advance_clock(11);
    test.touch("expired");
    let (code, rest, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(
        (code, rest),
        (Some(0), vec!["READY".to_owned()]),
        "{stderr}"
    );
    let state = test.test_lab().sms();
    assert_eq!(state["tokens_issued"], 2, "{state}");
    assert_eq!(
        state["auth_refused"], 1,
        "the expired token was refused once"
    );
}

#[test]
fn bad_credentials_and_a_skewed_clock_are_refused_with_the_vendor_bodies() {
    let script = r#"
        for target in ["eu-sms", "eu-sms-aksk"] {
            try {
                huawei_sms(target).tasks();
            } catch (e) {
                print(`${target}: ${e.kind} ${e.status} ${e.vendor_code} ${e.operation}: ${e.message}`);
                let body = json_decode(e.body);
                print(body.error?.message ?? body.error_msg);
            }
        }
    "#;
    let first = Test::new()
        .lab_at_speed(SPEED)
        .env(SMS_PASSWORD, "wrong-password")
        .env(SMS_SECRET_KEY, "wrong-secret-key")
        .script("wave.rhai", script)
        .args(["run", "wave.rhai"])
        .stdout(
            "
            eu-sms: auth 401 401 iam.login: 401 Unauthorized: The username or password is wrong.
            The username or password is wrong.
            eu-sms-aksk: auth 401 APIGW.0301 tasks: 401 Unauthorized: Incorrect IAM authentication information: verify aksk signature fail
            Incorrect IAM authentication information: verify aksk signature fail
            ",
        )
        .success();
    first.assert_no_secret("migration-bot", "wrong-password");
    first.assert_no_secret("CUTOVERLABACCESSKEY1", "wrong-secret-key");
    // The gateway's clock 16 minutes ahead: a request signed now is too old.
    let lab = first.lab();
    lab.sms_post("/_lab/config", json!({"gateway_clock_offset_seconds": 960}));
    let skewed = Test::new()
        .reuse_lab(first)
        .script(
            "wave.rhai",
            r#"
            try { huawei_sms("eu-sms-aksk").tasks(); } catch (e) { print(`${e.status} ${e.vendor_code} ${e.message}`); }
            print(huawei_sms("eu-sms").tasks().len());
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            "
            401 APIGW.0301 401 Unauthorized: Incorrect IAM authentication information: the request time differs from the server time by more than 15 minutes
            19
            ",
        )
        .success();
    assert_eq!(skewed.lab().sms()["auth_refused"], 3);
}

#[test]
fn a_burst_of_429s_is_absorbed_and_every_start_applied_once() {
    // Lab time moves only when the test says so: the bucket refills only then, and the
    // tasks stay RUNNING (their new state shows at once).
    let test = Test::new().lab_paused();
    let lab = test.test_lab();
    for n in 1..=6 {
        lab.sms_post("/_lab/tasks", json!({"name": format!("batch-{n}")}));
    }
    lab.sms_post("/_lab/config", json!({"action_lag_seconds": 0}));
    // Three requests at once, then one every ten lab seconds.
    lab.sms_post(
        "/_lab/config",
        json!({"rate_limit": {"capacity": 3, "per_second": 0.1}}),
    );
    let test = test
        .script(
            "wave.rhai",
            r#"
            let sms = huawei_sms("eu-sms-aksk");
            let batch = sms.tasks(#{ name: "batch-" });
            for t in batch { t.start(); }
            print(`${batch.len()} started: ${batch.map(|t| t.state)}`);
            "#,
        )
        .args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    // Each refusal is followed by thirty lab seconds: the bucket fills up again.
    let mut refused = 0;
    eventually("the script ends", || {
        let throttled = test.test_lab().sms()["throttled"].as_u64().unwrap();
        if throttled > refused {
            refused = throttled;
            test.test_lab().advance_clock(30);
        }
        child.0.try_wait().unwrap().is_some()
    });
    let lines = child.lines();
    let (code, stdout, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        [
            "6 started: [\"RUNNING\", \"RUNNING\", \"RUNNING\", \"RUNNING\", \"RUNNING\", \"RUNNING\"]"
        ]
    );
    let state = test.test_lab().sms();
    assert!(state["throttled"].as_u64().unwrap() > 0, "{state}");
    for n in 1..=6 {
        let task = test.test_lab().sms_task(&format!("batch-{n}"));
        assert_eq!(task["lab"]["actions"], json!({"start": 1}), "batch-{n}");
    }
}

#[test]
fn tasks_list_every_page_and_show_every_field() {
    let test = Test::new().lab_at_speed(SPEED);
    for n in 1..=105 {
        test.test_lab()
            .sms_post("/_lab/tasks", json!({"name": format!("bulk-{n:03}")}));
    }
    test.script(
        "wave.rhai",
        r#"
        let sms = huawei_sms("eu-sms");
        print(sms.tasks().len());
        print(sms.tasks(#{ state: "READY" }).len());
        print(sms.tasks(#{ name: "bulk-1", limit: 3 }).map(|t| t.name));
        let t = sms.task("db-01");
        print(`${t.type} ${t.os_type} ${t.state} ${t.error.error_code} ${type_of(t.create_date)}`);
        print(`${t.sub_tasks.len()} ${t.sub_tasks[0].name} ${type_of(t.sub_tasks[0].start_date)} ${t.sub_tasks[0].end_date > t.sub_tasks[0].start_date}`);
        print(`${t.source_server.state} ${t.target_server.disks[0].name} ${t.project_id} ${t.region_name}`);
        print(t.start_date.format("%Y") == t.to_map().start_date.format("%Y"));
        let same = sms.task(t.id);
        print(same.name);
        try { sms.task("nope"); } catch (e) { print(`${e.kind}: ${e.message}`); }
        try { sms.tasks(#{ state: "RUNING" }); } catch (e) { print(e.message); }
        try { t.action("strat"); } catch (e) { print(e.message); }
        "#,
    )
    .args(["run", "wave.rhai"])
    // 7 seeded tasks, 12 of the default wave (READY) and the 105 added.
    .stdout(
        r#"
        124
        119
        ["bulk-100", "bulk-101", "bulk-102"]
        MIGRATE_BLOCK LINUX MIGRATE_FAIL SMS.3802 Timestamp
        4 SSL_CONFIG Timestamp true
        error /dev/sda 0215ef11e49d4743be23dd97a1561abc eu-west-101
        true
        db-01
        not_found: no migration task named `nope`
        `RUNING` is not a migration task state; did you mean `RUNNING`?
        `strat` is not a task operation; did you mean `start`?
        "#,
    )
    .success();
}

#[test]
fn doc_lists_the_sms_surface() {
    let outcome = Test::new().args(["doc"]).success();
    for expected in [
        "huawei_sms(name: &str) -> HuaweiSms\n    The Huawei Cloud SMS target",
        "wait_for(task: SmsTask, state: &str, options: Map) -> SmsTask\n    Polls until the task reaches",
        "progress(task: SmsTask) -> Map",
        "SmsTask.sub_tasks",
        "SmsTask.estimate_complete_time",
        "format(time: Timestamp, pattern: &str) -> String",
        "to_string(time: Timestamp) -> String\n    The time in RFC 3339",
        "to_debug(time: Timestamp) -> String\n    The time in RFC 3339",
        "to_debug(task: SmsTask) -> String\n    The same line as `to_string`",
    ] {
        assert!(
            outcome.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            outcome.stdout
        );
    }
}

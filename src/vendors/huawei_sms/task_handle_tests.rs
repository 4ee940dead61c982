//! The task handle against the lab over real HTTP, with one manual clock for the lab and
//! the script's waits, so the documented action lag plays out exactly and at once.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::clock::Clock;
use crate::lab::Lab;
use crate::lab::testing::LabRig;
use crate::script::{Host, Limits};

/// The lab, and a host whose targets point at it, on one manual clock.
struct Rig {
    runtime: tokio::runtime::Runtime,
    lab: Lab,
    host: Arc<Host>,
}

impl Rig {
    fn new() -> Self {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_787_200));
        let rig = LabRig::start(7, clock);
        let host = rig.host();
        let LabRig { runtime, lab, .. } = rig;
        Self { runtime, lab, host }
    }

    /// Sends `body` to `method path` of the SMS lab (only `/_lab/` paths need no login).
    fn lab_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!(
            "{}{path}",
            self.lab.url(crate::vendors::huawei_sms::KIND).unwrap()
        );
        crate::http::lab::testing::lab_call(&self.runtime, method, url, body)
    }

    fn eval(&self, script: &str) -> String {
        let engine = crate::engine::build(&self.host, Limits::default(), ".".into());
        engine.eval::<String>(script).unwrap()
    }
}

#[test]
fn a_refused_repeat_of_an_action_that_took_effect_is_success() {
    let rig = Rig::new();
    // A long copy, and a lag longer than the handle waits for the new state to show.
    let post = |path: &str, body| rig.lab_call(reqwest::Method::POST, path, Some(body));
    post("/_lab/tasks", json!({"name": "big", "used_gib": 500}));
    post("/_lab/config", json!({"action_lag_seconds": 90}));
    let shown = rig.eval(
        r#"
        let t = huawei_sms("huawei_sms").task("big");
        t.start();
        let first = t.state;
        t.start();
        let second = t.state;
        let third = "started?!";
        try { t.start(); } catch (e) { third = `${e.kind} ${e.state}`; }
        `${first} ${second} ${third}`
        "#,
    );
    // The first answer showed nothing yet; the repeat was refused (SMS.1802) while the
    // task still showed READY, and the task then showed RUNNING: success. Once RUNNING
    // was seen before the call, `start` is a state conflict again.
    assert_eq!(shown, "READY RUNNING invalid_state RUNNING");
    let state = rig.lab_call(reqwest::Method::GET, "/_lab/state", None);
    let task = state["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "big")
        .unwrap();
    assert_eq!(task["lab"]["actions"], json!({"start": 1}), "applied once");
    assert_eq!(task["state"], "RUNNING");
}

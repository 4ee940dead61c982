//! Every kind of handle a script holds, stored from a real script run against the lab on
//! 127.0.0.1 and read back through a fresh host (as a resumed run would, with no client
//! of the first): the reference names the same object, and the handle read back shows
//! the state the lab moved it to in between (set through the lab's control routes, a
//! script's own action or a step of the lab clock, never by waiting on wall time).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use rhai::{Dynamic, Scope};
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::config::TargetKind;
use crate::lab::testing::LabRig;
use crate::script::{Host, Limits};

fn to_stored(value: &Dynamic) -> Result<Value, String> {
    super::to_stored(&crate::engine::handle_kinds(), value)
}

fn from_stored(host: &Arc<Host>, stored: &Value) -> Result<Dynamic, crate::api_error::ApiError> {
    super::from_stored(&crate::engine::handle_kinds(), host, stored)
}

/// Where the lab clock starts: 2025-03-01T00:00:00Z.
const START: u64 = 1_740_787_200;

/// The lab, and hosts whose targets are the lab's, on one stepped clock.
struct Rig(LabRig);

impl std::ops::Deref for Rig {
    type Target = LabRig;
    fn deref(&self) -> &LabRig {
        &self.0
    }
}

impl Rig {
    fn new() -> Self {
        let clock = Clock::stepped(SystemTime::UNIX_EPOCH + Duration::from_secs(START));
        Self(LabRig::start(11, clock))
    }

    /// Posts `body` to `path` of the `kind` listener's own `/_lab/` routes.
    fn lab_post(&self, kind: &'static str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.lab.url(TargetKind::new(kind)).unwrap());
        crate::http::lab::testing::lab_call(&self.runtime, Method::POST, url, Some(body))
    }

    /// What `script` answers on a run of its own, stored as a step would store it.
    fn stored(&self, script: &str) -> Value {
        let host = self.host();
        let engine = crate::engine::build(&host, Limits::default(), ".".into());
        let value = engine.eval::<Dynamic>(script).unwrap();
        to_stored(&value).unwrap()
    }

    /// Runs `script` on a run of its own, for what it changes in the lab.
    fn run(&self, script: &str) {
        let host = self.host();
        let engine = crate::engine::build(&host, Limits::default(), ".".into());
        engine.run(script).unwrap();
    }

    /// Reads `stored` back on a fresh host, then what `shown` (which names it `r`)
    /// answers about it.
    fn restored(&self, stored: &Value, shown: &str) -> String {
        let host = self.host();
        let value = from_stored(&host, stored).unwrap();
        let engine = crate::engine::build(&host, Limits::default(), ".".into());
        let mut scope = Scope::new();
        scope.push("r", value);
        engine
            .eval_with_scope::<Dynamic>(&mut scope, shown)
            .unwrap()
            .to_string()
    }
}

#[test]
fn a_powerstore_array_and_its_import_session_are_read_again() {
    let rig = Rig::new();
    let added = rig.lab_post(
        "powerstore",
        "/_lab/import_sessions",
        json!({"name": "keep-lun01", "state": "Ready_For_Cutover"}),
    );
    let id = added["id"].as_str().unwrap();
    let stored = rig.stored(
        r#"let a = powerstore("powerstore"); #{ array: a, session: a.import_session("keep-lun01") }"#,
    );
    assert_eq!(
        stored,
        json!({
            "array": {"$handle": "PowerStore", "target": "powerstore"},
            "session": {"$handle": "ImportSession", "target": "powerstore", "id": id},
        })
    );
    rig.run(&format!(
        r#"powerstore("powerstore").import_session("{id}").cutover();"#
    ));
    assert_eq!(
        rig.restored(
            &stored,
            r#"`${r.array.name} ${r.session.id} ${r.session.name} ${r.session.state}`"#
        ),
        format!("powerstore {id} keep-lun01 Import_Completed")
    );
}

#[test]
fn a_vcd_target_and_its_task_are_read_again() {
    let rig = Rig::new();
    let stored = rig.stored(
        r#"let v = vcd("vcd");
        let t = v.migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:2.0.0" });
        #{ vcd: v, task: t, status: t.status }"#,
    );
    let task = &stored["task"];
    let uuid = task["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stored,
        json!({
            "vcd": {"$handle": "Vcd", "target": "vcd"},
            "task": {"$handle": "VcdTask", "target": "vcd", "id": uuid},
            "status": "queued",
        })
    );
    // Lab time, not wall time: the migration runs to its end.
    rig.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        rig.restored(&stored, r#"`${r.vcd.name} ${r.task.id} ${r.task.status}`"#),
        format!("vcd urn:vcloud:task:{uuid} success")
    );
}

#[test]
fn a_vcenter_history_import_is_read_again_by_its_target_alone() {
    let rig = Rig::new();
    let seed = |status: &str, completed: i64| {
        rig.lab_post(
            "vcenter",
            "/_lab/history",
            json!({"status": status, "completed": completed}),
        )
    };
    seed("BLOCKED", 40);
    let stored = rig.stored(
        r#"let h = vcenter("vcenter").history(); h.refresh(); #{ vc: vcenter("vcenter"), history: h, status: h.status().status }"#,
    );
    assert_eq!(
        stored,
        json!({
            "vc": {"$handle": "Vcenter", "target": "vcenter"},
            "history": {"$handle": "History", "target": "vcenter"},
            "status": "BLOCKED",
        })
    );
    seed("SUCCEEDED", 100);
    assert_eq!(
        rig.restored(&stored, r#"`${r.vc.name} ${r.history.to_map().status}`"#),
        "vcenter SUCCEEDED"
    );
}

#[test]
fn a_vcenter_ovf_import_session_is_read_again() {
    let rig = Rig::new();
    let stored = rig.stored(
        r#"let s = vcenter("vcenter").ovf_import(#{ source: "pull", url: "https://repo.example.com/appliances/app.ovf", resource_pool: "resgroup-8" });
        #{ session: s, state: s.state }"#,
    );
    let id = stored["session"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stored,
        json!({
            "session": {"$handle": "OvfImport", "target": "vcenter", "id": id},
            "state": "IMPORT_OVF_TRANSFER",
        })
    );
    // Lab time, not wall time: the package is read and the session waits for parameters.
    rig.clock.advance(Duration::from_secs(60));
    assert_eq!(
        rig.restored(&stored, r#"`${r.session.id} ${r.session.state}`"#),
        format!("{id} IMPORT_SELECTING_OVF_PARAMS")
    );
}

#[test]
fn a_huawei_sms_target_and_its_task_are_read_again() {
    let rig = Rig::new();
    rig.lab_post(
        "huawei_sms",
        "/_lab/config",
        json!({"action_lag_seconds": 0}),
    );
    let added = rig.lab_post("huawei_sms", "/_lab/tasks", json!({"name": "keep-web01"}));
    let id = added["id"].as_str().unwrap();
    let stored =
        rig.stored(r#"let s = huawei_sms("huawei_sms"); #{ sms: s, task: s.task("keep-web01") }"#);
    assert_eq!(
        stored,
        json!({
            "sms": {"$handle": "HuaweiSms", "target": "huawei_sms"},
            "task": {"$handle": "SmsTask", "target": "huawei_sms", "id": id},
        })
    );
    rig.run(&format!(
        r#"huawei_sms("huawei_sms").task("{id}").start();"#
    ));
    assert_eq!(
        rig.restored(&stored, r#"`${r.sms.name} ${r.task.name} ${r.task.state}`"#),
        "huawei_sms keep-web01 RUNNING"
    );
}

#[test]
fn an_echo_target_and_its_job_are_read_again() {
    let rig = Rig::new();
    let stored = rig.stored(r#"let e = echo("echo"); #{ echo: e, job: e.start("copy", 30) }"#);
    assert_eq!(
        stored,
        json!({
            "echo": {"$handle": "Echo", "target": "echo"},
            "job": {"$handle": "EchoJob", "target": "echo", "id": "job-1"},
        })
    );
    rig.run(r#"echo("echo").start("copy", 30).cancel();"#);
    assert_eq!(
        rig.restored(&stored, r#"`${r.echo.name} ${r.job.id} ${r.job.state}`"#),
        "echo job-1 Cancelled"
    );
}

#[test]
fn a_target_gone_from_the_target_file_is_named() {
    let rig = Rig::new();
    let stored = json!({"$handle": "ImportSession", "target": "array9", "id": "9a1c"});
    let err = from_stored(&rig.host(), &stored).unwrap_err();
    assert_eq!(
        err.message,
        "re-reading the recorded `ImportSession` `9a1c` of target `array9`: no powerstore \
         target `array9` in `lab.toml`"
    );
}

#[test]
fn two_references_to_one_job_come_back_as_copies_of_one_handle() {
    let rig = Rig::new();
    let stored = rig.stored(r#"let j = echo("echo").start("copy", 30); [j, j]"#);
    assert_eq!(stored[0], stored[1]);
    // A refresh through one copy shows through the other, as in the run that stored them.
    assert_eq!(
        rig.restored(&stored, r#"r[0].cancel(); `${r[1].state}`"#),
        "Cancelled"
    );
}

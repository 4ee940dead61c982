//! The simulator through its routers: the §1.5 table in both encodings, both auth
//! modes, sessions, privileges, progress on the lab clock and the control routes; and
//! the vCenter clients the OVF tests share, of either listener in either encoding.

use std::time::Duration;

use serde_json::{Value, json};

use axum::Router;

use crate::clock::Clock;
use crate::http::lab::estate::{Estate, Scenario};
use crate::http::lab::testing::{PASSWORD, TestLab, send_to};
use crate::lab::testing::seeded_lab;

pub(super) use crate::http::lab::testing::{Answer, lab_state};

use super::{
    APPLIANCE_USER, LabState, PROXY_USER, Port, VIEWER_USER, appliance_router, proxy_router,
};

/// The outcome of one cell: a new status or an error kind.
#[derive(Clone, Copy, Debug)]
enum Cell {
    To(&'static str),
    Err(&'static str),
}

const NOT_ALLOWED: Cell = Cell::Err("not_allowed_in_current_state");
const ALREADY: Cell = Cell::Err("already_in_desired_state");

/// (seed, start, pause, resume, cancel), from vendor-apis.md §1.5.
fn table() -> Vec<(Value, [Cell; 4])> {
    vec![
        (
            json!({"status": "PENDING"}),
            [Cell::To("RUNNING"), NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED],
        ),
        (
            json!({"status": "RUNNING", "completed": 20}),
            [ALREADY, Cell::To("BLOCKED"), ALREADY, Cell::To("FAILED")],
        ),
        (
            json!({"status": "BLOCKED", "completed": 40}),
            [
                NOT_ALLOWED,
                ALREADY,
                Cell::To("RUNNING"),
                Cell::To("FAILED"),
            ],
        ),
        (
            json!({"status": "BLOCKED", "completed": 40, "error": true}),
            [
                NOT_ALLOWED,
                ALREADY,
                Cell::To("RUNNING"),
                Cell::To("FAILED"),
            ],
        ),
        (
            json!({"status": "SUCCEEDED"}),
            [NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED],
        ),
        (
            json!({"status": "FAILED", "completed": 30}),
            [NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, ALREADY],
        ),
        (
            json!({"status": "FAILED", "completed": 30, "error": true}),
            [NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED],
        ),
    ]
}

#[tokio::test]
async fn every_cell_of_the_state_table_holds_in_both_encodings() {
    for rest in [true, false] {
        for (state, cells) in table() {
            for (action, cell) in ["start", "pause", "resume", "cancel"]
                .into_iter()
                .zip(cells)
            {
                let (lab, _clock) = lab();
                seed(&lab, &state.to_string()).await;
                let client = Client::basic(&lab, Port::Proxy, rest, PROXY_USER);
                let before = client.info().await;
                let answer = client.action(action, "").await;
                let context = format!("{state} {action} rest={rest}: {}", answer.text);
                assert_eq!(answer.content_type(), Some("application/json"), "{context}");
                let after = client.info().await;
                match cell {
                    Cell::To(status) => {
                        assert_eq!(answer.status, 200, "{context}");
                        assert_eq!(answer.text, "", "{context}");
                        assert_eq!(after["status"], status, "{context}");
                    }
                    Cell::Err(expected) => {
                        assert_eq!(answer.status, 400, "{context}");
                        assert_eq!(kind(&answer), expected, "{context}");
                        if rest {
                            let messages = &answer.body["value"]["messages"];
                            assert!(messages[0]["id"].is_string(), "{context}");
                            assert_eq!(
                                answer.body["type"],
                                format!("com.vmware.vapi.std.errors.{expected}"),
                                "{context}"
                            );
                        } else {
                            assert_eq!(
                                answer.body["error_type"],
                                expected.to_ascii_uppercase(),
                                "{context}"
                            );
                            assert_eq!(
                                answer.body["messages"][0]["args"][0], before["status"],
                                "{context}"
                            );
                        }
                        assert_eq!(after, before, "{context}");
                    }
                }
                let counts = &lab_state(&lab).await["counts"];
                let applied = matches!(cell, Cell::To(_));
                assert_eq!(counts[action].is_number(), applied, "{context}");
            }
        }
    }
}

#[tokio::test]
async fn resuming_after_cancel_says_the_upgrade_must_be_redone() {
    for rest in [true, false] {
        let (lab, _clock) = lab();
        let client = Client::basic(&lab, Port::Appliance, rest, APPLIANCE_USER);
        assert_eq!(client.action("cancel", "").await.status, 200);
        let info = client.info().await;
        assert_eq!(info["status"], "FAILED");
        assert_eq!(info["cancelable"], false);
        assert!(info["end_time"].is_string());
        let error = crate::vendors::vcenter::wire::VapiError::from_value(&info["error"]).unwrap();
        assert!(error.message().contains("canceled"), "{info}");
        let answer = client.action("resume", "").await;
        assert_eq!(answer.status, 400);
        let error = crate::vendors::vcenter::wire::VapiError::parse(&answer.text).unwrap();
        assert_eq!(
            error.message(),
            "The history import was canceled; it cannot be resumed. To import the history, \
             redo the upgrade or migration."
        );
        assert_eq!(
            kind(&client.action("cancel", "").await),
            "already_in_desired_state"
        );
    }
}

#[tokio::test]
async fn the_estates_import_waits_for_its_first_client_then_runs_eight_hours() {
    let (lab, clock) = lab();
    // Lab time passes before anyone asks: the import stays as seeded (reading the
    // lab's own state is not a client).
    clock.advance(Duration::from_secs(10 * 3600));
    assert_eq!(
        lab_state(&lab).await["history"]["progress"]["completed"],
        10
    );
    let client = Client::basic(&lab, Port::Proxy, false, PROXY_USER);
    let info = client.info().await;
    assert_eq!(info["status"], "RUNNING");
    assert_eq!(info["cancelable"], true);
    assert_eq!(info["progress"]["completed"], 10);
    assert_eq!(info["progress"]["total"], 100);
    // First read at 10:00 lab time, 10% done at 8 h for 100%: started 48 min before.
    assert_eq!(info["start_time"], "2025-03-01T09:12:00.000Z");
    assert_eq!(
        info["service"],
        "com.vmware.vcenter.deployment.import_history"
    );
    assert_eq!(
        info["description"]["id"],
        "vcenter.deployment.history.import"
    );
    assert!(info.get("end_time").is_none());
    clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(client.info().await["progress"]["completed"], 35);
    // Paused progress stays where it was.
    assert_eq!(client.action("pause", "").await.status, 200);
    clock.advance(Duration::from_secs(24 * 3600));
    let paused = client.info().await;
    assert_eq!(paused["status"], "BLOCKED");
    assert_eq!(paused["progress"]["completed"], 35);
    assert_eq!(paused["cancelable"], true);
    assert_eq!(client.action("resume", "").await.status, 200);
    clock.advance(Duration::from_secs(5 * 3600));
    assert_eq!(client.info().await["progress"]["completed"], 97);
    clock.advance(Duration::from_secs(3600));
    let done = client.info().await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["cancelable"], false);
    assert_eq!(done["progress"]["completed"], 100);
    // 65% left at the resume (day 2, 12:00) took 5 h 12 min.
    assert_eq!(done["end_time"], "2025-03-02T17:12:00.000Z");
}

#[tokio::test]
async fn acting_on_the_import_first_starts_its_clock_too() {
    let (lab, clock) = lab();
    clock.advance(Duration::from_secs(3600));
    let client = Client::basic(&lab, Port::Appliance, true, APPLIANCE_USER);
    assert_eq!(client.action("pause", "").await.status, 200);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(client.action("resume", "").await.status, 200);
    clock.advance(Duration::from_secs(48 * 60));
    assert_eq!(client.info().await["progress"]["completed"], 20);
}

/// The import `info` shows is BLOCKED on an error, `completed` steps done.
#[track_caller]
fn blocked_at(info: &Value, completed: u64) {
    assert_eq!(info["status"], "BLOCKED");
    assert_eq!(info["progress"]["completed"], completed);
}

#[tokio::test]
async fn the_rough_estates_import_is_found_blocked_on_an_error() {
    let (lab, clock) = estate_lab(&Estate::new(Scenario::Rough, 12));
    let client = Client::basic(&lab, Port::Proxy, false, PROXY_USER);
    clock.advance(Duration::from_secs(3600));
    let blocked = client.info().await;
    blocked_at(&blocked, 10);
    assert_eq!(
        blocked["progress"]["message"]["default_message"],
        "The history import stopped on an error; fix the cause, then resume it."
    );
    assert_eq!(
        blocked["result"]["errors"][0]["message"]["default_message"],
        "Importing the historical data failed on an error."
    );
    assert_eq!(
        blocked["result"]["errors"][0]["resolution"]["default_message"],
        "Fix the cause (for example free space in the database), then resume the import."
    );
    // Resumed once the cause is fixed, it runs to the end.
    assert_eq!(client.action("resume", "").await.status, 200);
    clock.advance(Duration::from_secs(7 * 3600));
    assert_eq!(client.info().await["status"], "RUNNING");
    clock.advance(Duration::from_secs(13 * 60));
    assert_eq!(client.info().await["status"], "SUCCEEDED");
}

#[tokio::test]
async fn a_running_import_stops_blocked_on_a_seeded_error_and_resumes() {
    let (lab, clock) = lab();
    seed(
        &lab,
        r#"{"status": "RUNNING", "completed": 0, "block_at": 50}"#,
    )
    .await;
    let client = Client::basic(&lab, Port::Proxy, true, PROXY_USER);
    clock.advance(Duration::from_secs(45));
    let info = client.info().await;
    blocked_at(&info, 50);
    assert_eq!(
        info["result"]["errors"][0]["id"],
        "vcenter.deployment.history.import.error"
    );
    assert_eq!(client.action("resume", "").await.status, 200);
    clock.advance(Duration::from_secs(30));
    assert_eq!(client.info().await["status"], "SUCCEEDED");
}

#[tokio::test]
async fn start_takes_a_spec_in_either_encoding_or_the_defaults() {
    let cases = [
        (
            true,
            r#"{"spec": {"name": "n1", "description": "d1"}}"#,
            "n1",
            "d1",
        ),
        (
            true,
            "{}",
            "vcenter.deployment.history.import",
            "vCenter Server history import",
        ),
        (false, r#"{"name": "n2", "description": "d2"}"#, "n2", "d2"),
        (
            false,
            "",
            "vcenter.deployment.history.import",
            "vCenter Server history import",
        ),
    ];
    for (rest, body, name, description) in cases {
        let (lab, _clock) = lab();
        seed(&lab, r#"{"status": "PENDING"}"#).await;
        let client = Client::basic(&lab, Port::Proxy, rest, PROXY_USER);
        let pending = client.info().await;
        for field in crate::vendors::vcenter::wire::tests::REQUIRED {
            assert!(pending.get(field).is_some(), "{field}: {pending}");
        }
        assert!(pending.get("progress").is_none());
        let answer = client.action("start", body).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let info = client.info().await;
        assert_eq!(info["description"]["id"], name);
        assert_eq!(info["description"]["default_message"], description);
        assert_eq!(info["user"], PROXY_USER);
        assert_eq!(info["start_time"], "2025-03-01T00:00:00.000Z");
        assert_eq!(info["progress"]["completed"], 0);
    }
    let (lab, _clock) = lab();
    seed(&lab, r#"{"status": "PENDING"}"#).await;
    let client = Client::basic(&lab, Port::Proxy, true, PROXY_USER);
    let answer = client.action("start", "[1]").await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["type"],
        "com.vmware.vapi.std.errors.invalid_argument"
    );
    let bogus = client.action("bogus", "").await;
    assert_eq!(bogus.status, 400);
    assert_eq!(
        bogus.body["type"],
        "com.vmware.vapi.std.errors.invalid_argument"
    );
}

#[tokio::test]
async fn sessions_work_in_both_encodings_and_expire_when_idle() {
    let (lab, clock) = lab();
    for (port, user) in [(Port::Appliance, APPLIANCE_USER), (Port::Proxy, PROXY_USER)] {
        for rest in [true, false] {
            let client = Client::session(&lab, port, rest, user).await;
            assert_eq!(client.info().await["status"], "RUNNING");
        }
    }
    let api = Client::session(&lab, Port::Proxy, false, PROXY_USER).await;
    let who = api.call("GET", "/api/session", "").await;
    assert_eq!(who.status, 200, "{}", who.text);
    assert_eq!(who.body["user"], PROXY_USER);
    // Used within 30 minutes it stays; 30 idle minutes end it.
    clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(api.call("GET", "/api/session", "").await.status, 200);
    clock.advance(Duration::from_secs(30 * 60));
    let expired = api.call("GET", "/api/vcenter/deployment/history", "").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.body["error_type"], "UNAUTHENTICATED");
    let rest = Client::session(&lab, Port::Proxy, true, PROXY_USER).await;
    assert_eq!(lab_state(&lab).await["active_sessions"], 1);
    let answer = send(&lab, Port::Proxy, "POST", "/_lab/expire_sessions", &[], "").await;
    assert_eq!(answer.body["expired"], 1);
    let gone = rest
        .call("GET", "/rest/vcenter/deployment/history", "")
        .await;
    assert_eq!(gone.status, 401);
    assert_eq!(
        gone.body["type"],
        "com.vmware.vapi.std.errors.unauthenticated"
    );
    assert_eq!(lab_state(&lab).await["logins"], 6);
}

#[tokio::test]
async fn logout_ends_the_session_in_both_encodings() {
    let (lab, _clock) = lab();
    for (rest, status) in [(true, 200), (false, 204)] {
        let client = Client::session(&lab, Port::Proxy, rest, PROXY_USER).await;
        let path = if rest {
            "/rest/com/vmware/cis/session"
        } else {
            "/api/session"
        };
        assert_eq!(client.call("DELETE", path, "").await.status, status);
        assert_eq!(
            client.call("GET", client.history_path(), "").await.status,
            401
        );
    }
}

#[tokio::test]
async fn each_listener_accepts_its_own_users_and_sessions() {
    let (lab, _clock) = lab();
    let path = "/api/vcenter/deployment/history";
    let root = basic(APPLIANCE_USER);
    let admin = basic(PROXY_USER);
    let on = |port, auth: &str| {
        let lab = lab.clone();
        let auth = auth.to_owned();
        async move {
            send(&lab, port, "GET", path, &[("authorization", &auth)], "")
                .await
                .status
        }
    };
    assert_eq!(on(Port::Appliance, &root).await, 200);
    assert_eq!(on(Port::Proxy, &root).await, 401);
    assert_eq!(on(Port::Appliance, &admin).await, 401);
    assert_eq!(on(Port::Proxy, &admin).await, 200);
    let wrong = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "root:nope")
    );
    assert_eq!(on(Port::Appliance, &wrong).await, 401);
    let none = send(
        &lab,
        Port::Appliance,
        "GET",
        "/rest/vcenter/deployment/history",
        &[],
        "",
    )
    .await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.body["type"],
        "com.vmware.vapi.std.errors.unauthenticated"
    );
    // A proxy session is no session on the appliance port.
    let session = Client::session(&lab, Port::Proxy, false, PROXY_USER).await;
    let Auth::Session(id) = session.auth.clone() else {
        unreachable!()
    };
    let answer = send(
        &lab,
        Port::Appliance,
        "GET",
        path,
        &[("vmware-api-session-id", &id)],
        "",
    )
    .await;
    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn a_user_who_is_not_a_super_administrator_gets_403() {
    let (lab, _clock) = lab();
    for rest in [true, false] {
        let viewer = Client::session(&lab, Port::Proxy, rest, VIEWER_USER).await;
        let get = viewer.call("GET", viewer.history_path(), "").await;
        assert_eq!(get.status, 403, "{}", get.text);
        assert_eq!(kind(&get), "unauthorized");
        let pause = viewer.action("pause", "").await;
        assert_eq!(pause.status, 403);
        assert!(pause.text.contains("super administrator"), "{}", pause.text);
    }
    assert_eq!(lab_state(&lab).await["history"]["status"], "RUNNING");
}

#[tokio::test]
async fn the_control_routes_seed_report_and_fault() {
    let (lab, _clock) = lab();
    let info = seed(
        &lab,
        r#"{"status": "BLOCKED", "completed": 40, "total": 100, "error": false}"#,
    )
    .await;
    assert_eq!(info["status"], "BLOCKED");
    assert_eq!(info["progress"]["completed"], 40);
    assert_eq!(info["start_time"], "2025-02-28T23:59:36.000Z");
    let bad = send(
        &lab,
        Port::Proxy,
        "POST",
        "/_lab/history",
        &[],
        r#"{"status": "BLOCKED", "completed": 101}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
    // Both listeners see the one import.
    let root = Client::basic(&lab, Port::Appliance, true, APPLIANCE_USER);
    assert_eq!(root.action("resume", "").await.status, 200);
    let state = lab_state(&lab).await;
    assert_eq!(state["history"]["status"], "RUNNING");
    assert_eq!(state["counts"]["resume"], 1);
    assert_eq!(state["mutations"][0]["operation"], "resume");
    let fault = r#"{"status": 503, "path": "/rest/vcenter"}"#;
    assert_eq!(
        send(&lab, Port::Proxy, "POST", "/_lab/faults", &[], fault)
            .await
            .status,
        200
    );
    let answer = root.call("GET", root.history_path(), "").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.content_type(), Some("application/json"));
    assert_eq!(kind(&answer), "error");
    assert_eq!(root.info().await["status"], "RUNNING");
    let missing = root.call("GET", "/rest/vcenter/nothing", "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["type"], "com.vmware.vapi.std.errors.not_found");
}

/// The reverse proxy, where the lab's own routes of the tests are asked.
impl TestLab for LabState {
    const ROUTER: fn(Self) -> Router = proxy_router;
}

/// A lab seeded with 7 on the tests' manual clock, with the default estate; password
/// `secret`.
pub(super) fn lab() -> (LabState, Clock) {
    estate_lab(&Estate::default())
}

/// A lab seeded with 7 on the tests' manual clock, serving `estate`.
pub(super) fn estate_lab(estate: &Estate) -> (LabState, Clock) {
    seeded_lab(estate, LabState::new)
}

/// Sends one request to the listener of `port`.
pub(super) async fn send(
    lab: &LabState,
    port: Port,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let router = match port {
        Port::Appliance => appliance_router(lab.clone()),
        Port::Proxy => proxy_router(lab.clone()),
    };
    send_to(router, method, uri, headers, body).await
}

/// `Basic <user>:secret`.
pub(super) fn basic(user: &str) -> String {
    crate::http::lab::testing::basic(user, PASSWORD)
}

/// How a test client authenticates.
#[derive(Clone, Debug)]
pub(super) enum Auth {
    Basic(String),
    Session(String),
}

/// A client of one listener in one encoding.
pub(super) struct Client {
    pub(super) lab: LabState,
    pub(super) port: Port,
    pub(super) rest: bool,
    pub(super) auth: Auth,
}

impl Client {
    /// Basic credentials of `user` on every call.
    pub(super) fn basic(lab: &LabState, port: Port, rest: bool, user: &str) -> Self {
        Self {
            lab: lab.clone(),
            port,
            rest,
            auth: Auth::Basic(basic(user)),
        }
    }

    /// A session of `user`, from the login of the client's encoding.
    pub(super) async fn session(lab: &LabState, port: Port, rest: bool, user: &str) -> Self {
        let auth = basic(user);
        let path = if rest {
            "/rest/com/vmware/cis/session"
        } else {
            "/api/session"
        };
        let answer = send(lab, port, "POST", path, &[("authorization", &auth)], "").await;
        let id = if rest {
            assert_eq!(answer.status, 200, "{}", answer.text);
            answer.body["value"].as_str().unwrap().to_owned()
        } else {
            assert_eq!(answer.status, 201, "{}", answer.text);
            answer.body.as_str().unwrap().to_owned()
        };
        Self {
            lab: lab.clone(),
            port,
            rest,
            auth: Auth::Session(id),
        }
    }

    pub(super) fn history_path(&self) -> &'static str {
        if self.rest {
            "/rest/vcenter/deployment/history"
        } else {
            "/api/vcenter/deployment/history"
        }
    }

    pub(super) async fn call(&self, method: &str, uri: &str, body: &str) -> Answer {
        let header = match &self.auth {
            Auth::Basic(value) => ("authorization", value.as_str()),
            Auth::Session(id) => ("vmware-api-session-id", id.as_str()),
        };
        let headers = [header, ("content-type", "application/json")];
        send(&self.lab, self.port, method, uri, &headers, body).await
    }

    /// The Info, unwrapped from `value` under `/rest`.
    pub(super) async fn info(&self) -> Value {
        let answer = self.call("GET", self.history_path(), "").await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        if self.rest {
            answer.body["value"].clone()
        } else {
            answer.body
        }
    }

    pub(super) async fn action(&self, action: &str, body: &str) -> Answer {
        let uri = format!("{}?action={action}", self.history_path());
        self.call("POST", &uri, body).await
    }
}

/// `POST /_lab/history` with `seed`.
pub(super) async fn seed(lab: &LabState, seed: &str) -> Value {
    let answer = send(lab, Port::Proxy, "POST", "/_lab/history", &[], seed).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body
}

/// The error kind of an error body in either encoding.
pub(super) fn kind(answer: &Answer) -> String {
    crate::vendors::vcenter::wire::VapiError::parse(&answer.text)
        .and_then(|e| e.kind)
        .map(|k| k.as_snake().to_owned())
        .unwrap_or_else(|| answer.text.clone())
}

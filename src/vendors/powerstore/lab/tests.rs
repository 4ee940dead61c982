//! In-process tests of the simulator through its router, and the PowerStore login
//! flow the other modules' tests use: a client holding the cookie and the token.

use std::time::Duration;

use axum::Router;
use serde_json::json;

use crate::clock::Clock;
use crate::http::lab::estate::{Estate, Scenario};
use crate::http::lab::testing::TestLab;
use crate::lab::testing::seeded_lab;
use crate::vendors::powerstore::wire::codes;

pub(super) use crate::http::lab::testing::{Answer, send};

use super::{LabState, router};

impl TestLab for LabState {
    const ROUTER: fn(Self) -> Router = router;
}

/// A lab seeded with 7 on the tests' manual clock, with no wave estate; user `admin`,
/// password `secret`.
pub(super) fn lab() -> (LabState, Clock) {
    lab_with(&Estate::new(Scenario::Happy, 0))
}

/// [`lab`] with the sessions of `estate` too.
pub(super) fn lab_with(estate: &Estate) -> (LabState, Clock) {
    seeded_lab(estate, |setup| LabState::new(setup, "admin"))
}

/// The `message_l10n` of an error body.
pub(super) fn message(answer: &Answer) -> &str {
    answer.body["messages"][0]["message_l10n"]
        .as_str()
        .unwrap_or_default()
}

/// `Basic admin:secret`.
pub(super) const BASIC: &str = "Basic YWRtaW46c2VjcmV0";

/// A logged-in client: sends the cookie on every call and the token on mutations.
pub(super) struct Client {
    pub(super) lab: LabState,
    pub(super) cookie: String,
    pub(super) token: String,
}

impl Client {
    /// `admin` logged in to a fresh [`lab`].
    pub(super) async fn fresh() -> Self {
        Self::login(&lab().0).await
    }

    pub(super) async fn login(lab: &LabState) -> Self {
        let answer = send(
            lab,
            "GET",
            "/api/rest/login_session",
            &[("authorization", BASIC)],
            "",
        )
        .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let set_cookie = answer.header("set-cookie").unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let token = answer.header("dell-emc-token").unwrap().to_owned();
        Self {
            lab: lab.clone(),
            cookie,
            token,
        }
    }

    pub(super) async fn get(&self, uri: &str) -> Answer {
        send(&self.lab, "GET", uri, &[("cookie", &self.cookie)], "").await
    }

    /// A mutation with the token.
    pub(super) async fn call(&self, method: &str, uri: &str, body: &str) -> Answer {
        let headers = [
            ("cookie", self.cookie.as_str()),
            ("dell-emc-token", self.token.as_str()),
        ];
        send(&self.lab, method, uri, &headers, body).await
    }

    pub(super) async fn post(&self, uri: &str, body: &str) -> Answer {
        self.call("POST", uri, body).await
    }

    /// Adds a session through `/_lab/import_sessions`; its id.
    pub(super) async fn add(&self, spec: &str) -> String {
        let answer = send(&self.lab, "POST", "/_lab/import_sessions", &[], spec).await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        answer.body["id"].as_str().unwrap().to_owned()
    }

    /// The state of session `key` (an id or `name:…`).
    pub(super) async fn state(&self, key: &str) -> String {
        let answer = self
            .get(&format!("/api/rest/import_session/{key}?select=state"))
            .await;
        answer.body["state"].as_str().unwrap_or("<none>").to_owned()
    }
}

const SESSIONS: &str = "/api/rest/import_session";

#[tokio::test]
async fn injected_faults_answer_before_the_handler_in_the_vendor_body() {
    let (state, _) = lab();
    let c = Client::login(&state).await;
    let rule = r#"{"status": 503, "count": 1, "method": "POST", "path": "/api/rest/import_session", "retry_after": 2}"#;
    assert_eq!(
        send(&state, "POST", "/_lab/faults", &[], rule).await.status,
        200
    );
    let cutover = format!("{SESSIONS}/name:wave1-lun03/cutover");
    let faulted = c.post(&cutover, "").await;
    assert_eq!(
        (faulted.status, faulted.header("retry-after")),
        (503, Some("2"))
    );
    assert_eq!(faulted.body["messages"][0]["code"], codes::SERVER_ERROR);
    assert_eq!(c.state("name:wave1-lun03").await, "Ready_For_Cutover");
    assert!(state.mutations().entries().is_empty());
    assert_eq!(c.post(&cutover, "").await.status, 204);
    assert_eq!(state.mutations().count("cutover"), 1);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_error_bodies() {
    let c = Client::fresh().await;
    let missing = c.get("/api/rest/volume").await;
    assert_eq!(
        (missing.status, message(&missing)),
        (404, "The resource /api/rest/volume does not exist.")
    );
    let method = c.call("PUT", SESSIONS, "").await;
    assert_eq!(method.status, 405);
    assert_eq!(method.header("content-type"), Some("application/json"));
    let systems = c
        .get("/api/rest/remote_system?select=name,type&order=name.desc")
        .await;
    assert_eq!(
        systems.body,
        json!([{"name": "vnx-02", "type": "VNX"}, {"name": "unity-01", "type": "Unity"}])
    );
    let one = c
        .get("/api/rest/remote_system/name:vnx-02?select=serial_number")
        .await;
    assert_eq!(one.body, json!({"serial_number": "CKM00184700502"}));
}

#[tokio::test]
async fn lab_time_drives_copies_to_their_ends() {
    let (state, clock) = lab();
    let c = Client::login(&state).await;
    let auto = c.add(r#"{"name": "auto", "state": "Copy_In_Progress", "progress_percentage": 90, "automatic_cutover": true}"#).await;
    let select = "select=state,progress_percentage,current_transfer_rate,error";
    // The seeded sessions wait for their first read; this list is it.
    clock.advance(Duration::from_secs(600));
    assert_eq!(c.get(SESSIONS).await.status, 200);
    clock.advance(Duration::from_secs(4));
    let failed = c
        .get(&format!("{SESSIONS}/name:wave1-lun05?{select}"))
        .await
        .body;
    assert_eq!(
        (failed["state"].as_str(), &failed["progress_percentage"]),
        (Some("Failed"), &json!(null))
    );
    assert_eq!(failed["error"]["code"], codes::COPY_FAILED);
    assert_eq!(failed["error"]["arguments"], json!(["sv_105", "50"]));
    clock.advance(Duration::from_secs(8));
    assert_eq!(c.state("name:wave1-lun01").await, "Ready_For_Cutover");
    assert_eq!(c.state(&auto).await, "Import_Completed");
    let stalled = c
        .get(&format!("{SESSIONS}/name:wave1-lun04?{select}"))
        .await
        .body;
    assert_eq!(
        stalled,
        json!({"state": "Copy_In_Progress", "progress_percentage": 60,
        "current_transfer_rate": 0, "error": null})
    );
    assert_eq!(c.state("name:wave2-lun01").await, "Scheduled");
    clock.advance(Duration::from_secs(6 * 3600 + 30));
    let c = Client::login(&state).await;
    assert_eq!(c.state("name:wave2-lun01").await, "Ready_For_Cutover");
    assert_eq!(c.state("name:wave2-cg01").await, "Import_Completed");
}

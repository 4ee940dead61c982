//! Helpers for the simulator's unit tests: a seeded lab on a manual clock, and a client
//! that logs in and sends requests through the router in-process.

use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::config::Secret;

use super::{LabState, router};

/// 2025-03-01T00:00:00Z, where every test lab starts.
pub(super) const START: u64 = 1_740_787_200;

/// A lab seeded with 7 on a manual clock at [`START`]; user `admin`, password `secret`.
pub(super) fn lab() -> (LabState, Clock) {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(START));
    (
        LabState::new(7, clock.clone(), "admin", Secret::new("secret")),
        clock,
    )
}

pub(super) use crate::http::lab::testing::Answer;

/// The `message_l10n` of an error body.
pub(super) fn message(answer: &Answer) -> &str {
    answer.body["messages"][0]["message_l10n"]
        .as_str()
        .unwrap_or_default()
}

/// Sends one request; `headers` as `(name, value)` pairs.
pub(super) async fn send(
    lab: &LabState,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    crate::http::lab::testing::send(router(lab.clone()), method, uri, headers, body).await
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

//! Helpers for the simulator's unit tests: a lab on a manual clock, and requests sent
//! through either router in-process.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::clock::Clock;
use crate::config::Secret;

use super::{LabState, Port, appliance_router, proxy_router};

/// 2025-03-01T00:00:00Z, where every test lab starts.
pub(super) const START: u64 = 1_740_787_200;

/// A lab seeded with 7 on a manual clock at [`START`]; password `secret`.
pub(super) fn lab() -> (LabState, Clock) {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(START));
    (
        LabState::new(7, clock.clone(), Secret::new("secret")),
        clock,
    )
}

pub(super) use crate::http::lab::testing::Answer;

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
    crate::http::lab::testing::send(router, method, uri, headers, body).await
}

/// `Basic <user>:secret`.
pub(super) fn basic(user: &str) -> String {
    crate::http::lab::testing::basic(user, "secret")
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

/// `GET /_lab/state`.
pub(super) async fn lab_state(lab: &LabState) -> Value {
    send(lab, Port::Proxy, "GET", "/_lab/state", &[], "")
        .await
        .body
}

/// The error kind of an error body in either encoding.
pub(super) fn kind(answer: &Answer) -> String {
    crate::vendors::vcenter::wire::VapiError::parse(&answer.text)
        .and_then(|e| e.kind)
        .map(|k| k.as_snake().to_owned())
        .unwrap_or_else(|| answer.text.clone())
}

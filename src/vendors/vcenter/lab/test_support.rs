//! Helpers for the simulator's unit tests: a lab on a manual clock, and requests sent
//! through either router in-process.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

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

/// What came back; `body` is JSON when it parses, else `Null`.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) content_type: Option<String>,
    pub(super) body: Value,
    pub(super) text: String,
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
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::from(body.to_owned())).unwrap();
    let router = match port {
        Port::Appliance => appliance_router(lab.clone()),
        Port::Proxy => proxy_router(lab.clone()),
    };
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        body,
        text,
    }
}

/// `Basic <user>:secret`.
pub(super) fn basic(user: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:secret"));
    format!("Basic {encoded}")
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

//! The in-process test client every simulator's unit tests share: a lab on a manual
//! clock at one start time, one request sent through its router (axum's `oneshot`, no
//! socket) and what came back, `/_lab/state`, Basic credentials. A vendor implements
//! [`TestLab`] for its state; what stays in the vendor's tests is its own login flow.

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request};
use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::clock::Clock;

/// 2025-03-01T00:00:00Z, where every test lab starts.
pub const START: u64 = 1_740_787_200;
/// The lab password (and secret key) of every test lab.
pub const PASSWORD: &str = "secret";

/// A lab made by `make` on a manual clock at [`START`], and that clock.
pub fn seeded<L>(make: impl FnOnce(Clock) -> L) -> (L, Clock) {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(START));
    (make(clock.clone()), clock)
}

/// Sends `body` to `method url` of a served lab's own `/_lab/` routes over loopback HTTP,
/// on `runtime`, and answers the JSON it returned; for tests that run a script against
/// a lab listener and set or read the lab between its steps.
pub fn lab_call(
    runtime: &tokio::runtime::Runtime,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Value {
    runtime.block_on(async move {
        #[allow(clippy::disallowed_methods, reason = "tests drive the lab directly")]
        let mut request = reqwest::Client::new().request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    })
}

/// A simulator under test: the router its requests go through.
pub trait TestLab: Clone {
    /// The vendor's router over a lab's state.
    const ROUTER: fn(Self) -> Router;

    /// A fresh router over this lab's state.
    fn router(&self) -> Router {
        Self::ROUTER(self.clone())
    }

    /// Headers every request carries ahead of its own, as `(name, value)` pairs.
    fn default_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// `POST /_lab/config` with `body` to `lab`: how a test changes the lab's settings.
pub async fn configure<L: TestLab>(lab: &L, body: &str) -> Answer {
    send(lab, "POST", "/_lab/config", &[], body).await
}

/// Sends one request to `lab`; `headers` as `(name, value)` pairs.
pub async fn send<L: TestLab>(
    lab: &L,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut all = lab.default_headers().to_vec();
    all.extend_from_slice(headers);
    send_to(lab.router(), method, uri, &all, body).await
}

/// `GET /_lab/state` of `lab`.
pub async fn lab_state<L: TestLab>(lab: &L) -> Value {
    let answer = send(lab, "GET", "/_lab/state", &[], "").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body
}

/// What came back; `body` is JSON when it parses, else `Null`.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The response's `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
}

/// Sends one request through `router`; `headers` as `(name, value)` pairs.
pub async fn send_to(
    router: Router,
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
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

/// The value of a Basic `Authorization` header for `user:password`.
pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

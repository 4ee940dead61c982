//! Helpers for the simulator's unit tests: a seeded lab on a manual clock, an IAM login,
//! and requests with a token or signed as the SDKs sign them, through the router
//! in-process.

use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::config::Secret;
use crate::vendors::huawei_sms::signer::{self, Signable};

use super::{LabState, router};

pub(super) use crate::http::lab::testing::Answer;

/// 2025-03-01T00:00:00Z, where every test lab starts.
pub(super) const START: u64 = 1_740_787_200;
/// The lab password and secret key of the tests.
pub(super) const SECRET: &str = "secret";

/// A lab seeded with 7 on a manual clock at [`START`].
pub(super) fn lab() -> (LabState, Clock) {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(START));
    (LabState::new(7, clock.clone(), Secret::new(SECRET)), clock)
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

/// The IAM login body for `password`.
pub(super) fn login_body(password: &str) -> String {
    serde_json::to_string(
        &crate::vendors::huawei_sms::iam_wire::TokenRequest::password(
            super::LAB_USER,
            password,
            super::LAB_DOMAIN,
            super::LAB_PROJECT_ID,
        ),
    )
    .unwrap()
}

/// Logs in and answers the token.
pub(super) async fn token(lab: &LabState) -> String {
    let answer = send(lab, "POST", "/iam/v3/auth/tokens", &[], &login_body(SECRET)).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.header("x-subject-token").unwrap().to_owned()
}

/// A request with an IAM token.
pub(super) async fn with_token(
    lab: &LabState,
    token: &str,
    method: &str,
    uri: &str,
    body: &str,
) -> Answer {
    send(lab, method, uri, &[("x-auth-token", token)], body).await
}

/// A request signed with `secret` and dated `skew` away from now (negative: behind).
pub(super) async fn signed(
    lab: &LabState,
    method: &str,
    uri: &str,
    body: &str,
    secret: &str,
    skew_seconds: i64,
) -> Answer {
    let now = SystemTime::now();
    let shift = Duration::from_secs(skew_seconds.unsigned_abs());
    let at = if skew_seconds >= 0 {
        now + shift
    } else {
        now - shift
    };
    let date = signer::sdk_date(at);
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("host".to_owned(), "sms.lab".to_owned()),
        ("x-project-id".to_owned(), super::LAB_PROJECT_ID.to_owned()),
        ("x-sdk-date".to_owned(), date.clone()),
    ];
    let pairs = signer::parse_query(query);
    let request = Signable {
        method,
        path,
        query: &pairs,
        headers: &headers,
        body: body.as_bytes(),
    };
    let (signature, names) = signer::sign(&request, &date, secret.as_bytes());
    let authorization = signer::authorization(super::LAB_ACCESS_KEY, &names, &signature);
    let mut all: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("authorization", &authorization));
    send(lab, method, uri, &all, body).await
}

/// The id of the seeded task `name`.
pub(super) async fn task_id(lab: &LabState, token: &str, name: &str) -> String {
    let list = with_token(lab, token, "GET", &format!("/v3/tasks?name={name}"), "").await;
    list.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

//! The API gateway in front of SMS (vendor-apis.md §5.2, §5.7): an optional token bucket
//! answering 429 `APIGW.0308`, then authentication by IAM token or by `SDK-HMAC-SHA256`
//! signature, recomputed here exactly as §5.2 B describes. Refusals are the gateway's
//! 401 bodies; every answer carries an `X-Request-Id`.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::vendors::huawei_sms::signer::{self, DATE_HEADER, MAX_SKEW, Signable};
use crate::vendors::huawei_sms::wire::{
    AUTH_TOKEN_HEADER, PROJECT_ID_HEADER, REQUEST_ID_HEADER, codes,
};

use super::error::LabError;
use super::state::{LAB_ACCESS_KEY, LAB_PROJECT_ID, LabState};

/// Largest body the gateway reads to check a signature.
const MAX_BODY: usize = 1 << 20;
const AUTH_PREFIX: &str = "Incorrect IAM authentication information";

/// The request id of the request being answered, set by [`stamp`].
#[derive(Clone, Debug)]
struct RequestId(String);

/// Outermost layer: gives each request an id and puts it on the answer.
pub(super) async fn stamp(
    State(lab): State<LabState>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = lab.request_id();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// In front of the SMS routes: throttling, then authentication.
pub(super) async fn require(State(lab): State<LabState>, request: Request, next: Next) -> Response {
    let id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |r| r.0.clone());
    if let Some(refused) = throttle(&lab, &id) {
        return refused.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return LabError::invalid_parameter("The request body is too large.").into_response();
    };
    let verdict = authenticate(&lab, &parts.method, &parts.uri, &parts.headers, &bytes);
    if let Err((code, message)) = verdict {
        lab.at_now().auth_refused += 1;
        return LabError::gateway(StatusCode::UNAUTHORIZED, code, message, &id).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn throttle(lab: &LabState, id: &str) -> Option<LabError> {
    let (now, mut inventory) = lab.now_and_at();
    let limit = inventory.config.rate_limit?;
    if inventory.bucket.take(limit, now) {
        return None;
    }
    inventory.throttled += 1;
    let message = format!(
        "The throttling threshold has been reached: policy user over ratelimit,limit:{},time:1 minute",
        limit.capacity
    );
    Some(LabError::gateway(
        StatusCode::TOO_MANY_REQUESTS,
        codes::THROTTLED,
        message,
        id,
    ))
}

type Refusal = (&'static str, String);

fn authenticate(
    lab: &LabState,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Refusal> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(token) = header(AUTH_TOKEN_HEADER) {
        return match lab.at_now().token_valid(token, lab.now()) {
            Some(true) => Ok(()),
            Some(false) => Err((
                codes::TOKEN_EXPIRED,
                "The token must be updated.".to_owned(),
            )),
            None => Err(refusal("decrypt token fail")),
        };
    }
    let Some(authorization) = header("authorization") else {
        return Err(refusal("x-auth-token not found"));
    };
    let auth = signer::parse_authorization(authorization)
        .ok_or_else(|| refusal("the Authorization header is not SDK-HMAC-SHA256"))?;
    if auth.access_key != LAB_ACCESS_KEY {
        return Err(refusal("access key not found"));
    }
    let date = header(DATE_HEADER)
        .filter(|_| auth.signed_headers.iter().any(|h| h == "x-sdk-date"))
        .ok_or_else(|| refusal("x-sdk-date is not signed"))?;
    let signed_at =
        signer::parse_sdk_date(date).ok_or_else(|| refusal("x-sdk-date is malformed"))?;
    let offset = lab.at_now().config.gateway_clock_offset_seconds;
    if skew(signed_at, gateway_now(offset)) > MAX_SKEW {
        return Err(refusal(
            "the request time differs from the server time by more than 15 minutes",
        ));
    }
    if header(PROJECT_ID_HEADER).is_some_and(|p| p != LAB_PROJECT_ID) {
        return Err(refusal("the project id does not match the access key"));
    }
    let mut signed = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = header(name).ok_or_else(|| refusal("verify aksk signature fail"))?;
        signed.push((name.clone(), value.to_owned()));
    }
    let query = signer::parse_query(uri.query().unwrap_or(""));
    let request = Signable {
        method: method.as_str(),
        path: uri.path(),
        query: &query,
        headers: &signed,
        body,
    };
    let (canonical, _) = signer::canonical_request(&request);
    let string_to_sign = signer::string_to_sign(date, &canonical);
    let secret = lab.credentials().secret_key.expose().as_bytes();
    if signer::verify(secret, &string_to_sign, &auth.signature) {
        Ok(())
    } else {
        Err(refusal("verify aksk signature fail"))
    }
}

fn refusal(why: &str) -> Refusal {
    (codes::GATEWAY_AUTH, format!("{AUTH_PREFIX}: {why}"))
}

/// Real time, shifted by the configured offset: signatures are dated by the wall
/// clock, whatever speed the lab's jobs run at.
fn gateway_now(offset_seconds: i64) -> SystemTime {
    let now = SystemTime::now();
    let shift = Duration::from_secs(offset_seconds.unsigned_abs());
    if offset_seconds >= 0 {
        now + shift
    } else {
        now - shift
    }
}

fn skew(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or_default()
}

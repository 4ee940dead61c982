//! Injected faults: `POST /_lab/faults` queues rules that make the next matching requests
//! fail with a chosen status before any handler sees them, in the vendor's error body,
//! or (`cut_short`) reach the handler, so a mutation is applied, and then lose its answer:
//! status 200 and half the body, and the connection closes; or (`drop_connection`) reach
//! the handler and then lose the whole answer, the connection closed before a byte of
//! it is sent; or (`hold`) get no answer until the rules are cleared.
//!
//! Tests use them to prove retries and `Retry-After` handling against every simulator alike.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Paths under this prefix drive the lab itself and are never faulted.
pub(super) const CONTROL_PREFIX: &str = "/_lab/";

/// One rule of `POST /_lab/faults`: answer `status` to the next `count` matching requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The status to answer, 400 to 599.
    pub status: u16,
    /// How many matching requests fail; the rule is gone afterwards.
    #[serde(default = "one")]
    pub count: u32,
    /// Only requests with this method (any case); any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path starts with this; any path when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Seconds to send in `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Applies the request, then sends half its answer (with `status`, 200 to 299) and
    /// closes the connection.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut_short: bool,
    /// Holds the request unanswered until `DELETE /_lab/faults`, then lets it through
    /// (`status` is then unused); tests release held requests before the lab stops.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hold: bool,
    /// Applies the request, then closes the connection without sending any of its
    /// answer (`status` is then unused): the client cannot tell whether it was applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_connection: bool,
}

fn one() -> u32 {
    1
}

impl FaultRule {
    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
        let path_ok = self.path.as_deref().is_none_or(|p| path.starts_with(p));
        method_ok && path_ok
    }
}

/// The fault rules of one listener, shared by its control routes and its middleware.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<FaultRule>>>,
    injected: Arc<AtomicU64>,
    /// Cancelled (and replaced) by `clear`, which releases the held requests.
    release: Arc<Mutex<tokio_util::sync::CancellationToken>>,
}

impl Faults {
    /// No rules yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `rule` behind the rules already waiting.
    pub fn add(&self, rule: FaultRule) -> Result<(), String> {
        // A held request is answered by its handler once released, and a dropped one not
        // at all, whatever `status` says.
        let answered = !rule.hold && !rule.drop_connection;
        if answered && rule.cut_short && !(200..=299).contains(&rule.status) {
            return Err(format!(
                "fault status {} of a cut_short rule is not a success status (200..=299)",
                rule.status
            ));
        }
        if answered && !rule.cut_short && !(400..=599).contains(&rule.status) {
            return Err(format!(
                "fault status {} is not an error status (400..=599)",
                rule.status
            ));
        }
        if rule.count == 0 {
            return Err("fault count must be at least 1".to_owned());
        }
        self.lock().push(rule);
        Ok(())
    }

    /// Drops every waiting rule and lets held requests through.
    pub fn clear(&self) {
        self.lock().clear();
        let mut release = self.release.lock().unwrap_or_else(PoisonError::into_inner);
        release.cancel();
        *release = tokio_util::sync::CancellationToken::new();
    }

    /// Ends when the held requests are released.
    fn released(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.release
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .cancelled_owned()
    }

    /// The rules still waiting, with their remaining counts.
    pub fn pending(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    /// Pending rules and faults injected so far, as each `/_lab/state` shows them.
    pub fn summary(&self) -> serde_json::Value {
        json!({ "pending": self.pending(), "injected": self.injected() })
    }

    /// How many requests were answered with a fault so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Uses up one request of the first rule matching `method` and `path`, if any.
    pub fn take(&self, method: &Method, path: &str) -> Option<FaultRule> {
        if path.starts_with(CONTROL_PREFIX) {
            return None;
        }
        let mut rules = self.lock();
        let index = rules.iter().position(|r| r.matches(method, path))?;
        let rule = rules[index].clone();
        rules[index].count -= 1;
        if rules[index].count == 0 {
            rules.remove(index);
        }
        self.injected.fetch_add(1, Ordering::Relaxed);
        Some(rule)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Builds a vendor's error body for a status.
pub(super) type ErrorBody = Arc<dyn Fn(StatusCode) -> serde_json::Value + Send + Sync>;

#[derive(Clone)]
struct FaultContext {
    faults: Faults,
    error_body: ErrorBody,
}

/// Adds `GET|POST|DELETE /_lab/faults` to a vendor's router and puts the fault check in
/// front of every route; `error_body` builds the vendor's error body for a status.
/// Behind the rules, the listener's seeded chaos ([`super::chaos`]) when the lab has one.
pub fn with_faults<F>(router: Router, faults: Faults, error_body: F) -> Router
where
    F: Fn(StatusCode) -> serde_json::Value + Send + Sync + 'static,
{
    let error_body: ErrorBody = Arc::new(error_body);
    let context = FaultContext {
        faults: faults.clone(),
        error_body: error_body.clone(),
    };
    let control = Router::new()
        .route(
            "/_lab/faults",
            get(faults_list).post(faults_add).delete(faults_clear),
        )
        .with_state(faults);
    router
        .merge(control)
        .layer(middleware::from_fn_with_state(
            error_body,
            super::chaos::weather,
        ))
        .layer(middleware::from_fn_with_state(context, inject))
}

async fn inject(State(context): State<FaultContext>, request: Request, next: Next) -> Response {
    let Some(rule) = context.faults.take(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    if rule.hold {
        context.faults.released().await;
        return next.run(request).await;
    }
    if rule.drop_connection {
        return apply_then_drop(request, next).await;
    }
    if rule.cut_short {
        let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::OK);
        return cut_short(next.run(request).await, status).await;
    }
    let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    error_answer(&context.error_body, status, rule.retry_after)
}

/// `status` in the vendor's error body, with `Retry-After: retry_after` when given; the
/// request is not applied.
pub(super) fn error_answer(
    error_body: &ErrorBody,
    status: StatusCode,
    retry_after: Option<u64>,
) -> Response {
    let mut response = (status, Json(error_body(status))).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Applies the request, then closes the connection without sending any of its answer.
pub(super) async fn apply_then_drop(request: Request, next: Next) -> Response {
    let applied = next.run(request).await;
    // The handler's answer is read to its end, so everything it does is done.
    let _ = axum::body::to_bytes(applied.into_body(), usize::MAX).await;
    dropped("lab fault: connection dropped after applying the request")
}

/// An answer that is never sent: the connection closes instead, `why` being the error the
/// server sees.
pub(super) fn dropped(why: &'static str) -> Response {
    Response::new(axum::body::Body::new(Dropped(why)))
}

/// The handler's answer with `status`, its whole length announced and half its body
/// sent, then the connection broken.
async fn cut_short(response: Response, status: StatusCode) -> Response {
    let (mut parts, body) = response.into_parts();
    let whole = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts.status = status;
    // At least one byte is announced and never sent, even for an empty answer.
    let length = whole.len().max(1);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let half = whole.slice(..whole.len() / 2);
    Response::from_parts(
        parts,
        axum::body::Body::new(HalfBody {
            half: Some(half),
            flushed: false,
            length: length as u64,
        }),
    )
}

/// A body that yields its first half and then fails, so the server drops the connection.
struct HalfBody {
    half: Option<axum::body::Bytes>,
    /// Whether the server has had its turn to send what it holds: it writes the head and
    /// the half only when the body waits, and an error before that would lose them.
    flushed: bool,
    length: u64,
}

impl http_body::Body for HalfBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(half) = self.half.take() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(half))));
        }
        if !self.flushed {
            self.flushed = true;
            context.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(Some(Err(std::io::Error::other(
            "lab fault: answer cut short",
        ))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.length)
    }
}

/// A body that fails before yielding anything: the server has written nothing of the
/// answer yet (it writes the head with the first data), so it only closes the connection.
struct Dropped(&'static str);

impl http_body::Body for Dropped {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::other(self.0))))
    }
}

async fn faults_list(State(faults): State<Faults>) -> Json<serde_json::Value> {
    Json(json!({ "faults": faults.pending(), "injected": faults.injected() }))
}

async fn faults_add(State(faults): State<Faults>, body: axum::body::Bytes) -> Response {
    let added = serde_json::from_slice::<FaultRule>(&body)
        .map_err(|err| format!("invalid fault rule: {err}"))
        .and_then(|rule| faults.add(rule));
    match added {
        Ok(()) => faults_list(State(faults)).await.into_response(),
        Err(message) => {
            (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
        }
    }
}

async fn faults_clear(State(faults): State<Faults>) -> StatusCode {
    faults.clear();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn app(faults: &Faults) -> Router {
        let routes = Router::new()
            .route(
                "/api/things",
                get(|| async { "ok" }).post(|| async { "made" }),
            )
            .route("/_lab/state", get(|| async { "state" }))
            .route("/other", post(|| async { "other" }));
        with_faults(
            routes,
            faults.clone(),
            |status| json!({ "messages": [{ "message_l10n": format!("failed with {}", status.as_u16()) }] }),
        )
    }

    async fn call(
        app: &Router,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, String, Option<String>) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap(), retry)
    }

    #[track_caller]
    fn rule(method: Option<&str>, path: Option<&str>, m: &str, p: &str, expected: bool) {
        let rule = FaultRule {
            status: 503,
            count: 1,
            method: method.map(str::to_owned),
            path: path.map(str::to_owned),
            retry_after: None,
            cut_short: false,
            hold: false,
            drop_connection: false,
        };
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        assert_eq!(rule.matches(&method, p), expected, "{m} {p}");
    }

    #[test]
    fn rules_match_by_method_and_path_prefix() {
        rule(None, None, "GET", "/anything", true);
        rule(Some("post"), None, "POST", "/x", true);
        rule(Some("POST"), None, "GET", "/x", false);
        rule(
            None,
            Some("/api/rest/import_session"),
            "GET",
            "/api/rest/import_session/1",
            true,
        );
        rule(
            None,
            Some("/api/rest/import_session"),
            "GET",
            "/api/rest/job/1",
            false,
        );
    }

    #[tokio::test]
    async fn the_next_matching_requests_fail_with_the_vendor_body() {
        let faults = Faults::new();
        let app = app(&faults);
        let added = r#"{"status": 503, "count": 2, "method": "POST", "path": "/api/things", "retry_after": 1}"#;
        assert_eq!(call(&app, "POST", "/_lab/faults", added).await.0, 200);
        assert_eq!(call(&app, "GET", "/api/things", "").await.1, "ok");
        let failed = call(&app, "POST", "/api/things", "").await;
        assert_eq!(
            failed,
            (
                503,
                r#"{"messages":[{"message_l10n":"failed with 503"}]}"#.to_owned(),
                Some("1".to_owned())
            )
        );
        assert_eq!(call(&app, "POST", "/api/things", "").await.0, 503);
        assert_eq!(call(&app, "POST", "/api/things", "").await.1, "made");
        assert_eq!(faults.injected(), 2);
        assert!(faults.pending().is_empty());
    }

    #[tokio::test]
    async fn a_dropped_connection_applies_the_request_and_loses_its_whole_answer() {
        let applied = Arc::new(AtomicU64::new(0));
        let faults = Faults::new();
        let counter = applied.clone();
        let routes = Router::new().route(
            "/api/things",
            post(move || async move {
                counter.fetch_add(1, Ordering::Relaxed);
                "made"
            }),
        );
        let app = with_faults(routes, faults.clone(), |_| json!({}));
        let rule = r#"{"status": 0, "drop_connection": true, "method": "POST"}"#;
        assert_eq!(call(&app, "POST", "/_lab/faults", rule).await.0, 200);
        let request = Request::builder()
            .method("POST")
            .uri("/api/things")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let body = response.into_body().collect().await;
        assert_eq!(
            body.unwrap_err().to_string(),
            "lab fault: connection dropped after applying the request"
        );
        assert_eq!(applied.load(Ordering::Relaxed), 1);
        assert_eq!(call(&app, "POST", "/api/things", "").await.1, "made");
        assert_eq!(applied.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn lab_paths_are_never_faulted_and_delete_clears() {
        let faults = Faults::new();
        let app = app(&faults);
        call(
            &app,
            "POST",
            "/_lab/faults",
            r#"{"status": 500, "count": 5}"#,
        )
        .await;
        assert_eq!(call(&app, "GET", "/_lab/state", "").await.1, "state");
        assert_eq!(call(&app, "DELETE", "/_lab/faults", "").await.0, 204);
        assert_eq!(call(&app, "POST", "/other", "").await.1, "other");
    }

    #[tokio::test]
    async fn bad_rules_are_refused() {
        let faults = Faults::new();
        let app = app(&faults);
        let (status, body, _) = call(&app, "POST", "/_lab/faults", r#"{"status": 200}"#).await;
        assert_eq!(status, 400);
        assert!(body.contains("not an error status"), "{body}");
        let (status, body, _) =
            call(&app, "POST", "/_lab/faults", r#"{"status": 503, "cnt": 1}"#).await;
        assert_eq!(status, 400);
        assert!(body.contains("unknown field `cnt`"), "{body}");
        assert_eq!(
            call(
                &app,
                "POST",
                "/_lab/faults",
                r#"{"status": 503, "count": 0}"#
            )
            .await
            .0,
            400
        );
    }
}

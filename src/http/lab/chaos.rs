//! Seeded chaos (`--chaos`): the weather of a migration weekend on every vendor listener.
//! Each request outside `/_lab/` draws, from the listener's own RNG (seeded by the lab
//! seed and the listener's name), whether it meets a fault and which of the spec's kinds
//! ([`ChaosKind`]): a 503 or a 429 in the vendor's error body, the connection reset
//! before the request is applied, a slow answer, the request applied and its answer lost
//! with the connection, or its answer's body truncated or malformed. The same seed gives
//! the same faults for the same requests in the same order. Every fault is recorded with
//! its kind, request and lab time, shown in `/_lab/state` and summed up at exit.
//!
//! The lab hands a listener's [`Chaos`] to its router as a request extension; the
//! middleware that [`super::with_faults`] installs for every vendor finds it there, with
//! the vendor's error body at hand, and reuses the fault mechanics of [`super::faults`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use super::chaos_spec::{ChaosKind, ChaosSpec};
use super::faults::{CONTROL_PREFIX, ErrorBody, apply_then_drop, dropped, error_answer};
use super::timestamp;
use crate::clock::Clock;

/// The shortest and longest delay of a `slow` answer, in wall milliseconds: long enough
/// to be felt, short enough to keep tests fast.
const SLOW_MS: std::ops::RangeInclusive<u64> = 100..=800;

/// What a client waits before retrying a `429`.
const RETRY_AFTER_SECONDS: u64 = 1;

/// What one request meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// `503`, not applied.
    Unavailable,
    /// `429` with `Retry-After`, not applied.
    TooManyRequests,
    /// No answer, not applied.
    Reset,
    /// Answered after this much wall time.
    Slow(Duration),
    /// Applied, no answer.
    ApplyThenReset,
    /// Applied, the body spoilt this way.
    Garbage(Garbage),
}

/// How a `garbage` answer's body is spoilt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garbage {
    /// Its first half, with a length that matches.
    Truncated,
    /// The start of a document of its content type that never ends (`{"id": "`).
    Unterminated,
    /// A proxy's error page in place of the vendor's document.
    ProxyPage,
}

impl Decision {
    fn kind(self) -> ChaosKind {
        match self {
            Decision::Unavailable => ChaosKind::Unavailable,
            Decision::TooManyRequests => ChaosKind::TooManyRequests,
            Decision::Reset => ChaosKind::Reset,
            Decision::Slow(_) => ChaosKind::Slow,
            Decision::ApplyThenReset => ChaosKind::ApplyThenReset,
            Decision::Garbage(_) => ChaosKind::Garbage,
        }
    }
}

/// One injected fault, as `/_lab/state` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InjectedFault {
    pub kind: ChaosKind,
    pub method: String,
    pub path: String,
    /// Lab time, as [`timestamp`] writes it.
    pub at: String,
    /// How a `slow` answer was delayed or a `garbage` body spoilt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The chaos of one listener; cheap to clone, every clone draws from the same RNG and
/// writes the same record.
#[derive(Clone, Debug)]
pub struct Chaos {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    spec: ChaosSpec,
    clock: Clock,
    rng: Mutex<fastrand::Rng>,
    injected: Mutex<Vec<InjectedFault>>,
}

impl Chaos {
    /// The chaos of the listener `listener` of a lab seeded with `seed`: listeners of one
    /// lab draw differently, the same listener of two labs of one seed alike.
    pub fn new(spec: ChaosSpec, seed: u64, listener: &str, clock: Clock) -> Self {
        Self {
            inner: Arc::new(Inner {
                spec,
                clock,
                rng: Mutex::new(fastrand::Rng::with_seed(seed_for(seed, listener))),
                injected: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Draws what the next request to `path` meets; control routes draw nothing, so
    /// driving the lab does not shift the faults of the requests it serves.
    pub fn decide(&self, path: &str) -> Option<Decision> {
        if path.starts_with(CONTROL_PREFIX) {
            return None;
        }
        let spec = &self.inner.spec;
        let mut rng = self
            .inner
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only a rate of 1 makes every request fail; `f64()` is below 1.
        if rng.f64() >= spec.rate {
            return None;
        }
        let kind = *spec.kinds.get(rng.usize(..spec.kinds.len().max(1)))?;
        Some(match kind {
            ChaosKind::Unavailable => Decision::Unavailable,
            ChaosKind::TooManyRequests => Decision::TooManyRequests,
            ChaosKind::Reset => Decision::Reset,
            ChaosKind::Slow => Decision::Slow(Duration::from_millis(rng.u64(SLOW_MS))),
            ChaosKind::ApplyThenReset => Decision::ApplyThenReset,
            ChaosKind::Garbage => Decision::Garbage(
                [
                    Garbage::Truncated,
                    Garbage::Unterminated,
                    Garbage::ProxyPage,
                ][rng.usize(..3)],
            ),
        })
    }

    fn record(&self, kind: ChaosKind, method: &Method, path: &str, detail: Option<String>) {
        let fault = InjectedFault {
            kind,
            method: method.to_string(),
            path: path.to_owned(),
            at: timestamp(self.inner.clock.now()),
            detail,
        };
        self.injected().push(fault);
    }

    /// Every fault injected so far, in the order they were.
    pub fn faults(&self) -> Vec<InjectedFault> {
        self.injected().clone()
    }

    /// How many faults of each of the spec's kinds were injected, `0` included.
    pub fn counts(&self) -> BTreeMap<ChaosKind, u64> {
        let mut counts: BTreeMap<ChaosKind, u64> =
            self.inner.spec.kinds.iter().map(|&k| (k, 0)).collect();
        for fault in self.injected().iter() {
            *counts.entry(fault.kind).or_default() += 1;
        }
        counts
    }

    /// The `chaos` object of `/_lab/state`: the spec, counts by kind and every fault.
    pub fn state(&self) -> Value {
        let counts: serde_json::Map<String, Value> = self
            .counts()
            .into_iter()
            .map(|(kind, count)| (kind.as_str().to_owned(), count.into()))
            .collect();
        json!({
            "spec": self.inner.spec.to_string(),
            "counts": counts,
            "faults": self.faults(),
        })
    }

    fn injected(&self) -> MutexGuard<'_, Vec<InjectedFault>> {
        self.inner
            .injected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// How many faults of each kind the `listeners` injected together, `0` included.
pub fn total_counts(listeners: &[Chaos]) -> BTreeMap<ChaosKind, u64> {
    let mut counts = BTreeMap::new();
    for chaos in listeners {
        for (kind, count) in chaos.counts() {
            *counts.entry(kind).or_default() += count;
        }
    }
    counts
}

/// The line the lab prints at exit for `counts` ([`total_counts`]), e.g.
/// `chaos: 3 faults injected (503 ×2, reset ×1)`.
pub fn summary_line(counts: &BTreeMap<ChaosKind, u64>) -> String {
    let total: u64 = counts.values().sum();
    let noun = if total == 1 { "fault" } else { "faults" };
    let each: Vec<String> = counts
        .iter()
        .map(|(kind, count)| format!("{kind} ×{count}"))
        .collect();
    format!("chaos: {total} {noun} injected ({})", each.join(", "))
}

/// FNV-1a of the listener's name mixed into the lab seed: stable across builds and
/// platforms, unlike the standard library's hasher.
fn seed_for(seed: u64, listener: &str) -> u64 {
    let name = listener
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    seed ^ name ^ 0xC4A0_5000_0000_0001
}

/// The middleware [`super::with_faults`] puts behind the fault rules: the listener's
/// chaos, when it has any, decides what each request meets.
pub(super) async fn weather(
    State(error_body): State<ErrorBody>,
    request: Request,
    next: Next,
) -> Response {
    let Some(chaos) = request.extensions().get::<Chaos>().cloned() else {
        return next.run(request).await;
    };
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let Some(decision) = chaos.decide(&path) else {
        return next.run(request).await;
    };
    let kind = decision.kind();
    match decision {
        Decision::Unavailable => {
            chaos.record(kind, &method, &path, None);
            error_answer(&error_body, StatusCode::SERVICE_UNAVAILABLE, None)
        }
        Decision::TooManyRequests => {
            chaos.record(kind, &method, &path, None);
            error_answer(
                &error_body,
                StatusCode::TOO_MANY_REQUESTS,
                Some(RETRY_AFTER_SECONDS),
            )
        }
        Decision::Reset => {
            chaos.record(kind, &method, &path, None);
            dropped("lab chaos: connection reset before applying the request")
        }
        Decision::Slow(delay) => {
            chaos.record(
                kind,
                &method,
                &path,
                Some(format!("delayed {} ms", delay.as_millis())),
            );
            let response = next.run(request).await;
            tokio::time::sleep(delay).await;
            response
        }
        Decision::ApplyThenReset => {
            chaos.record(kind, &method, &path, None);
            apply_then_drop(request, next).await
        }
        Decision::Garbage(form) => {
            let response = next.run(request).await;
            let (response, detail) = spoil(response, form, &method).await;
            // An answer with no body to spoil (204, HEAD) goes out as it was: no fault.
            if let Some(detail) = detail {
                chaos.record(kind, &method, &path, Some(detail));
            }
            response
        }
    }
}

/// The handler's answer with its status and headers and a spoilt body, and how it was
/// spoilt; unchanged, with `None`, when it may carry no body.
async fn spoil(response: Response, form: Garbage, method: &Method) -> (Response, Option<String>) {
    let status = response.status();
    let bodiless = *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if bodiless {
        return (response, None);
    }
    let (mut parts, body) = response.into_parts();
    let whole = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(whole) => whole,
        Err(_) => {
            return (
                dropped("lab chaos: the answer to spoil could not be read"),
                None,
            );
        }
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // Too short to cut in two, an answer is spoilt the other way.
    let form = if form == Garbage::Truncated && whole.len() < 2 {
        Garbage::Unterminated
    } else {
        form
    };
    let (spoilt, detail) = match form {
        Garbage::Truncated => {
            let half = whole.slice(..whole.len() / 2);
            let detail = format!("truncated to {} of {} bytes", half.len(), whole.len());
            (half, detail)
        }
        Garbage::Unterminated => {
            let start: &'static str = if content_type.contains("xml") {
                r#"<?xml version="1.0" encoding="UTF-8"?><Task id=""#
            } else {
                r#"{"id": ""#
            };
            (
                Bytes::from_static(start.as_bytes()),
                format!("malformed: {start}"),
            )
        }
        Garbage::ProxyPage => {
            let page = "<html>proxy error</html>";
            (
                Bytes::from_static(page.as_bytes()),
                format!("malformed: {page}"),
            )
        }
    };
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(spoilt.len()));
    // What the answer claimed, so whoever checks the client knows what it should catch.
    let claimed = if content_type.is_empty() {
        "no content type"
    } else {
        &content_type
    };
    let detail = format!("{} {claimed}: {detail}", status.as_u16());
    (
        Response::from_parts(parts, axum::body::Body::from(spoilt)),
        Some(detail),
    )
}

#[cfg(test)]
#[path = "chaos_tests.rs"]
mod tests;

//! The chaos layer on a small router: the seeded decisions, and what each kind does to
//! a request, in process and over a real loopback connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use http_body_util::BodyExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use super::*;
use crate::http::lab::{Faults, serve, with_faults};

/// 2025-03-01T00:00:00Z.
fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_787_200)
}

fn chaos(spec: &str, seed: u64, listener: &str) -> Chaos {
    let spec = ChaosSpec::parse(spec).unwrap();
    Chaos::new(spec, seed, listener, Clock::manual(start()))
}

/// A toy vendor: `POST /api/things` applies (counts) and answers JSON, `GET /api/task`
/// answers XML, `DELETE /api/things` answers 204, and `/_lab/state` stands for the
/// lab's own routes; faults are `{"error": status}`.
fn app(chaos: &Chaos, applied: &Arc<AtomicU64>) -> Router {
    let counter = Arc::clone(applied);
    let routes = Router::new()
        .route(
            "/api/things",
            post(move || async move {
                counter.fetch_add(1, Ordering::Relaxed);
                axum::Json(json!({"id": "thing-1", "name": "made"}))
            })
            .delete(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/api/task",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/xml")],
                    r#"<Task id="1" status="running"/>"#,
                )
            }),
        )
        .route("/_lab/state", get(|| async { "state" }));
    with_faults(
        routes,
        Faults::new(),
        |status| json!({"error": status.as_u16()}),
    )
    .layer(axum::Extension(chaos.clone()))
}

struct Answer {
    status: u16,
    content_type: Option<String>,
    content_length: Option<String>,
    retry_after: Option<String>,
    body: String,
}

async fn call(app: &Router, method: &str, path: &str) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (content_type, content_length, retry_after) = (
        header(header::CONTENT_TYPE),
        header(header::CONTENT_LENGTH),
        header(header::RETRY_AFTER),
    );
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        content_length,
        retry_after,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// What a client reading the raw connection gets: nothing at all when the lab closes it
/// without an answer (an end of stream, or a reset the kernel reports).
async fn raw(addr: std::net::SocketAddr, method: &str, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: lab\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    // A reset is as much "no answer" as an end of stream: what was read is kept.
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

fn decisions(chaos: &Chaos, count: usize) -> Vec<Option<Decision>> {
    (0..count)
        .map(|i| chaos.decide(&format!("/api/things/{i}")))
        .collect()
}

#[test]
fn the_same_seed_draws_the_same_faults_and_another_seed_or_listener_others() {
    let spec = "rate=0.3";
    let first = decisions(&chaos(spec, 7, "powerstore"), 200);
    assert_eq!(first, decisions(&chaos(spec, 7, "powerstore"), 200));
    assert_ne!(first, decisions(&chaos(spec, 8, "powerstore"), 200));
    assert_ne!(first, decisions(&chaos(spec, 7, "vcd"), 200));
    // Every kind comes up, at about the rate asked.
    let injected: Vec<Decision> = first.iter().flatten().copied().collect();
    assert!((40..=80).contains(&injected.len()), "{}", injected.len());
    for kind in ChaosKind::ALL {
        assert!(injected.iter().any(|d| d.kind() == kind), "no {kind}");
    }
    for decision in &injected {
        if let Decision::Slow(delay) = decision {
            assert!(SLOW_MS.contains(&(delay.as_millis() as u64)), "{delay:?}");
        }
    }
}

#[test]
fn control_routes_draw_nothing_so_they_do_not_shift_the_faults() {
    let plain = chaos("rate=0.5", 3, "echo");
    let driven = chaos("rate=0.5", 3, "echo");
    let mut interleaved = Vec::new();
    for i in 0..50 {
        assert_eq!(driven.decide("/_lab/state"), None);
        interleaved.push(driven.decide(&format!("/api/things/{i}")));
    }
    assert_eq!(interleaved, decisions(&plain, 50));
}

#[tokio::test]
async fn a_503_or_429_answers_the_vendor_body_without_applying() {
    let applied = Arc::new(AtomicU64::new(0));
    let unavailable = app(&chaos("rate=1,kinds=503", 1, "toy"), &applied);
    let answer = call(&unavailable, "POST", "/api/things").await;
    assert_eq!(
        (answer.status, answer.body.as_str(), answer.retry_after),
        (503, r#"{"error":503}"#, None)
    );
    let throttle = chaos("rate=1,kinds=429", 1, "toy");
    let throttled = app(&throttle, &applied);
    let answer = call(&throttled, "POST", "/api/things").await;
    assert_eq!(
        (answer.status, answer.body.as_str(), answer.retry_after),
        (429, r#"{"error":429}"#, Some("1".to_owned()))
    );
    assert_eq!(applied.load(Ordering::Relaxed), 0);
    assert_eq!(
        throttle.state(),
        json!({
            "spec": "rate=1,kinds=429",
            "counts": {"429": 1},
            "faults": [{"kind": "429", "method": "POST", "path": "/api/things", "at": "2025-03-01T00:00:00Z"}],
        })
    );
}

/// Serves the toy listener under chaos `spec` and sends one `POST /api/things` over a
/// raw connection, which must close without an answer; the chaos and how many changes
/// were applied.
async fn closed_without_an_answer(spec: &str) -> (Chaos, u64) {
    let applied = Arc::new(AtomicU64::new(0));
    let chaos = chaos(spec, 1, "toy");
    let listener = serve(app(&chaos, &applied), 0, None).await.unwrap();
    assert_eq!(raw(listener.addr, "POST", "/api/things").await, "");
    let applied = applied.load(Ordering::Relaxed);
    listener.shutdown().await;
    (chaos, applied)
}

#[tokio::test]
async fn a_reset_closes_the_connection_before_applying() {
    let (chaos, applied) = closed_without_an_answer("rate=1,kinds=reset").await;
    assert_eq!(applied, 0);
    assert_eq!(chaos.counts(), BTreeMap::from([(ChaosKind::Reset, 1)]));
}

#[tokio::test]
async fn apply_then_reset_applies_and_closes_the_connection_without_an_answer() {
    let (chaos, applied) = closed_without_an_answer("rate=1,kinds=apply_then_reset").await;
    assert_eq!(applied, 1);
    assert_eq!(
        chaos.faults(),
        [InjectedFault {
            kind: ChaosKind::ApplyThenReset,
            method: "POST".to_owned(),
            path: "/api/things".to_owned(),
            at: "2025-03-01T00:00:00Z".to_owned(),
            detail: None,
        }]
    );
}

#[tokio::test]
async fn garbage_applies_and_spoils_the_body_keeping_status_and_content_type() {
    let applied = Arc::new(AtomicU64::new(0));
    let chaos = chaos("rate=1,kinds=garbage", 5, "toy");
    let app = app(&chaos, &applied);
    let whole = r#"{"id":"thing-1","name":"made"}"#;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let answer = call(&app, "POST", "/api/things").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        assert_eq!(answer.content_length, Some(answer.body.len().to_string()));
        let form = match answer.body.as_str() {
            r#"{"id": ""# => "unterminated",
            "<html>proxy error</html>" => "proxy page",
            half => {
                assert_eq!(half, &whole[..whole.len() / 2]);
                "truncated"
            }
        };
        seen.insert(form);
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(applied.load(Ordering::Relaxed), 20);
    let details: Vec<Option<String>> = chaos.faults().into_iter().map(|f| f.detail).collect();
    assert_eq!(details.len(), 20);
    assert!(
        details.contains(&Some(format!(
            "200 application/json: truncated to {} of {} bytes",
            whole.len() / 2,
            whole.len()
        ))),
        "{details:?}"
    );
    assert!(details.contains(&Some(
        r#"200 application/json: malformed: {"id": ""#.to_owned()
    )));
}

#[tokio::test]
async fn garbage_of_an_xml_answer_is_xml_shaped_and_a_bodiless_answer_is_left_alone() {
    let applied = Arc::new(AtomicU64::new(0));
    let chaos = chaos("rate=1,kinds=garbage", 5, "toy");
    let app = app(&chaos, &applied);
    let whole = r#"<Task id="1" status="running"/>"#;
    for _ in 0..10 {
        let answer = call(&app, "GET", "/api/task").await;
        assert_eq!(answer.content_type.as_deref(), Some("application/xml"));
        let expected = [
            &whole[..whole.len() / 2],
            r#"<?xml version="1.0" encoding="UTF-8"?><Task id=""#,
            "<html>proxy error</html>",
        ];
        assert!(expected.contains(&answer.body.as_str()), "{}", answer.body);
    }
    let recorded = chaos.faults().len();
    let answer = call(&app, "DELETE", "/api/things").await;
    assert_eq!((answer.status, answer.body.as_str()), (204, ""));
    assert_eq!(chaos.faults().len(), recorded);
}

#[tokio::test]
async fn a_slow_answer_comes_whole() {
    let applied = Arc::new(AtomicU64::new(0));
    let chaos = chaos("rate=1,kinds=slow", 2, "toy");
    let answer = call(&app(&chaos, &applied), "POST", "/api/things").await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, r#"{"id":"thing-1","name":"made"}"#)
    );
    assert_eq!(applied.load(Ordering::Relaxed), 1);
    let fault = &chaos.faults()[0];
    let delay: u64 = fault
        .detail
        .as_deref()
        .and_then(|d| d.strip_prefix("delayed "))
        .and_then(|d| d.strip_suffix(" ms"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(SLOW_MS.contains(&delay), "{delay}");
}

#[tokio::test]
async fn control_routes_are_never_faulted_even_at_a_rate_of_one() {
    let applied = Arc::new(AtomicU64::new(0));
    let chaos = chaos("rate=1", 9, "toy");
    let app = app(&chaos, &applied);
    for _ in 0..20 {
        let state = call(&app, "GET", "/_lab/state").await;
        assert_eq!((state.status, state.body.as_str()), (200, "state"));
        assert_eq!(call(&app, "GET", "/_lab/faults").await.status, 200);
    }
    assert_eq!(chaos.faults(), []);
}

#[test]
fn the_summary_line_counts_every_kind_of_the_spec() {
    let first = chaos("rate=1,kinds=503,reset", 1, "a");
    let second = chaos("rate=1,kinds=503,reset", 1, "b");
    first.record(ChaosKind::Unavailable, &Method::GET, "/x", None);
    first.record(ChaosKind::Unavailable, &Method::GET, "/x", None);
    second.record(ChaosKind::Unavailable, &Method::POST, "/y", None);
    let counts = total_counts(&[first.clone(), second]);
    assert_eq!(
        summary_line(&counts),
        "chaos: 3 faults injected (503 ×3, reset ×0)"
    );
    assert_eq!(
        summary_line(&total_counts(&[chaos("rate=1,kinds=slow", 1, "a")])),
        "chaos: 0 faults injected (slow ×0)"
    );
    let one = chaos("rate=0.1", 1, "a");
    one.record(ChaosKind::Garbage, &Method::GET, "/x", None);
    assert_eq!(
        summary_line(&total_counts(&[one])),
        "chaos: 1 fault injected (503 ×0, 429 ×0, reset ×0, slow ×0, apply_then_reset ×0, garbage ×1)"
    );
}

//! `/_lab/clock` on every listener: the lab's one clock, shown and steered. Pausing it
//! holds every simulated job where it is (and, under `--lab`, the script's sleeps too)
//! until it is moved on or let run again, so a test or an operator can look at a state
//! that would otherwise last only a moment.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{control_error, timestamp};
use crate::clock::Clock;

/// The longest single jump: ten years, like the lab's other time settings.
const MAX_ADVANCE_SECONDS: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

/// `GET` and `POST /_lab/clock`, served with the lab's clock.
pub fn clock_routes(clock: Clock) -> Router {
    Router::new()
        .route("/_lab/clock", get(clock_get).post(clock_set))
        .with_state(clock)
}

/// Body of `POST /_lab/clock`; both fields may be given, the jump is made first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    /// Stop (`true`) or run (`false`) the clock.
    paused: Option<bool>,
    /// Move the clock on by this many lab seconds.
    advance_seconds: Option<f64>,
}

/// `GET /_lab/clock`: `{"now", "speed", "paused"}`.
async fn clock_get(State(clock): State<Clock>) -> Json<Value> {
    Json(shown(&clock))
}

/// `POST /_lab/clock`: pause, move on or resume; answers like `GET`.
async fn clock_set(State(clock): State<Clock>, bytes: Bytes) -> Response {
    let change: ClockChange = match serde_json::from_slice(&bytes) {
        Ok(change) => change,
        Err(err) => {
            return control_error(format!(
                "invalid clock change: {err}; send {{\"paused\": true|false, \"advance_seconds\": N}}"
            ));
        }
    };
    if let Some(seconds) = change.advance_seconds {
        if !(0.0..=MAX_ADVANCE_SECONDS).contains(&seconds) {
            return control_error(format!(
                "advance_seconds must be between 0 and {MAX_ADVANCE_SECONDS} (ten years), not {seconds}"
            ));
        }
        clock.advance(std::time::Duration::from_secs_f64(seconds));
    }
    match change.paused {
        Some(true) => clock.pause(),
        Some(false) => clock.resume(),
        None => {}
    }
    Json(shown(&clock)).into_response()
}

fn shown(clock: &Clock) -> Value {
    json!({
        "now": timestamp(clock.now()),
        "speed": clock.speed(),
        "paused": clock.is_paused(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn send(clock: &Clock, method: &str, body: &str) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri("/_lab/clock")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = clock_routes(clock.clone()).oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn the_clock_is_paused_moved_on_and_resumed() {
        let clock = Clock::scaled(50.0);
        let (status, paused) = send(&clock, "POST", r#"{"paused": true}"#).await;
        assert_eq!((status, &paused["paused"]), (200, &json!(true)));
        assert_eq!(paused["speed"], 50.0);
        let held = clock.now();
        let (_, moved) = send(&clock, "POST", r#"{"advance_seconds": 90}"#).await;
        assert_eq!(clock.now(), held + Duration::from_secs(90));
        assert_eq!(moved["now"], timestamp(held + Duration::from_secs(90)));
        assert_eq!(moved["paused"], true, "a jump leaves it paused");
        let (_, running) = send(&clock, "POST", r#"{"paused": false}"#).await;
        assert_eq!(running["paused"], false);
        assert!(!clock.is_paused());
        let (_, shown) = send(&clock, "GET", "").await;
        assert_eq!(shown["paused"], false);
    }

    #[tokio::test]
    async fn bad_changes_are_refused_and_change_nothing() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_000_000);
        let clock = Clock::manual(start);
        for body in [
            r#"{"advance_seconds": -1}"#,
            r#"{"advance_seconds": 1e12}"#,
            r#"{"paused": "yes"}"#,
            r#"{"speed": 2}"#,
            "",
        ] {
            let (status, answer) = send(&clock, "POST", body).await;
            assert_eq!(status, 400, "{body}");
            assert!(answer["error"].is_string(), "{body}");
        }
        assert_eq!(clock.now(), start);
        let (_, shown) = send(&clock, "GET", "").await;
        assert_eq!(
            shown,
            json!({"now": "2025-02-19T21:20:00Z", "speed": 1.0, "paused": true})
        );
    }
}

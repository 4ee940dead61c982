//! What one lab listener served: the most requests it served at once, shown in its
//! `/_lab/state` as `peak_concurrent_requests` (tests prove with it that a script never
//! had more requests in flight than it allowed), and each request's route and arrival,
//! counted by route in `/_lab/state` as `requests` and listed in order by
//! `GET /_lab/requests` (tests prove with it a target's `rate` and that shared polling
//! sends one list request per interval; the bench counts requests per session). The
//! lab's own `/_lab/` routes are not counted, so a test reading the record does not
//! change it. A request is known by its route's pattern (`/api/rest/import_session/{id}`),
//! never its path or query, which may carry names an operator considers private.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use super::faults::CONTROL_PREFIX;

/// The most arrivals `GET /_lab/requests` lists; the counts go on past it.
const LOG_LIMIT: usize = 200_000;

/// The requests one listener served: in flight, the most at once, and each arrival.
#[derive(Clone, Debug)]
pub struct Traffic(Arc<Counts>);

#[derive(Debug)]
struct Counts {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    started: Instant,
    arrivals: Mutex<Arrivals>,
}

#[derive(Debug, Default)]
struct Arrivals {
    by_route: BTreeMap<String, u64>,
    log: Vec<Arrival>,
}

/// One request as the listener saw it arrive.
#[derive(Clone, Debug, Serialize)]
pub struct Arrival {
    /// The method and the route's pattern: `GET /api/rest/import_session/{id}`.
    pub route: String,
    /// Milliseconds of wall time since the listener started: a target's `rate` is kept in
    /// wall time, whatever the lab's speed.
    pub ms: f64,
}

impl Default for Traffic {
    fn default() -> Self {
        Self(Arc::new(Counts {
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            started: Instant::now(),
            arrivals: Mutex::default(),
        }))
    }
}

impl Traffic {
    /// The most requests served at once so far.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::SeqCst)
    }

    /// How many requests arrived on each route, by method and pattern.
    pub fn counts(&self) -> Value {
        serde_json::json!(self.arrivals().by_route)
    }

    /// Every arrival so far (up to [`LOG_LIMIT`]), in order.
    pub fn log(&self) -> Vec<Arrival> {
        self.arrivals().log.clone()
    }

    fn arrivals(&self) -> std::sync::MutexGuard<'_, Arrivals> {
        self.0
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn enter(&self) -> InFlight {
        let now = self.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(self.clone())
    }

    fn arrived(&self, route: String) {
        let ms = self.0.started.elapsed().as_secs_f64() * 1000.0;
        let mut arrivals = self.arrivals();
        *arrivals.by_route.entry(route.clone()).or_default() += 1;
        if arrivals.log.len() < LOG_LIMIT {
            arrivals.log.push(Arrival { route, ms });
        }
    }
}

/// One request in flight; dropped when its answer is ready or its client went away.
struct InFlight(Traffic);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `router` with its requests counted and recorded; every request carries the record
/// (as an extension) so the control routes can show it.
pub fn counting(router: Router) -> Router {
    counted(router, Traffic::default())
}

fn counted(router: Router, traffic: Traffic) -> Router {
    // Only a matched request has a route pattern: the record runs inside routing (a
    // router of a fallback alone, such as a test's proxy, has nothing to record).
    let router = if router.has_routes() {
        router.route_layer(middleware::from_fn_with_state(traffic.clone(), record))
    } else {
        router
    };
    router.layer(middleware::from_fn_with_state(traffic, count))
}

async fn count(State(traffic): State<Traffic>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(traffic.clone());
    if request.uri().path().starts_with(CONTROL_PREFIX) {
        return next.run(request).await;
    }
    let _in_flight = traffic.enter();
    next.run(request).await
}

async fn record(State(traffic): State<Traffic>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(CONTROL_PREFIX)
        && let Some(route) = request.extensions().get::<MatchedPath>()
    {
        traffic.arrived(format!("{} {}", request.method(), route.as_str()));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    #[test]
    fn the_peak_is_the_most_at_once_and_stays() {
        let traffic = Traffic::default();
        let first = traffic.enter();
        let second = traffic.enter();
        drop(first);
        let third = traffic.enter();
        assert_eq!(traffic.peak(), 2);
        drop((second, third));
        let _fourth = traffic.enter();
        assert_eq!(traffic.peak(), 2);
    }

    #[tokio::test]
    async fn arrivals_are_known_by_route_pattern_and_control_routes_are_not_counted() {
        let traffic = Traffic::default();
        let router = counted(
            Router::new()
                .route("/api/things/{id}", get(|| async { "thing" }))
                .route("/_lab/state", get(|| async { "state" })),
            traffic.clone(),
        );
        for uri in [
            "/api/things/a?x=1",
            "/api/things/b",
            "/_lab/state",
            "/nowhere",
        ] {
            let request = Request::builder().uri(uri).body(axum::body::Body::empty());
            let _ = router.clone().oneshot(request.unwrap()).await.unwrap();
        }
        assert_eq!(
            traffic.counts(),
            serde_json::json!({"GET /api/things/{id}": 2})
        );
        let log = traffic.log();
        let routes: Vec<&str> = log.iter().map(|arrival| arrival.route.as_str()).collect();
        assert_eq!(routes, ["GET /api/things/{id}", "GET /api/things/{id}"]);
        assert!(log[0].ms <= log[1].ms);
    }
}

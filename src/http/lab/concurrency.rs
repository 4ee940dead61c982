//! The peak number of requests one lab listener served at once, shown in its
//! `/_lab/state` as `peak_concurrent_requests`: tests prove with it that a script never
//! had more requests in flight than it allowed (`parallel`'s `limit`). The lab's own
//! `/_lab/` routes are not counted, so a test reading the state does not change it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;

use super::faults::CONTROL_PREFIX;

/// The requests in flight on one listener, and the most there ever were.
#[derive(Clone, Debug, Default)]
pub struct Concurrency(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Concurrency {
    /// The most requests served at once so far.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::SeqCst)
    }

    fn enter(&self) -> InFlight {
        let now = self.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(self.clone())
    }
}

/// One request in flight; dropped when its answer is ready or its client went away.
struct InFlight(Concurrency);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `router` with its requests counted; every request carries the counter (as an
/// extension) so the state route can show it.
pub fn counting(router: Router) -> Router {
    router.layer(middleware::from_fn_with_state(
        Concurrency::default(),
        count,
    ))
}

async fn count(State(counter): State<Concurrency>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(counter.clone());
    if request.uri().path().starts_with(CONTROL_PREFIX) {
        return next.run(request).await;
    }
    let _in_flight = counter.enter();
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_most_at_once_and_stays() {
        let counter = Concurrency::default();
        let first = counter.enter();
        let second = counter.enter();
        drop(first);
        let third = counter.enter();
        assert_eq!(counter.peak(), 2);
        drop((second, third));
        let _fourth = counter.enter();
        assert_eq!(counter.peak(), 2);
    }
}

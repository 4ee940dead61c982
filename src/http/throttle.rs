//! A target's `max_concurrency` and `rate` (`request_limits`): every request of the
//! target, read, change or login, takes a permit before it is sent and holds it until
//! its answer is read whole, and starts no sooner than the rate allows. One throttle
//! serves every client of a target in a run (the call record hands it out), so a
//! `parallel` over thousands of items stays within what the array or gateway takes.
//!
//! The rate is a token bucket as a generic cell rate: `count` requests per `per`,
//! in bursts of at most `count`. Waits run on tokio's clock: the limits protect real
//! servers, whose time is the wall's.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::RequestLimits;

/// The permits and the schedule of one target's requests.
#[derive(Debug)]
pub struct Throttle {
    in_flight: Option<Arc<Semaphore>>,
    rate: Option<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// The time between two requests at the steady rate.
    interval: Duration,
    /// How far ahead of the schedule a burst may run.
    burst: Duration,
    /// When the next request is due at the steady rate.
    due: Mutex<Option<Instant>>,
}

/// Held while a request is in flight.
#[must_use]
pub struct Permit(#[allow(dead_code, reason = "held, not read")] Option<OwnedSemaphorePermit>);

impl Throttle {
    /// The throttle `limits` ask for; `None` when they set neither limit.
    pub fn of(limits: &RequestLimits) -> Option<Arc<Self>> {
        if limits.max_concurrency.is_none() && limits.rate.is_none() {
            return None;
        }
        let rate = limits.rate.map(|rate| {
            let interval = rate.per / rate.count;
            Bucket {
                interval,
                burst: interval * rate.count.saturating_sub(1),
                due: Mutex::new(None),
            }
        });
        Some(Arc::new(Self {
            in_flight: limits
                .max_concurrency
                .map(|count| Arc::new(Semaphore::new(count as usize))),
            rate,
        }))
    }

    /// Waits for a free slot and the rate's turn; the permit frees the slot when dropped.
    pub async fn enter(&self) -> Permit {
        let permit = match &self.in_flight {
            // The semaphore is never closed, so acquiring only waits.
            Some(slots) => Arc::clone(slots).acquire_owned().await.ok(),
            None => None,
        };
        if let Some(bucket) = &self.rate {
            let start = bucket.reserve(Instant::now());
            tokio::time::sleep_until(start).await;
        }
        Permit(permit)
    }
}

impl Bucket {
    /// When a request arriving at `now` may start, booking its place in the schedule.
    fn reserve(&self, now: Instant) -> Instant {
        let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        let scheduled = due.map_or(now, |due| due.max(now));
        // Up to `burst` ahead of the steady schedule may go at once.
        let start = scheduled
            .checked_sub(self.burst)
            .map_or(now, |early| early.max(now));
        *due = Some(scheduled + self.interval);
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Rate;

    fn limits(max_concurrency: Option<u32>, rate: Option<&str>) -> RequestLimits {
        RequestLimits {
            max_concurrency,
            rate: rate.and_then(Rate::parse),
            ..RequestLimits::default()
        }
    }

    #[test]
    fn no_limits_no_throttle() {
        assert!(Throttle::of(&RequestLimits::default()).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn requests_start_in_a_burst_then_at_the_rate() {
        let throttle = Throttle::of(&limits(None, Some("2/s"))).unwrap();
        let start = Instant::now();
        let mut started = Vec::new();
        for _ in 0..6 {
            let _permit = throttle.enter().await;
            started.push((Instant::now() - start).as_millis());
        }
        assert_eq!(started, [0, 0, 500, 1000, 1500, 2000]);
        // A quiet spell refills the bucket: the next two go at once again.
        tokio::time::advance(Duration::from_secs(10)).await;
        let again = Instant::now();
        let _first = throttle.enter().await;
        let _second = throttle.enter().await;
        assert_eq!(Instant::now(), again);
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_max_concurrency_are_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let throttle = Throttle::of(&limits(Some(2), None)).unwrap();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        // Each request holds its slot until the test lets one answer come.
        let answers = Arc::new(Semaphore::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (throttle, in_flight, peak, answers) = (
                    throttle.clone(),
                    in_flight.clone(),
                    peak.clone(),
                    answers.clone(),
                );
                tokio::spawn(async move {
                    let _permit = throttle.enter().await;
                    let now = in_flight.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    answers.acquire().await.unwrap().forget();
                    in_flight.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for waiting in (1..=10).rev() {
            for _ in 0..50 {
                tokio::task::yield_now().await;
            }
            assert_eq!(in_flight.load(SeqCst), waiting.min(2), "{waiting} to go");
            answers.add_permits(1);
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(peak.load(SeqCst), 2);
    }
}

//! `InFlight`: how many changes are on their way to a target and not yet answered. The
//! gate sends each change as a task of its own, so a run that stops waiting for it
//! (Ctrl-C) does not drop it mid-air; the run counts on this to wait for those answers
//! before it ends its journal, so their real outcomes are recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The changes in flight, shared by every clone of a run's call record.
#[derive(Debug, Default)]
pub struct InFlight {
    count: AtomicUsize,
    /// Told each time the count reaches zero.
    settled: Notify,
}

impl InFlight {
    /// Counts one change from now until the guard is dropped: when its sending ends, or
    /// when the runtime drops it unfinished.
    pub fn start(self: &Arc<Self>) -> Sending {
        self.count.fetch_add(1, Ordering::SeqCst);
        Sending(Arc::clone(self))
    }

    /// How many changes are in flight now.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Ends when no change is in flight.
    pub async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            // Registered before the count is read, so a change ending between the two
            // is not missed.
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One change in flight; dropping it ends its count.
#[must_use]
#[derive(Debug)]
pub struct Sending(Arc<InFlight>);

impl Drop for Sending {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.settled.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settles_once_every_change_in_flight_ended() {
        let in_flight = Arc::new(InFlight::default());
        in_flight.settled().await;
        let first = in_flight.start();
        let second = in_flight.start();
        assert_eq!(in_flight.count(), 2);
        let waiter = {
            let in_flight = Arc::clone(&in_flight);
            tokio::spawn(async move { in_flight.settled().await })
        };
        drop(first);
        assert_eq!(in_flight.count(), 1);
        assert!(!waiter.is_finished());
        drop(second);
        waiter.await.unwrap();
        assert_eq!(in_flight.count(), 0);
    }
}

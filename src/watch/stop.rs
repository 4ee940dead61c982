//! Stopping on SIGINT or SIGTERM: take no more events, give running handlers the stop
//! timeout to finish, then cancel them and give them a short grace to end.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::watch::WatchEnd;
use crate::watch::report;
use crate::watch::slots::Slots;
use crate::watch::worker::{GRACE, Stopping, Worker};

impl Worker {
    /// SIGINT or SIGTERM: begin stopping, or at the second one stop waiting.
    pub(super) fn on_signal(&mut self) {
        let now = Instant::now();
        match &mut self.stopping {
            None => self.begin_stop(now),
            // A second Ctrl-C does not wait for the stop timeout.
            Some(stopping) if !stopping.cancelled => stopping.deadline = now,
            Some(_) => {}
        }
    }

    /// How many runs are going.
    pub(super) fn running(&self) -> usize {
        self.slots.values().map(Slots::running).sum()
    }

    /// Takes no more events and drops what waited; running handlers go on.
    pub(super) fn begin_stop(&mut self, now: Instant) {
        self.source = None;
        self.hash_stop.store(true, Ordering::Relaxed);
        self.pending.clear();
        self.settling.clear();
        self.reloads.clear();
        for slots in self.slots.values_mut() {
            slots.drop_pending();
        }
        report::stopping(self.running(), self.stop_timeout);
        self.stopping = Some(Stopping {
            deadline: now + self.stop_timeout,
            cancelled: false,
        });
    }

    /// Ends the loop once stopping and nothing runs, or once cancelled runs had their grace.
    pub(super) fn check_stop(&mut self, now: Instant) -> Option<WatchEnd> {
        let running = self.running();
        let stopping = self.stopping.as_mut()?;
        if running == 0 {
            return Some(if stopping.cancelled {
                WatchEnd::Cancelled
            } else {
                WatchEnd::Stopped
            });
        }
        if now < stopping.deadline {
            return None;
        }
        if stopping.cancelled {
            report::warn("some handlers did not stop within their grace; leaving them");
            return Some(WatchEnd::Cancelled);
        }
        stopping.cancelled = true;
        stopping.deadline = now + GRACE;
        report::cancelling(running);
        for slots in self.slots.values() {
            slots.cancel_all();
        }
        None
    }
}

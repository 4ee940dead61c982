//! [`LazyStart`]: the timeline of a seeded job starts when a client first reads or acts
//! on it, not when the lab starts, so the job is in its seeded state whenever a playbook
//! reaches it, at any `--speed` and however late it connects.
//!
//! A simulated job keeps its times (started, next step due, …) as lab instants from
//! the moment it was seeded. Until its first touch it stands still; the first touch
//! moves all of those instants forward by the time the job waited, which the job does
//! with the [`Duration`] [`LazyStart::touch`] hands back once.

use std::time::{Duration, SystemTime};

/// Whether a job's timeline runs yet, and from when it was seeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LazyStart {
    /// The lab instant the job's times were laid out from.
    seeded: SystemTime,
    started: bool,
}

impl LazyStart {
    /// A timeline laid out at `seeded` that waits for its first touch.
    pub fn pending(seeded: SystemTime) -> Self {
        Self {
            seeded,
            started: false,
        }
    }

    /// A timeline that runs already: a job a client made, or one a test put in place.
    pub fn running(seeded: SystemTime) -> Self {
        Self {
            seeded,
            started: true,
        }
    }

    /// Whether the timeline runs.
    pub fn is_running(&self) -> bool {
        self.started
    }

    /// How far a touch at `now` would move the job's times; `None` once it runs.
    pub fn shift_at(&self, now: SystemTime) -> Option<Duration> {
        (!self.started).then(|| now.duration_since(self.seeded).unwrap_or_default())
    }

    /// The first touch, at `now`: the timeline runs from here on, and the job moves its
    /// times forward by the returned duration. `None` on every later touch.
    pub fn touch(&mut self, now: SystemTime) -> Option<Duration> {
        let shift = self.shift_at(now)?;
        self.started = true;
        Some(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_000_000 + seconds)
    }

    #[test]
    fn the_first_touch_shifts_by_the_wait_and_later_ones_do_nothing() {
        let mut start = LazyStart::pending(t(10));
        assert!(!start.is_running());
        assert_eq!(start.shift_at(t(70)), Some(Duration::from_secs(60)));
        assert_eq!(start.touch(t(100)), Some(Duration::from_secs(90)));
        assert!(start.is_running());
        assert_eq!(start.touch(t(200)), None);
        assert_eq!(start.shift_at(t(200)), None);
    }

    #[test]
    fn a_running_timeline_never_shifts_and_a_clock_behind_the_seed_shifts_nothing() {
        assert_eq!(LazyStart::running(t(10)).shift_at(t(99)), None);
        assert_eq!(LazyStart::pending(t(10)).touch(t(5)), Some(Duration::ZERO));
    }
}

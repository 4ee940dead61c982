//! The data copy of one simulated import session, computed from lab time alone: bytes
//! done, transfer rates, the estimated end, and the scripted point where the copy stalls
//! or fails. Nothing runs in the background; every answer is a function of `now`.

use std::time::{Duration, SystemTime};

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// What ends a running copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CopyEnd {
    Done,
    Failed,
}

/// Progress of a copy; it advances only between [`Copy::start`] and [`Copy::stop`].
#[derive(Clone, Debug)]
pub(super) struct Copy {
    /// Bytes to copy.
    pub(super) size: u64,
    /// Bytes per lab second.
    pub(super) rate: u64,
    /// Progress stops here for good, the transfer rate drops to 0.
    pub(super) stall_at: Option<u8>,
    /// The session fails when progress reaches this.
    pub(super) fail_at: Option<u8>,
    /// Bytes done by `since` (or in all, while stopped).
    done: u64,
    /// Time spent copying before `since`.
    active: Duration,
    since: Option<SystemTime>,
    /// Varies the current rate from session to session.
    salt: u64,
}

impl Copy {
    /// A stopped copy of `size` bytes at `rate` bytes/s, `percent` done already (as if
    /// it had been copying at `rate` until now).
    pub(super) fn new(size: u64, rate: u64, percent: u8, salt: u64) -> Self {
        let size = size.max(100);
        let rate = rate.max(1);
        let done = bytes_at(size, percent.min(100));
        let active = Duration::from_nanos(nanos_for(done, rate));
        Self {
            size,
            rate,
            stall_at: None,
            fail_at: None,
            done,
            active,
            since: None,
            salt,
        }
    }

    /// Starts (or resumes) copying at `at`.
    pub(super) fn start(&mut self, at: SystemTime) {
        if self.since.is_none() {
            self.since = Some(at);
        }
    }

    /// Moves the running copy's start `by` later (a seeded session's first touch).
    pub(super) fn shift(&mut self, by: Duration) {
        if let Some(since) = self.since.as_mut() {
            *since += by;
        }
    }

    /// Stops copying at `at`, keeping what was done.
    pub(super) fn stop(&mut self, at: SystemTime) {
        if let Some(since) = self.since.take() {
            self.done = self.done_at(at, Some(since));
            self.active += at.duration_since(since).unwrap_or_default();
        }
    }

    /// The moment the running copy ends, and how; `None` while stopped or when it stalls
    /// first.
    pub(super) fn end(&self) -> Option<(SystemTime, CopyEnd)> {
        let since = self.since?;
        let (limit, end) = match (self.stall_bytes(), self.fail_bytes()) {
            (Some(stall), fail) if fail.is_none_or(|f| stall <= f) => return None,
            (_, Some(fail)) => (fail, CopyEnd::Failed),
            _ => (self.size, CopyEnd::Done),
        };
        let left = limit.saturating_sub(self.done);
        Some((
            since + Duration::from_nanos(nanos_for(left, self.rate)),
            end,
        ))
    }

    /// Whole percent done at `now`.
    pub(super) fn percent(&self, now: SystemTime) -> u8 {
        let done = u128::from(self.done_at(now, self.since));
        u8::try_from(done * 100 / u128::from(self.size)).unwrap_or(100)
    }

    /// Whether the copy is stuck at its scripted stall point.
    pub(super) fn stalled(&self, now: SystemTime) -> bool {
        self.stall_bytes()
            .is_some_and(|stall| self.done_at(now, self.since) >= stall)
    }

    /// Bytes/s right now: the nominal rate give or take a few percent, 0 when stalled.
    pub(super) fn current_rate(&self, now: SystemTime) -> u64 {
        if self.since.is_none() || self.stalled(now) {
            return 0;
        }
        let second = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let wobble = (second ^ self.salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61;
        self.rate / 100 * (96 + wobble)
    }

    /// Bytes/s averaged over the time spent copying.
    pub(super) fn average_rate(&self, now: SystemTime) -> u64 {
        let running = self
            .since
            .map(|since| now.duration_since(since).unwrap_or_default())
            .unwrap_or_default();
        let nanos = (self.active + running).as_nanos();
        if nanos == 0 {
            return self.rate;
        }
        let done = u128::from(self.done_at(now, self.since));
        u64::try_from(done * NANOS_PER_SECOND / nanos).unwrap_or(u64::MAX)
    }

    /// When the copy would finish at the current (or, when stalled, average) rate.
    pub(super) fn estimated_end(&self, now: SystemTime) -> Option<SystemTime> {
        let rate = match self.current_rate(now) {
            0 => self.average_rate(now),
            rate => rate,
        };
        let left = self.size.saturating_sub(self.done_at(now, self.since));
        (rate > 0).then(|| now + Duration::from_nanos(nanos_for(left, rate)))
    }

    fn done_at(&self, now: SystemTime, since: Option<SystemTime>) -> u64 {
        let Some(since) = since else {
            return self.done;
        };
        let elapsed = now.duration_since(since).unwrap_or_default().as_nanos();
        let moved = u128::from(self.rate) * elapsed / NANOS_PER_SECOND;
        let reached = u128::from(self.done) + moved;
        let limit = [self.stall_bytes(), self.fail_bytes(), Some(self.size)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.size);
        let capped = u64::try_from(reached).unwrap_or(u64::MAX).min(limit);
        capped.max(self.done)
    }

    fn stall_bytes(&self) -> Option<u64> {
        self.stall_at
            .filter(|p| *p < 100)
            .map(|p| bytes_at(self.size, p))
    }

    fn fail_bytes(&self) -> Option<u64> {
        self.fail_at
            .filter(|p| *p < 100)
            .map(|p| bytes_at(self.size, p))
    }
}

/// The first byte count at which whole-percent progress reads `percent`.
fn bytes_at(size: u64, percent: u8) -> u64 {
    let bytes = (u128::from(size) * u128::from(percent)).div_ceil(100);
    u64::try_from(bytes).unwrap_or(size)
}

/// Nanoseconds to copy `bytes` at `rate` bytes/s, rounded up.
fn nanos_for(bytes: u64, rate: u64) -> u64 {
    let nanos = (u128::from(bytes) * NANOS_PER_SECOND).div_ceil(u128::from(rate.max(1)));
    u64::try_from(nanos).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    fn t(seconds: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(1_740_000_000)
            + Duration::from_secs_f64(seconds)
    }

    /// 10 GiB at 512 MiB/s: 20 s for the whole copy, 0.2 s per percent.
    fn copy(percent: u8) -> Copy {
        let mut copy = Copy::new(10 * GIB, 512 * MIB, percent, 7);
        copy.start(t(0.0));
        copy
    }

    #[track_caller]
    fn percent_at(copy: &Copy, seconds: f64, expected: u8) {
        assert_eq!(copy.percent(t(seconds)), expected, "at {seconds}s");
    }

    #[test]
    fn progress_follows_the_rate_and_ends_done() {
        let c = copy(40);
        percent_at(&c, 0.0, 40);
        percent_at(&c, 6.0, 70);
        percent_at(&c, 11.9, 99);
        percent_at(&c, 30.0, 100);
        assert_eq!(c.end(), Some((t(12.0), CopyEnd::Done)));
        assert_eq!(
            c.estimated_end(t(0.0)).map(|e| e > t(11.0) && e < t(13.0)),
            Some(true)
        );
        assert_eq!(c.average_rate(t(4.0)), 512 * MIB);
        let current = c.current_rate(t(4.0));
        assert!(current > 490 * MIB && current < 530 * MIB, "{current}");
    }

    #[test]
    fn a_stall_freezes_progress_and_never_ends() {
        let mut c = copy(30);
        c.stall_at = Some(60);
        percent_at(&c, 5.0, 55);
        percent_at(&c, 6.0, 60);
        percent_at(&c, 600.0, 60);
        assert!(!c.stalled(t(5.0)));
        assert!(c.stalled(t(6.0)));
        assert_eq!(c.current_rate(t(7.0)), 0);
        assert!(c.average_rate(t(600.0)) < 20 * MIB);
        assert_eq!(c.end(), None);
    }

    #[test]
    fn a_failure_ends_the_copy_at_its_point() {
        let mut c = copy(25);
        c.fail_at = Some(50);
        assert_eq!(c.end(), Some((t(5.0), CopyEnd::Failed)));
        c.stall_at = Some(70);
        assert_eq!(c.end(), Some((t(5.0), CopyEnd::Failed)));
        c.stall_at = Some(40);
        assert_eq!(c.end(), None);
    }

    #[test]
    fn stopping_keeps_progress_and_pauses_time() {
        let mut c = copy(0);
        c.stop(t(4.0));
        percent_at(&c, 100.0, 20);
        assert_eq!(c.current_rate(t(50.0)), 0);
        assert_eq!(c.end(), None);
        c.start(t(100.0));
        assert_eq!(c.end(), Some((t(116.0), CopyEnd::Done)));
        assert_eq!(c.average_rate(t(104.0)), 512 * MIB);
    }
}

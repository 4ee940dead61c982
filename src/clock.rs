//! The one clock of a process: wall time against real targets, scaled time in the lab.
//!
//! With `--lab --speed N` the lab's job progress and the script's sleeps both read this
//! clock, so a six-hour cutover rehearses in seconds without changing the playbook. The
//! lab's `/_lab/clock` route can stop it, move it on and let it run again, so a test (or
//! an operator) holds every simulated job exactly where it is while it looks.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

/// The speeds a clock may run at: a century of lab time stays a representable date.
pub const SPEEDS: std::ops::RangeInclusive<f64> = 0.001..=100_000.0;

/// A cheap, clonable handle on the process clock.
#[derive(Clone, Debug)]
pub struct Clock {
    source: Arc<Source>,
}

#[derive(Debug)]
enum Source {
    Scaled {
        speed: f64,
        reading: Mutex<Reading>,
        /// Bumped on every pause, resume and jump, so sleepers look at the time again.
        changes: watch::Sender<u64>,
    },
    /// Moves only when told to; lab unit tests use it to step state machines.
    Manual(Mutex<SystemTime>),
    /// Moves only by its sleepers' sleeps; a deadline waits for them.
    Stepped {
        now: Mutex<SystemTime>,
        /// Bumped on every step, so deadlines look at the time again.
        changes: watch::Sender<u64>,
    },
}

/// Where a scaled clock stands: `at` when the wall read `since`, or `at` for good while
/// it is paused (`since` is `None`).
#[derive(Debug)]
struct Reading {
    at: SystemTime,
    since: Option<Instant>,
}

impl Reading {
    fn now(&self, speed: f64) -> SystemTime {
        match self.since {
            Some(since) => self.at + since.elapsed().mul_f64(speed),
            None => self.at,
        }
    }
}

impl Clock {
    /// Wall time, unscaled.
    pub fn wall() -> Self {
        Self::scaled(1.0)
    }

    /// Time that runs `speed` times faster than the wall clock (speeds below 1 slow it).
    pub fn scaled(speed: f64) -> Self {
        let speed = if SPEEDS.contains(&speed) { speed } else { 1.0 };
        Self {
            source: Arc::new(Source::Scaled {
                speed,
                reading: Mutex::new(Reading {
                    at: SystemTime::now(),
                    since: Some(Instant::now()),
                }),
                changes: watch::Sender::new(0),
            }),
        }
    }

    /// A clock that stands still at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: SystemTime) -> Self {
        Self {
            source: Arc::new(Source::Manual(Mutex::new(start))),
        }
    }

    /// A clock that stands still at `start` and moves only when something sleeps on it,
    /// by exactly the sleep, while a deadline raced against work ([`Clock::until`])
    /// waits for those steps: one clock for a test's lab and a script's waits, so each
    /// poll steps lab time exactly and nothing sleeps for real.
    pub fn stepped(start: SystemTime) -> Self {
        Self {
            source: Arc::new(Source::Stepped {
                now: Mutex::new(start),
                changes: watch::Sender::new(0),
            }),
        }
    }

    /// Moves the clock forward by `by`, whether it runs or stands still.
    pub fn advance(&self, by: Duration) {
        match &*self.source {
            Source::Scaled {
                reading, changes, ..
            } => {
                let mut reading = lock(reading);
                reading.at = reading.at.checked_add(by).unwrap_or(reading.at);
                drop(reading);
                changes.send_modify(|n| *n = n.wrapping_add(1));
            }
            Source::Manual(now) => {
                let mut now = lock(now);
                *now = now.checked_add(by).unwrap_or(*now);
            }
            Source::Stepped { now, changes } => {
                let mut now = lock(now);
                *now = now.checked_add(by).unwrap_or(*now);
                drop(now);
                changes.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }

    /// Stops a scaled clock where it is: lab jobs stand still, and sleeps on this clock
    /// wait, until [`Clock::resume`]. A manual clock stands still anyway.
    pub fn pause(&self) {
        if let Source::Scaled {
            speed,
            reading,
            changes,
        } = &*self.source
        {
            let mut reading = lock(reading);
            reading.at = reading.now(*speed);
            reading.since = None;
            drop(reading);
            changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Lets a paused clock run again from where it stood.
    pub fn resume(&self) {
        if let Source::Scaled {
            reading, changes, ..
        } = &*self.source
        {
            let mut reading = lock(reading);
            if reading.since.is_none() {
                reading.since = Some(Instant::now());
            }
            drop(reading);
            changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Whether the clock stands still until told otherwise.
    pub fn is_paused(&self) -> bool {
        match &*self.source {
            Source::Scaled { reading, .. } => lock(reading).since.is_none(),
            Source::Manual(_) | Source::Stepped { .. } => true,
        }
    }

    /// The current time on this clock.
    pub fn now(&self) -> SystemTime {
        match &*self.source {
            Source::Scaled { speed, reading, .. } => lock(reading).now(*speed),
            Source::Manual(now) | Source::Stepped { now, .. } => *lock(now),
        }
    }

    /// How many times faster than the wall clock this clock runs.
    pub fn speed(&self) -> f64 {
        match &*self.source {
            Source::Scaled { speed, .. } => *speed,
            Source::Manual(_) | Source::Stepped { .. } => 1.0,
        }
    }

    /// The wall-clock duration that `clock_time` takes on this clock while it runs.
    pub fn real(&self, clock_time: Duration) -> Duration {
        Duration::try_from_secs_f64(clock_time.as_secs_f64() / self.speed())
            .unwrap_or(Duration::MAX)
    }

    /// Ends once the clock reads `at` or later: a deadline that other work races
    /// against. It sleeps until then, except on a stepped clock, whose time only its
    /// sleepers move: there it waits for them.
    pub async fn until(&self, at: SystemTime) {
        let Source::Stepped { changes, .. } = &*self.source else {
            if let Ok(left) = at.duration_since(self.now()) {
                self.sleep(left).await;
            }
            return;
        };
        // Subscribed before the first look, so no step after it goes unseen.
        let mut changed = changes.subscribe();
        while self.now() < at {
            // The sender lives as long as this clock, so this only ends on a change.
            let _ = changed.changed().await;
        }
    }

    /// Sleeps for `clock_time` as measured on this clock: longer while it is paused,
    /// shorter when it is moved on meanwhile. A manual or stepped clock is moved on
    /// instead.
    pub async fn sleep(&self, clock_time: Duration) {
        let Source::Scaled { changes, .. } = &*self.source else {
            return self.advance(clock_time);
        };
        // Subscribed before the first look, so no pause or jump after it goes unseen.
        let mut changed = changes.subscribe();
        let Some(until) = self.now().checked_add(clock_time) else {
            // Later than any date: only the caller's cancellation ends this.
            return std::future::pending().await;
        };
        loop {
            let left = until.duration_since(self.now()).unwrap_or_default();
            if left.is_zero() {
                return;
            }
            if self.is_paused() {
                // The sender lives as long as this clock, so this only ends on a change.
                let _ = changed.changed().await;
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.real(left)) => {}
                _ = changed.changed() => {}
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster_than_the_wall() {
        let clock = Clock::scaled(1000.0);
        let start = clock.now();
        // A sleep lasts at least this long, so at least twenty clock seconds passed.
        std::thread::sleep(Duration::from_millis(20));
        let passed = clock.now().duration_since(start).unwrap_or_default();
        assert!(passed >= Duration::from_secs(20), "{passed:?}");
        assert_eq!(
            clock.real(Duration::from_secs(10)),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        assert!(clock.is_paused());
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + Duration::from_secs(90));
    }

    #[tokio::test]
    async fn a_stepped_clock_moves_by_its_sleeps_and_a_deadline_waits_for_them() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Clock::stepped(start);
        let deadline = tokio::spawn({
            let clock = clock.clone();
            async move { clock.until(start + Duration::from_secs(20)).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(clock.now(), start, "a deadline moves nothing");
        clock.sleep(Duration::from_secs(10)).await;
        assert_eq!(clock.now(), start + Duration::from_secs(10));
        assert!(!deadline.is_finished());
        clock.sleep(Duration::from_secs(10)).await;
        deadline.await.unwrap();
        assert_eq!(clock.now(), start + Duration::from_secs(20));
    }

    #[test]
    fn a_paused_clock_stands_still_and_moves_only_when_told() {
        let clock = Clock::scaled(1000.0);
        clock.pause();
        assert!(clock.is_paused());
        let held = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            clock.now(),
            held,
            "five wall milliseconds are five clock seconds"
        );
        clock.advance(Duration::from_secs(30));
        assert_eq!(clock.now(), held + Duration::from_secs(30));
        clock.resume();
        assert!(!clock.is_paused());
        std::thread::sleep(Duration::from_millis(5));
        assert!(clock.now() >= held + Duration::from_secs(35));
    }

    #[test]
    fn a_sleep_on_a_paused_clock_ends_once_the_clock_is_moved_on() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // So slow that a second of clock time would take a thousand wall seconds.
        let clock = Clock::scaled(0.001);
        clock.pause();
        runtime.block_on(async {
            let sleeping = tokio::spawn({
                let clock = clock.clone();
                async move { clock.sleep(Duration::from_secs(60)).await }
            });
            tokio::task::yield_now().await;
            clock.advance(Duration::from_secs(59));
            tokio::task::yield_now().await;
            assert!(!sleeping.is_finished(), "a clock second is still to go");
            clock.advance(Duration::from_secs(1));
            sleeping.await.unwrap();
        });
    }

    #[test]
    fn nonsense_speeds_fall_back_to_wall_time() {
        assert_eq!(Clock::scaled(0.0).speed(), 1.0);
        assert_eq!(Clock::scaled(f64::NAN).speed(), 1.0);
        assert_eq!(Clock::scaled(1e300).speed(), 1.0);
        assert_eq!(Clock::scaled(0.001).real(Duration::MAX), Duration::MAX);
    }
}

//! The one clock of a process: wall time against real targets, scaled time in the lab.
//!
//! With `--lab --speed N` the lab's job progress and the script's sleeps both read this
//! clock, so a six-hour cutover rehearses in seconds without changing the playbook.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

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
        origin_wall: SystemTime,
        origin: Instant,
        speed: f64,
    },
    /// Moves only when told to; lab unit tests use it to step state machines.
    Manual(Mutex<SystemTime>),
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
                origin_wall: SystemTime::now(),
                origin: Instant::now(),
                speed,
            }),
        }
    }

    /// A clock that stands still at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: SystemTime) -> Self {
        Self {
            source: Arc::new(Source::Manual(Mutex::new(start))),
        }
    }

    /// Moves a manual clock forward; a scaled clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Source::Manual(now) = &*self.source {
            *now.lock().unwrap_or_else(PoisonError::into_inner) += by;
        }
    }

    /// The current time on this clock.
    pub fn now(&self) -> SystemTime {
        match &*self.source {
            Source::Scaled {
                origin_wall,
                origin,
                speed,
            } => *origin_wall + origin.elapsed().mul_f64(*speed),
            Source::Manual(now) => *now.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// How many times faster than the wall clock this clock runs.
    pub fn speed(&self) -> f64 {
        match &*self.source {
            Source::Scaled { speed, .. } => *speed,
            Source::Manual(_) => 1.0,
        }
    }

    /// The wall-clock duration that `clock_time` takes on this clock.
    pub fn real(&self, clock_time: Duration) -> Duration {
        clock_time.div_f64(self.speed())
    }

    /// Sleeps for `clock_time` as measured on this clock.
    pub async fn sleep(&self, clock_time: Duration) {
        match &*self.source {
            Source::Scaled { .. } => tokio::time::sleep(self.real(clock_time)).await,
            Source::Manual(_) => self.advance(clock_time),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster_than_the_wall() {
        let clock = Clock::scaled(1000.0);
        let start = clock.now();
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
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + Duration::from_secs(90));
    }

    #[test]
    fn nonsense_speeds_fall_back_to_wall_time() {
        assert_eq!(Clock::scaled(0.0).speed(), 1.0);
        assert_eq!(Clock::scaled(f64::NAN).speed(), 1.0);
        assert_eq!(Clock::scaled(1e300).speed(), 1.0);
    }
}

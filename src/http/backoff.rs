//! The one backoff schedule: exponential from an initial wait, capped, with full jitter,
//! and never shorter than what the server asked for in `Retry-After`. Script-level
//! `retry` and clients that absorb throttling themselves both wait by it.

use std::time::Duration;

/// The wait before try `attempt + 1` (attempts count from 1): a random share of
/// [`ceiling`], and at least `retry_after`.
pub fn backoff(
    initial: Duration,
    max: Duration,
    attempt: u64,
    retry_after: Option<Duration>,
) -> Duration {
    ceiling(initial, max, attempt)
        .mul_f64(fastrand::f64())
        .max(retry_after.unwrap_or_default())
}

/// The longest wait before try `attempt + 1`: `initial · 2^(attempt-1)`, at most `max`.
pub fn ceiling(initial: Duration, max: Duration, attempt: u64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1).min(30)).unwrap_or(30);
    initial.saturating_mul(1 << exponent).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_from_the_initial_wait_up_to_the_cap() {
        #[track_caller]
        fn case(attempt: u64, expected_ms: u64) {
            let ms = Duration::from_millis;
            assert_eq!(ceiling(ms(500), ms(30_000), attempt), ms(expected_ms));
        }
        case(0, 500);
        case(1, 500);
        case(2, 1_000);
        case(3, 2_000);
        case(6, 16_000);
        case(7, 30_000);
        case(40, 30_000);
        case(u64::MAX, 30_000);
        let huge = Duration::from_secs(u64::MAX / 2);
        assert_eq!(ceiling(huge, Duration::MAX, 3), Duration::MAX, "saturates");
    }

    #[test]
    fn waits_stay_under_the_ceiling_and_honour_retry_after() {
        let second = Duration::from_secs(1);
        for _ in 0..50 {
            assert!(backoff(second, 10 * second, 3, None) <= ceiling(second, 10 * second, 3));
            assert!(backoff(second, 10 * second, 1, Some(3 * second)) >= 3 * second);
        }
    }
}

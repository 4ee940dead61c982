//! The one backoff schedule: exponential from an initial wait, capped, with full jitter,
//! and never shorter than what the server asked for in `Retry-After`. Script-level
//! `retry` and clients that absorb throttling themselves both wait by it.

use std::time::Duration;

/// The wait before try `attempt + 1` (attempts count from 1): a random share of
/// `initial · 2^(attempt-1)`, at most `max`, and at least `retry_after`.
pub fn backoff(
    initial: Duration,
    max: Duration,
    attempt: u64,
    retry_after: Option<Duration>,
) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1).min(30)).unwrap_or(30);
    let ceiling = initial.saturating_mul(1 << exponent).min(max);
    ceiling
        .mul_f64(fastrand::f64())
        .max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_up_to_the_cap_and_honour_retry_after() {
        let second = Duration::from_secs(1);
        for _ in 0..50 {
            assert!(backoff(second, 10 * second, 1, None) <= second);
            assert!(backoff(second, 10 * second, 3, None) <= 4 * second);
            assert!(backoff(second, 10 * second, 40, None) <= 10 * second);
            assert!(backoff(second, 10 * second, 1, Some(3 * second)) >= 3 * second);
        }
    }
}

//! `Retrier`: the one place a request is sent again without the script asking. A read
//! (GET, HEAD) that fails with a retryable error (design.md: 408, 429, 502, 503, 504, a
//! connection that never opened or broke, an answer that broke or does not parse) is
//! sent again with `retry()`'s backoff, honouring `Retry-After`, within the target's
//! `read_retries`: so many tries, so much time, and never past the deadline of the wait
//! it runs in. A mutation refused that way is sent again only when the mutation gate
//! found that safe ([`ApiError::resend_safe`]: the vendor shows it did not take effect,
//! or the operation is safe to repeat), or its vendor says the failure proves it never
//! arrived (Huawei's gateway throttling). Retry waits run on the process clock, so
//! `--lab --speed` shortens them, and end with the run: a cancelled run drops the
//! future that sleeps.

use std::future::Future;
use std::time::{Duration, SystemTime};

use reqwest::{Method, Response};

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::{ReadRetries, Target};
use crate::http::backoff::backoff;

tokio::task_local! {
    /// The clock time by which the wait a request runs in gives up, and that clock.
    static DEADLINE: (SystemTime, Clock);
}

/// Runs `future` with every retry and every request inside it ending by `deadline` (time
/// on `clock`), or an earlier deadline already in force.
pub async fn within_deadline<F: Future>(
    deadline: Option<SystemTime>,
    clock: &Clock,
    future: F,
) -> F::Output {
    let enclosing = wait_deadline();
    let earliest = deadline
        .map(|at| (at, clock.clone()))
        .into_iter()
        .chain(enclosing)
        .min_by_key(|(at, _)| *at);
    match earliest {
        Some(deadline) => DEADLINE.scope(deadline, future).await,
        None => future.await,
    }
}

/// The deadline of the wait the current request runs in, with the clock it is read on.
pub fn wait_deadline() -> Option<(SystemTime, Clock)> {
    DEADLINE.try_with(Clone::clone).ok()
}

/// Says whether a mutation that failed with `err` is safe to send again because it
/// cannot have reached the service.
pub type NeverArrived = fn(&ApiError) -> bool;

/// Sends a target's requests again when that is safe, by the target's `read_retries`.
#[derive(Clone, Debug)]
pub struct Retrier {
    target: String,
    policy: ReadRetries,
    clock: Clock,
    never_arrived: Option<NeverArrived>,
}

impl Retrier {
    /// The retrier of `target`; backoff waits run on `clock`.
    pub fn new(target: &Target, clock: Clock) -> Self {
        Self {
            target: target.name.clone(),
            policy: target.read_retries,
            clock,
            never_arrived: None,
        }
    }

    /// Also sends mutations again whose failure `never_arrived` says proves they were
    /// stopped before the service (a gateway's throttling), on the same schedule.
    #[must_use]
    pub fn resending(mut self, never_arrived: NeverArrived) -> Self {
        self.never_arrived = Some(never_arrived);
        self
    }

    /// Sends with `attempt` until it succeeds or may not be sent again. `HttpClient::send`
    /// reads each answer whole, so a connection that breaks while a read's answer streams
    /// in is retried as well; the answer handed back is whole.
    pub async fn send<F, Fut>(
        &self,
        operation: &str,
        method: &Method,
        attempt: F,
    ) -> Result<Response, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Response, ApiError>>,
    {
        self.run(operation, method, attempt).await
    }

    /// Runs `attempt` (one request of `method`, with whatever it reads) until it
    /// succeeds or may not be run again; the last error is returned.
    pub async fn run<T, F, Fut>(
        &self,
        operation: &str,
        method: &Method,
        mut attempt: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let started = self.clock.now();
        let give_up = wait_deadline()
            .map(|(at, _)| at)
            .into_iter()
            .chain(started.checked_add(self.policy.max_time))
            .min();
        let mut tries: u32 = 1;
        loop {
            let err = match attempt().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if tries > self.policy.retries || !self.may_resend(method, &err) {
                return Err(err);
            }
            let wait = backoff(
                self.policy.initial,
                self.policy.max,
                u64::from(tries),
                err.retry_after,
            );
            let resume = self.clock.now().checked_add(wait);
            if resume.is_none_or(|resume| give_up.is_some_and(|give_up| resume > give_up)) {
                tracing::debug!(
                    target = %self.target,
                    operation,
                    attempt = tries,
                    body = unreadable_body(&err),
                    "not retrying: waiting {} would pass the time allowed: {err}",
                    format_wait(wait)
                );
                return Err(err);
            }
            tracing::debug!(
                target = %self.target,
                operation,
                attempt = tries + 1,
                body = unreadable_body(&err),
                "retrying in {} (attempt {} of {}): {err}",
                format_wait(wait),
                tries + 1,
                self.policy.retries.saturating_add(1)
            );
            self.clock.sleep(wait).await;
            tries += 1;
        }
    }

    fn may_resend(&self, method: &Method, err: &ApiError) -> bool {
        err.retryable
            && (is_read(method) || err.resend_safe || self.never_arrived.is_some_and(|f| f(err)))
    }
}

/// The body of a successful answer a parser could not read: the only place it shows,
/// since the error's message says only why.
fn unreadable_body(err: &ApiError) -> Option<&str> {
    err.status
        .filter(|status| (200..300).contains(status))
        .and(err.body.as_deref())
}

/// Reads change nothing, so sending one twice is always safe.
pub fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// A wait to the millisecond, as a log line shows it.
fn format_wait(wait: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_millis(
        u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::api_error::ErrorKind;

    const START: Duration = Duration::from_secs(1_700_000_000);

    fn retrier(retries: u32, max_time: Duration) -> (Retrier, Clock) {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH + START);
        let target = Target {
            read_retries: ReadRetries {
                retries,
                initial: Duration::from_millis(100),
                max: Duration::from_secs(1),
                max_time,
            },
            ..Target::for_tests("https://array1.example.com")
        };
        (Retrier::new(&target, clock.clone()), clock)
    }

    fn status(code: u16) -> ApiError {
        let mut err = ApiError::new(ErrorKind::from_status(code), code.to_string());
        err.status = Some(code);
        err.retryable = crate::api_error::is_retryable_status(code);
        err
    }

    /// Runs `retrier` over `answers` (an `Err` status or `Ok`), returning the outcome
    /// and how many tries were made.
    fn outcome(
        retrier: &Retrier,
        method: Method,
        answers: &[Result<(), u16>],
    ) -> (Result<(), u16>, usize) {
        let tries = RefCell::new(0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(retrier.run("op", &method, || {
            let answer = answers[*tries.borrow()];
            *tries.borrow_mut() += 1;
            async move { answer.map_err(status) }
        }));
        (result.map_err(|e| e.status.unwrap()), tries.into_inner())
    }

    #[test]
    fn reads_ride_out_retryable_errors_and_mutations_do_not() {
        let (retrier, _) = retrier(4, Duration::from_secs(60));
        #[track_caller]
        fn case(
            retrier: &Retrier,
            method: Method,
            answers: &[Result<(), u16>],
            expected: (Result<(), u16>, usize),
        ) {
            assert_eq!(outcome(retrier, method, answers), expected, "{answers:?}");
        }
        let busy = Err(503);
        case(&retrier, Method::GET, &[busy, busy, Ok(())], (Ok(()), 3));
        case(&retrier, Method::HEAD, &[Err(429), Ok(())], (Ok(()), 2));
        case(&retrier, Method::GET, &[Err(404), Ok(())], (Err(404), 1));
        case(&retrier, Method::GET, &[Err(500), Ok(())], (Err(500), 1));
        case(&retrier, Method::POST, &[busy, Ok(())], (Err(503), 1));
        case(&retrier, Method::DELETE, &[busy, Ok(())], (Err(503), 1));
        case(&retrier, Method::GET, &[busy; 6], (Err(503), 5));
        let resending = retrier.resending(|err| err.status == Some(429));
        case(&resending, Method::POST, &[Err(429), Ok(())], (Ok(()), 2));
        case(&resending, Method::POST, &[busy, Ok(())], (Err(503), 1));
    }

    #[test]
    fn no_retries_means_one_try() {
        let (retrier, _) = retrier(0, Duration::from_secs(60));
        assert_eq!(
            outcome(&retrier, Method::GET, &[Err(503), Ok(())]),
            (Err(503), 1)
        );
    }

    #[test]
    fn retries_stop_at_the_time_allowed_and_at_an_enclosing_deadline() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let busy = |seconds: u64| {
            let mut err = status(503);
            err.retry_after = Some(Duration::from_secs(seconds));
            err
        };
        // Retry-After 10 s fits in a minute twice, then the next wait would pass it.
        let (bounded, clock) = retrier(9, Duration::from_secs(25));
        let tries = RefCell::new(0);
        let result: Result<(), _> = runtime.block_on(bounded.run("op", &Method::GET, || {
            *tries.borrow_mut() += 1;
            async { Err(busy(10)) }
        }));
        assert!(result.is_err());
        assert_eq!(*tries.borrow(), 3);
        let waited = clock.now().duration_since(SystemTime::UNIX_EPOCH + START);
        assert_eq!(waited.unwrap(), Duration::from_secs(20));

        let (patient, clock) = retrier(9, Duration::from_secs(600));
        let deadline = clock.now() + Duration::from_secs(15);
        let tries = RefCell::new(0);
        let result: Result<(), _> = runtime.block_on(within_deadline(
            Some(deadline),
            &clock,
            patient.run("op", &Method::GET, || {
                *tries.borrow_mut() += 1;
                async { Err(busy(10)) }
            }),
        ));
        assert!(result.is_err());
        assert_eq!(
            *tries.borrow(),
            2,
            "the second wait would end past the deadline"
        );
    }

    #[tokio::test]
    async fn an_inner_deadline_never_extends_an_outer_one() {
        let outer = SystemTime::UNIX_EPOCH + START;
        let later = outer + Duration::from_secs(60);
        let clock = Clock::manual(outer);
        let seen = within_deadline(
            Some(outer),
            &clock,
            within_deadline(Some(later), &clock, async { DEADLINE.with(|d| d.0) }),
        )
        .await;
        assert_eq!(seen, outer);
        assert!(
            within_deadline(None, &clock, async { wait_deadline() })
                .await
                .is_none()
        );
    }
}

//! `wait_for(state)` for every vendor handle: poll the remote job until it reaches the
//! awaited state, fail at once when it ends otherwise (design.md's terminal-state rule),
//! ride out transient read errors, and time out with the state it was left in.

use std::time::Duration;

use rhai::{EvalAltResult, Map};

use crate::http::error::{ApiError, ErrorKind};
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::flow::poll;
use crate::script::options::Options;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// What one look at the job says.
#[derive(Debug)]
pub enum Verdict {
    /// The awaited state.
    Reached,
    /// Not yet.
    Waiting,
    /// A state the awaited one can no longer follow; the error says which and why.
    Ended(Box<ApiError>),
}

/// One wait: what is awaited, on which target, for how long.
#[derive(Debug)]
pub struct Wait<'a> {
    pub operation: &'a str,
    pub target: &'a str,
    /// The job, for messages: "import session `lun17`".
    pub what: String,
    pub wanted: String,
    pub timeout: Duration,
    pub every: Duration,
}

impl<'a> Wait<'a> {
    /// A wait with `timeout` and `every` from a script's options, or the defaults.
    pub fn new(
        operation: &'a str,
        target: &'a str,
        options: Map,
        defaults: (Duration, Duration),
    ) -> RhaiResult<Self> {
        let options = Options::new(operation, options, &["timeout", "every"])?;
        Ok(Self {
            operation,
            target,
            what: String::new(),
            wanted: String::new(),
            timeout: options.duration("timeout", defaults.0)?,
            every: options.duration("every", defaults.1)?,
        })
    }

    /// Names the job and the state awaited.
    #[must_use]
    pub fn of(mut self, what: impl Into<String>, wanted: impl Into<String>) -> Self {
        self.what = what.into();
        self.wanted = wanted.into();
        self
    }

    /// Reads the job with `read` every `every` and asks `judge` about it, until it is
    /// reached (the last reading is returned) or ended (its error is raised). A read
    /// that fails with a retryable error is logged and tried again at the next turn;
    /// on timeout the error carries `state_of` the last reading.
    pub fn run<T>(
        &self,
        host: &Host,
        mut read: impl FnMut() -> Result<T, ApiError>,
        mut judge: impl FnMut(&T) -> Verdict,
        state_of: impl Fn(&T) -> String,
    ) -> RhaiResult<T> {
        let mut last = None;
        let reached = poll(host, self.timeout, self.every, || {
            let reading = match read() {
                Ok(reading) => reading,
                Err(err) if err.retryable => {
                    tracing::warn!("still waiting for {}; reading it failed: {err}", self.what);
                    return Ok(None);
                }
                Err(err) => return Err(raise(err)),
            };
            match judge(&reading) {
                Verdict::Reached => Ok(Some(reading)),
                Verdict::Waiting => {
                    last = Some(reading);
                    Ok(None)
                }
                Verdict::Ended(err) => Err(raise((*err).at(self.target, self.operation))),
            }
        })?;
        reached.ok_or_else(|| {
            let found = last
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), &state_of);
            raise(self.timed_out(&found))
        })
    }

    fn timed_out(&self, found: &str) -> ApiError {
        ApiError::new(
            ErrorKind::Timeout,
            format!(
                "{} did not reach {} within {}; it is {found}",
                self.what,
                self.wanted,
                humantime::format_duration(self.timeout)
            ),
        )
        .at(self.target, self.operation)
        .with_state(found)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::clock::Clock;

    fn host() -> (tokio::runtime::Runtime, Host) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let host = Host::new(
            runtime.handle().clone(),
            Clock::manual(std::time::SystemTime::UNIX_EPOCH),
            tokio_util::sync::CancellationToken::new(),
            crate::config::Targets::default(),
        );
        (runtime, host)
    }

    fn wait(timeout: u64) -> Wait<'static> {
        let defaults = (Duration::from_secs(timeout), Duration::from_secs(1));
        Wait::new("job.wait_for", "array1", Map::new(), defaults)
            .unwrap()
            .of("job `7`", "DONE")
    }

    fn judge(state: &&str) -> Verdict {
        match *state {
            "DONE" => Verdict::Reached,
            "FAILED" => Verdict::Ended(Box::new(ApiError::new(
                ErrorKind::InvalidState,
                "it failed",
            ))),
            _ => Verdict::Waiting,
        }
    }

    fn error(result: RhaiResult<&str>) -> rhai::Dynamic {
        match *result.unwrap_err() {
            EvalAltResult::ErrorRuntime(value, _) => value,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_wait_ends_at_the_state_and_rides_out_transient_errors() {
        let (_runtime, host) = host();
        let readings = ["RUNNING", "transient", "RUNNING", "DONE"];
        let turn = Cell::new(0);
        let read = || {
            let reading = readings[turn.get()];
            turn.set(turn.get() + 1);
            if reading == "transient" {
                let mut err = ApiError::new(ErrorKind::Http, "503");
                err.retryable = true;
                return Err(err);
            }
            Ok(reading)
        };
        let done = wait(60).run(&host, read, judge, |s| (*s).to_owned());
        assert_eq!(done.unwrap(), "DONE");
        assert_eq!(turn.get(), 4);
    }

    #[test]
    fn an_ended_job_fails_at_once_and_a_slow_one_times_out_with_its_state() {
        let (_runtime, host) = host();
        let ended = error(wait(3600).run(&host, || Ok("FAILED"), judge, |s| (*s).to_owned()));
        assert!(ended.to_string().contains("it failed"), "{ended}");
        let slow = error(wait(5).run(&host, || Ok("RUNNING"), judge, |s| (*s).to_owned()));
        let text = slow.to_string();
        assert!(
            text.contains("job `7` did not reach DONE within 5s; it is RUNNING"),
            "{text}"
        );
    }
}

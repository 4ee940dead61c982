//! `wait_for(state)` for every vendor handle: poll the remote job until it reaches the
//! awaited state, fail at once when it ends otherwise (design.md's terminal-state rule),
//! ride out transient read errors, log what it sees (see [`crate::script::wait_log`]),
//! and time out with the state it was left in.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rhai::{EvalAltResult, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::flow::{MIN_EVERY, poll_logged, poll_logged_booked};
use crate::script::options::{Options, spelled};
use crate::script::shared_read::SharedReads;
use crate::script::wait_log::{Reading, Subject, report};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// The doc line of a wait's `timeout` and `every` options, spelling their defaults from
/// the values the wait uses, so the documentation cannot drift from them.
pub fn options_doc(timeout: Duration, every: Duration) -> String {
    format!(
        "/// Options: `timeout` (default \"{}\"), `every` (\"{}\").",
        spelled(timeout),
        spelled(every)
    )
}

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
    /// reached (the last reading is returned) or ended (its error is raised). What
    /// `look` sees in each reading (named like the wait's job) is logged as it changes.
    /// A read that fails with a retryable error is logged and tried again at the next
    /// turn; on timeout the error carries the state of the last reading.
    pub fn run<T>(
        &self,
        host: &Host,
        read: impl FnMut() -> Result<T, ApiError>,
        judge: impl FnMut(&T) -> Verdict,
        look: impl Fn(&T) -> Reading,
    ) -> RhaiResult<T> {
        self.run_paced(
            host,
            read,
            judge,
            look,
            None::<fn(SystemTime) -> SystemTime>,
        )
    }

    /// [`Wait::run`] for a job that waits on the same target share their readings with:
    /// its first reading is its own (`read_alone`, at once), the later ones of object
    /// `id` come through `shared` on the grid of `every` with theirs, and `read_alone`
    /// serves again when the shared answer leaves the object out or the deadline comes
    /// before the booked reading. The rules and messages are [`Wait::run`]'s.
    pub fn run_shared<T: Clone + Send + Sync + 'static>(
        &self,
        host: &Host,
        (shared, id): (&Arc<SharedReads<T>>, &str),
        mut read_alone: impl FnMut() -> Result<T, ApiError>,
        judge: impl FnMut(&T) -> Verdict,
        look: impl Fn(&T) -> Reading,
    ) -> RhaiResult<T> {
        let deadline = host.clock().now().checked_add(self.timeout);
        let watcher = RefCell::new(shared.watch(id, self.every.max(MIN_EVERY), deadline));
        let read = || {
            let reading = host.block_on(watcher.borrow_mut().read())?;
            reading.map_or_else(&mut read_alone, Ok)
        };
        let next = |_| watcher.borrow_mut().book_next();
        self.run_paced(host, read, judge, look, Some(next))
    }

    /// [`Wait::run`], reading again where `next` says when given.
    fn run_paced<T>(
        &self,
        host: &Host,
        mut read: impl FnMut() -> Result<T, ApiError>,
        mut judge: impl FnMut(&T) -> Verdict,
        look: impl Fn(&T) -> Reading,
        next: Option<impl FnMut(SystemTime) -> SystemTime>,
    ) -> RhaiResult<T> {
        let mut last = None;
        let subject = Subject::Job {
            what: self.what.clone(),
            wanted: self.wanted.clone(),
        };
        let check = || {
            let reading = match read() {
                Ok(reading) => reading,
                Err(err) if err.retryable => {
                    tracing::warn!("still waiting for {}; reading it failed: {err}", self.what);
                    return Ok(None);
                }
                Err(err) => return Err(raise(err)),
            };
            report(look(&reading));
            match judge(&reading) {
                Verdict::Reached => Ok(Some(reading)),
                Verdict::Waiting => {
                    last = Some(reading);
                    Ok(None)
                }
                Verdict::Ended(err) => Err(raise((*err).at(self.target, self.operation))),
            }
        };
        let reached = match next {
            Some(next) => poll_logged_booked(host, subject, self.timeout, check, next)?,
            None => poll_logged(host, subject, self.timeout, self.every, check)?,
        };
        reached.ok_or_else(|| {
            let found = last
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |last| look(last).state);
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

    fn look(state: &&str) -> Reading {
        Reading::new("job `7`", *state, None)
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
        let done = wait(60).run(&host, read, judge, look);
        assert_eq!(done.unwrap(), "DONE");
        assert_eq!(turn.get(), 4);
    }

    #[test]
    fn an_ended_job_fails_at_once_and_a_slow_one_times_out_with_its_state() {
        let (_runtime, host) = host();
        let ended = error(wait(3600).run(&host, || Ok("FAILED"), judge, look));
        assert!(ended.to_string().contains("it failed"), "{ended}");
        let slow = error(wait(5).run(&host, || Ok("RUNNING"), judge, look));
        let text = slow.to_string();
        assert!(
            text.contains("job `7` did not reach DONE within 5s; it is RUNNING"),
            "{text}"
        );
    }

    /// Everything logged at info or above while `f` runs on this thread, one message a
    /// line.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .without_time()
            .with_level(false)
            .with_target(false)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = capture.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_long_wait_logs_each_change_and_beats_every_minute() {
        let (_runtime, host) = host();
        let readings = ["QUEUED", "RUNNING", "RUNNING"];
        let turn = Cell::new(0);
        let read = || {
            let reading = readings[turn.get().min(2)];
            turn.set(turn.get() + 1);
            Ok(reading)
        };
        // Polls every two minutes; the heartbeat still comes every minute.
        let options: Map = [
            ("timeout".into(), "210s".into()),
            ("every".into(), "2m".into()),
        ]
        .into_iter()
        .collect();
        let defaults = (Duration::from_secs(1), Duration::from_secs(1));
        let wait = Wait::new("job.wait_for", "array1", options, defaults)
            .unwrap()
            .of("job `7`", "DONE");
        let text = logged(|| {
            let err = error(wait.run(&host, read, judge, look));
            assert!(err.to_string().contains("it is RUNNING"), "{err}");
        });
        assert_eq!(
            text,
            "job `7` is QUEUED\n\
             still waiting for job `7` to reach DONE: QUEUED, 1m elapsed, 2m 30s left\n\
             job `7` QUEUED → RUNNING\n\
             still waiting for job `7` to reach DONE: RUNNING, 2m elapsed, 1m 30s left\n\
             still waiting for job `7` to reach DONE: RUNNING, 3m elapsed, 30s left\n"
        );
        assert_eq!(turn.get(), 3, "read at 0, 2m and the timeout");
    }

    #[test]
    fn a_wait_that_ends_well_past_its_timeout_says_so() {
        let (_runtime, host) = host();
        let clock = host.clock().clone();
        // The read hangs a minute past the 10 s timeout: nothing bounded it.
        let read = || {
            clock.advance(Duration::from_secs(70));
            Ok("RUNNING")
        };
        let text = logged(|| {
            let err = error(wait(10).run(&host, read, judge, look));
            assert!(err.to_string().contains("within 10s"), "{err}");
        });
        assert!(
            text.ends_with("the wait for job `7` to be DONE ran 1m past its timeout of 10s\n"),
            "{text}"
        );
        let text = logged(|| {
            let _ = wait(100).run(&host, || Ok("DONE"), judge, look);
        });
        assert!(!text.contains("past its timeout"), "{text}");
    }

    #[test]
    fn the_options_line_spells_the_defaults_as_a_script_writes_them() {
        let secs = Duration::from_secs;
        assert_eq!(
            options_doc(secs(24 * 3600), secs(15)),
            "/// Options: `timeout` (default \"24h\"), `every` (\"15s\")."
        );
    }
}

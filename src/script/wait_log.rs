//! What a wait (`wait_for`, `wait_until`) tells the operator, so a long wait is never
//! silent: each change of state or percent it observes in the jobs it reads, with their
//! names, and once it has lasted a minute of clock time, a heartbeat every minute with
//! the last state and percent, the time elapsed and the time left, even when nothing
//! changes. Lines go out at info level under `cutover::script`, which the default log
//! filter shows.
//!
//! Handles report every fresh reading of a job with [`report`]; the innermost wait in
//! progress on the script thread, if any, takes it. Outside waits a reading is not
//! logged, so a REPL `refresh()` stays quiet. Every reading, in a wait or not, also goes
//! to the board item the thread works for, if any (see [`crate::script::board`]).

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// How often a long wait says it is still waiting.
pub const HEARTBEAT: Duration = Duration::from_secs(60);
/// Heartbeats name at most this many jobs besides the one awaited.
const MAX_LISTED: usize = 8;

/// One look at a job: its name (`import session `wave1-lun01``), state and percent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub what: String,
    /// The state as the vendor names it; a timed-out wait reports it.
    pub state: String,
    /// The step within the state, for jobs that have steps (a task's subtask).
    pub step: Option<String>,
    pub percent: Option<u32>,
}

impl Reading {
    /// A reading of `what` in `state`, `percent` done if the job says.
    pub fn new(what: impl Into<String>, state: impl Into<String>, percent: Option<u32>) -> Self {
        Self {
            what: what.into(),
            state: state.into(),
            step: None,
            percent,
        }
    }

    /// Names the step within the state the percent counts.
    #[must_use]
    pub fn in_step(mut self, step: Option<String>) -> Self {
        self.step = step;
        self
    }
}

/// The state, step and percent, as lines show them: `Copy_In_Progress 40%`,
/// `MIGRATING (REPLICATE) 40%`.
pub struct Status<'a>(pub &'a Reading);

impl fmt::Display for Status<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.state)?;
        if let Some(step) = &self.0.step {
            write!(f, " ({step})")?;
        }
        match self.0.percent {
            Some(percent) => write!(f, " {percent}%"),
            None => Ok(()),
        }
    }
}

/// What a wait waits for.
#[derive(Clone, Debug)]
pub enum Subject {
    /// A job reaching a state: `what` as readings name it, and the state.
    Job { what: String, wanted: String },
    /// A script's condition, by where it is: `the condition at wave.rhai:3`.
    Condition(String),
}

struct Seen {
    subject: Subject,
    start: SystemTime,
    timeout: Duration,
    /// Every job read so far, in the order first seen, with its last reading.
    readings: Vec<Reading>,
    /// Heartbeats logged so far.
    beats: u32,
}

thread_local! {
    /// The waits in progress on this script thread, innermost last.
    static WAITS: RefCell<Vec<Rc<RefCell<Seen>>>> = const { RefCell::new(Vec::new()) };
}

/// The log of one wait in progress; readings go to it until it is dropped.
pub struct WaitLog {
    seen: Rc<RefCell<Seen>>,
}

impl WaitLog {
    /// Starts logging a wait for `subject` that began at `start` (clock time) and gives
    /// up after `timeout`.
    pub fn start(subject: Subject, start: SystemTime, timeout: Duration) -> Self {
        let seen = Rc::new(RefCell::new(Seen {
            subject,
            start,
            timeout,
            readings: Vec::new(),
            beats: 0,
        }));
        WAITS.with(|waits| waits.borrow_mut().push(Rc::clone(&seen)));
        Self { seen }
    }

    /// Logs a heartbeat for every minute mark reached by `now` and not logged yet. Each
    /// line gives its mark's elapsed and remaining time, so a wait that was held up
    /// (a slow read) still says once for each minute that it was waiting.
    pub fn heartbeat(&self, now: SystemTime) {
        let lines = self.seen.borrow_mut().heartbeats(now);
        for line in lines {
            tracing::info!("{line}");
        }
    }

    /// When the next heartbeat is due, if it comes before the wait times out.
    pub fn next_heartbeat(&self) -> Option<SystemTime> {
        let seen = self.seen.borrow();
        let mark = seen.mark(seen.beats + 1)?;
        seen.start.checked_add(mark)
    }
}

impl Drop for WaitLog {
    fn drop(&mut self) {
        WAITS.with(|waits| {
            waits
                .borrow_mut()
                .retain(|seen| !Rc::ptr_eq(seen, &self.seen));
        });
    }
}

/// Hands a fresh reading of a job to the board item this thread works for and to the
/// innermost wait in progress on this thread.
pub fn report(reading: Reading) {
    crate::script::board::record_reading(&reading);
    let innermost = WAITS.with(|waits| waits.borrow().last().cloned());
    if let Some(seen) = innermost {
        observe(&seen, reading);
    }
}

fn observe(seen: &RefCell<Seen>, reading: Reading) {
    let line = seen.borrow_mut().observe(reading);
    if let Some(line) = line {
        tracing::info!("{line}");
    }
}

impl Seen {
    fn observe(&mut self, reading: Reading) -> Option<String> {
        let Some(last) = self.readings.iter_mut().find(|r| r.what == reading.what) else {
            let line = format!("{} is {}", reading.what, Status(&reading));
            self.readings.push(reading);
            return Some(line);
        };
        if *last == reading {
            return None;
        }
        let line = match (last.percent, reading.percent) {
            (Some(before), Some(after))
                if last.state == reading.state && last.step == reading.step =>
            {
                let mut stage = reading.clone();
                stage.percent = None;
                format!("{} {} {before}% → {after}%", reading.what, Status(&stage))
            }
            _ => format!("{} {} → {}", reading.what, Status(last), Status(&reading)),
        };
        *last = reading;
        Some(line)
    }

    /// How long after the start heartbeat `beat` (from 1) comes; none at or past the
    /// timeout, when the wait ends instead.
    fn mark(&self, beat: u32) -> Option<Duration> {
        HEARTBEAT
            .checked_mul(beat)
            .filter(|mark| *mark < self.timeout)
    }

    fn heartbeats(&mut self, now: SystemTime) -> Vec<String> {
        let elapsed = now.duration_since(self.start).unwrap_or_default();
        let mut lines = Vec::new();
        while let Some(mark) = self.mark(self.beats + 1).filter(|mark| *mark <= elapsed) {
            self.beats += 1;
            lines.push(self.heartbeat_line(mark));
        }
        lines
    }

    fn heartbeat_line(&self, mark: Duration) -> String {
        let (head, own) = match &self.subject {
            Subject::Job { what, wanted } => (
                format!("still waiting for {what} to reach {wanted}"),
                Some(what),
            ),
            Subject::Condition(place) => (format!("still waiting for {place}"), None),
        };
        let mut seen: Vec<String> = Vec::new();
        if let Some(own) = own {
            let status = self.readings.iter().find(|r| &r.what == own);
            seen.push(status.map_or_else(|| "not read yet".to_owned(), |r| Status(r).to_string()));
        }
        let others: Vec<&Reading> = self
            .readings
            .iter()
            .filter(|r| own != Some(&r.what))
            .collect();
        seen.extend(
            others
                .iter()
                .take(MAX_LISTED)
                .map(|r| format!("{} {}", r.what, Status(r))),
        );
        if others.len() > MAX_LISTED {
            seen.push(format!("and {} more", others.len() - MAX_LISTED));
        }
        let mut line = head;
        if !seen.is_empty() {
            line.push_str(": ");
            line.push_str(&seen.join("; "));
        }
        line.push_str(&format!(", {} elapsed", humantime::format_duration(mark)));
        // A timeout too large for the calendar is no deadline: nothing is left to count.
        if self.start.checked_add(self.timeout).is_some() {
            let left = self.timeout.saturating_sub(mark);
            line.push_str(&format!(", {} left", humantime::format_duration(left)));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = HEARTBEAT;

    fn seen(subject: Subject, timeout: Duration) -> Seen {
        Seen {
            subject,
            start: SystemTime::UNIX_EPOCH,
            timeout,
            readings: Vec::new(),
            beats: 0,
        }
    }

    fn job() -> Subject {
        Subject::Job {
            what: "import session `lun01`".into(),
            wanted: "Ready_For_Cutover".into(),
        }
    }

    fn lun(name: &str, state: &str, percent: Option<u32>) -> Reading {
        Reading::new(format!("import session `{name}`"), state, percent)
    }

    #[test]
    fn changes_of_state_or_percent_are_logged_once_each() {
        let mut seen = seen(job(), 5 * MINUTE);
        #[track_caller]
        fn case(seen: &mut Seen, reading: Reading, line: Option<&str>) {
            assert_eq!(seen.observe(reading).as_deref(), line);
        }
        let copy = "Copy_In_Progress";
        case(
            &mut seen,
            lun("lun01", copy, Some(40)),
            Some("import session `lun01` is Copy_In_Progress 40%"),
        );
        case(&mut seen, lun("lun01", copy, Some(40)), None);
        case(
            &mut seen,
            lun("lun01", copy, Some(55)),
            Some("import session `lun01` Copy_In_Progress 40% → 55%"),
        );
        case(
            &mut seen,
            lun("lun02", "Queued", None),
            Some("import session `lun02` is Queued"),
        );
        case(
            &mut seen,
            lun("lun01", "Ready_For_Cutover", Some(100)),
            Some("import session `lun01` Copy_In_Progress 55% → Ready_For_Cutover 100%"),
        );
        case(
            &mut seen,
            lun("lun02", "Queued", Some(0)),
            Some("import session `lun02` Queued → Queued 0%"),
        );
        let task = |step: &str, percent| {
            Reading::new("task `web-02`", "MIGRATING", Some(percent)).in_step(Some(step.into()))
        };
        case(
            &mut seen,
            task("REPLICATE", 40),
            Some("task `web-02` is MIGRATING (REPLICATE) 40%"),
        );
        case(
            &mut seen,
            task("REPLICATE", 60),
            Some("task `web-02` MIGRATING (REPLICATE) 40% → 60%"),
        );
        case(
            &mut seen,
            task("CUTOVER0", 0),
            Some("task `web-02` MIGRATING (REPLICATE) 60% → MIGRATING (CUTOVER0) 0%"),
        );
    }

    #[test]
    fn heartbeats_come_every_minute_before_the_timeout_and_catch_up() {
        let mut seen = seen(job(), Duration::from_secs(210));
        let at = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert!(seen.heartbeats(at(59)).is_empty());
        assert_eq!(
            seen.heartbeats(at(61)),
            [
                "still waiting for import session `lun01` to reach Ready_For_Cutover: not read yet, 1m elapsed, 2m 30s left"
            ]
        );
        seen.observe(lun("lun01", "Paused", Some(55)));
        seen.observe(lun("lun09", "Copy_In_Progress", Some(3)));
        assert_eq!(
            seen.heartbeats(at(200)),
            [
                "still waiting for import session `lun01` to reach Ready_For_Cutover: Paused 55%; import session `lun09` Copy_In_Progress 3%, 2m elapsed, 1m 30s left",
                "still waiting for import session `lun01` to reach Ready_For_Cutover: Paused 55%; import session `lun09` Copy_In_Progress 3%, 3m elapsed, 30s left",
            ]
        );
        assert!(
            seen.heartbeats(at(4000)).is_empty(),
            "none at or past the timeout"
        );
        assert_eq!(seen.mark(4), None);
    }

    #[test]
    fn a_condition_lists_what_it_read() {
        let place = "the condition at wave.rhai:3".to_owned();
        let mut quiet = seen(Subject::Condition(place.clone()), Duration::MAX);
        assert_eq!(
            quiet.heartbeats(SystemTime::UNIX_EPOCH + MINUTE),
            ["still waiting for the condition at wave.rhai:3, 1m elapsed"],
            "no deadline, so nothing left to count"
        );
        let mut busy = seen(Subject::Condition(place), 10 * MINUTE);
        for n in 0..10 {
            busy.observe(lun(&format!("lun{n}"), "Queued", None));
        }
        let line = busy.heartbeats(SystemTime::UNIX_EPOCH + MINUTE).remove(0);
        assert!(
            line.ends_with("import session `lun7` Queued; and 2 more, 1m elapsed, 9m left"),
            "{line}"
        );
    }

    #[test]
    fn readings_go_to_the_innermost_wait_in_progress() {
        report(lun("lun01", "Queued", None));
        let outer = WaitLog::start(job(), SystemTime::UNIX_EPOCH, MINUTE);
        {
            let inner = WaitLog::start(job(), SystemTime::UNIX_EPOCH, MINUTE);
            report(lun("lun01", "Queued", None));
            assert_eq!(inner.seen.borrow().readings.len(), 1);
        }
        assert!(outer.seen.borrow().readings.is_empty());
        report(lun("lun01", "Queued", None));
        assert_eq!(outer.seen.borrow().readings.len(), 1);
        drop(outer);
        assert!(WAITS.with(|waits| waits.borrow().is_empty()));
    }

    #[test]
    fn every_reading_reaches_the_threads_board_item_in_a_wait_or_not() {
        use crate::script::board::{self, Board};
        let board = std::sync::Arc::new(Board::default());
        let crm = board.start("crm");
        let remote = |board: &Board| board.items()[0].remote.clone();
        report(lun("lun01", "Queued", None));
        assert_eq!(remote(&board), None, "the thread works for no item yet");
        let _item = board::enter(&board, crm);
        report(lun("crm-data", "Copy_In_Progress", Some(10)));
        assert_eq!(
            remote(&board),
            Some(lun("crm-data", "Copy_In_Progress", Some(10)))
        );
        let wait = WaitLog::start(job(), SystemTime::UNIX_EPOCH, MINUTE);
        report(lun("crm-data", "Copy_In_Progress", Some(20)));
        assert_eq!(
            remote(&board),
            Some(lun("crm-data", "Copy_In_Progress", Some(20)))
        );
        assert_eq!(wait.seen.borrow().readings.len(), 1);
    }
}

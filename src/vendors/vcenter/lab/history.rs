//! The singleton import task of one appliance (vendor-apis.md §1.4, §1.5): its state
//! machine, progress on the lab clock, and the Info a client reads.
//!
//! RUNNING advances `total` steps in the import's `run_for` of lab time (from 0, pro rata
//! from elsewhere) and becomes SUCCEEDED on the last step; a seeded `block_at` step stops
//! it in BLOCKED with an import error instead. BLOCKED freezes progress. Cancel is final.
//!
//! The estate's import ([`History::estate`]) runs [`ESTATE_RUN`] (about 8 h) of lab time,
//! and its clock starts when a client first reads or acts on it ([`History::touch`]), not
//! when the lab starts: however fast the lab runs, a wave finds it running where the lab
//! seeded it. Imports seeded through `/_lab/history` run [`RUN_SECONDS`] from at once.

use std::time::{Duration, SystemTime};

use crate::vendors::vcenter::wire::{
    DEFAULT_START_DESCRIPTION, DEFAULT_START_NAME, Encoding, HISTORY_SERVICE, HistoryAction,
    HistoryInfo, HistoryStatus, LocalizableMessage, Notification, Notifications, Progress,
    VapiError, VapiErrorKind,
};

use super::error::LabError;

/// Lab seconds a full import (0 to `total`) seeded through `/_lab/history` runs.
pub const RUN_SECONDS: u64 = 60;
/// Lab time a full import of the estate runs: about a working day.
pub const ESTATE_RUN: Duration = Duration::from_secs(8 * 3600);
/// The step at which the rough estate's import stops on an import error: where it is
/// seeded, so the wave finds it blocked when the window opens.
pub const ESTATE_BLOCK_AT: i64 = 10;
/// Steps of a seeded import.
pub const DEFAULT_TOTAL: i64 = 100;

const PREFIX: &str = "vcenter.deployment.history";
const REDO: &str = "To import the history, redo the upgrade or migration.";

/// Why a BLOCKED import is stopped, or how a FAILED one ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cause {
    /// Paused (BLOCKED) or canceled (FAILED) by a user.
    User,
    /// Stopped by an import error: resumable in BLOCKED, final in FAILED.
    ImportError,
}

/// The import task.
#[derive(Clone, Debug)]
pub(super) struct History {
    pub(super) status: HistoryStatus,
    pub(super) cause: Cause,
    pub(super) total: i64,
    /// Lab time a full run (0 to `total`) takes.
    run_for: Duration,
    /// Its clock has not started: it stays as seeded until a client first reads or
    /// acts on it.
    untouched: bool,
    /// Steps done when the current run began (or when progress froze).
    done: f64,
    /// When the current run began, while RUNNING.
    running_since: Option<SystemTime>,
    /// The step at which a running import stops on an import error.
    pub(super) block_at: Option<i64>,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) user: Option<String>,
    pub(super) start_time: Option<SystemTime>,
    pub(super) end_time: Option<SystemTime>,
}

impl History {
    /// An import in `status` with `completed` of `total` steps done at `now`, as if it
    /// had run from 0 at the normal pace.
    pub(super) fn seeded(
        status: HistoryStatus,
        completed: i64,
        total: i64,
        cause: Cause,
        user: Option<String>,
        now: SystemTime,
    ) -> Self {
        let total = total.max(1);
        let completed = match status {
            HistoryStatus::Pending => 0,
            HistoryStatus::Succeeded => total,
            _ => completed.clamp(0, total),
        };
        let run_for = Duration::from_secs(RUN_SECONDS);
        let ran = step_duration(run_for, total).mul_f64(completed as f64);
        let started = (status != HistoryStatus::Pending).then(|| now - ran);
        Self {
            status,
            cause,
            total,
            run_for,
            untouched: false,
            done: completed as f64,
            running_since: (status == HistoryStatus::Running).then_some(now),
            block_at: None,
            name: DEFAULT_START_NAME.to_owned(),
            description: DEFAULT_START_DESCRIPTION.to_owned(),
            user,
            start_time: started,
            end_time: status.is_terminal().then_some(now),
        }
    }

    /// The import of a vCenter just upgraded with `defer_import`: RUNNING at
    /// `completed` of [`DEFAULT_TOTAL`] steps, started by `user`, running [`ESTATE_RUN`]
    /// from its first touch; stopping in BLOCKED on an import error at `block_at`.
    pub(super) fn estate(
        completed: i64,
        block_at: Option<i64>,
        user: &str,
        now: SystemTime,
    ) -> Self {
        let mut history = Self::seeded(
            HistoryStatus::Running,
            completed,
            DEFAULT_TOTAL,
            Cause::User,
            Some(user.to_owned()),
            now,
        );
        history.run_for = ESTATE_RUN;
        history.untouched = true;
        history.running_since = None;
        history.block_at = block_at;
        history.start_time = Some(now - history.ran());
        history
    }

    /// Lab time the steps done so far took at the import's pace.
    fn ran(&self) -> Duration {
        step_duration(self.run_for, self.total).mul_f64(self.done)
    }

    /// A client reads or acts on the import at `now`: an untouched import's clock
    /// starts here, as if it had run at its pace to where it was seeded.
    pub(super) fn touch(&mut self, now: SystemTime) {
        if !std::mem::take(&mut self.untouched) {
            return;
        }
        if self.status == HistoryStatus::Running {
            self.running_since = Some(now);
        }
        if self.start_time.is_some() {
            self.start_time = Some(now - self.ran());
        }
        // An import seeded where it blocks is found blocked by its first reader.
        self.advance(now);
    }

    /// Steps completed at `now` (call [`History::advance`] first).
    pub(super) fn completed(&self) -> i64 {
        (self.done.floor() as i64).clamp(0, self.total)
    }

    /// Moves a running import forward to `now`: more steps, then SUCCEEDED on the last
    /// one or BLOCKED at `block_at`, at the lab time that happened.
    pub(super) fn advance(&mut self, now: SystemTime) {
        let (HistoryStatus::Running, Some(since)) = (self.status, self.running_since) else {
            return;
        };
        let step = step_duration(self.run_for, self.total);
        let elapsed = now.duration_since(since).unwrap_or_default();
        let reached = self.done + elapsed.as_secs_f64() / step.as_secs_f64();
        let stop = match self.block_at {
            Some(at) if (at as f64) > self.done - 1e-9 && at < self.total => Some(at),
            _ => None,
        };
        let limit = stop.unwrap_or(self.total) as f64;
        if reached + 1e-9 < limit {
            self.done = reached;
            self.running_since = Some(now);
            return;
        }
        let at = since + step.mul_f64((limit - self.done).max(0.0));
        self.done = limit;
        self.running_since = None;
        if stop.is_some() {
            self.block_at = None;
            self.status = HistoryStatus::Blocked;
            self.cause = Cause::ImportError;
        } else {
            self.status = HistoryStatus::Succeeded;
            self.end_time = Some(at);
        }
    }

    /// Applies `action` at `now` by `user`, or says why the current state refuses it.
    pub(super) fn apply(
        &mut self,
        action: HistoryAction,
        now: SystemTime,
        user: &str,
        spec: Option<(String, String)>,
    ) -> Result<(), LabError> {
        use HistoryAction as A;
        use HistoryStatus as S;
        let action_name = action.as_str();
        let refuse = |kind: VapiErrorKind, reason: &str, text: String| {
            LabError::new(kind, &format!("{PREFIX}.{action_name}.{reason}"), text)
                .with_arg(self.status.as_str())
        };
        let not_allowed = VapiErrorKind::NotAllowedInCurrentState;
        let already = VapiErrorKind::AlreadyInDesiredState;
        let canceled = self.status == S::Failed && self.cause == Cause::User;
        match (action, self.status) {
            (A::Start, S::Pending) => {
                if let Some((name, description)) = spec {
                    self.name = name;
                    self.description = description;
                }
                self.status = S::Running;
                self.start_time = Some(now);
                self.running_since = Some(now);
                self.user = Some(user.to_owned());
                Ok(())
            }
            (A::Pause, S::Running) => {
                self.status = S::Blocked;
                self.cause = Cause::User;
                self.running_since = None;
                Ok(())
            }
            (A::Resume, S::Blocked) => {
                self.status = S::Running;
                self.running_since = Some(now);
                Ok(())
            }
            (A::Cancel, S::Running | S::Blocked) => {
                self.status = S::Failed;
                self.cause = Cause::User;
                self.running_since = None;
                self.end_time = Some(now);
                Ok(())
            }
            (A::Start, S::Running) => Err(refuse(
                already,
                "running",
                "The history import is already running; there is nothing to start.".to_owned(),
            )),
            (A::Start, S::Blocked) => Err(refuse(
                not_allowed,
                "blocked",
                "The history import is stopped (BLOCKED), not new; resume it or cancel it."
                    .to_owned(),
            )),
            (A::Pause | A::Resume | A::Cancel, S::Pending) => Err(refuse(
                not_allowed,
                "not.started",
                format!(
                    "The history import has not started; start it before you {action_name} it."
                ),
            )),
            (A::Pause, S::Blocked) => Err(refuse(
                already,
                "blocked",
                "The history import is already stopped (BLOCKED); resume it to continue."
                    .to_owned(),
            )),
            (A::Resume, S::Running) => Err(refuse(
                already,
                "running",
                "The history import is already running.".to_owned(),
            )),
            (_, S::Succeeded) => Err(refuse(
                not_allowed,
                "succeeded",
                format!(
                    "The history import has already completed; there is nothing to {action_name}."
                ),
            )),
            (A::Cancel, S::Failed) if canceled => Err(refuse(
                already,
                "canceled",
                "The history import was already canceled.".to_owned(),
            )),
            (_, S::Failed) if canceled => Err(refuse(
                not_allowed,
                "canceled",
                format!(
                    "The history import was canceled; it cannot be {}. {REDO}",
                    done_word(action)
                ),
            )),
            (_, S::Failed) => Err(refuse(
                not_allowed,
                "failed",
                format!(
                    "The history import failed; it cannot be {}. {REDO}",
                    done_word(action)
                ),
            )),
        }
    }

    /// The Info at the current state (call [`History::advance`] first); `error` in the
    /// encoding of the response.
    pub(super) fn info(&self, encoding: Encoding) -> HistoryInfo {
        let status = self.status;
        let progress = (status != HistoryStatus::Pending).then(|| Progress {
            total: self.total,
            completed: self.completed(),
            message: self.progress_message(),
        });
        let failed = status == HistoryStatus::Failed;
        let error = failed.then(|| self.failure().to_json(encoding));
        let errors = match (status, self.cause) {
            (HistoryStatus::Blocked | HistoryStatus::Failed, Cause::ImportError) => {
                vec![Notification {
                    id: format!("{PREFIX}.import.error"),
                    time: self.end_time.or(self.start_time).map(time),
                    message: LocalizableMessage::new(
                        format!("{PREFIX}.import.error"),
                        "Importing the historical data failed on an error.",
                    ),
                    resolution: Some(LocalizableMessage::new(
                        format!("{PREFIX}.import.error.resolution"),
                        if failed {
                            "The import cannot continue. To import the history, redo the upgrade or migration."
                        } else {
                            "Fix the cause (for example free space in the database), then resume the import."
                        },
                    )),
                }]
            }
            _ => Vec::new(),
        };
        HistoryInfo {
            status,
            cancelable: status.is_cancelable(),
            description: LocalizableMessage::new(self.name.clone(), self.description.clone()),
            service: HISTORY_SERVICE.to_owned(),
            operation: "start".to_owned(),
            progress,
            start_time: self.start_time.map(time),
            end_time: self.end_time.filter(|_| status.is_terminal()).map(time),
            result: (status != HistoryStatus::Pending).then(|| Notifications {
                errors,
                ..Notifications::default()
            }),
            error,
            parent: None,
            target: None,
            user: self.user.clone(),
        }
    }

    fn progress_message(&self) -> LocalizableMessage {
        let (id, text) = match (self.status, self.cause) {
            (HistoryStatus::Running, _) => ("running", "Importing events, tasks and statistics."),
            (HistoryStatus::Blocked, Cause::User) => (
                "paused",
                "The history import is paused; resume it to continue.",
            ),
            (HistoryStatus::Blocked, Cause::ImportError) => (
                "blocked",
                "The history import stopped on an error; fix the cause, then resume it.",
            ),
            (HistoryStatus::Succeeded, _) => ("succeeded", "The history import completed."),
            (HistoryStatus::Failed, Cause::User) => {
                ("canceled", "The history import was canceled.")
            }
            (HistoryStatus::Failed, Cause::ImportError) => ("failed", "The history import failed."),
            (HistoryStatus::Pending, _) => ("pending", "The history import has not started."),
        };
        let mut message = LocalizableMessage::new(format!("{PREFIX}.progress.{id}"), text);
        message.args = vec![self.completed().to_string(), self.total.to_string()];
        message
    }

    /// The `error` of a FAILED import.
    fn failure(&self) -> VapiError {
        let message = match self.cause {
            Cause::User => LocalizableMessage::new(
                format!("{PREFIX}.canceled"),
                format!("The history import was canceled; it cannot be resumed. {REDO}"),
            ),
            Cause::ImportError => LocalizableMessage::new(
                format!("{PREFIX}.failed"),
                format!("The history import failed on an error; it cannot be resumed. {REDO}"),
            ),
        };
        VapiError::new(VapiErrorKind::Error, vec![message])
    }
}

fn done_word(action: HistoryAction) -> &'static str {
    match action {
        HistoryAction::Start => "started again",
        HistoryAction::Pause => "paused",
        HistoryAction::Resume => "resumed",
        HistoryAction::Cancel => "canceled",
    }
}

fn step_duration(run_for: Duration, total: i64) -> Duration {
    run_for.div_f64(total.max(1) as f64)
}

/// Info times: RFC 3339 UTC with milliseconds, as the vAPI DateTime type requires.
pub(super) fn time(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

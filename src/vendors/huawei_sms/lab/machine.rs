//! The task state machine of vendor-apis.md §5.5, on the lab clock. A task runs
//! cycles of subtasks (§5.4): the full migration (`REPLICATE` then `CUTOVER0`) and each
//! incremental sync (`RESYNC<n>` then `CUTOVER<n+1>`), file-level or block-level, as
//! `plan.rs` lays them out. Nothing runs in the background: [`SimTask::advance`] computes where a cycle is at
//! any moment, so every answer is a function of lab time.

use std::time::{Duration, SystemTime};

use crate::vendors::huawei_sms::wire::TaskState;

use super::error::LabError;
use super::plan::{Flavour, Step};

/// ABORTING and SYNC_F_ROLLBACKING last this long.
const TRANSITION: Duration = Duration::from_secs(3);

/// One subtask that has started.
#[derive(Clone, Debug)]
pub(super) struct SimSub {
    pub(super) id: i64,
    pub(super) name: &'static str,
    pub(super) user_op: String,
    pub(super) length: Duration,
    /// Time worked before the current stint (or in all, when not running).
    done: Duration,
    pub(super) start: SystemTime,
    pub(super) end: Option<SystemTime>,
    /// Whether this is the step that moves the data.
    pub(super) copies: bool,
}

/// The cycle under way (or paused by a stop or a failure).
#[derive(Clone, Debug)]
struct Run {
    /// `None` for the full migration, `Some(n)` for incremental sync `n`.
    sync: Option<u32>,
    plan: Vec<Step>,
    /// Index in `plan` of the step now in `sub_tasks`' last entry.
    step: usize,
    /// The current stint began here; `None` while paused.
    since: Option<SystemTime>,
}

/// A simulated migration task: state, cycles and subtasks.
#[derive(Clone, Debug)]
pub(super) struct SimTask {
    pub(super) flavour: Flavour,
    pub(super) used_bytes: u64,
    /// Bytes per lab second while copying.
    pub(super) rate: u64,
    pub(super) state: TaskState,
    pub(super) sub_tasks: Vec<SimSub>,
    pub(super) started: Option<SystemTime>,
    pub(super) finished: Option<SystemTime>,
    /// The next copy fails on reaching this percent.
    pub(super) fail_at: Option<u8>,
    /// `error_json` of the last failure, empty when none.
    pub(super) error_json: String,
    syncs: u32,
    run: Option<Run>,
    transition_until: Option<SystemTime>,
    next_sub_id: i64,
}

impl SimTask {
    /// A READY task that has never run.
    pub(super) fn new(flavour: Flavour, used_bytes: u64, rate: u64, first_sub_id: i64) -> Self {
        Self {
            flavour,
            used_bytes,
            rate: rate.max(1),
            state: TaskState::Ready,
            sub_tasks: Vec::new(),
            started: None,
            finished: None,
            fail_at: None,
            error_json: String::new(),
            syncs: 0,
            run: None,
            transition_until: None,
            next_sub_id: first_sub_id,
        }
    }

    /// Moves every time of the task `by` later (a seeded task's first touch).
    pub(super) fn shift(&mut self, by: Duration) {
        for sub in &mut self.sub_tasks {
            sub.start += by;
            if let Some(end) = sub.end.as_mut() {
                *end += by;
            }
        }
        for at in [
            &mut self.started,
            &mut self.finished,
            &mut self.transition_until,
        ] {
            if let Some(at) = at.as_mut() {
                *at += by;
            }
        }
        if let Some(since) = self.run.as_mut().and_then(|r| r.since.as_mut()) {
            *since += by;
        }
    }

    /// Moves the task forward to `now`.
    pub(super) fn advance(&mut self, now: SystemTime) {
        if let Some(until) = self.transition_until.filter(|until| *until <= now) {
            self.transition_until = None;
            self.state = match self.state {
                TaskState::Aborting => TaskState::Abort,
                TaskState::SyncFRollbacking => TaskState::SyncFRollbackSuccess,
                other => other,
            };
            self.finished = Some(until);
        }
        while self.step_once(now) {}
    }

    /// Applies `operation` at `now` (already advanced); the refusal when it is not legal.
    pub(super) fn apply(&mut self, operation: &str, now: SystemTime) -> Result<(), LabError> {
        use TaskState::*;
        let refuse = || Err(LabError::conflict(operation, self.state));
        match (operation, self.state) {
            ("start", Ready) => self.begin(None, now),
            ("start", Abort | MigrateFail | SyncFail) if self.run.is_some() => self.resume(now),
            ("start", MigrateSuccess | SyncSuccess | SyncFRollbackSuccess) => {
                self.syncs += 1;
                self.begin(Some(self.syncs - 1), now);
            }
            ("stop", Running | Syncing) => {
                self.pause(now);
                self.state = Aborting;
                self.transition_until = Some(now + TRANSITION);
            }
            ("restart", MigrateFail | Abort | MigrateSuccess | SyncSuccess | SyncFail) => {
                self.sub_tasks.clear();
                self.syncs = 0;
                self.begin(None, now);
            }
            ("sync_failed_rollback", SyncFail) => {
                self.run = None;
                self.state = SyncFRollbacking;
                self.transition_until = Some(now + TRANSITION);
            }
            (
                "test" | "clone_test" | "cutover" | "clear" | "migration_test",
                MigrateSuccess | SyncSuccess,
            ) => {}
            ("collect_log" | "network_check" | "error_for_overspeed", _) => {}
            _ => return refuse(),
        }
        Ok(())
    }

    /// The running (or paused) subtask and its percent at `now`.
    pub(super) fn current(&self, now: SystemTime) -> Option<(&SimSub, u8)> {
        let sub = self.sub_tasks.last().filter(|s| s.end.is_none())?;
        Some((sub, self.percent(sub, now)))
    }

    /// Whole percent done of `sub` at `now`.
    pub(super) fn percent(&self, sub: &SimSub, now: SystemTime) -> u8 {
        if sub.end.is_some() {
            return 100;
        }
        let worked = self.worked(sub, now).as_secs_f64();
        let share = worked / sub.length.as_secs_f64().max(0.001);
        // A hair of slack, so a copy stopped at exactly 25% does not read 24.
        (share * 100.0 + 1e-6).floor().clamp(0.0, 99.0) as u8
    }

    /// Time worked on `sub` by `now`.
    pub(super) fn worked(&self, sub: &SimSub, now: SystemTime) -> Duration {
        let running = sub.end.is_none() && self.is_running();
        let stint = match (running, self.run.as_ref().and_then(|r| r.since)) {
            (true, Some(since)) => now.duration_since(since).unwrap_or_default(),
            _ => Duration::ZERO,
        };
        (sub.done + stint).min(sub.length)
    }

    /// Lab time left in the running cycle, zero when none runs.
    pub(super) fn remaining(&self, now: SystemTime) -> Duration {
        let Some(run) = self.run.as_ref().filter(|_| self.is_running()) else {
            return Duration::ZERO;
        };
        let current = self
            .current(now)
            .map(|(sub, _)| sub.length.saturating_sub(self.worked(sub, now)))
            .unwrap_or_default();
        let later: Duration = run.plan.iter().skip(run.step + 1).map(|s| s.length).sum();
        current + later
    }

    /// Whether a cycle is copying or configuring right now.
    pub(super) fn is_running(&self) -> bool {
        matches!(self.state, TaskState::Running | TaskState::Syncing)
    }

    /// Whether the copy step is under way now.
    pub(super) fn copying(&self) -> bool {
        self.is_running()
            && self
                .sub_tasks
                .last()
                .is_some_and(|s| s.copies && s.end.is_none())
    }

    fn begin(&mut self, sync: Option<u32>, now: SystemTime) {
        let plan = self.plan(sync);
        self.run = Some(Run {
            sync,
            plan,
            step: 0,
            since: Some(now),
        });
        self.state = if sync.is_some() {
            TaskState::Syncing
        } else {
            TaskState::Running
        };
        self.started.get_or_insert(now);
        self.finished = None;
        self.error_json.clear();
        self.push_step(0, now);
    }

    fn resume(&mut self, now: SystemTime) {
        let Some(run) = self.run.as_mut() else {
            return;
        };
        run.since = Some(now);
        self.state = if run.sync.is_some() {
            TaskState::Syncing
        } else {
            TaskState::Running
        };
        self.finished = None;
        self.error_json.clear();
    }

    /// Banks the current stint and stops the clock of the cycle.
    pub(super) fn pause(&mut self, now: SystemTime) {
        let worked = self
            .sub_tasks
            .last()
            .filter(|s| s.end.is_none())
            .map(|s| self.worked(s, now));
        if let (Some(worked), Some(sub)) = (worked, self.sub_tasks.last_mut()) {
            sub.done = worked;
        }
        if let Some(run) = self.run.as_mut() {
            run.since = None;
        }
    }

    /// Ends the step under way, or fails the copy, if that happens by `now`; whether
    /// something changed (so the caller looks again).
    fn step_once(&mut self, now: SystemTime) -> bool {
        if !self.is_running() {
            return false;
        }
        let (Some(run), Some(sub)) = (self.run.as_ref(), self.sub_tasks.last()) else {
            return false;
        };
        let Some(since) = run.since else {
            return false;
        };
        if let Some(percent) = self.fail_at.filter(|_| sub.copies) {
            let fail_done = sub.length.mul_f64(f64::from(percent.min(99)) / 100.0);
            let at = since + fail_done.saturating_sub(sub.done);
            if at <= now {
                self.fail(at, fail_done);
                return false;
            }
        }
        let end = since + sub.length.saturating_sub(sub.done);
        if end > now {
            return false;
        }
        let next = run.step + 1;
        let done = next >= run.plan.len();
        if let Some(sub) = self.sub_tasks.last_mut() {
            sub.done = sub.length;
            sub.end = Some(end);
        }
        if done {
            self.state = match run.sync {
                Some(_) => TaskState::SyncSuccess,
                None => TaskState::MigrateSuccess,
            };
            self.finished = Some(end);
            self.run = None;
            return false;
        }
        if let Some(run) = self.run.as_mut() {
            run.step = next;
            run.since = Some(end);
        }
        self.push_step(next, end);
        true
    }

    fn fail(&mut self, at: SystemTime, done: Duration) {
        if let Some(sub) = self.sub_tasks.last_mut() {
            sub.done = done;
        }
        if let Some(run) = self.run.as_mut() {
            run.since = None;
        }
        let sync = self.run.as_ref().is_some_and(|r| r.sync.is_some());
        self.state = if sync {
            TaskState::SyncFail
        } else {
            TaskState::MigrateFail
        };
        self.fail_at = None;
        self.finished = Some(at);
        self.error_json = format!(
            r#"{{"error_code":"{}","error_param":[]}}"#,
            crate::vendors::huawei_sms::wire::codes::MIGRATION_FAILED
        );
    }

    fn push_step(&mut self, index: usize, at: SystemTime) {
        let Some(step) = self.run.as_ref().and_then(|r| r.plan.get(index)).cloned() else {
            return;
        };
        self.sub_tasks.push(SimSub {
            id: self.next_sub_id,
            name: step.name,
            user_op: step.user_op,
            length: step.length,
            done: Duration::ZERO,
            start: at,
            end: None,
            copies: step.copies,
        });
        self.next_sub_id += 1;
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;

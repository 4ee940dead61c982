//! The migration task handle scripts hold: every field of the task JSON as a read-only
//! property (times as timestamps, `sub_tasks` as maps), `refresh()`, `progress()`, and
//! the actions. Actions are not idempotent on the wire and their effect shows late
//! (vendor-apis.md §5.5), so an action re-reads the task first, reports "not in this
//! state" with the state found, and waits for the documented lag to pass; a refusal
//! that only means an earlier try already took effect is success.

use std::time::Duration;

use rhai::{Array, Dynamic, EvalAltResult, Map};
use serde_json::Value;

use crate::api_error::{ApiError, ErrorKind};
use crate::script::error_value::{invalid_argument, raise};
use crate::script::job::{Handle, Job};
use crate::script::remote::RemoteJob;
use crate::script::timestamp::Timestamp;
use crate::script::wait_log::Reading;
use crate::vendors::huawei_sms::client::{SmsClient, TaskRecord};
use crate::vendors::huawei_sms::script::Sms;
use crate::vendors::huawei_sms::wire::{
    TIME_FIELDS, Task, TaskError, TaskState, changes_state, transition,
};

pub(super) use crate::vendors::huawei_sms::task_script::register;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// How long after an action its new state may still be hidden behind the old one
/// (terraform's wrapper waits 5 s, then polls; §5.5), and the first re-read interval.
const SETTLE_WINDOW: Duration = Duration::from_secs(60);
const SETTLE_FIRST: Duration = Duration::from_millis(250);
const SETTLE_MAX_EVERY: Duration = Duration::from_secs(5);

/// A migration task; copies share one snapshot, so `refresh()` updates them all.
pub(crate) type TaskHandle = Handle<TaskJob>;

/// A migration task of a target, as its handle reaches it.
pub(crate) type TaskJob = RemoteJob<SmsClient>;

impl TaskHandle {
    /// A handle on the task `record` shows.
    pub(super) fn of(sms: Sms, record: TaskRecord) -> Self {
        let id = record.task.id.clone();
        Handle::new(TaskJob { remote: sms, id }, record)
    }

    pub(super) fn task(&self) -> Task {
        self.snapshot().task
    }

    pub(super) fn sms(&self) -> &Sms {
        &self.job().remote
    }

    pub(super) fn id(&self) -> String {
        self.job().id.clone()
    }

    pub(super) fn label(&self) -> String {
        label(&self.task()).to_owned()
    }

    /// `error_json` read as `#{ error_code, error_param }`, or `()` when empty.
    pub(super) fn error(&self) -> Dynamic {
        TaskError::parse(&self.task().error_json)
            .and_then(|e| rhai::serde::to_dynamic(e).ok())
            .unwrap_or(Dynamic::UNIT)
    }

    /// Sends `operation` with `params`, then waits until the task no longer shows the
    /// state it had before, if the operation changes state. A refusal (`invalid_state`,
    /// e.g. `start` on a running task) names the state the task was found in, unless
    /// it only says an earlier try already took effect (see [`TaskHandle::refused`]).
    pub(super) fn act(&self, operation: &str, params: Map) -> RhaiResult<Self> {
        let params = match rhai::serde::from_dynamic::<Value>(&params.into()) {
            Ok(Value::Object(params)) => params,
            _ => return Err(invalid_argument(operation, "params must be a map")),
        };
        self.refresh()?;
        let before = self.task().state;
        let client = self.sms().client();
        tracing::info!(target = client.target(), task = %self.label(), "{operation}");
        let id = self.id();
        if let Err(err) = self
            .sms()
            .host()
            .block_on(client.action(&id, operation, params))
        {
            return match err.kind {
                ErrorKind::InvalidState => self.refused(operation, before, err),
                _ => Err(raise(err)),
            };
        }
        // The action was applied either way, so a failed re-read only warns: raising
        // would invite the script to send it again.
        if changes_state(operation) {
            if !self.settle(operation, before) && !self.sms().host().is_interrupted() {
                tracing::warn!(
                    task = %self.label(),
                    "{operation} was applied but the task still shows {before} after {}s",
                    SETTLE_WINDOW.as_secs()
                );
            }
        } else if let Err(err) = self.refresh() {
            tracing::warn!(
                "{operation} was applied but re-reading the task failed: {}",
                crate::script::diagnostic::headline(&err)
            );
        }
        Ok(self.clone())
    }

    /// A state conflict answered to `operation`. When the task showed a state the
    /// operation is accepted in, the refusal most likely answers a repeat of ours whose
    /// first answer was lost while the service still showed the old state (§5.5: treat
    /// "already in target state" as success). So the task is re-read until the lag has
    /// passed, and if it then shows where the operation leads, that is success. A task
    /// that already was in such a state before (`start` on a RUNNING task), or shows
    /// another state now, is `invalid_state` with the state found.
    fn refused(&self, operation: &str, before: TaskState, mut err: ApiError) -> RhaiResult<Self> {
        match transition(operation).filter(|t| t.from.contains(&before)) {
            Some(transition) => {
                self.settle(operation, before);
                let found = self.task().state;
                if transition.to.contains(&found) {
                    tracing::info!(
                        target = self.sms().client().target(),
                        task = %self.label(),
                        "{operation} had already taken effect; the task is {found}"
                    );
                    return Ok(self.clone());
                }
            }
            None => {
                // Without a fresh read the state found stays the one read before.
                let _ = self.refresh();
            }
        }
        err.state = Some(self.task().state.as_str().to_owned());
        Err(raise(err))
    }

    /// Re-reads the task, backing off, until its state differs from `before` or the
    /// documented lag has passed; whether it changed. A failed read only warns.
    fn settle(&self, operation: &str, before: TaskState) -> bool {
        let clock = self.sms().host().clock();
        let deadline = clock.now() + SETTLE_WINDOW;
        let mut every = SETTLE_FIRST;
        loop {
            match self.job().read() {
                Ok(record) => {
                    let now = record.task.state;
                    self.store(record);
                    if now != before {
                        return true;
                    }
                }
                Err(err) if err.kind == ErrorKind::Cancelled => return false,
                Err(err) => tracing::warn!("re-reading the task after {operation}: {err}"),
            }
            if clock.now() >= deadline || self.sms().host().sleep(every).is_err() {
                return false;
            }
            every = (every * 2).min(SETTLE_MAX_EVERY);
        }
    }

    /// The running subtask and its percent, read now:
    /// `#{ state, subtask, percent, user_op, remain_seconds, estimate_complete_time }`.
    pub(super) fn progress(&self) -> RhaiResult<Map> {
        self.refresh()?;
        let task = self.task();
        let running = Running::of(&task);
        let text = |value: Option<String>| value.map_or(Dynamic::UNIT, Dynamic::from);
        let mut map = Map::new();
        map.insert("state".into(), task.state.as_str().into());
        map.insert("subtask".into(), text(running.subtask));
        map.insert("percent".into(), running.percent.into());
        map.insert("user_op".into(), text(running.user_op));
        map.insert("remain_seconds".into(), task.remain_seconds.into());
        map.insert(
            "estimate_complete_time".into(),
            Timestamp::dynamic(task.estimate_complete_time),
        );
        Ok(map)
    }
}

/// Where a task's migration is: the running subtask (or the one `subtask_info` names),
/// its percent, and the user operation it waits for.
struct Running {
    subtask: Option<String>,
    percent: i64,
    user_op: Option<String>,
}

impl Running {
    fn of(task: &Task) -> Self {
        let running = task
            .sub_tasks
            .iter()
            .rev()
            .find(|s| s.start_date.is_some() && s.end_date.is_none());
        if let Some(s) = running {
            return Self {
                subtask: Some(s.name.clone()),
                percent: s.progress,
                user_op: Some(s.user_op.clone()),
            };
        }
        if let Some((name, percent)) = task.subtask_info.split_once(':') {
            return Self {
                subtask: Some(name.to_owned()),
                percent: percent.trim().parse().unwrap_or(0),
                user_op: None,
            };
        }
        let done = matches!(
            task.state,
            TaskState::MigrateSuccess | TaskState::SyncSuccess
        );
        Self {
            subtask: None,
            percent: if done { 100 } else { 0 },
            user_op: None,
        }
    }
}

/// A task's name, or its id when it has none.
pub(super) fn label(task: &Task) -> &str {
    if task.name.is_empty() {
        &task.id
    } else {
        &task.name
    }
}

/// A task as waits and logs name it.
pub(super) fn what(task: &Task) -> String {
    format!("task `{}`", label(task))
}

/// What a wait sees in a task: its state with the running subtask, and that subtask's
/// percent.
pub(super) fn reading(record: &TaskRecord) -> Reading {
    let task = &record.task;
    let running = Running::of(task);
    let percent = u32::try_from(running.percent.clamp(0, 100)).ok();
    Reading::new(what(task), task.state.as_str(), percent).in_step(running.subtask)
}

/// A task field as a script sees it: times as timestamps, subtasks as maps.
pub(super) fn script_value(name: &str, value: &Value) -> Dynamic {
    match value {
        Value::Number(n) if TIME_FIELDS.contains(&name) => Timestamp::dynamic(n.as_i64()),
        Value::Array(items) if name == "sub_tasks" => items
            .iter()
            .map(|item| match item {
                Value::Object(fields) => Dynamic::from(
                    fields
                        .iter()
                        .map(|(k, v)| (k.into(), script_value(k, v)))
                        .collect::<Map>(),
                ),
                other => script_value("", other),
            })
            .collect::<Array>()
            .into(),
        other => rhai::serde::to_dynamic(other).unwrap_or(Dynamic::UNIT),
    }
}

#[cfg(test)]
#[path = "task_handle_tests.rs"]
mod tests;

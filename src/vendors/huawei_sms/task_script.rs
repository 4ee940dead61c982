//! The script surface of a migration task: its properties, `refresh`, the actions,
//! `progress`, and `wait_for` with the terminal-state rule of design.md.

use std::time::Duration;

use rhai::{Dynamic, Engine, FuncRegistration, Map};
use serde_json::Value;

use crate::api_error::{ApiError, ErrorKind};
use crate::script::job::{self, Docs, Job, Kind, Names, Waits};
use crate::script::wait_log::Reading;
use crate::vendors::huawei_sms::client::TaskRecord;
use crate::vendors::huawei_sms::task_handle::{TaskHandle, TaskJob, label, reading, script_value};
use crate::vendors::huawei_sms::wire::{Task, TaskError, TaskState};

/// The named actions, each a method of the task handle.
const ACTIONS: [(&str, &str); 7] = [
    (
        "start",
        "/// Starts a READY task, resumes a paused (ABORT) or failed (MIGRATE_FAIL) one, or runs an\n/// incremental sync after MIGRATE_SUCCESS / SYNC_SUCCESS. On a task already running this is\n/// an `invalid_state` error whose `state` is the state found. A refusal while the task still\n/// showed a state it can start from (an earlier `start` took effect but its answer was lost)\n/// is success once the task shows RUNNING or SYNCING.",
    ),
    (
        "stop",
        "/// Pauses a running task (it goes ABORTING, then ABORT).",
    ),
    ("restart", "/// Redoes the migration from scratch."),
    ("test", "/// Launches the target server for testing."),
    (
        "clone_test",
        "/// Clones the target server for testing; `clone_server` shows the clone.",
    ),
    (
        "sync_failed_rollback",
        "/// Rolls back a failed incremental sync (SYNC_FAIL).",
    ),
    ("collect_log", "/// Has the agent upload its logs."),
];

job::job_states!(TaskState, TaskState::ALL, success: TaskState::MigrateSuccess | TaskState::SyncSuccess | TaskState::SyncFRollbackSuccess);

impl Job for TaskJob {
    type Snapshot = TaskRecord;
    type State = TaskState;

    const KIND: Kind = Kind::new(
        Names {
            type_name: "SmsTask",
            param: "task",
            state_noun: "a migration task state",
        },
        Waits {
            timeout: Duration::from_secs(24 * 3600),
            every: Duration::from_secs(15),
        },
        Docs {
            refresh: "/// Re-reads the task; returns the task.",
            wait_for: "/// Polls until the task reaches `state` (e.g. \"MIGRATE_SUCCESS\"). Fails at once, with the\n/// task's `error_json`, when it reaches another terminal state (MIGRATE_FAIL, ABORT, …).",
            to_map: "/// Every field of the task as a map with the vendor's field names.",
            to_string: "/// One line: name, state and the running subtask with its percent.",
        },
    );

    const OBJECT: &'static str = crate::vendors::huawei_sms::client::TASK;

    fn read(&self) -> Result<TaskRecord, ApiError> {
        self.remote
            .host()
            .block_on(self.remote.client().task(&self.id))
    }

    fn state(record: &TaskRecord) -> Option<TaskState> {
        Some(record.task.state)
    }

    fn planned(&self, last: &TaskRecord, state: TaskState) -> TaskRecord {
        let mut record = last.clone();
        record.task.state = state;
        if let Some(json) = record.json.as_object_mut() {
            json.insert("state".to_owned(), state.as_str().into());
        }
        record
    }

    fn reading(&self, record: &TaskRecord) -> Reading {
        reading(record)
    }

    fn describe(&self, record: &TaskRecord) -> String {
        let task = &record.task;
        let label = label(task);
        match task.subtask_info.as_str() {
            "" => format!("{label} {}", task.state),
            // `MIGRATE_LINUX_FILE:37`: the running subtask and its percent.
            info => match info.split_once(':') {
                Some((subtask, percent)) => {
                    format!("{label} {} {subtask} {percent}%", task.state)
                }
                None => format!("{label} {} {info}", task.state),
            },
        }
    }

    fn fields(&self, record: &TaskRecord) -> Map {
        match &record.json {
            Value::Object(fields) => fields
                .iter()
                .map(|(name, value)| (name.into(), script_value(name, value)))
                .collect(),
            _ => Map::new(),
        }
    }

    /// The fields of the task JSON, list-only fields included.
    fn properties() -> Vec<String> {
        let sample = Task {
            log_collect_status: Some(String::new()),
            syncing: Some(false),
            special_config: Some(Vec::new()),
            ..Task::default()
        };
        match serde_json::to_value(sample) {
            Ok(Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn field(&self, record: &TaskRecord, name: &str) -> Dynamic {
        record
            .json
            .get(name)
            .map_or(Dynamic::UNIT, |value| script_value(name, value))
    }

    /// The failure of the task's `error_json` in the message, `vendor_code` and body.
    fn ended(&self, record: &TaskRecord, wanted: TaskState) -> ApiError {
        let task = &record.task;
        let mut message = format!(
            "task `{}` reached {} while waiting for {wanted}",
            label(task),
            task.state
        );
        let failure = TaskError::parse(&task.error_json);
        if let Some(failure) = &failure {
            message.push_str(&format!(": {}", failure.error_code));
            if !failure.error_param.is_empty() {
                message.push_str(&format!(" ({})", failure.error_param.join(", ")));
            }
        }
        let mut err = ApiError::new(ErrorKind::InvalidState, message)
            .with_state(task.state.as_str())
            .with_body(&task.error_json);
        err.vendor_code = failure.map(|f| f.error_code);
        err
    }
}

/// Registers the task handle: properties, methods and actions.
pub(crate) fn register(engine: &mut Engine) {
    job::register::<TaskJob>(engine);
    engine.register_get("error", |t: &mut TaskHandle| t.error());
    for (name, doc) in ACTIONS {
        job::method(engine, name, doc, move |t: &TaskHandle| {
            t.act(name, Map::new())
        });
    }
    job::method_with(
        engine,
        ("start", "params: Map"),
        "/// `start` with body fields, e.g. `#{ template_id, switch_hce, is_need_consistency_check }`.",
        |t: &TaskHandle, params| t.act("start", params),
    );
    FuncRegistration::new("action")
        .with_comments(["/// Any task operation of the API (`start`, `stop`, `test`, `clone_test`, `restart`,\n/// `sync_failed_rollback`, `collect_log`, `network_check`, `skip`, `clear`,\n/// `migration_test`, `cutover`, `error_for_overspeed`) with `params` beside it in the body."])
        .with_params_info(["task: SmsTask", "name: &str", "params: Map", "SmsTask"])
        .register_into_engine(engine, |t: &mut TaskHandle, name: &str, params: Map| t.act(name, params));
    FuncRegistration::new("action")
        .with_comments(["/// `action` without parameters."])
        .with_params_info(["task: SmsTask", "name: &str", "SmsTask"])
        .register_into_engine(engine, |t: &mut TaskHandle, name: &str| {
            t.act(name, Map::new())
        });
    FuncRegistration::new("progress")
        .with_comments(["/// Re-reads the task and answers its running subtask and percent:\n/// `#{ state, subtask, percent, user_op, remain_seconds, estimate_complete_time }`."])
        .with_params_info(["task: SmsTask", "Map"])
        .register_into_engine(engine, |t: &mut TaskHandle| t.progress());
}

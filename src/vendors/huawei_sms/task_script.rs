//! The script surface of a migration task: its properties, `refresh`, the actions,
//! `progress`, and `wait_for` with the terminal-state rule of design.md.

use std::time::Duration;

use rhai::{Engine, EvalAltResult, FuncRegistration, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::script::wait::{Verdict, Wait};
use crate::vendors::huawei_sms::client::TaskRecord;
use crate::vendors::huawei_sms::script::parse_state;
use crate::vendors::huawei_sms::task_handle::{TaskHandle, reading, what};
use crate::vendors::huawei_sms::wire::{Task, TaskError, TaskState};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

const WAIT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
const WAIT_EVERY: Duration = Duration::from_secs(15);

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

/// Every property name: the fields of the task JSON, list-only fields included.
fn properties() -> Vec<String> {
    let sample = Task {
        log_collect_status: Some(String::new()),
        syncing: Some(false),
        special_config: Some(Vec::new()),
        ..Task::default()
    };
    match serde_json::to_value(sample) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

impl TaskHandle {
    fn wait_for(&self, state: &str, options: Map) -> RhaiResult<Self> {
        let wanted = parse_state("wait_for", state)?;
        let client = self.sms.client();
        let wait = Wait::new(
            "wait_for",
            client.target(),
            options,
            (WAIT_TIMEOUT, WAIT_EVERY),
        )?
        .of(what(&self.task()), wanted.as_str());
        let host = self.sms.host();
        let read = || host.block_on(client.task(&self.id()));
        let judge = |record: &TaskRecord| {
            let found = record.task.state;
            self.store(record.clone());
            tracing::debug!(task = %self.label(), state = %found, "polled");
            if found == wanted {
                Verdict::Reached
            } else if found.is_terminal() {
                Verdict::Ended(Box::new(self.ended_early(wanted)))
            } else {
                Verdict::Waiting
            }
        };
        wait.run(host, read, judge, reading)?;
        Ok(self.clone())
    }

    /// The error for a task that ended in another terminal state: the failure of its
    /// `error_json` in the message, `vendor_code` and body.
    fn ended_early(&self, wanted: TaskState) -> ApiError {
        let task = self.task();
        let mut message = format!(
            "task `{}` reached {} while waiting for {wanted}",
            self.label(),
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

    fn describe(&self) -> String {
        let task = self.task();
        match task.subtask_info.as_str() {
            "" => format!("{} {}", self.label(), task.state),
            // `MIGRATE_LINUX_FILE:37`: the running subtask and its percent.
            info => match info.split_once(':') {
                Some((subtask, percent)) => {
                    format!("{} {} {subtask} {percent}%", self.label(), task.state)
                }
                None => format!("{} {} {info}", self.label(), task.state),
            },
        }
    }
}

/// Registers the task handle: properties, methods and actions.
pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<TaskHandle>("SmsTask");
    for field in properties() {
        let name = field.clone();
        engine.register_get(field, move |t: &mut TaskHandle| t.field(&name));
    }
    engine.register_get("is_terminal", |t: &mut TaskHandle| {
        t.task().state.is_terminal()
    });
    engine.register_get("error", |t: &mut TaskHandle| t.error());
    FuncRegistration::new("refresh")
        .with_comments(["/// Re-reads the task; returns the task."])
        .with_params_info(["task: SmsTask", "SmsTask"])
        .register_into_engine(engine, |t: &mut TaskHandle| t.refresh());
    for (name, doc) in ACTIONS {
        FuncRegistration::new(name)
            .with_comments([doc])
            .with_params_info(["task: SmsTask", "SmsTask"])
            .register_into_engine(engine, move |t: &mut TaskHandle| t.act(name, Map::new()));
    }
    FuncRegistration::new("start")
        .with_comments(["/// `start` with body fields, e.g. `#{ template_id, switch_hce, is_need_consistency_check }`."])
        .with_params_info(["task: SmsTask", "params: Map", "SmsTask"])
        .register_into_engine(engine, |t: &mut TaskHandle, params: Map| t.act("start", params));
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
    FuncRegistration::new("wait_for")
        .with_comments(["/// Polls until the task reaches `state` (e.g. \"MIGRATE_SUCCESS\"). Fails at once, with the\n/// task's `error_json`, when it reaches another terminal state (MIGRATE_FAIL, ABORT, …).\n/// Options: `timeout` (default \"24h\"), `every` (\"15s\")."])
        .with_params_info(["task: SmsTask", "state: &str", "options: Map", "SmsTask"])
        .register_into_engine(engine, |t: &mut TaskHandle, state: &str, options: Map| t.wait_for(state, options));
    FuncRegistration::new("wait_for")
        .with_comments(["/// `wait_for` with the default options."])
        .with_params_info(["task: SmsTask", "state: &str", "SmsTask"])
        .register_into_engine(engine, |t: &mut TaskHandle, state: &str| {
            t.wait_for(state, Map::new())
        });
    FuncRegistration::new("to_map")
        .with_comments(["/// Every field of the task as a map with the vendor's field names."])
        .with_params_info(["task: SmsTask", "Map"])
        .register_into_engine(engine, |t: &mut TaskHandle| t.to_map());
    FuncRegistration::new("to_string")
        .with_comments(["/// One line: name, state and the running subtask with its percent."])
        .with_params_info(["task: SmsTask", "String"])
        .register_into_engine(engine, |t: &mut TaskHandle| t.describe());
    FuncRegistration::new("to_debug")
        .with_comments(["/// The same line as `to_string`, as `debug` and the REPL show it."])
        .with_params_info(["task: SmsTask", "String"])
        .register_into_engine(engine, |t: &mut TaskHandle| t.describe());
}

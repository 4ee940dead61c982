//! Wire types of the SMS v3 task API (vendor-apis.md §5.3–§5.6): the task JSON, the
//! task list, the action body, states and operations, and the error bodies of SMS and
//! of the API gateway in front of it. Both the client and the lab use these.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// The IAM token on every SMS call (§5.2 A).
pub const AUTH_TOKEN_HEADER: &str = "X-Auth-Token";
/// The project a signed request acts in (§5.2 B).
pub const PROJECT_ID_HEADER: &str = "X-Project-Id";
/// The request id SMS and the gateway put on every answer (§5.6).
pub const REQUEST_ID_HEADER: &str = "X-Request-Id";
/// The largest `limit` of `GET /v3/tasks` (§5.3).
pub const MAX_PAGE: usize = 100;

/// Error codes: the gateway's (§5.2, §5.7) and the SMS ones the lab uses for the
/// conflicts §5.6 leaves to us, picked from the published `SMS.<4 digits>` space.
pub mod codes {
    /// Bad token, bad signature, or a request date off by more than 15 minutes.
    pub const GATEWAY_AUTH: &str = "APIGW.0301";
    /// The IAM token has expired.
    pub const TOKEN_EXPIRED: &str = "APIGW.0307";
    /// The gateway's throttling threshold was reached.
    pub const THROTTLED: &str = "APIGW.0308";
    /// The task does not exist.
    pub const TASK_NOT_FOUND: &str = "SMS.1801";
    /// The operation is not allowed in the task's state (also "already in that state").
    pub const STATE_CONFLICT: &str = "SMS.1802";
    /// `operation` is not an operation the API knows.
    pub const UNKNOWN_OPERATION: &str = "SMS.1803";
    /// A malformed body or query parameter.
    pub const INVALID_PARAMETER: &str = "SMS.1804";
    /// The copy failed (the lab's `error_json` of a failed task).
    pub const MIGRATION_FAILED: &str = "SMS.3802";
    /// An internal error (database), used for injected 5xx faults.
    pub const INTERNAL: &str = "SMS.6301";
}

/// The state of a migration task (§5.5; both the detail and the list-filter enums).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    Ready,
    Running,
    Syncing,
    MigrateSuccess,
    SyncSuccess,
    MigrateFail,
    SyncFail,
    Aborting,
    Abort,
    Skipping,
    Deleting,
    Reseting,
    SyncFRollbacking,
    SyncFRollbackSuccess,
    /// A state this version does not know; the raw JSON still shows its name.
    #[serde(other)]
    Unknown,
}

impl TaskState {
    /// Every documented state.
    pub const ALL: [TaskState; 14] = [
        Self::Ready,
        Self::Running,
        Self::Syncing,
        Self::MigrateSuccess,
        Self::SyncSuccess,
        Self::MigrateFail,
        Self::SyncFail,
        Self::Aborting,
        Self::Abort,
        Self::Skipping,
        Self::Deleting,
        Self::Reseting,
        Self::SyncFRollbacking,
        Self::SyncFRollbackSuccess,
    ];

    /// The vendor's spelling, e.g. `MIGRATE_SUCCESS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::Running => "RUNNING",
            Self::Syncing => "SYNCING",
            Self::MigrateSuccess => "MIGRATE_SUCCESS",
            Self::SyncSuccess => "SYNC_SUCCESS",
            Self::MigrateFail => "MIGRATE_FAIL",
            Self::SyncFail => "SYNC_FAIL",
            Self::Aborting => "ABORTING",
            Self::Abort => "ABORT",
            Self::Skipping => "SKIPPING",
            Self::Deleting => "DELETING",
            Self::Reseting => "RESETING",
            Self::SyncFRollbacking => "SYNC_F_ROLLBACKING",
            Self::SyncFRollbackSuccess => "SYNC_F_ROLLBACK_SUCCESS",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// The documented state spelt `text` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// States a task stays in until someone acts (§5.5, "Terminal for polling").
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::MigrateSuccess
                | Self::SyncSuccess
                | Self::MigrateFail
                | Self::SyncFail
                | Self::Abort
                | Self::SyncFRollbackSuccess
        )
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The `operation` of `POST /v3/tasks/{id}/action`: the union of every revision (§5.3).
pub const OPERATIONS: [&str; 13] = [
    "start",
    "stop",
    "test",
    "clone_test",
    "restart",
    "sync_failed_rollback",
    "collect_log",
    "network_check",
    "skip",
    "clear",
    "migration_test",
    "cutover",
    "error_for_overspeed",
];

/// Where a state-changing operation may start and where it leads (§5.5, as the lab's
/// state machine runs it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The states the operation is accepted in.
    pub from: &'static [TaskState],
    /// The states a task shows once the operation has taken effect (a quick task may
    /// already have gone further, which this does not cover).
    pub to: &'static [TaskState],
}

/// The transition of `operation`; `None` for operations that leave the state as it is
/// (`test` launches a server, `collect_log` uploads logs, …).
pub fn transition(operation: &str) -> Option<Transition> {
    use TaskState::*;
    let (from, to): (&'static [TaskState], &'static [TaskState]) = match operation {
        // Start, resume a paused or failed copy, or run an incremental sync.
        "start" => (
            &[
                Ready,
                Abort,
                MigrateFail,
                MigrateSuccess,
                SyncSuccess,
                SyncFail,
                SyncFRollbackSuccess,
            ],
            &[Running, Syncing],
        ),
        "stop" => (&[Running, Syncing], &[Aborting, Abort]),
        "restart" => (
            &[MigrateFail, Abort, MigrateSuccess, SyncSuccess, SyncFail],
            &[Running],
        ),
        "sync_failed_rollback" => (&[SyncFail], &[SyncFRollbacking, SyncFRollbackSuccess]),
        _ => return None,
    };
    Some(Transition { from, to })
}

/// Whether `operation` moves the task to another state.
pub fn changes_state(operation: &str) -> bool {
    transition(operation).is_some()
}

/// One subtask of a task (§5.4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubTask {
    pub id: i64,
    pub name: String,
    /// Percent done, 0 to 100.
    pub progress: i64,
    /// Epoch milliseconds.
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    /// `REPLICATE`, `CUTOVER<n>` or `RESYNC<n>`.
    pub user_op: String,
    pub migrate_speed: f64,
    pub process_trace: String,
}

/// The task's source server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceServer {
    pub id: String,
    pub ip: Option<String>,
    pub name: String,
    pub os_type: String,
    pub os_version: Option<String>,
    pub oem_system: bool,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration_cycle: Option<String>,
}

/// A partition of a target disk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhysicalVolume {
    pub id: i64,
    pub uuid: Option<String>,
    pub index: i64,
    pub name: String,
    pub relation_name: String,
    pub device_use: String,
    pub file_system: String,
    pub mount_point: String,
    pub size: i64,
    pub used_size: i64,
    pub free_size: i64,
}

/// A disk of the target server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Disk {
    pub id: i64,
    pub name: String,
    pub relation_name: String,
    pub disk_id: String,
    pub partition_style: String,
    pub size: i64,
    pub used_size: i64,
    pub device_use: String,
    pub os_disk: bool,
    pub physical_volumes: Vec<PhysicalVolume>,
    pub disk_index: String,
}

/// The task's target server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetServer {
    pub id: String,
    pub vm_id: String,
    pub name: String,
    pub ip: Option<String>,
    pub os_type: String,
    pub os_version: Option<String>,
    pub system_dir: Option<String>,
    pub disks: Vec<Disk>,
    pub volume_groups: Vec<Value>,
    pub image_disk_id: Option<String>,
    pub rollback_snapshot_ids: Option<Vec<String>>,
}

/// The clone a `clone_test` made.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CloneServer {
    pub vm_id: String,
    pub name: String,
}

/// `GET /v3/tasks/{id}` (§5.4); list items add the last three fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Task {
    pub id: String,
    pub name: String,
    /// `MIGRATE_FILE` or `MIGRATE_BLOCK`.
    #[serde(rename = "type")]
    pub task_type: String,
    /// `LINUX` or `WINDOWS`.
    pub os_type: String,
    pub state: TaskState,
    /// Epoch milliseconds, like every `*_date` and `*_time` below.
    pub estimate_complete_time: Option<i64>,
    pub create_date: Option<i64>,
    pub start_date: Option<i64>,
    pub finish_date: Option<i64>,
    /// 0 low, 1 standard, 2 high.
    pub priority: i64,
    pub speed_limit: i64,
    /// Mbit/s.
    pub migrate_speed: f64,
    pub compress_rate: f64,
    pub start_target_server: bool,
    /// A JSON string such as `{"error_code":"SMS.3802","error_param":[]}`, or empty.
    pub error_json: String,
    /// Milliseconds spent migrating.
    pub total_time: i64,
    pub remain_seconds: i64,
    pub migration_ip: Option<String>,
    pub float_ip: Option<String>,
    pub vm_template_id: Option<String>,
    pub region_name: String,
    pub region_id: String,
    pub project_name: String,
    pub project_id: String,
    pub enterprise_project_id: String,
    pub connected: bool,
    pub need_migration_test: bool,
    /// `NAME:percent` of the running subtask, or empty.
    pub subtask_info: String,
    pub sub_tasks: Vec<SubTask>,
    pub source_server: SourceServer,
    pub target_server: TargetServer,
    pub clone_server: Option<CloneServer>,
    pub target_snapshot_id: Option<String>,
    pub network_check_info: Option<Value>,
    pub total_cpu_usage: f64,
    pub agent_cpu_usage: f64,
    pub total_mem_usage: f64,
    pub agent_mem_usage: f64,
    pub total_disk_io: f64,
    pub agent_disk_io: f64,
    /// List items only: `INIT`, `UPLOADING`, `UPLOAD_FAIL` or `UPLOADED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_collect_status: Option<String>,
    /// List items only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syncing: Option<bool>,
    /// List items only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_config: Option<Vec<Value>>,
}

impl Default for Task {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            task_type: String::new(),
            os_type: String::new(),
            state: TaskState::Unknown,
            estimate_complete_time: None,
            create_date: None,
            start_date: None,
            finish_date: None,
            priority: 1,
            speed_limit: 0,
            migrate_speed: 0.0,
            compress_rate: 0.0,
            start_target_server: false,
            error_json: String::new(),
            total_time: 0,
            remain_seconds: 0,
            migration_ip: None,
            float_ip: None,
            vm_template_id: None,
            region_name: String::new(),
            region_id: String::new(),
            project_name: String::new(),
            project_id: String::new(),
            enterprise_project_id: String::new(),
            connected: false,
            need_migration_test: false,
            subtask_info: String::new(),
            sub_tasks: Vec::new(),
            source_server: SourceServer::default(),
            target_server: TargetServer::default(),
            clone_server: None,
            target_snapshot_id: None,
            network_check_info: None,
            total_cpu_usage: 0.0,
            agent_cpu_usage: 0.0,
            total_mem_usage: 0.0,
            agent_mem_usage: 0.0,
            total_disk_io: 0.0,
            agent_disk_io: 0.0,
            log_collect_status: None,
            syncing: None,
            special_config: None,
        }
    }
}

/// Fields of [`Task`] and [`SubTask`] that hold epoch milliseconds; scripts see them
/// as timestamps.
pub const TIME_FIELDS: [&str; 5] = [
    "estimate_complete_time",
    "create_date",
    "start_date",
    "finish_date",
    "end_date",
];

/// `GET /v3/tasks`: `count` is the total ignoring paging (§5.3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskList {
    pub count: u64,
    pub tasks: Vec<Task>,
}

/// The parsed `error_json` of a failed task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskError {
    pub error_code: String,
    pub error_param: Vec<String>,
}

impl TaskError {
    /// Reads `error_json`; `None` when it is empty or not the documented object.
    pub fn parse(error_json: &str) -> Option<Self> {
        serde_json::from_str::<Self>(error_json)
            .ok()
            .filter(|e| !e.error_code.is_empty())
    }
}

/// An error answer of SMS or of the API gateway (§5.6, §5.7).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error_code: String,
    pub error_msg: String,
    pub encoded_authorization_message: Option<String>,
    pub error_param: Option<Vec<String>>,
    pub details: Option<Vec<Value>>,
    /// The gateway's errors carry the request id.
    pub request_id: Option<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The example of vendor-apis.md §5.4, verbatim; the lab's task JSON is checked
    /// against it too.
    pub(crate) const EXAMPLE: &str = r#"{"id": "8abda8635e09d185015e09d188dd0001", "name": "MigrationTask",
 "type": "MIGRATE_FILE", "os_type": "LINUX", "state": "RUNNING",
 "estimate_complete_time": 1600391014000, "create_date": 1600159831000,
 "start_date": 1600159831000, "finish_date": 1600343128000,
 "priority": 1, "speed_limit": 0, "migrate_speed": 0.0, "compress_rate": 0.0,
 "start_target_server": true, "error_json": "", "total_time": 935000, "remain_seconds": 60000,
 "migration_ip": "192.168.0.10", "float_ip": "192.168.0.10", "vm_template_id": null,
 "region_name": "eu-west-101", "region_id": "eu-west-101",
 "project_name": "eu-west-101", "project_id": "05825205120026802ff0c01721bc1xxx",
 "enterprise_project_id": "0", "connected": true, "need_migration_test": false,
 "subtask_info": "MIGRATE_LINUX_FILE:37",
 "sub_tasks": [{"id": 3514, "name": "SSL_CONFIG", "progress": 100,
                "start_date": 1600159847000, "end_date": 1600159851000,
                "user_op": "REPLICATE", "migrate_speed": 0.0, "process_trace": ""}],
 "source_server": {"id": "621f2cb5-x", "ip": "192.168.0.20", "name": "ecs-4bb4",
                   "os_type": "LINUX", "os_version": "CENTOS_7_6_64BIT",
                   "oem_system": false, "state": "replicate"},
 "target_server": {"id": "de35f45d-x", "vm_id": "6d51477f-x", "name": "ecs-4bb4",
                   "ip": null, "os_type": "LINUX", "os_version": null, "system_dir": null,
                   "disks": [], "volume_groups": [], "image_disk_id": "x",
                   "rollback_snapshot_ids": null},
 "clone_server": null, "target_snapshot_id": null, "network_check_info": null,
 "total_cpu_usage": 0.0, "agent_cpu_usage": 0.0, "total_mem_usage": 0.0,
 "agent_mem_usage": 0.0, "total_disk_io": 0.0, "agent_disk_io": 0.0}"#;

    #[test]
    fn the_documented_task_round_trips() {
        let task: Task = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(task.state, TaskState::Running);
        assert_eq!(task.sub_tasks[0].name, "SSL_CONFIG");
        assert_eq!(task.estimate_complete_time, Some(1_600_391_014_000));
        let original: Value = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(serde_json::to_value(&task).unwrap(), original);
    }

    #[test]
    fn unknown_states_and_missing_fields_are_tolerated() {
        let task: Task = serde_json::from_str(r#"{"id": "a", "state": "PREPARING"}"#).unwrap();
        assert_eq!(task.state, TaskState::Unknown);
        assert_eq!(task.sub_tasks, []);
    }

    #[test]
    fn states_parse_in_any_case_and_know_which_are_terminal() {
        #[track_caller]
        fn case(text: &str, state: Option<TaskState>, terminal: bool) {
            assert_eq!(TaskState::parse(text), state, "{text}");
            assert_eq!(
                state.is_some_and(TaskState::is_terminal),
                terminal,
                "{text}"
            );
        }
        case("MIGRATE_SUCCESS", Some(TaskState::MigrateSuccess), true);
        case(
            "sync_f_rollback_success",
            Some(TaskState::SyncFRollbackSuccess),
            true,
        );
        case("ABORT", Some(TaskState::Abort), true);
        case("RUNNING", Some(TaskState::Running), false);
        case("READY", Some(TaskState::Ready), false);
        case("UNKNOWN", None, false);
        case("DONE", None, false);
    }

    #[test]
    fn error_json_and_error_bodies_parse() {
        let error = TaskError::parse(r#"{"error_code":"SMS.3802","error_param":[]}"#).unwrap();
        assert_eq!(error.error_code, "SMS.3802");
        assert_eq!(TaskError::parse(""), None);
        let body: ErrorBody = serde_json::from_str(
            r#"{"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached", "request_id": "r1"}"#,
        )
        .unwrap();
        assert_eq!(body.request_id.as_deref(), Some("r1"));
        let shown = serde_json::to_value(&body).unwrap();
        assert!(shown.get("details").is_none(), "{shown}");
    }
}

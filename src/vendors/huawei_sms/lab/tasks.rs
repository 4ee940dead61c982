//! The task routes of vendor-apis.md §5.3: list with `limit`/`offset` paging and
//! `count`, get, actions (not idempotent: a repeat is a 400 state conflict), delete,
//! and the log upload. Every applied mutation is logged under the task's id.

use std::collections::HashSet;
use std::time::SystemTime;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use serde_json::{Map, Value, json};

use crate::vendors::huawei_sms::signer;
use crate::vendors::huawei_sms::wire::{
    CloneServer, MAX_PAGE, OPERATIONS, Task, TaskList, TaskState, changes_state,
};

use super::error::LabError;
use super::render::render;
use super::state::{Inventory, LabState, LabTask};

/// The default page of `GET /v3/tasks`.
const DEFAULT_PAGE: usize = 50;

/// `GET /v3/tasks`: filters `state`, `name` (part of the name), `id`,
/// `source_server_id`; paging `limit` (0..=100, default 50) and `offset`.
pub(super) async fn tasks_list(
    State(lab): State<LabState>,
    uri: Uri,
) -> Result<Json<TaskList>, LabError> {
    let mut filters = Filters::default();
    for (key, value) in signer::parse_query(uri.query().unwrap_or("")) {
        filters.set(&key, value)?;
    }
    let (now, mut inventory) = lab.now_and_at();
    let matching: Vec<Task> = inventory
        .tasks
        .iter()
        .filter(|t| filters.may_match(t))
        .map(|t| render(&t.view(now), now, true))
        .filter(|t| filters.matches(t))
        .collect();
    let count = matching.len() as u64;
    let tasks: Vec<Task> = matching
        .into_iter()
        .skip(filters.offset)
        .take(filters.limit)
        .collect();
    // The page's tasks are read now: their timelines run from here.
    let page: HashSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    for task in inventory
        .tasks
        .iter_mut()
        .filter(|t| page.contains(t.id.as_str()))
    {
        task.touch(now);
    }
    Ok(Json(TaskList { count, tasks }))
}

/// The filters and page of a list request.
struct Filters {
    state: Option<TaskState>,
    name: Option<String>,
    id: Option<String>,
    source: Option<String>,
    limit: usize,
    offset: usize,
}

impl Default for Filters {
    fn default() -> Self {
        Self {
            state: None,
            name: None,
            id: None,
            source: None,
            limit: DEFAULT_PAGE,
            offset: 0,
        }
    }
}

impl Filters {
    fn set(&mut self, key: &str, value: String) -> Result<(), LabError> {
        let number = |max: usize| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| {
                    LabError::invalid_parameter(format!("Invalid parameter {key}: {value}."))
                })
        };
        match key {
            "state" => {
                self.state = Some(TaskState::parse(&value).ok_or_else(|| {
                    LabError::invalid_parameter(format!("Invalid parameter state: {value}."))
                })?);
            }
            "name" => self.name = Some(value),
            "id" => self.id = Some(value),
            "source_server_id" => self.source = Some(value),
            "limit" => self.limit = number(MAX_PAGE)?,
            "offset" => self.offset = number(usize::MAX)?,
            _ => {} // enterprise_project_id and unknown keys narrow nothing here.
        }
        Ok(())
    }

    /// Whether `task` passes the filters that need no rendering (name, id, source
    /// server), so that a project of thousands renders only the tasks asked for.
    fn may_match(&self, task: &LabTask) -> bool {
        self.name
            .as_ref()
            .is_none_or(|n| task.name.contains(n.as_str()))
            && self.id.as_ref().is_none_or(|id| &task.id == id)
            && self.source.as_ref().is_none_or(|s| &task.source_id == s)
    }

    fn matches(&self, task: &Task) -> bool {
        self.state.is_none_or(|s| task.state == s)
            && self
                .name
                .as_ref()
                .is_none_or(|n| task.name.contains(n.as_str()))
            && self.id.as_ref().is_none_or(|id| &task.id == id)
            && self
                .source
                .as_ref()
                .is_none_or(|s| &task.source_server.id == s)
    }
}

/// `GET /v3/tasks/{id}`.
pub(super) async fn tasks_get(
    State(lab): State<LabState>,
    Path(id): Path<String>,
) -> Result<Json<Task>, LabError> {
    let (now, mut inventory) = lab.now_and_at();
    let task = inventory.task(&id, now)?;
    Ok(Json(render(task, now, false)))
}

/// `POST /v3/tasks/{id}/action`: `{"operation": …}` with optional `template_id`,
/// `switch_hce`, `is_need_consistency_check` and the older `param` map.
pub(super) async fn tasks_action(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, LabError> {
    let request = parse_action(&body)?;
    let operation = request
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    change_task(&lab, &id, &operation, |inventory, now| {
        let lag = LabState::lag(inventory);
        let task = inventory.task(&id, now)?;
        let before = task.shown_state(now);
        task.sim.apply(&operation, now)?;
        match operation.as_str() {
            "collect_log" => task.log_collect_status = "UPLOADED",
            "test" | "cutover" => task.target_launched = true,
            "clone_test" => {
                task.clone_server = Some(CloneServer {
                    vm_id: task.vm_id.replace(|c: char| c.is_ascii_digit(), "c"),
                    name: format!("{}-clone", task.name),
                });
            }
            "network_check" => {
                task.network_check_info = Some(json!({"domain_connectivity": true,
                    "destination_connectivity": true, "network_delay": 1.2, "network_jitter": 0.3,
                    "migration_speed": 800.0, "loss_percentage": 0.0, "cpu_usage": 4.5,
                    "mem_usage": 12.5, "evaluation_result": "OK"}));
            }
            _ => {}
        }
        if changes_state(&operation) {
            task.shown = Some((before, now + lag));
        }
        Ok(())
    })
}

/// The action body: an object with a known `operation` and well-typed options.
fn parse_action(body: &[u8]) -> Result<Map<String, Value>, LabError> {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return Err(LabError::invalid_parameter(
            "The request body is not a JSON object.",
        ));
    };
    let operation = match request.get("operation") {
        Some(Value::String(op)) => op.clone(),
        _ => return Err(LabError::invalid_parameter("Invalid parameter operation.")),
    };
    if !OPERATIONS.contains(&operation.as_str()) {
        return Err(LabError::unknown_operation(&operation));
    }
    let typed = [
        (
            "template_id",
            request.get("template_id").is_none_or(Value::is_string),
        ),
        (
            "switch_hce",
            request.get("switch_hce").is_none_or(Value::is_boolean),
        ),
        (
            "is_need_consistency_check",
            request
                .get("is_need_consistency_check")
                .is_none_or(Value::is_boolean),
        ),
        ("param", request.get("param").is_none_or(Value::is_object)),
    ];
    if let Some((field, _)) = typed.iter().find(|(_, ok)| !ok) {
        return Err(LabError::invalid_parameter(format!(
            "Invalid parameter {field}."
        )));
    }
    Ok(request)
}

/// `DELETE /v3/tasks/{id}`: a task that is not running is gone.
pub(super) async fn tasks_delete(
    State(lab): State<LabState>,
    Path(id): Path<String>,
) -> Result<StatusCode, LabError> {
    change_task(&lab, &id, "delete", |inventory, now| {
        let task = inventory.task(&id, now)?;
        if task.sim.is_running() {
            return Err(LabError::conflict("delete", task.sim.state));
        }
        inventory.tasks.retain(|t| t.id != id);
        Ok(())
    })
}

/// `POST /v3/tasks/{id}/log`: the agent uploads its logs.
pub(super) async fn tasks_log(
    State(lab): State<LabState>,
    Path(id): Path<String>,
) -> Result<StatusCode, LabError> {
    change_task(&lab, &id, "upload_log", |inventory, now| {
        inventory.task(&id, now)?.log_collect_status = "UPLOADED";
        Ok(())
    })
}

/// Lets `change` act on the inventory at lab now and, once it made the change, logs
/// `operation` under the task `id`; `200` with no body.
fn change_task(
    lab: &LabState,
    id: &str,
    operation: &str,
    change: impl FnOnce(&mut Inventory, SystemTime) -> Result<(), LabError>,
) -> Result<StatusCode, LabError> {
    let (now, mut inventory) = lab.now_and_at();
    change(&mut inventory, now)?;
    drop(inventory);
    lab.mutations().record(operation, id, now);
    Ok(StatusCode::OK)
}

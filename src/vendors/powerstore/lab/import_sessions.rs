//! The `/api/rest/import_session` routes of vendor-apis.md §4.4: list, get, create,
//! modify, delete and the actions. Each handler reads lab time once, advances what it
//! touches to it, and records the mutations it applied.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use crate::vendors::powerstore::wire::{
    CancelRequest, IMPORT_SESSION_FIELDS, ImportSessionModify, REMOTE_SYSTEM_FIELDS,
};

use super::body;
use super::error::LabError;
use super::jobs::{self, Action, Outcome};
use super::operation::Operation;
use super::query::{Listing, Params, Query, Resource, range};
use super::select::Select;
use super::state::LabState;

/// The import session collection, with its embeddable remote system.
pub(super) const IMPORT_SESSION: Resource = Resource {
    name: "import_session",
    fields: IMPORT_SESSION_FIELDS,
    embeds: &[("remote_system", REMOTE_SYSTEM_FIELDS)],
};

/// `GET /import_session`.
pub(super) async fn import_sessions_list(
    State(lab): State<LabState>,
    Params(params): Params,
    headers: HeaderMap,
) -> Result<Listing, LabError> {
    let query = Query::parse(&params, range(&headers), &IMPORT_SESSION)?;
    let now = lab.now();
    let mut inventory = lab.lock();
    inventory.advance_all(now);
    let rows = inventory
        .sessions
        .iter()
        .map(|s| inventory.session_row(s, now))
        .collect();
    query.run(rows)
}

/// `GET /import_session/{id}` (or `name:{name}`).
pub(super) async fn import_sessions_get(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Json<Value>, LabError> {
    let select = Select::from_params(&params, &IMPORT_SESSION)?;
    let now = lab.now();
    let mut inventory = lab.lock();
    let session = inventory.session(&id, now)?.clone();
    Ok(Json(select.project(&inventory.session_row(&session, now))))
}

/// `POST /import_session`.
pub(super) async fn import_sessions_create(
    State(lab): State<LabState>,
    Params(params): Params,
    bytes: Bytes,
) -> Response {
    let now = lab.now();
    let result = {
        let mut inventory = lab.lock();
        inventory
            .validate(&bytes, now)
            .map(|blueprint| inventory.add(blueprint, now))
    };
    if let Ok(id) = &result {
        lab.mutations().record("create", id, now);
    }
    let action = Action {
        name: "create",
        description: "Create import session.",
        resource_id: "",
    };
    jobs::respond(&lab, &params, action, result.map(Outcome::Created))
}

/// `PATCH /import_session/{id}`: a new `scheduled_timestamp`.
pub(super) async fn import_sessions_modify(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
    bytes: Bytes,
) -> Response {
    let at = body::parse::<ImportSessionModify>(&bytes, &["scheduled_timestamp"]).and_then(|m| {
        let text = m
            .scheduled_timestamp
            .ok_or_else(|| LabError::schema("The request body must set scheduled_timestamp."))?;
        body::timestamp("scheduled_timestamp", &text)
    });
    match at {
        Ok(at) => mutate(&lab, &params, &id, Operation::Modify(at)),
        Err(error) => {
            let (name, description) = ("modify", "Modify import session.");
            let action = Action {
                name,
                description,
                resource_id: &id,
            };
            jobs::respond(&lab, &params, action, Err(error))
        }
    }
}

/// `DELETE /import_session/{id}`.
pub(super) async fn import_sessions_delete(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Response {
    mutate(&lab, &params, &id, Operation::Delete)
}

/// `POST /import_session/{id}/pause`.
pub(super) async fn import_sessions_pause(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Response {
    mutate(&lab, &params, &id, Operation::Pause)
}

/// `POST /import_session/{id}/resume`.
pub(super) async fn import_sessions_resume(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Response {
    mutate(&lab, &params, &id, Operation::Resume)
}

/// `POST /import_session/{id}/cancel` with an optional `{"force": bool}`; a forced
/// cancel ends the same way here, as the source is always reachable in the lab.
pub(super) async fn import_sessions_cancel(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
    bytes: Bytes,
) -> Response {
    match body::parse::<CancelRequest>(&bytes, &["force"]) {
        Ok(_) => mutate(&lab, &params, &id, Operation::Cancel),
        Err(error) => refuse(&lab, &params, &id, Operation::Cancel, error),
    }
}

/// `POST /import_session/{id}/cutover`.
pub(super) async fn import_sessions_cutover(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Response {
    mutate(&lab, &params, &id, Operation::Cutover)
}

/// `POST /import_session/{id}/cleanup`.
pub(super) async fn import_sessions_cleanup(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Response {
    mutate(&lab, &params, &id, Operation::Cleanup)
}

/// `POST /import_session/{id}/enable_destination_volume` with an optional object.
pub(super) async fn import_sessions_enable_destination_volume(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
    bytes: Bytes,
) -> Response {
    let operation = Operation::EnableDestinationVolume;
    match body::object(&bytes) {
        Ok(()) => mutate(&lab, &params, &id, operation),
        Err(error) => refuse(&lab, &params, &id, operation, error),
    }
}

/// `POST /import_session/{id}/start_copy`.
pub(super) async fn import_sessions_start_copy(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Response {
    mutate(&lab, &params, &id, Operation::StartCopy)
}

/// Applies `operation` to the session `key` names and answers for it; only an applied
/// operation is logged.
fn mutate(
    lab: &LabState,
    params: &[(String, String)],
    key: &str,
    operation: Operation,
) -> Response {
    let now = lab.now();
    let result = lab.lock().operate(key, operation, now);
    if let Ok(id) = &result {
        lab.mutations().record(operation.name(), id, now);
    }
    let resource_id = result
        .as_ref()
        .map_or_else(|_| key.to_owned(), Clone::clone);
    let action = Action {
        name: operation.name(),
        description: operation.description(),
        resource_id: &resource_id,
    };
    jobs::respond(lab, params, action, result.map(|_| Outcome::NoContent))
}

fn refuse(
    lab: &LabState,
    params: &[(String, String)],
    key: &str,
    operation: Operation,
    error: LabError,
) -> Response {
    let action = Action {
        name: operation.name(),
        description: operation.description(),
        resource_id: key,
    };
    jobs::respond(lab, params, action, Err(error))
}

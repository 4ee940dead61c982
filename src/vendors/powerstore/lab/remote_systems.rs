//! `/api/rest/remote_system`: the older arrays imports read from, listed and fetched
//! with the same query language as import sessions, so clients can resolve
//! `remote_system_id` by name.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::Value;

use crate::vendors::powerstore::wire::REMOTE_SYSTEM_FIELDS;

use super::error::LabError;
use super::query::{Listing, Params, Query, Resource, range};
use super::select::Select;
use super::state::{LabState, object};

const REMOTE_SYSTEM: Resource = Resource {
    name: "remote_system",
    fields: REMOTE_SYSTEM_FIELDS,
    embeds: &[],
};

/// `GET /remote_system`.
pub(super) async fn remote_systems_list(
    State(lab): State<LabState>,
    Params(params): Params,
    headers: HeaderMap,
) -> Result<Listing, LabError> {
    let query = Query::parse(&params, range(&headers), &REMOTE_SYSTEM)?;
    let rows = lab.lock().remote_systems.iter().map(object).collect();
    query.run(rows)
}

/// `GET /remote_system/{id}` (or `name:{name}`).
pub(super) async fn remote_systems_get(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Json<Value>, LabError> {
    let select = Select::from_params(&params, &REMOTE_SYSTEM)?;
    let inventory = lab.lock();
    let system = inventory
        .remote_system(&id)
        .ok_or_else(|| LabError::not_found(&id))?;
    Ok(Json(select.project(&object(system))))
}

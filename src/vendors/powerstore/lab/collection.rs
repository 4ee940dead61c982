//! The read-only collections, `/api/rest/job` and `/api/rest/remote_system` (the older
//! arrays imports read from): listed and fetched with the same query language as import
//! sessions, so clients can poll a job or resolve `remote_system_id` by name.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use crate::vendors::powerstore::wire::{JOB_FIELDS, Job, REMOTE_SYSTEM_FIELDS, RemoteSystem};

use super::error::LabError;
use super::query::{Listing, Params, Query, Resource, range};
use super::select::Select;
use super::state::{Inventory, LabState, object};

/// A collection clients read but never change.
pub(super) trait Collection: Serialize + Sized + 'static {
    /// Its name and attributes, for queries.
    const RESOURCE: Resource;

    /// Every item, in order.
    fn all(inventory: &Inventory) -> &[Self];

    /// The item `key` names, if there is one.
    fn find<'a>(inventory: &'a Inventory, key: &str) -> Option<&'a Self>;
}

impl Collection for Job {
    const RESOURCE: Resource = Resource::plain("job", JOB_FIELDS);

    fn all(inventory: &Inventory) -> &[Self] {
        &inventory.jobs
    }

    /// By id only.
    fn find<'a>(inventory: &'a Inventory, key: &str) -> Option<&'a Self> {
        inventory.jobs.iter().find(|j| j.id == key)
    }
}

impl Collection for RemoteSystem {
    const RESOURCE: Resource = Resource::plain("remote_system", REMOTE_SYSTEM_FIELDS);

    fn all(inventory: &Inventory) -> &[Self] {
        &inventory.remote_systems
    }

    /// By id, or `name:{name}`.
    fn find<'a>(inventory: &'a Inventory, key: &str) -> Option<&'a Self> {
        inventory.remote_system(key)
    }
}

/// `GET` the collection, e.g. `/api/rest/job`.
pub(super) async fn list<T: Collection>(
    State(lab): State<LabState>,
    Params(params): Params,
    headers: HeaderMap,
) -> Result<Listing, LabError> {
    let query = Query::parse(&params, range(&headers), &T::RESOURCE)?;
    let rows = T::all(&lab.lock()).iter().map(object).collect();
    query.run(rows)
}

/// `GET` one item, e.g. `/api/rest/job/{id}`.
pub(super) async fn get<T: Collection>(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Json<Value>, LabError> {
    let select = Select::from_params(&params, &T::RESOURCE)?;
    let inventory = lab.lock();
    let item = T::find(&inventory, &id).ok_or_else(|| LabError::not_found(&id))?;
    Ok(Json(select.project(&object(item))))
}

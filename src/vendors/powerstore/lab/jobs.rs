//! Asynchronous requests: any mutation sent with `is_async=true` (or `async=true`) is
//! applied at once and answered `202 {"id": job}`; `GET /job/{id}` then tells how it
//! went, with the synchronous answer's status and body (vendor-apis.md §4.3).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::http::lab::timestamp;
use crate::vendors::powerstore::wire::{IdResponse, JOB_FIELDS, Job, JobState};

use super::error::LabError;
use super::query::{Listing, Params, Query, Resource, range};
use super::select::Select;
use super::state::{LabState, object};

/// The job collection, for queries.
const JOB: Resource = Resource {
    name: "job",
    fields: JOB_FIELDS,
    embeds: &[],
};

/// What a successful mutation answers synchronously.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Outcome {
    /// 204.
    NoContent,
    /// 201 with the new resource's id.
    Created(String),
}

/// The operation a response is about, for its job.
#[derive(Clone, Copy, Debug)]
pub(super) struct Action<'a> {
    /// `resource_action`, e.g. `cutover`.
    pub(super) name: &'a str,
    pub(super) description: &'a str,
    /// The resource the request named.
    pub(super) resource_id: &'a str,
}

fn is_async(params: &[(String, String)]) -> bool {
    params
        .iter()
        .any(|(k, v)| (k == "is_async" || k == "async") && v.eq_ignore_ascii_case("true"))
}

/// Answers a mutation: synchronously, or as a job when the request asked for one.
pub(super) fn respond(
    lab: &LabState,
    params: &[(String, String)],
    action: Action<'_>,
    result: Result<Outcome, LabError>,
) -> Response {
    if !is_async(params) {
        return match result {
            Ok(Outcome::NoContent) => StatusCode::NO_CONTENT.into_response(),
            Ok(Outcome::Created(id)) => {
                (StatusCode::CREATED, Json(IdResponse { id })).into_response()
            }
            Err(error) => error.into_response(),
        };
    }
    let now = timestamp(lab.now());
    let (state, status, body, resource_id) = match result {
        Ok(Outcome::NoContent) => (
            JobState::Completed,
            StatusCode::NO_CONTENT,
            None,
            action.resource_id.to_owned(),
        ),
        Ok(Outcome::Created(id)) => {
            let body = serde_json::json!({ "id": id });
            (JobState::Completed, StatusCode::CREATED, Some(body), id)
        }
        Err(error) => {
            let body = serde_json::to_value(error.body()).ok();
            (
                JobState::Failed,
                error.status(),
                body,
                action.resource_id.to_owned(),
            )
        }
    };
    let mut inventory = lab.lock();
    let id = inventory.new_id();
    inventory.jobs.push(Job {
        id: id.clone(),
        resource_action: Some(action.name.to_owned()),
        resource_type: Some("import_session".to_owned()),
        resource_id: Some(resource_id),
        description_l10n: Some(action.description.to_owned()),
        state: Some(state),
        phase: Some(state.phase().to_owned()),
        start_time: Some(now.clone()),
        end_time: Some(now),
        progress_percentage: Some(100),
        response_status: Some(status.as_u16().to_string()),
        response_body: body,
    });
    (StatusCode::ACCEPTED, Json(IdResponse { id })).into_response()
}

/// `GET /api/rest/job`.
pub(super) async fn jobs_list(
    State(lab): State<LabState>,
    Params(params): Params,
    headers: HeaderMap,
) -> Result<Listing, LabError> {
    let query = Query::parse(&params, range(&headers), &JOB)?;
    let rows = lab.lock().jobs.iter().map(object).collect();
    query.run(rows)
}

/// `GET /api/rest/job/{id}`.
pub(super) async fn jobs_get(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Json<Value>, LabError> {
    let select = Select::from_params(&params, &JOB)?;
    let inventory = lab.lock();
    let job = inventory.jobs.iter().find(|j| j.id == id);
    let job = job.ok_or_else(|| LabError::not_found(&id))?;
    Ok(Json(select.project(&object(job))))
}

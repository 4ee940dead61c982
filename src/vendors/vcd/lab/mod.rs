//! The Cloud Director simulator: sessions, defined entity types and entities, and
//! `migrateEntities` with its legacy XML task, behind the auth flow, version checks,
//! paging, FIQL filters and error bodies of vendor-apis.md §2, so a VCD client works
//! against it unchanged.
//!
//! [`router`] assembles the routes; [`LabState`] holds the simulated site. Tasks move
//! on the lab clock whenever something is read, never by background tasks.

mod auth;
mod control;
mod entity;
mod entity_type;
mod error;
mod migration;
mod query;
mod request_id;
mod seed;
mod state;
mod task;
#[cfg(test)]
mod tests;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::http::lab::with_faults;
use crate::vendors::vcd::wire::versions_xml;

pub use error::LabError;
pub use state::LabState;

const CLOUDAPI: &str = "/cloudapi/1.0.0";

/// Every route of the simulator, with `state` attached, fault injection in front and a
/// request id on every answer.
pub fn router(state: LabState) -> Router {
    let cloudapi = |path: &str| format!("{CLOUDAPI}{path}");
    let api = Router::new()
        .route(
            &cloudapi("/sessions/current"),
            get(auth::sessions_current_get).delete(auth::sessions_delete),
        )
        .route(
            &cloudapi("/entityTypes"),
            get(entity_type::entity_types_list),
        )
        .route(
            &cloudapi("/entityTypes/{id}"),
            get(entity_type::entity_types_get),
        )
        .route(
            &cloudapi("/entityTypes/{id}/migrateEntities"),
            post(migration::migrate_entities),
        )
        .route(
            &cloudapi("/entities/{id}"),
            get(entity::entities_get)
                .put(entity::entities_put)
                .delete(entity::entities_delete),
        )
        .route(
            &cloudapi("/entities/{id}/resolve"),
            post(entity::entities_resolve),
        )
        .route(
            &cloudapi("/entities/types/{vendor}/{nss}"),
            get(entity::entities_of_type_list),
        )
        .route(
            &cloudapi("/entities/types/{vendor}/{nss}/{version}"),
            get(entity::entities_of_version_list),
        )
        .route(
            "/api/session",
            get(auth::legacy_session_get).delete(auth::sessions_delete),
        )
        .route("/api/task/{id}", get(task::tasks_get))
        .route("/api/task/{id}/action/cancel", post(task::tasks_cancel))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require));
    let routes = Router::new()
        .route("/api/versions", get(versions_get))
        .route(&cloudapi("/sessions"), post(auth::sessions_create))
        .route(
            &cloudapi("/sessions/provider"),
            post(auth::sessions_provider_create),
        )
        .merge(api)
        .merge(control::routes(&state))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .with_state(state.clone());
    with_faults(routes, state.faults().clone(), error::fault_body).layer(
        middleware::from_fn_with_state(state.lock().ids.clone(), request_id::stamp),
    )
}

/// `GET /api/versions` (no auth): the versions up to the configured newest.
async fn versions_get(State(lab): State<LabState>, headers: HeaderMap) -> Response {
    let versions = lab.at_now().versions();
    let login = format!("{}/api/sessions", base_url(&headers));
    let content_type = "application/vnd.vmware.vcloud.versions+xml";
    xml_response(
        StatusCode::OK,
        content_type,
        versions_xml(&versions, &login),
    )
}

async fn no_route(uri: Uri) -> LabError {
    let path = uri.path();
    in_family_of(
        path,
        LabError::not_found(format!("The resource {path} does not exist")),
    )
}

async fn no_method(uri: Uri) -> LabError {
    in_family_of(uri.path(), LabError::no_method(uri.path()))
}

/// `error` as the API family of `path` answers it: the legacy XML below `/api/`.
fn in_family_of(path: &str, error: LabError) -> LabError {
    if path.starts_with("/api/") {
        error.legacy()
    } else {
        error
    }
}

/// The listener's own base URL, in the scheme it serves.
pub(super) use crate::http::lab::base_url;

/// An XML answer with `content_type`.
pub(super) fn xml_response(status: StatusCode, content_type: &str, xml: String) -> Response {
    let mut response = (status, xml).into_response();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

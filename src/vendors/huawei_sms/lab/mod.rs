//! The Huawei Cloud SMS simulator: IAM's token endpoint, the API gateway (token or
//! `SDK-HMAC-SHA256` signature, optional throttling) and the v3 task API with the state
//! machine, task JSON, paging and error bodies of vendor-apis.md §5, so an SMS client
//! (ours, or the vendor's SDK) works against it unchanged.
//!
//! [`router`] assembles the routes; [`LabState`] holds the simulated project. Tasks move
//! on the lab clock whenever something is read, never by background tasks.

mod control;
mod error;
mod estate;
mod gateway;
mod iam;
mod machine;
mod plan;
mod render;
mod seed;
mod state;
mod tasks;
#[cfg(test)]
mod tests;

use axum::Router;
use axum::http::Uri;
use axum::middleware;
use axum::routing::{get, post};

use crate::http::lab::with_faults;

pub use error::LabError;
pub use state::{IAM_PREFIX, LAB_ACCESS_KEY, LAB_DOMAIN, LAB_PROJECT_ID, LAB_USER, LabState};

/// Every route of the simulator, with `state` attached, fault injection in front and a
/// request id on every answer.
pub fn router(state: LabState) -> Router {
    let api = Router::new()
        .route("/v3/tasks", get(tasks::tasks_list))
        .route(
            "/v3/tasks/{id}",
            get(tasks::tasks_get).delete(tasks::tasks_delete),
        )
        .route("/v3/tasks/{id}/action", post(tasks::tasks_action))
        .route("/v3/tasks/{id}/log", post(tasks::tasks_log))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            gateway::require,
        ));
    let routes = Router::new()
        .route(
            &format!("{IAM_PREFIX}/v3/auth/tokens"),
            post(iam::tokens_create),
        )
        .merge(api)
        .merge(control::routes(&state))
        .fallback(no_route)
        .with_state(state.clone());
    with_faults(routes, state.faults().clone(), error::fault_body)
        .layer(middleware::from_fn_with_state(state, gateway::stamp))
}

async fn no_route(uri: Uri) -> LabError {
    LabError::no_route(uri.path())
}

//! The PowerStore simulator: import sessions, remote systems and jobs behind the real
//! auth flow, query conventions, state machine and error bodies of vendor-apis.md §4,
//! so a PowerStore client (ours, or the vendor's SDK) works against it unchanged.
//!
//! [`router`] assembles the routes; [`LabState`] holds the simulated array. Progress is
//! computed from the lab clock whenever something is read, never by background tasks.

mod auth;
mod body;
mod collection;
mod control;
mod copy;
mod create;
mod error;
mod estate;
mod filter;
mod import_sessions;
mod jobs;
mod operation;
mod query;
mod reads;
mod seed;
mod select;
mod session;
mod state;
#[cfg(test)]
mod tests;

use std::time::SystemTime;

use axum::Router;
use axum::http::Uri;
use axum::middleware;
use axum::routing::{get, post};

use crate::http::lab::with_faults;

pub use error::LabError;
pub use state::LabState;

use crate::vendors::powerstore::wire::{Job, RemoteSystem};
use import_sessions::*;
use operation::Operation::{
    self, Cancel, Cleanup, Cutover, EnableDestinationVolume, Pause, Resume, StartCopy,
};

/// Every route of the simulator, with `state` attached and fault injection in front.
pub fn router(state: LabState) -> Router {
    let session = |path: &str| format!("/api/rest/import_session/{{id}}{path}");
    let mut api = Router::new()
        .route("/api/rest/logout", post(auth::logout))
        .route(
            "/api/rest/import_session",
            get(import_sessions_list).post(import_sessions_create),
        )
        .route(
            &session(""),
            get(import_sessions_get)
                .patch(import_sessions_read(
                    // A refused body names the operation only: this time is never read.
                    Operation::Modify(SystemTime::UNIX_EPOCH),
                    modify_body,
                ))
                .delete(import_sessions_operate(Operation::Delete)),
        )
        .route(
            &session("/cancel"),
            post(import_sessions_read(Cancel { force: false }, cancel_body)),
        )
        .route(
            &session("/enable_destination_volume"),
            post(import_sessions_read(
                EnableDestinationVolume,
                enable_destination_volume_body,
            )),
        )
        .route("/api/rest/job", get(collection::list::<Job>))
        .route("/api/rest/job/{id}", get(collection::get::<Job>))
        .route(
            "/api/rest/remote_system",
            get(collection::list::<RemoteSystem>),
        )
        .route(
            "/api/rest/remote_system/{id}",
            get(collection::get::<RemoteSystem>),
        );
    // The actions without a body, each at `/import_session/{id}/{its name}`.
    for operation in [Pause, Resume, Cutover, Cleanup, StartCopy] {
        let path = session(&format!("/{}", operation.name()));
        api = api.route(&path, post(import_sessions_operate(operation)));
    }
    let api = api.route_layer(middleware::from_fn_with_state(state.clone(), auth::require));
    let routes = Router::new()
        .route("/api/rest/login_session", get(auth::login_sessions_get))
        .merge(api)
        .merge(control::routes(&state))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .with_state(state.clone());
    with_faults(routes, state.faults().clone(), error::fault_body)
}

async fn no_route(uri: Uri) -> LabError {
    LabError::no_route(uri.path())
}

async fn no_method(uri: Uri) -> LabError {
    LabError::no_method(uri.path())
}

/// The fuzz target of the client's filter builder, here to read its output with the
/// lab's own query parser.
#[cfg(test)]
#[path = "../../../fuzz_tests/powerstore_filter.rs"]
mod fuzz_powerstore_filter;

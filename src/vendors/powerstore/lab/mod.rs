//! The PowerStore simulator: import sessions, remote systems and jobs behind the real
//! auth flow, query conventions, state machine and error bodies of vendor-apis.md §4,
//! so a PowerStore client (ours, or the vendor's SDK) works against it unchanged.
//!
//! [`router`] assembles the routes; [`LabState`] holds the simulated array. Progress is
//! computed from the lab clock whenever something is read, never by background tasks.

mod auth;
mod body;
mod control;
mod copy;
mod create;
mod error;
mod filter;
mod import_sessions;
mod jobs;
mod operation;
mod query;
mod remote_systems;
mod seed;
mod select;
mod session;
mod state;
#[cfg(test)]
mod test_support;

use axum::Router;
use axum::http::Uri;
use axum::middleware;
use axum::routing::{get, post};

use crate::http::lab::with_faults;

pub use error::LabError;
pub use state::LabState;

use import_sessions::*;

/// Every route of the simulator, with `state` attached and fault injection in front.
pub fn router(state: LabState) -> Router {
    let session = |path: &str| format!("/api/rest/import_session/{{id}}{path}");
    let api = Router::new()
        .route("/api/rest/logout", post(auth::logout))
        .route(
            "/api/rest/import_session",
            get(import_sessions_list).post(import_sessions_create),
        )
        .route(
            &session(""),
            get(import_sessions_get)
                .patch(import_sessions_modify)
                .delete(import_sessions_delete),
        )
        .route(&session("/pause"), post(import_sessions_pause))
        .route(&session("/resume"), post(import_sessions_resume))
        .route(&session("/cancel"), post(import_sessions_cancel))
        .route(&session("/cutover"), post(import_sessions_cutover))
        .route(&session("/cleanup"), post(import_sessions_cleanup))
        .route(
            &session("/enable_destination_volume"),
            post(import_sessions_enable_destination_volume),
        )
        .route(&session("/start_copy"), post(import_sessions_start_copy))
        .route("/api/rest/job", get(jobs::jobs_list))
        .route("/api/rest/job/{id}", get(jobs::jobs_get))
        .route(
            "/api/rest/remote_system",
            get(remote_systems::remote_systems_list),
        )
        .route(
            "/api/rest/remote_system/{id}",
            get(remote_systems::remote_systems_get),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require));
    let routes = Router::new()
        .route("/api/rest/login_session", get(auth::login_sessions_get))
        .merge(api)
        .merge(control::routes())
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::test_support::{Client, lab, message, send};
    use crate::vendors::powerstore::wire::codes;

    const SESSIONS: &str = "/api/rest/import_session";

    #[tokio::test]
    async fn injected_faults_answer_before_the_handler_in_the_vendor_body() {
        let (state, _) = lab();
        let c = Client::login(&state).await;
        let rule = r#"{"status": 503, "count": 1, "method": "POST", "path": "/api/rest/import_session", "retry_after": 2}"#;
        assert_eq!(
            send(&state, "POST", "/_lab/faults", &[], rule).await.status,
            200
        );
        let cutover = format!("{SESSIONS}/name:wave1-lun03/cutover");
        let faulted = c.post(&cutover, "").await;
        assert_eq!(
            (faulted.status, faulted.header("retry-after")),
            (503, Some("2"))
        );
        assert_eq!(faulted.body["messages"][0]["code"], codes::SERVER_ERROR);
        assert_eq!(c.state("name:wave1-lun03").await, "Ready_For_Cutover");
        assert!(state.mutations().entries().is_empty());
        assert_eq!(c.post(&cutover, "").await.status, 204);
        assert_eq!(state.mutations().count("cutover"), 1);
    }

    #[tokio::test]
    async fn unknown_paths_and_methods_answer_error_bodies() {
        let (state, _) = lab();
        let c = Client::login(&state).await;
        let missing = c.get("/api/rest/volume").await;
        assert_eq!(
            (missing.status, message(&missing)),
            (404, "The resource /api/rest/volume does not exist.")
        );
        let method = c.call("PUT", SESSIONS, "").await;
        assert_eq!(method.status, 405);
        assert_eq!(method.header("content-type"), Some("application/json"));
        let systems = c
            .get("/api/rest/remote_system?select=name,type&order=name.desc")
            .await;
        assert_eq!(
            systems.body,
            json!([{"name": "vnx-02", "type": "VNX"}, {"name": "unity-01", "type": "Unity"}])
        );
        let one = c
            .get("/api/rest/remote_system/name:vnx-02?select=serial_number")
            .await;
        assert_eq!(one.body, json!({"serial_number": "CKM00184700502"}));
    }

    #[tokio::test]
    async fn lab_time_drives_copies_to_their_ends() {
        let (state, clock) = lab();
        let c = Client::login(&state).await;
        let auto = c.add(r#"{"name": "auto", "state": "Copy_In_Progress", "progress_percentage": 90, "automatic_cutover": true}"#).await;
        let select = "select=state,progress_percentage,current_transfer_rate,error";
        clock.advance(Duration::from_secs(4));
        let failed = c
            .get(&format!("{SESSIONS}/name:wave1-lun05?{select}"))
            .await
            .body;
        assert_eq!(
            (failed["state"].as_str(), &failed["progress_percentage"]),
            (Some("Failed"), &json!(null))
        );
        assert_eq!(failed["error"]["code"], codes::COPY_FAILED);
        assert_eq!(failed["error"]["arguments"], json!(["sv_105", "50"]));
        clock.advance(Duration::from_secs(8));
        assert_eq!(c.state("name:wave1-lun01").await, "Ready_For_Cutover");
        assert_eq!(c.state(&auto).await, "Import_Completed");
        let stalled = c
            .get(&format!("{SESSIONS}/name:wave1-lun04?{select}"))
            .await
            .body;
        assert_eq!(
            stalled,
            json!({"state": "Copy_In_Progress", "progress_percentage": 60,
            "current_transfer_rate": 0, "error": null})
        );
        assert_eq!(c.state("name:wave2-lun01").await, "Scheduled");
        clock.advance(Duration::from_secs(6 * 3600 + 30));
        let c = Client::login(&state).await;
        assert_eq!(c.state("name:wave2-lun01").await, "Ready_For_Cutover");
        assert_eq!(c.state("name:wave2-cg01").await, "Import_Completed");
    }
}

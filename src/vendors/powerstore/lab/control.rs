//! The lab's own routes under `/_lab/` (never faulted, never authenticated): the whole
//! state for tests and curious operators, expiring login sessions, and adding import
//! sessions in any state so integration tests can build exact scenarios.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, json};

use crate::http::lab::{LabLogins, expire_routes, state_routes};
use crate::vendors::powerstore::wire::{IdResponse, ImportState, ImportType};

use super::body;
use super::create::Blueprint;
use super::seed::SCHEDULED_AHEAD;
use super::session::VOLUME_GROUP;
use super::state::{Inventory, LabState};

/// The `/_lab/*` routes of the PowerStore simulator (faults are added by the scaffolding).
pub(super) fn routes(lab: &LabState) -> Router<LabState> {
    Router::new()
        .merge(state_routes(lab, Map::new()))
        .merge(expire_routes(lab))
        .route("/_lab/import_sessions", post(import_sessions_add))
}

/// Body of `POST /_lab/import_sessions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabSession {
    name: String,
    #[serde(default = "queued")]
    state: ImportState,
    progress_percentage: Option<u8>,
    fail_at: Option<u8>,
    stall_at: Option<u8>,
    #[serde(default)]
    automatic_cutover: bool,
    #[serde(rename = "type")]
    import_type: Option<ImportType>,
    /// `volume` (default) or `volume_group`.
    destination_resource_type: Option<String>,
    /// Name or id; `unity-01` by default.
    remote_system: Option<String>,
    source_resource_id: Option<String>,
    size_gib: Option<u64>,
    rate_mib_s: Option<u64>,
    scheduled_timestamp: Option<String>,
}

fn queued() -> ImportState {
    ImportState::Queued
}

/// `POST /_lab/import_sessions`: adds a session in any state; `201 {"id"}`. Not a
/// mutation a client made, so not logged.
async fn import_sessions_add(State(lab): State<LabState>, bytes: Bytes) -> Response {
    match add(&lab, &bytes) {
        Ok(id) => (StatusCode::CREATED, Json(IdResponse { id })).into_response(),
        Err((status, message)) => (status, Json(json!({ "error": message }))).into_response(),
    }
}

fn add(lab: &LabState, bytes: &[u8]) -> Result<String, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let spec: LabSession =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid session: {e}")))?;
    let now = lab.now();
    let scheduled = match &spec.scheduled_timestamp {
        Some(text) => Some(
            body::timestamp("scheduled_timestamp", text)
                .map_err(|e| bad(e.body().messages[0].message_l10n.clone()))?,
        ),
        None => (spec.state == ImportState::Scheduled).then(|| now + SCHEDULED_AHEAD),
    };
    let mut inventory = lab.lock();
    let key = spec.remote_system.as_deref().unwrap_or("unity-01");
    let system = inventory
        .remote_system(key)
        .or_else(|| inventory.remote_system(&format!("name:{key}")))
        .ok_or_else(|| bad(format!("no remote system `{key}`")))?;
    let system_id = system.id.clone();
    if inventory.name_in_use(&spec.name) {
        let message = format!("name `{}` is in use", spec.name);
        return Err((StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    let source = spec.source_resource_id.clone();
    let source = source.unwrap_or_else(|| format!("sv_{}", inventory.sessions.len() + 1));
    let mut blueprint = spec.blueprint(&system_id, &source);
    blueprint.scheduled = scheduled;
    Ok(inventory.add(blueprint, now))
}

impl LabSession {
    fn blueprint(&self, system_id: &str, source: &str) -> Blueprint {
        use ImportState::*;
        let mut blueprint = Blueprint::new(&self.name, system_id, source)
            .sized(self.size_gib.unwrap_or(8), self.rate_mib_s.unwrap_or(512));
        blueprint.state = self.state;
        blueprint.percent = self.progress_percentage.unwrap_or(match self.state {
            Ready_For_Cutover | Cutover_In_Progress | Import_Completed => 100,
            _ => 0,
        });
        blueprint.fail_at = self.fail_at;
        blueprint.stall_at = self.stall_at;
        blueprint.automatic_cutover = self.automatic_cutover;
        blueprint.agentless = self.import_type == Some(ImportType::Agentless);
        blueprint.group = self.destination_resource_type.as_deref() == Some(VOLUME_GROUP);
        blueprint
    }
}

/// Login sessions end as after their idle timeout.
impl LabLogins for Inventory {
    fn expire_logins(&mut self) -> usize {
        self.logins.expire_all()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Client, lab, send};

    #[tokio::test]
    async fn state_shows_sessions_logins_and_counted_mutations() {
        let (state, _) = lab();
        let c = Client::login(&state).await;
        c.post("/api/rest/import_session/name:wave1-lun03/cutover", "")
            .await;
        c.post("/api/rest/import_session/name:wave1-lun03/cutover", "")
            .await;
        let shown = send(&state, "GET", "/_lab/state", &[], "").await.body;
        assert_eq!(shown["now"], "2025-03-01T00:00:00Z");
        assert_eq!(shown["import_sessions"].as_array().unwrap().len(), 13);
        let first = &shown["import_sessions"][0];
        assert_eq!(first["remote_system"]["name"], "unity-01");
        assert_eq!(first["lab"]["size_bytes"], 10_u64 << 30);
        assert_eq!(shown["logins"], 1);
        assert_eq!(shown["counts"], serde_json::json!({"cutover": 1}));
        assert_eq!(shown["mutations"][0]["operation"], "cutover");
        assert_eq!(shown["mutations"][0]["at"], "2025-03-01T00:00:00Z");
        assert_eq!(shown["remote_systems"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn sessions_can_be_added_in_any_state() {
        let (state, _) = lab();
        let c = Client::login(&state).await;
        let spec = r#"{"name": "x1", "state": "Copy_In_Progress", "progress_percentage": 90, "stall_at": 95,
            "remote_system": "vnx-02", "size_gib": 4, "rate_mib_s": 400}"#;
        let id = c.add(spec).await;
        let shown = c
            .get(&format!(
                "/api/rest/import_session/{id}?select=progress_percentage,remote_system(name)"
            ))
            .await;
        assert_eq!(
            shown.body,
            serde_json::json!({"progress_percentage": 90, "remote_system": {"name": "vnx-02"}})
        );
        for (spec, status) in [
            (r#"{"name": "x1"}"#, 422),
            (r#"{"name": "x2", "state": "Done"}"#, 400),
            (r#"{"name": "x2", "colour": "red"}"#, 400),
            (r#"{"name": "x2", "remote_system": "nope"}"#, 400),
        ] {
            let answer = send(&state, "POST", "/_lab/import_sessions", &[], spec).await;
            assert_eq!(answer.status, status, "{spec}");
            assert!(answer.body["error"].is_string(), "{spec}");
        }
        assert!(state.mutations().entries().is_empty());
    }
}

//! The lab's own routes under `/_lab/` (never faulted, never authenticated): the whole
//! state for tests, lab settings, expiring sessions, and adding entities in any state
//! so integration tests can build exact §2.6 scenarios.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::lab::control_error as bad;
use crate::http::lab::timestamp;
use crate::vendors::vcd::wire::EntityState;

use super::seed::EntitySpec;
use super::state::{LabState, VERSIONS};

/// The `/_lab/*` routes of the Cloud Director simulator (faults come from the scaffolding).
pub(super) fn routes() -> Router<LabState> {
    Router::new()
        .route("/_lab/state", get(state_get))
        .route("/_lab/config", get(config_get).post(config_set))
        .route("/_lab/expire_sessions", post(sessions_expire))
        .route("/_lab/entities", post(entities_add))
}

/// `GET /_lab/state`: types, every entity, tasks, logins, modify events, mutations.
async fn state_get(State(lab): State<LabState>) -> Json<Value> {
    let now = lab.now();
    let mut inventory = lab.at(now);
    let types: Vec<Value> = inventory
        .types
        .iter()
        .map(|t| json!({"id": t.wire.id, "name": t.wire.name, "version": t.wire.version}))
        .collect();
    let entities: Vec<Value> = inventory
        .entities
        .iter()
        .map(|e| {
            json!({"id": e.wire.id, "name": e.wire.name, "entityType": e.wire.entity_type,
                "entityState": e.state(), "org": e.org(),
                "owner": e.wire.owner.as_ref().map(|o| o.name.clone()),
                "message": e.wire.message, "etag": e.etag(), "entity": e.wire.entity})
        })
        .collect();
    let tasks: Vec<Value> = inventory
        .tasks
        .iter()
        .map(|t| {
            let (status, progress) = t.phase(now);
            json!({"id": format!("urn:vcloud:task:{}", t.uuid), "status": status.as_str(),
                "progress": progress, "source": t.source_text, "target": t.target,
                "force": t.force, "details": t.details})
        })
        .collect();
    let active = inventory.logins.active(now);
    Json(json!({
        "now": timestamp(now),
        "config": inventory.config,
        "entity_types": types,
        "entities": entities,
        "tasks": tasks,
        "logins": inventory.logins.count(),
        "active_sessions": active,
        "events": inventory.events,
        "mutations": lab.mutations().entries(),
        "counts": lab.mutations().counts(),
        "faults": lab.faults().summary(),
    }))
}

/// Body of `POST /_lab/config`; absent fields keep their value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    max_version: Option<String>,
    concurrent_share: Option<f64>,
    fail_next_migration: Option<bool>,
}

async fn config_get(State(lab): State<LabState>) -> Json<Value> {
    Json(json!(lab.at_now().config))
}

/// `POST /_lab/config`: changes settings; answers the whole config.
async fn config_set(State(lab): State<LabState>, bytes: Bytes) -> Response {
    let change: ConfigChange = match serde_json::from_slice(&bytes) {
        Ok(change) => change,
        Err(e) => return bad(format!("invalid config: {e}")),
    };
    let mut inventory = lab.at_now();
    if let Some(version) = change.max_version {
        if !VERSIONS.contains(&version.as_str()) {
            return bad(format!(
                "max_version must be one of {}",
                VERSIONS.join(", ")
            ));
        }
        inventory.config.max_version = version;
    }
    if let Some(share) = change.concurrent_share {
        if !(0.0..=1.0).contains(&share) {
            return bad("concurrent_share must be between 0 and 1".to_owned());
        }
        inventory.config.concurrent_share = share;
    }
    if let Some(fail) = change.fail_next_migration {
        inventory.config.fail_next_migration = fail;
    }
    Json(json!(inventory.config)).into_response()
}

/// `POST /_lab/expire_sessions`: every session lapses now, as after the idle timeout.
async fn sessions_expire(State(lab): State<LabState>) -> Json<Value> {
    let expired = lab.at_now().logins.expire_all();
    Json(json!({ "expired": expired }))
}

/// Body of `POST /_lab/entities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LabEntity {
    name: String,
    /// A full type URN of an existing `acme` type.
    entity_type: String,
    entity_state: EntityState,
    #[serde(default = "acme")]
    org: String,
    #[serde(default = "alice")]
    owner: String,
    #[serde(default)]
    entity: Value,
}

fn acme() -> String {
    "acme".to_owned()
}

fn alice() -> String {
    "alice".to_owned()
}

/// `POST /_lab/entities`: adds an entity in any state; `201 {"id"}`. Not logged as a
/// mutation: no client made it.
async fn entities_add(State(lab): State<LabState>, bytes: Bytes) -> Response {
    let spec: LabEntity = match serde_json::from_slice(&bytes) {
        Ok(spec) => spec,
        Err(e) => return bad(format!("invalid entity: {e}")),
    };
    let mut inventory = lab.at_now();
    let Some(found) = inventory.entity_type(&spec.entity_type) else {
        return bad(format!("no entity type `{}`", spec.entity_type));
    };
    let (nss, version) = (found.wire.nss.clone(), found.wire.version.clone());
    let uuid = inventory.new_id();
    let entity = EntitySpec {
        name: &spec.name,
        nss: &nss,
        version: &version,
        state: spec.entity_state,
        org: &spec.org,
        owner: &spec.owner,
        contents: spec.entity,
    }
    .build(uuid);
    let id = entity.wire.id.clone();
    inventory.entities.push(entity);
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

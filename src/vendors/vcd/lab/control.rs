//! The lab's own routes under `/_lab/` (never faulted, never authenticated): the whole
//! state for tests, lab settings, expiring sessions, and adding entities in any state
//! so integration tests can build exact §2.6 scenarios.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::http::lab::control_error as bad;
use crate::http::lab::{LabLogins, config_routes, expire_routes, state_routes};
use crate::vendors::vcd::wire::EntityState;

use super::seed::EntitySpec;
use super::state::{Inventory, LabState};

/// The `/_lab/*` routes of the Cloud Director simulator (faults come from the scaffolding).
pub(super) fn routes(lab: &LabState) -> Router<LabState> {
    Router::new()
        .merge(state_routes(lab, Map::new()))
        .merge(config_routes(lab, |inventory: &Inventory| {
            &inventory.config
        }))
        .merge(expire_routes(lab))
        .route("/_lab/entities", post(entities_add))
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

/// Login sessions end as after their idle timeout.
impl LabLogins for Inventory {
    fn expire_logins(&mut self) -> usize {
        self.logins.expire_all()
    }
}

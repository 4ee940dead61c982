//! Defined entities (vendor-apis.md §2.4–2.5): get with `ETag`, update with `If-Match`,
//! resolve against the type's schema, delete, and list the entities of a type.
//!
//! Who may change what (vendor-apis.md §2.9): a System administrator holds every right
//! and may modify the entities of every org. A tenant user sees only its own org's
//! entities, and may modify those whose type's rights bundle was published to its org
//! ([`PUBLISHED_RIGHTS`]); the others it can read but not change, so a migration that
//! skips them leaves them visibly behind.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::vendors::vcd::wire::{
    DefinedEntity, EntityState, PROVIDER_ORG, Page, ResolveResult, TypeUrn,
};

use super::auth::{Caller, OnId};
use super::error::LabError;
use super::query::Listing;
use super::state::{Event, Inventory, LabState};

/// The orgs each `acme` type's rights bundle is published to, by `nss`: `acme:vm` to
/// both orgs, `acme:db` to `acme` only, so a `globex` user can read its `db` entities but
/// not modify them.
pub const PUBLISHED_RIGHTS: [(&str, &[&str]); 2] = [("vm", &["acme", "globex"]), ("db", &["acme"])];

/// One simulated entity and its revision, which makes the `ETag`.
#[derive(Clone, Debug)]
pub(super) struct SimEntity {
    pub(super) wire: DefinedEntity,
    pub(super) revision: u64,
}

impl SimEntity {
    pub(super) fn etag(&self) -> String {
        format!(
            "\"{}-{}\"",
            &self.wire.id[self.wire.id.len().saturating_sub(8)..],
            self.revision
        )
    }

    pub(super) fn state(&self) -> EntityState {
        self.wire.entity_state.unwrap_or(EntityState::PreCreated)
    }

    /// Sets both the new `entityState` and the older `state` field.
    pub(super) fn set_state(&mut self, state: EntityState) {
        self.wire.entity_state = Some(state);
        self.wire.state = (state != EntityState::InDeletion).then(|| state.as_str().to_owned());
    }

    pub(super) fn org(&self) -> &str {
        self.wire.org.as_ref().map_or("", |o| o.name.as_str())
    }

    /// The entity's type as a URN (`None` if the stored type is malformed).
    pub(super) fn type_urn(&self) -> Option<TypeUrn> {
        TypeUrn::parse_full(&self.wire.entity_type).ok()
    }

    pub(super) fn visible_to(&self, caller: &Caller) -> bool {
        caller.is_provider() || self.org() == caller.org
    }

    pub(super) fn writable_by(&self, caller: &Caller) -> bool {
        self.writable_for(&caller.org)
    }

    /// Whether a user of `org` may modify the entity (see the module doc).
    pub(super) fn writable_for(&self, org: &str) -> bool {
        if org == PROVIDER_ORG {
            return true;
        }
        let published = self.type_urn().is_some_and(|urn| {
            PUBLISHED_RIGHTS
                .iter()
                .any(|(nss, orgs)| *nss == urn.nss && orgs.contains(&org))
        });
        self.org() == org && published
    }
}

fn with_etag(body: impl serde::Serialize, etag: &str) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn not_found(id: &str) -> LabError {
    LabError::not_found(format!("Entity {id} not found"))
}

/// Where the entity `id` is, when the caller sees it (else 404).
fn visible(entities: &[SimEntity], id: &str, caller: &Caller) -> Result<usize, LabError> {
    entities
        .iter()
        .position(|e| e.wire.id == id && e.visible_to(caller))
        .ok_or_else(|| not_found(id))
}

/// Where the entity `id` is, when the caller sees it (else 404) and may modify it (else
/// 403).
fn writable(entities: &[SimEntity], id: &str, caller: &Caller) -> Result<usize, LabError> {
    let index = visible(entities, id, caller)?;
    if !entities[index].writable_by(caller) {
        return Err(forbidden(id, caller));
    }
    Ok(index)
}

fn forbidden(id: &str, caller: &Caller) -> LabError {
    LabError::forbidden(format!(
        "User {}@{} does not have the right to modify entity {id}",
        caller.name, caller.org
    ))
}

/// `GET /cloudapi/1.0.0/entities/{id}`: the entity with its `ETag`.
pub(super) async fn entities_get(
    (State(lab), Extension(caller), Path(id)): OnId,
) -> Result<Response, LabError> {
    let inventory = lab.at_now();
    let entity = &inventory.entities[visible(&inventory.entities, &id, &caller)?];
    Ok(with_etag(&entity.wire, &entity.etag()))
}

/// `PUT /cloudapi/1.0.0/entities/{id}`: replaces name, contents and external id, and
/// may move the entity to another version of its type. A given `If-Match` must match.
/// A RESOLVED entity must stay valid against its (new) type.
pub(super) async fn entities_put(
    (State(lab), Extension(caller), Path(id)): OnId,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, LabError> {
    let update: DefinedEntity = serde_json::from_slice(&body)
        .map_err(|e| LabError::bad_request(format!("Invalid entity: {e}")))?;
    let (now, mut inventory) = lab.now_and_at();
    let new_type = TypeUrn::parse_full(&update.entity_type)
        .map_err(|e| LabError::bad_request(e.to_string()))?;
    let target = inventory
        .entity_type(&update.entity_type)
        .cloned()
        .ok_or_else(|| LabError::not_found(format!("Entity type {new_type} not found")))?;
    let index = writable(&inventory.entities, &id, &caller)?;
    let entity = &mut inventory.entities[index];
    let given = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    if given.is_some_and(|tag| tag != entity.etag()) {
        return Err(LabError::precondition_failed(format!(
            "Entity {id} was changed since it was read (ETag {})",
            entity.etag()
        )));
    }
    if !entity
        .type_urn()
        .is_some_and(|old| target.same_family(&old))
    {
        return Err(LabError::bad_request(format!(
            "The entity type of {id} may only change to another version of {}",
            entity.wire.entity_type
        )));
    }
    if entity.state() == EntityState::Resolved {
        target
            .validate(&update.entity)
            .map_err(LabError::bad_request)?;
    }
    let was = std::mem::replace(&mut entity.wire.entity_type, update.entity_type.clone());
    entity.wire.name = update.name;
    entity.wire.entity = update.entity;
    entity.wire.external_id = update.external_id;
    entity.revision += 1;
    let answer = with_etag(&entity.wire, &entity.etag());
    inventory.events.push(Event {
        kind: "modify",
        entity: id.clone(),
        new_type: update.entity_type,
        was_type: was,
        at: crate::http::lab::timestamp(now),
    });
    lab.mutations().record("update", &id, now);
    Ok(answer)
}

/// `POST /cloudapi/1.0.0/entities/{id}/resolve`: validates the contents against the
/// entity's type; RESOLVED or RESOLUTION_ERROR with the reason in `message`.
pub(super) async fn entities_resolve(
    (State(lab), Extension(caller), Path(id)): OnId,
) -> Result<Response, LabError> {
    modify(&lab, &caller, &id, "resolve", |inventory, index| {
        resolve(inventory, index, &id)
    })
}

/// Resolves the entity at `index` (named `id`), answering its [`ResolveResult`].
fn resolve(inventory: &mut Inventory, index: usize, id: &str) -> Result<Response, LabError> {
    let entity = &inventory.entities[index];
    if entity.state() == EntityState::InDeletion {
        return Err(LabError::bad_request(format!(
            "Entity {id} is IN_DELETION and cannot be resolved"
        )));
    }
    let type_id = entity.wire.entity_type.clone();
    let checked = inventory
        .entity_type(&type_id)
        .map(|t| t.validate(&inventory.entities[index].wire.entity));
    let entity = &mut inventory.entities[index];
    let (state, message) = match checked {
        Some(Ok(())) => (EntityState::Resolved, None),
        Some(Err(reason)) => (EntityState::ResolutionError, Some(reason)),
        None => (
            EntityState::ResolutionError,
            Some(format!("Entity type {type_id} not found")),
        ),
    };
    entity.set_state(state);
    entity.wire.message = message.clone();
    entity.revision += 1;
    let result = ResolveResult {
        id: id.to_owned(),
        entity: entity.wire.entity.clone(),
        state: entity.wire.state.clone(),
        entity_state: Some(state),
        message,
    };
    Ok(with_etag(result, &entity.etag()))
}

/// `DELETE /cloudapi/1.0.0/entities/{id}`: 204.
pub(super) async fn entities_delete(
    (State(lab), Extension(caller), Path(id)): OnId,
) -> Result<StatusCode, LabError> {
    modify(&lab, &caller, &id, "delete", |inventory, index| {
        inventory.entities.remove(index);
        Ok(StatusCode::NO_CONTENT)
    })
}

/// Makes `change` to the entity `id` the caller may modify (see [`writable`]), given
/// where it is, at the lab's now; logs it as `operation` once made.
fn modify<T>(
    lab: &LabState,
    caller: &Caller,
    id: &str,
    operation: &str,
    change: impl FnOnce(&mut Inventory, usize) -> Result<T, LabError>,
) -> Result<T, LabError> {
    let (now, mut inventory) = lab.now_and_at();
    let index = writable(&inventory.entities, id, caller)?;
    let answer = change(&mut inventory, index)?;
    lab.mutations().record(operation, id, now);
    Ok(answer)
}

/// `GET /cloudapi/1.0.0/entities/types/{vendor}/{nss}/{version}`: one version's entities.
pub(super) async fn entities_of_version_list(
    State(lab): State<LabState>,
    Extension(caller): Extension<Caller>,
    Path((vendor, nss, version)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Page<DefinedEntity>>, LabError> {
    let urn = TypeUrn {
        vendor,
        nss,
        version: Some(version),
    };
    list(&lab, &caller, &urn, &params)
}

/// `GET /cloudapi/1.0.0/entities/types/{vendor}/{nss}`: the entities of every version.
pub(super) async fn entities_of_type_list(
    State(lab): State<LabState>,
    Extension(caller): Extension<Caller>,
    Path((vendor, nss)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Page<DefinedEntity>>, LabError> {
    let urn = TypeUrn {
        vendor,
        nss,
        version: None,
    };
    list(&lab, &caller, &urn, &params)
}

fn list(
    lab: &LabState,
    caller: &Caller,
    urn: &TypeUrn,
    params: &HashMap<String, String>,
) -> Result<Json<Page<DefinedEntity>>, LabError> {
    let listing = Listing::parse(params)?;
    let inventory = lab.at_now();
    let known = inventory
        .types
        .iter()
        .any(|t| t.same_family(urn) && urn.version.as_ref().is_none_or(|v| *v == t.wire.version));
    if !known {
        return Err(LabError::not_found(format!("Entity type {urn} not found")));
    }
    let entities = inventory
        .entities
        .iter()
        .filter(|e| e.visible_to(caller) && e.type_urn().is_some_and(|t| urn_names(urn, &t)))
        .map(|e| e.wire.clone())
        .collect();
    Ok(Json(listing.page(entities)))
}

fn urn_names(pattern: &TypeUrn, concrete: &TypeUrn) -> bool {
    pattern.vendor == concrete.vendor
        && pattern.nss == concrete.nss
        && pattern
            .version
            .as_ref()
            .is_none_or(|v| Some(v) == concrete.version.as_ref())
}

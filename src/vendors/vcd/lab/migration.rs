//! `POST /cloudapi/1.0.0/entityTypes/{typeId}/migrateEntities` and the per-instance
//! rules of vendor-apis.md §2.6. The request is checked at once (400/404/409) and
//! answered with a task; the instances change when that task reaches `success` on the
//! lab clock, so `/_lab/state` never shows an effect the task does not show.
//!
//! Each covered instance is skipped when the caller may not modify it, or (a seeded
//! `concurrent_share` of them) as "concurrently modified"; otherwise its contents are
//! validated against the target version's JSON Schema and [`rule`] decides. The task
//! succeeds even when it left instances behind, as vendor-apis.md says: callers list
//! what is left and ask why (`schema_errors`).
//! With an `Accept` version below 38.0 the endpoint does not exist: 404, as VCD answers
//! for an OpenAPI path the requested version lacks.

use std::collections::BTreeSet;
use std::time::SystemTime;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::lab::{MutationLog, timestamp};
use crate::vendors::vcd::wire::{
    EntityState, MIGRATE_API_VERSION, MigrateRequest, TypeUrn, version_at_least,
};

use super::auth::OnId;
use super::error::LabError;
use super::state::{Event, Inventory};
use super::task::SimTask;

/// What happens to one instance (§2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Moved to the target type, now in this state.
    Migrated(EntityState),
    /// RESOLVED, invalid against the target, not forced: left as it was.
    RolledBack,
}

/// The §2.6 table: the outcome for an instance in `state` whose contents are (or are
/// not) `valid` against the target schema.
pub(super) fn rule(state: EntityState, valid: bool, force: bool) -> Outcome {
    use EntityState::*;
    match state {
        PreCreated | ResolutionError => Outcome::Migrated(PreCreated),
        InDeletion => Outcome::Migrated(InDeletion),
        Resolved if valid => Outcome::Migrated(Resolved),
        Resolved if force => Outcome::Migrated(ResolutionError),
        Resolved => Outcome::RolledBack,
    }
}

/// `migrateEntities`: 202 with the task in `Location`.
pub(super) async fn migrate_entities(
    (State(lab), Extension(caller), Path(type_id)): OnId,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, LabError> {
    if !version_at_least(&caller.version, MIGRATE_API_VERSION) {
        return Err(LabError::not_found(format!(
            "/cloudapi/1.0.0/entityTypes/{type_id}/migrateEntities does not exist in API version {}; it needs {MIGRATE_API_VERSION} or later",
            caller.version
        )));
    }
    let source = TypeUrn::parse(&type_id).map_err(|e| LabError::bad_request(e.to_string()))?;
    let request: MigrateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        MigrateRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| LabError::bad_request(format!("Invalid migrate request: {e}")))?
    };
    let target_text = request
        .target_entity_type
        .ok_or_else(|| LabError::bad_request("targetEntityType is required"))?;
    let target =
        TypeUrn::parse_full(&target_text).map_err(|e| LabError::bad_request(e.to_string()))?;
    let (now, mut inventory) = lab.now_and_at();
    let covered = covered(&inventory, &source);
    if covered.is_empty() {
        return Err(LabError::not_found(format!(
            "Entity type {type_id} not found"
        )));
    }
    if inventory.entity_type(&target_text).is_none() {
        return Err(LabError::not_found(format!(
            "Target entity type {target_text} not found"
        )));
    }
    if source.vendor != target.vendor || source.nss != target.nss {
        return Err(LabError::bad_request(format!(
            "Target entity type {target_text} is not a version of {}:{}",
            source.vendor, source.nss
        )));
    }
    if covered.iter().all(|id| *id == target_text) {
        return Err(LabError::bad_request(format!(
            "Source and target entity type are the same version: {target_text}"
        )));
    }
    let mut affected = covered;
    affected.insert(target_text.clone());
    for running in inventory.tasks.iter().filter(|t| !t.finished) {
        let mut theirs = self::covered(&inventory, &running.source);
        theirs.insert(running.target.clone());
        if !theirs.is_disjoint(&affected) {
            return Err(LabError::busy(format!(
                "Entities of {type_id} are being migrated by task urn:vcloud:task:{}; try again when it ends",
                running.uuid
            )));
        }
    }
    let fail = std::mem::take(&mut inventory.config.fail_next_migration);
    let instances = inventory
        .entities
        .iter()
        .filter(|e| {
            e.wire.entity_type != target_text && e.type_urn().is_some_and(|t| source.covers(&t))
        })
        .count();
    let uuid = inventory.new_id();
    inventory.tasks.push(SimTask {
        uuid: uuid.clone(),
        source_text: type_id,
        source,
        target: target_text,
        force: request.force_migrate,
        created: now,
        running_for: super::task::running_for(instances),
        user: caller.name.clone(),
        org: caller.org.clone(),
        fail,
        canceled_at: None,
        finished: false,
        details: None,
    });
    let mut response = StatusCode::ACCEPTED.into_response();
    let location = format!("{}/api/task/{uuid}", super::base_url(&headers));
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The ids of the existing types `pattern` covers.
fn covered(inventory: &Inventory, pattern: &TypeUrn) -> BTreeSet<String> {
    inventory
        .types
        .iter()
        .filter(|t| pattern.covers(&t.urn))
        .map(|t| t.wire.id.clone())
        .collect()
}

/// Counts of one applied migration.
#[derive(Debug, Default)]
struct Tally {
    migrated: usize,
    rolled_back: usize,
    forbidden: usize,
    concurrent: usize,
}

impl Inventory {
    /// Ends every task whose end has come by `now`, applying successful migrations.
    pub(super) fn end_tasks(&mut self, now: SystemTime, mutations: &MutationLog) {
        for index in 0..self.tasks.len() {
            let task = &self.tasks[index];
            if task.finished || !task.phase(now).0.is_terminal() {
                continue;
            }
            let task = task.clone();
            if task.phase(now).0 == crate::vendors::vcd::wire::TaskStatus::Success {
                let tally = self.apply(&task, index as u64, task.done_at());
                mutations.record("migrateEntities", &task.uuid, task.done_at());
                self.tasks[index].details = Some(format!(
                    "migrated {}, rolled back {} (invalid against the target), skipped {} (no modify right), skipped {} (concurrently modified)",
                    tally.migrated, tally.rolled_back, tally.forbidden, tally.concurrent
                ));
            }
            self.tasks[index].finished = true;
        }
    }

    fn apply(&mut self, task: &SimTask, number: u64, at: SystemTime) -> Tally {
        let mut tally = Tally::default();
        let Some(target) = self.entity_type(&task.target).cloned() else {
            return tally;
        };
        let share = self.config.concurrent_share;
        let mut rng =
            fastrand::Rng::with_seed(self.seed ^ number.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for entity in &mut self.entities {
            let Some(urn) = entity.type_urn() else {
                continue;
            };
            if !task.source.covers(&urn) || entity.wire.entity_type == task.target {
                continue;
            }
            if !entity.writable_for(&task.org) {
                tally.forbidden += 1;
                continue;
            }
            if share > 0.0 && rng.f64() < share {
                tally.concurrent += 1;
                continue;
            }
            let checked = target.validate(&entity.wire.entity);
            match rule(entity.state(), checked.is_ok(), task.force) {
                Outcome::RolledBack => tally.rolled_back += 1,
                Outcome::Migrated(state) => {
                    let was = std::mem::replace(&mut entity.wire.entity_type, task.target.clone());
                    entity.set_state(state);
                    entity.wire.message = match state {
                        EntityState::ResolutionError => checked.err(),
                        _ => None,
                    };
                    entity.revision += 1;
                    self.events.push(Event {
                        kind: "modify",
                        entity: entity.wire.id.clone(),
                        new_type: task.target.clone(),
                        was_type: was,
                        at: timestamp(at),
                    });
                    tally.migrated += 1;
                }
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityState::*;

    #[track_caller]
    fn case(state: EntityState, valid: bool, force: bool, expected: Outcome) {
        assert_eq!(
            rule(state, valid, force),
            expected,
            "{state:?} valid={valid} force={force}"
        );
    }

    #[test]
    fn the_per_instance_table_of_the_vendor_doc() {
        for valid in [true, false] {
            for force in [true, false] {
                case(PreCreated, valid, force, Outcome::Migrated(PreCreated));
                case(ResolutionError, valid, force, Outcome::Migrated(PreCreated));
                case(InDeletion, valid, force, Outcome::Migrated(InDeletion));
                case(Resolved, true, force, Outcome::Migrated(Resolved));
            }
        }
        case(Resolved, false, false, Outcome::RolledBack);
        case(Resolved, false, true, Outcome::Migrated(ResolutionError));
    }
}

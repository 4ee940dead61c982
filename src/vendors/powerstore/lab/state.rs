//! [`LabState`]: the lab scaffolding's [`LabCore`] over what one PowerStore simulator
//! knows (import sessions, remote systems, jobs, login sessions).

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::http::lab::estate::Estate;
use crate::http::lab::{LabCore, LabInventory, MutationLog};
use crate::vendors::LabSetup;
use crate::vendors::powerstore::wire::{Job, RemoteSystem};

use super::auth::{Credentials, Logins};
use super::error::LabError;
use super::operation::Operation;
use super::reads::SessionReads;
use super::seed;
use super::session::SimSession;

/// The shared state of one PowerStore simulator; cheap to clone.
pub type LabState = LabCore<Inventory, Credentials>;

impl LabState {
    /// A simulator with the inventory seeded from the setup's seed and estate at its
    /// clock's current time, accepting `user` with the setup's password.
    pub fn new(setup: &LabSetup<'_>, user: impl Into<String>) -> Self {
        let inventory = Inventory::seeded(setup.seed, setup.clock.now(), setup.estate);
        let credentials = Credentials {
            user: user.into(),
            password: setup.password.clone(),
        };
        Self::assemble(inventory, setup.clock.clone(), credentials)
    }
}

/// Sessions move only when read, each to the time of the read; the lab's view moves
/// them all.
impl LabInventory for Inventory {
    fn advance(&mut self, now: SystemTime, _: &MutationLog) {
        self.advance_all(now);
    }

    /// Every session with all its attributes (and how the lab drives it), remote
    /// systems, jobs and logins.
    fn state_json(&mut self, now: SystemTime, _: &MutationLog) -> Map<String, Value> {
        let sessions: Vec<Value> = self
            .sessions
            .iter()
            .map(|s| {
                let mut row = self.session_row(s, now);
                let lab = json!({"size_bytes": s.copy.size, "rate_bytes_per_second": s.copy.rate,
                    "stall_at": s.copy.stall_at, "fail_at": s.copy.fail_at,
                    "source_lost": s.source_lost, "started": s.start.is_running()});
                row.insert("lab".to_owned(), lab);
                Value::Object(row)
            })
            .collect();
        let remote_systems: Vec<Value> = self
            .remote_systems
            .iter()
            .map(|r| Value::Object(object(r)))
            .collect();
        let jobs: Vec<Value> = self.jobs.iter().map(|j| Value::Object(object(j))).collect();
        let shown = json!({
            "import_sessions": sessions,
            "remote_systems": remote_systems,
            "jobs": jobs,
            "logins": self.logins.count(),
            "active_login_sessions": self.logins.active(now),
            "session_reads": self.reads.to_json(),
        });
        object(&shown)
    }
}

/// What the simulated array holds.
#[derive(Debug)]
pub struct Inventory {
    pub(super) sessions: Vec<SimSession>,
    pub(super) remote_systems: Vec<RemoteSystem>,
    pub(super) jobs: Vec<Job>,
    pub(super) logins: Logins,
    /// How clients read the sessions.
    pub(super) reads: SessionReads,
    rng: fastrand::Rng,
}

impl Inventory {
    fn seeded(seed: u64, now: SystemTime, estate: &Estate) -> Self {
        let mut inventory = Self {
            sessions: Vec::new(),
            remote_systems: Vec::new(),
            jobs: Vec::new(),
            // A separate stream, so the number of logins does not shift resource ids.
            logins: Logins::new(
                seed ^ 0x5EC2_E75E_C2E7_5EC2,
                std::time::Duration::from_secs(super::auth::IDLE_TIMEOUT),
            ),
            reads: SessionReads::default(),
            rng: fastrand::Rng::with_seed(seed),
        };
        seed::populate(&mut inventory, now);
        super::estate::populate(&mut inventory, estate, seed, now);
        inventory
    }

    /// A fresh random UUID from the seeded stream.
    pub(super) fn new_id(&mut self) -> String {
        uuid(&mut self.rng)
    }

    /// Adds the older array `name` imports read from: a `kind` array (e.g. `Unity`) with
    /// its serial number and management address, connected.
    pub(super) fn add_array(
        &mut self,
        (name, kind, serial, address): (&str, &str, &str, &str),
        description: String,
    ) {
        let id = self.new_id();
        self.remote_systems.push(RemoteSystem {
            id,
            name: Some(name.to_owned()),
            description: Some(description),
            serial_number: Some(serial.to_owned()),
            system_type: Some(kind.to_owned()),
            management_address: Some(address.to_owned()),
            data_connection_state: Some("OK".to_owned()),
        });
    }

    /// The seeded stream, for sizes and rates of new sessions.
    pub(super) fn rng(&mut self) -> &mut fastrand::Rng {
        &mut self.rng
    }

    /// Moves every session forward to `now`.
    pub(super) fn advance_all(&mut self, now: SystemTime) {
        self.sessions.iter_mut().for_each(|s| s.advance(now));
    }

    /// The session a path segment names (`{id}` or `name:{name}`), touched by a client
    /// at `now` (its timeline runs from its first touch) and advanced to `now`.
    pub(super) fn session(
        &mut self,
        key: &str,
        now: SystemTime,
    ) -> Result<&mut SimSession, LabError> {
        let index = self.position(key).ok_or_else(|| LabError::not_found(key))?;
        let session = &mut self.sessions[index];
        session.touch(now);
        Ok(session)
    }

    /// A client read the sessions with `ids` at `now` (a listing's page).
    pub(super) fn touch(&mut self, ids: &[String], now: SystemTime) {
        let ids: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        self.sessions
            .iter_mut()
            .filter(|s| ids.contains(s.id()))
            .for_each(|s| s.touch(now));
    }

    /// Applies `operation` to the session `key` names; its id when applied.
    pub(super) fn operate(
        &mut self,
        key: &str,
        operation: Operation,
        now: SystemTime,
    ) -> Result<String, LabError> {
        let session = self.session(key, now)?;
        operation.apply(session, now)?;
        let id = session.id().to_owned();
        if operation == Operation::Delete {
            self.sessions.retain(|s| s.id() != id);
        }
        Ok(id)
    }

    /// Whether a session already has `name`.
    pub(super) fn name_in_use(&self, name: &str) -> bool {
        self.sessions.iter().any(|s| s.name() == name)
    }

    /// The remote system `key` names: its id, or `name:{name}`.
    pub(super) fn remote_system(&self, key: &str) -> Option<&RemoteSystem> {
        let by_name = key.strip_prefix("name:");
        self.remote_systems.iter().find(|r| match by_name {
            Some(name) => r.name.as_deref() == Some(name),
            None => r.id == key,
        })
    }

    /// Every attribute of `session` at `now`, with `remote_system` embedded.
    pub(super) fn session_row(&self, session: &SimSession, now: SystemTime) -> Map<String, Value> {
        let mut row = object(&session.render(now));
        let system = session
            .info
            .remote_system_id
            .as_deref()
            .and_then(|id| self.remote_system(id))
            .map_or(Value::Null, |r| Value::Object(object(r)));
        row.insert("remote_system".to_owned(), system);
        row
    }

    fn position(&self, key: &str) -> Option<usize> {
        let by_name = key.strip_prefix("name:");
        self.sessions.iter().position(|s| match by_name {
            Some(name) => s.name() == name,
            None => s.id() == key,
        })
    }
}

/// A wire struct as a JSON object; absent values become `null`.
pub(super) fn object(value: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

pub(super) use crate::http::lab::seeded_uuid as uuid;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_that_depend_only_on_the_seed() {
        let mut a = fastrand::Rng::with_seed(7);
        let mut b = fastrand::Rng::with_seed(7);
        let id = uuid(&mut a);
        assert_eq!(id, uuid(&mut b));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, uuid(&mut fastrand::Rng::with_seed(8)));
    }

    #[test]
    fn sessions_are_found_by_id_or_by_name() {
        let now = SystemTime::UNIX_EPOCH;
        let mut inventory = Inventory::seeded(1, now, &Estate::default());
        let id = inventory.sessions[0].id().to_owned();
        let name = inventory.sessions[0].name().to_owned();
        assert_eq!(
            inventory
                .session(&format!("name:{name}"), now)
                .unwrap()
                .id(),
            id
        );
        assert_eq!(inventory.session(&id, now).unwrap().name(), name);
        let missing = inventory.session("name:nope", now).unwrap_err();
        assert_eq!(
            missing.body().messages[0].message_l10n,
            "Instance with id name:nope was not found."
        );
        assert!(inventory.remote_system("name:unity-01").is_some());
    }
}

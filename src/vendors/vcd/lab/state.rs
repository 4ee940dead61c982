//! [`LabState`]: everything one Cloud Director simulator knows (entity types, entities,
//! migration tasks, login sessions, modify events, lab settings), its clock,
//! credentials, fault rules and mutation log. Handlers lock the inventory briefly and
//! never across an `.await`; every lock through [`LabState::at_now`] first moves the
//! tasks forward to the lab clock, so what a client reads always agrees with task state.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use serde::Serialize;

use crate::clock::Clock;
use crate::config::Secret;
use crate::http::lab::{Faults, MutationLog};
use crate::vendors::vcd::wire::PROVIDER_ORG;

use super::auth::Logins;
use super::entity::SimEntity;
use super::entity_type::SimType;
use super::request_id::RequestIds;
use super::seed;
use super::task::SimTask;

/// The API versions the simulator knows, oldest first.
pub(super) const VERSIONS: [&str; 5] = ["36.0", "37.0", "37.2", "38.0", "39.0"];

/// A tenant user the simulator also accepts, with the lab password, so tests can see
/// the tenant login path and a tenant's narrower view.
pub const TENANT_USER: &str = "tenant@acme";

/// One account: `name@org` and the password.
pub(super) struct Credentials {
    pub(super) name: String,
    pub(super) org: String,
    pub(super) password: Secret,
}

impl Credentials {
    /// `user@org`; a user without `@` belongs to `System`.
    fn parse(user: &str, password: Secret) -> Self {
        let (name, org) = user.rsplit_once('@').unwrap_or((user, PROVIDER_ORG));
        Self {
            name: name.to_owned(),
            org: org.to_owned(),
            password,
        }
    }
}

/// Settings of `POST /_lab/config`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct LabConfig {
    /// The newest API version `/api/versions` offers and `Accept` may name.
    pub(super) max_version: String,
    /// Share (0..=1) of the instances a migration skips as "concurrently modified".
    pub(super) concurrent_share: f64,
    /// The next migration task ends in `error`, migrating nothing.
    pub(super) fail_next_migration: bool,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            max_version: "39.0".to_owned(),
            concurrent_share: 0.0,
            fail_next_migration: false,
        }
    }
}

/// One RDE modify event (§2.6): an instance whose type changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(super) struct Event {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) entity: String,
    #[serde(rename = "definedEntity.type")]
    pub(super) new_type: String,
    #[serde(rename = "definedEntity.was.type")]
    pub(super) was_type: String,
    pub(super) at: String,
}

/// The shared state of one Cloud Director simulator; cheap to clone.
#[derive(Clone)]
pub struct LabState {
    inventory: Arc<Mutex<Inventory>>,
    clock: Clock,
    accounts: Arc<Vec<Credentials>>,
    faults: Faults,
    mutations: MutationLog,
    pub(super) ids: RequestIds,
}

impl std::fmt::Debug for LabState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabState")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl LabState {
    /// A simulator seeded from `seed` at the clock's current time, accepting `user`
    /// (`name@org`, e.g. `administrator@System`) and [`TENANT_USER`] with `password`.
    pub fn new(seed: u64, clock: Clock, user: impl Into<String>, password: Secret) -> Self {
        let inventory = Inventory::seeded(seed);
        let accounts = vec![
            Credentials::parse(&user.into(), password.clone()),
            Credentials::parse(TENANT_USER, password),
        ];
        Self {
            inventory: Arc::new(Mutex::new(inventory)),
            clock,
            accounts: Arc::new(accounts),
            faults: Faults::new(),
            mutations: MutationLog::new(),
            ids: RequestIds::new(seed),
        }
    }

    /// The lab clock tasks and sessions advance by.
    #[cfg(test)]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The fault rules of `/_lab/faults`.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every mutation applied so far.
    pub fn mutations(&self) -> &MutationLog {
        &self.mutations
    }

    pub(super) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub(super) fn accounts(&self) -> &[Credentials] {
        &self.accounts
    }

    /// The inventory with every task moved forward to now.
    pub(super) fn at_now(&self) -> MutexGuard<'_, Inventory> {
        self.at(self.now())
    }

    /// The inventory with every task moved forward to `now`. A handler that also uses
    /// `now` itself reads the clock once and passes it here, so what it answers and
    /// what the inventory applied agree.
    pub(super) fn at(&self, now: SystemTime) -> MutexGuard<'_, Inventory> {
        let mut inventory = self
            .inventory
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        inventory.advance(now, &self.mutations);
        inventory
    }
}

/// What the simulated Cloud Director holds.
pub(super) struct Inventory {
    pub(super) types: Vec<SimType>,
    pub(super) entities: Vec<SimEntity>,
    pub(super) tasks: Vec<SimTask>,
    pub(super) logins: Logins,
    pub(super) events: Vec<Event>,
    pub(super) config: LabConfig,
    pub(super) seed: u64,
    rng: fastrand::Rng,
}

impl Inventory {
    pub(super) fn seeded(seed: u64) -> Self {
        let mut inventory = Self {
            types: Vec::new(),
            entities: Vec::new(),
            tasks: Vec::new(),
            // A separate stream, so the number of logins does not shift entity ids.
            logins: Logins::new(
                seed ^ 0x5EC2_E75E_C2E7_5EC2,
                std::time::Duration::from_secs(super::auth::IDLE_MINUTES * 60),
            ),
            events: Vec::new(),
            config: LabConfig::default(),
            seed,
            rng: fastrand::Rng::with_seed(seed),
        };
        seed::populate(&mut inventory);
        inventory
    }

    /// A fresh UUID from the seeded stream.
    pub(super) fn new_id(&mut self) -> String {
        uuid(&mut self.rng)
    }

    /// The versions offered under the current `max_version`, oldest first.
    pub(super) fn versions(&self) -> Vec<&'static str> {
        use crate::vendors::vcd::wire::version_at_least;
        VERSIONS
            .into_iter()
            .filter(|v| version_at_least(&self.config.max_version, v))
            .collect()
    }

    /// The type with this exact id.
    pub(super) fn entity_type(&self, id: &str) -> Option<&SimType> {
        self.types.iter().find(|t| t.wire.id == id)
    }
}

pub(super) use crate::http::lab::seeded_uuid as uuid;

/// A stable URN for a named thing (`urn:vcloud:org:…` for `acme`), the same in every run.
pub(super) fn named_urn(kind: &str, name: &str) -> String {
    // FNV-1a, twice with different offsets, spread over a UUID's 128 bits.
    let hash = |offset: u64| {
        name.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let mut rng = fastrand::Rng::with_seed(hash(0xcbf2_9ce4_8422_2325) ^ hash(kind.len() as u64));
    format!("urn:vcloud:{kind}:{}", uuid(&mut rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_without_an_org_are_provider_users() {
        let plain = Credentials::parse("admin", Secret::new("x"));
        assert_eq!(
            (plain.name.as_str(), plain.org.as_str()),
            ("admin", "System")
        );
        let tenant = Credentials::parse("bob@acme", Secret::new("x"));
        assert_eq!((tenant.name.as_str(), tenant.org.as_str()), ("bob", "acme"));
    }

    #[test]
    fn lowering_max_version_hides_newer_versions() {
        let mut inventory = Inventory::seeded(1);
        assert_eq!(inventory.versions().last(), Some(&"39.0"));
        inventory.config.max_version = "37.2".to_owned();
        assert_eq!(inventory.versions(), ["36.0", "37.0", "37.2"]);
    }
}

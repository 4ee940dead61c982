//! [`LabState`]: the lab scaffolding's [`LabCore`] over what one Cloud Director simulator
//! knows (entity types, entities, migration tasks, login sessions, modify events, lab
//! settings) and the accounts it accepts. Every lock through [`LabCore::at_now`] first
//! ends the tasks whose end has come.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::config::Secret;
use crate::http::lab::{LabCore, LabInventory, LabSettings, MutationLog};
use crate::vendors::LabSetup;
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
/// A tenant user of the other org, whose org was published the `acme:vm` rights bundle
/// but not `acme:db`'s (see [`super::entity::PUBLISHED_RIGHTS`]).
pub const GLOBEX_TENANT_USER: &str = "tenant@globex";

/// One account: `name@org` and the password.
pub struct Credentials {
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
pub struct LabConfig {
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
pub type LabState = LabCore<Inventory, Vec<Credentials>>;

impl LabState {
    /// A simulator seeded from the setup's seed, with the entities of its estate's
    /// applications beside the seeded ones, on its clock, accepting `user` (`name@org`,
    /// e.g. `administrator@System`), [`TENANT_USER`] and [`GLOBEX_TENANT_USER`] with the
    /// setup's password.
    pub fn new(setup: &LabSetup<'_>, user: impl Into<String>) -> Self {
        let password = setup.password;
        let accounts = vec![
            Credentials::parse(&user.into(), password.clone()),
            Credentials::parse(TENANT_USER, password.clone()),
            Credentials::parse(GLOBEX_TENANT_USER, password.clone()),
        ];
        let mut inventory = Inventory::seeded(setup.seed);
        seed::populate_estate(&mut inventory, setup.estate);
        Self::assemble(inventory, setup.clock.clone(), accounts)
    }
}

/// Tasks end (and their migrations apply) when read after their end.
impl LabInventory for Inventory {
    fn advance(&mut self, now: SystemTime, mutations: &MutationLog) {
        self.end_tasks(now, mutations);
    }

    /// Types, every entity, tasks, logins, modify events and the settings.
    fn state_json(&mut self, now: SystemTime, _: &MutationLog) -> Map<String, Value> {
        let types: Vec<Value> = self
            .types
            .iter()
            .map(|t| json!({"id": t.wire.id, "name": t.wire.name, "version": t.wire.version}))
            .collect();
        let entities: Vec<Value> = self
            .entities
            .iter()
            .map(|e| {
                json!({"id": e.wire.id, "name": e.wire.name, "entityType": e.wire.entity_type,
                    "entityState": e.state(), "org": e.org(),
                    "owner": e.wire.owner.as_ref().map(|o| o.name.clone()),
                    "message": e.wire.message, "etag": e.etag(), "entity": e.wire.entity})
            })
            .collect();
        let tasks: Vec<Value> = self
            .tasks
            .iter()
            .map(|t| {
                let (status, progress) = t.phase(now);
                json!({"id": format!("urn:vcloud:task:{}", t.uuid), "status": status.as_str(),
                    "progress": progress, "source": t.source_text, "target": t.target,
                    "force": t.force, "details": t.details})
            })
            .collect();
        let active = self.logins.active(now);
        let mut shown = Map::new();
        shown.insert("config".to_owned(), json!(self.config));
        shown.insert("entity_types".to_owned(), json!(types));
        shown.insert("entities".to_owned(), json!(entities));
        shown.insert("tasks".to_owned(), json!(tasks));
        shown.insert("logins".to_owned(), json!(self.logins.count()));
        shown.insert("active_sessions".to_owned(), json!(active));
        shown.insert("events".to_owned(), json!(self.events));
        shown
    }
}

/// Body of `POST /_lab/config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    max_version: Option<String>,
    concurrent_share: Option<f64>,
    fail_next_migration: Option<bool>,
}

/// Each setting is checked and made in turn: a bad one stops there.
impl LabSettings for Inventory {
    type Change = ConfigChange;

    fn apply_config(&mut self, change: ConfigChange) -> Result<(), String> {
        if let Some(version) = change.max_version {
            if !VERSIONS.contains(&version.as_str()) {
                return Err(format!(
                    "max_version must be one of {}",
                    VERSIONS.join(", ")
                ));
            }
            self.config.max_version = version;
        }
        if let Some(share) = change.concurrent_share {
            if !(0.0..=1.0).contains(&share) {
                return Err("concurrent_share must be between 0 and 1".to_owned());
            }
            self.config.concurrent_share = share;
        }
        if let Some(fail) = change.fail_next_migration {
            self.config.fail_next_migration = fail;
        }
        Ok(())
    }
}

/// What the simulated Cloud Director holds.
pub struct Inventory {
    pub(super) types: Vec<SimType>,
    pub(super) entities: Vec<SimEntity>,
    pub(super) tasks: Vec<SimTask>,
    pub(super) logins: Logins,
    pub(super) events: Vec<Event>,
    pub(super) config: LabConfig,
    pub(super) seed: u64,
    pub(super) ids: RequestIds,
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
            ids: RequestIds::new(seed),
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

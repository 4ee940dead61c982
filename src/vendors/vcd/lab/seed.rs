//! The seeded inventory: the `acme:vm` type in versions 1.0.0, 1.0.1, 1.1.0 and 2.0.0
//! (2.0.0 requires `guestOs`, which some 1.x instances lack) and `acme:db` 1.0.0, with
//! entities in all four entity states across orgs `acme` and `globex` and several
//! owners; then the wave estate's entities ([`populate_estate`]).

use serde_json::{Value, json};

use crate::http::lab::estate::{App, Estate, Fault};
use crate::vendors::vcd::wire::{DefinedEntity, EntityRef, EntityState};

use super::entity::SimEntity;
use super::entity_type::SimType;
use super::state::{Inventory, named_urn};

/// The schema of `acme:vm` at `version`.
fn vm_schema(version: &str) -> Value {
    let mut properties = json!({
        "name": {"type": "string"},
        "cpus": {"type": "integer", "minimum": 1},
        "memoryMb": {"type": "integer", "minimum": 1},
    });
    let mut required = vec!["name", "cpus"];
    if version != "1.0.0" {
        properties["notes"] = json!({"type": "string"});
    }
    if version.starts_with("1.1") || version.starts_with('2') {
        properties["disks"] = json!({"type": "array", "items": {"type": "integer"}});
    }
    if version.starts_with('2') {
        properties["guestOs"] = json!({"type": "string", "minLength": 1});
        required.push("guestOs");
    }
    json!({"type": "object", "properties": properties, "required": required})
}

fn db_schema() -> Value {
    json!({"type": "object", "required": ["engine"],
        "properties": {"engine": {"enum": ["postgres", "mysql"]}, "sizeGb": {"type": "integer"}}})
}

/// The seeded entities: name, `nss:version`, state, org, owner, contents.
const ENTITIES: [(&str, &str, EntityState, &str, &str, &str); 16] = {
    use EntityState::*;
    [
        (
            "web-01",
            "vm:1.0.0",
            Resolved,
            "acme",
            "alice",
            r#"{"name":"web-01","cpus":2,"guestOs":"ubuntu"}"#,
        ),
        (
            "web-02",
            "vm:1.0.0",
            Resolved,
            "acme",
            "alice",
            r#"{"name":"web-02","cpus":2}"#,
        ),
        (
            "web-03",
            "vm:1.0.0",
            PreCreated,
            "acme",
            "bob",
            r#"{"name":"web-03","cpus":1}"#,
        ),
        (
            "web-04",
            "vm:1.0.0",
            ResolutionError,
            "acme",
            "bob",
            r#"{"name":"web-04","cpus":"two"}"#,
        ),
        (
            "web-05",
            "vm:1.0.0",
            InDeletion,
            "acme",
            "alice",
            r#"{"name":"web-05","cpus":4}"#,
        ),
        (
            "gx-web-01",
            "vm:1.0.0",
            Resolved,
            "globex",
            "carol",
            r#"{"name":"gx-web-01","cpus":2,"guestOs":"rhel"}"#,
        ),
        (
            "app-01",
            "vm:1.0.1",
            Resolved,
            "acme",
            "alice",
            r#"{"name":"app-01","cpus":4,"guestOs":"debian"}"#,
        ),
        (
            "app-02",
            "vm:1.0.1",
            Resolved,
            "acme",
            "bob",
            r#"{"name":"app-02","cpus":4,"notes":"legacy"}"#,
        ),
        (
            "app-03",
            "vm:1.0.1",
            ResolutionError,
            "acme",
            "bob",
            r#"{"name":"app-03","cpus":0}"#,
        ),
        (
            "gx-app-01",
            "vm:1.0.1",
            PreCreated,
            "globex",
            "dave",
            r#"{"name":"gx-app-01","cpus":1}"#,
        ),
        (
            "batch-01",
            "vm:1.1.0",
            Resolved,
            "acme",
            "bob",
            r#"{"name":"batch-01","cpus":8,"disks":[100]}"#,
        ),
        (
            "batch-02",
            "vm:1.1.0",
            PreCreated,
            "acme",
            "alice",
            r#"{"name":"batch-02","cpus":8,"guestOs":"win"}"#,
        ),
        (
            "batch-03",
            "vm:1.1.0",
            InDeletion,
            "globex",
            "carol",
            r#"{"name":"batch-03","cpus":2}"#,
        ),
        (
            "new-01",
            "vm:2.0.0",
            Resolved,
            "acme",
            "alice",
            r#"{"name":"new-01","cpus":2,"guestOs":"ubuntu"}"#,
        ),
        (
            "pg-01",
            "db:1.0.0",
            Resolved,
            "acme",
            "alice",
            r#"{"engine":"postgres","sizeGb":20}"#,
        ),
        (
            "gx-pg-01",
            "db:1.0.0",
            PreCreated,
            "globex",
            "dave",
            r#"{"engine":"mysql"}"#,
        ),
    ]
};

/// Fills an empty inventory.
pub(super) fn populate(inventory: &mut Inventory) {
    for version in ["1.0.0", "1.0.1", "1.1.0", "2.0.0"] {
        let vm = SimType::new("acme", "vm", version, "Virtual machine", vm_schema(version));
        inventory.types.push(vm);
    }
    inventory
        .types
        .push(SimType::new("acme", "db", "1.0.0", "Database", db_schema()));
    for (name, kind, state, org, owner, contents) in ENTITIES {
        let (nss, version) = kind.split_once(':').unwrap_or((kind, "1.0.0"));
        let contents = serde_json::from_str(contents).unwrap_or(Value::Null);
        let spec = EntitySpec {
            name,
            nss,
            version,
            state,
            org,
            owner,
            contents,
        };
        let entity = spec.build(inventory.new_id());
        inventory.entities.push(entity);
    }
}

/// Adds, after the seeded entities (so their ids stay the same), entities `<app>-web`
/// and `<app>-db` of every application of `estate`: `acme:vm` 1.0.0, RESOLVED, in the
/// application's org, their contents valid against 2.0.0 too, except the `web` entity
/// of the application given [`Fault::InvalidEntity`], which lacks the `guestOs` 2.0.0
/// requires: a migration to 2.0.0 leaves it behind.
pub(super) fn populate_estate(inventory: &mut Inventory, estate: &Estate) {
    for app in &estate.apps {
        for (role, cpus, memory, guest) in [("web", 2, 4096, "ubuntu"), ("db", 4, 16384, "rhel")] {
            let name = format!("{}-{role}", app.name);
            let mut contents = json!({"name": name, "cpus": cpus, "memoryMb": memory});
            let invalid = role == "web" && app.fault == Some(Fault::InvalidEntity);
            if !invalid {
                contents["guestOs"] = json!(guest);
            }
            let spec = EntitySpec {
                name: &name,
                nss: "vm",
                version: "1.0.0",
                state: EntityState::Resolved,
                org: app.org,
                owner: owner_of(app),
                contents,
            };
            let entity = spec.build(inventory.new_id());
            inventory.entities.push(entity);
        }
    }
}

/// The org administrator who owns an application's entities.
fn owner_of(app: &App) -> &'static str {
    if app.org == "globex" {
        "carol"
    } else {
        "alice"
    }
}

/// What an entity is made of, for the seed and for `POST /_lab/entities`.
pub(super) struct EntitySpec<'a> {
    pub(super) name: &'a str,
    pub(super) nss: &'a str,
    pub(super) version: &'a str,
    pub(super) state: EntityState,
    pub(super) org: &'a str,
    pub(super) owner: &'a str,
    pub(super) contents: Value,
}

impl EntitySpec<'_> {
    /// The `acme` entity with this spec and `uuid`.
    pub(super) fn build(self, uuid: String) -> SimEntity {
        let mut entity = SimEntity {
            wire: DefinedEntity {
                id: format!("urn:vcloud:entity:acme:{}:{uuid}", self.nss),
                entity_type: format!("urn:vcloud:type:acme:{}:{}", self.nss, self.version),
                name: self.name.to_owned(),
                external_id: None,
                entity: self.contents,
                state: None,
                entity_state: None,
                message: None,
                owner: Some(EntityRef {
                    name: self.owner.to_owned(),
                    id: named_urn("user", self.owner),
                }),
                org: Some(EntityRef {
                    name: self.org.to_owned(),
                    id: named_urn("org", self.org),
                }),
            },
            revision: 1,
        };
        entity.set_state(self.state);
        entity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_contents_agree_with_their_states_and_the_2_0_0_schema() {
        let inventory = Inventory::seeded(1);
        let v2 = inventory
            .entity_type("urn:vcloud:type:acme:vm:2.0.0")
            .unwrap()
            .clone();
        let mut invalid_v2 = Vec::new();
        for entity in &inventory.entities {
            let own = inventory.entity_type(&entity.wire.entity_type).unwrap();
            let valid = own.validate(&entity.wire.entity).is_ok();
            match entity.state() {
                EntityState::Resolved => assert!(valid, "{}", entity.wire.name),
                EntityState::ResolutionError => assert!(!valid, "{}", entity.wire.name),
                _ => {}
            }
            if entity.wire.entity_type.contains(":vm:") && v2.validate(&entity.wire.entity).is_err()
            {
                invalid_v2.push(entity.wire.name.as_str());
            }
        }
        assert_eq!(
            invalid_v2,
            [
                "web-02",
                "web-03",
                "web-04",
                "web-05",
                "app-02",
                "app-03",
                "gx-app-01",
                "batch-01",
                "batch-03"
            ]
        );
    }

    #[test]
    fn the_estate_adds_two_entities_per_application_and_one_invalid_in_rough() {
        use crate::http::lab::estate::Scenario;
        for (scenario, invalid) in [
            (Scenario::Happy, vec![]),
            (Scenario::Rough, vec!["erp-web"]),
        ] {
            let mut inventory = Inventory::seeded(1);
            let seeded = inventory.entities.len();
            populate_estate(&mut inventory, &Estate::new(scenario, 12));
            let added = &inventory.entities[seeded..];
            assert_eq!(added.len(), 24);
            let v1 = inventory
                .entity_type("urn:vcloud:type:acme:vm:1.0.0")
                .unwrap();
            let v2 = inventory
                .entity_type("urn:vcloud:type:acme:vm:2.0.0")
                .unwrap();
            let billing: Vec<_> = added
                .iter()
                .filter(|e| e.wire.name.starts_with("billing-"))
                .map(|e| (e.wire.name.as_str(), e.org(), e.wire.entity_type.as_str()))
                .collect();
            assert_eq!(
                billing,
                [
                    ("billing-web", "globex", "urn:vcloud:type:acme:vm:1.0.0"),
                    ("billing-db", "globex", "urn:vcloud:type:acme:vm:1.0.0")
                ]
            );
            assert!(
                added
                    .iter()
                    .all(|e| e.state() == EntityState::Resolved
                        && v1.validate(&e.wire.entity).is_ok())
            );
            let refused: Vec<_> = added
                .iter()
                .filter(|e| v2.validate(&e.wire.entity).is_err())
                .map(|e| e.wire.name.as_str())
                .collect();
            assert_eq!(refused, invalid, "{scenario}");
        }
    }
}

//! Defined entity types: one JSON Schema per version, checked with a real JSON Schema
//! validator, and `GET /cloudapi/1.0.0/entityTypes[/{typeId}]` (vendor-apis.md §2.4).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::Value;

use crate::vendors::vcd::wire::{DefinedEntityType, Page, TypeUrn};

use super::error::LabError;
use super::query::Listing;
use super::state::LabState;

/// One simulated entity type.
#[derive(Clone, Debug)]
pub(super) struct SimType {
    pub(super) wire: DefinedEntityType,
    pub(super) urn: TypeUrn,
}

impl SimType {
    /// A type `urn:vcloud:type:{vendor}:{nss}:{version}` with `schema`.
    pub(super) fn new(vendor: &str, nss: &str, version: &str, name: &str, schema: Value) -> Self {
        let urn = TypeUrn {
            vendor: vendor.to_owned(),
            nss: nss.to_owned(),
            version: Some(version.to_owned()),
        };
        let wire = DefinedEntityType {
            id: urn.to_string(),
            name: name.to_owned(),
            description: Some(format!("{name} {version}")),
            nss: nss.to_owned(),
            version: version.to_owned(),
            inherited_version: None,
            external_id: None,
            schema,
            vendor: vendor.to_owned(),
            interfaces: Vec::new(),
            hooks: serde_json::Map::new(),
            readonly: false,
            max_implicit_right: None,
        };
        Self { wire, urn }
    }

    /// Checks `contents` against the type's schema; the first violation otherwise.
    pub(super) fn validate(&self, contents: &Value) -> Result<(), String> {
        match self.violation(contents) {
            None => Ok(()),
            Some(why) => Err(format!(
                "entity contents do not validate against {}: {why}",
                self.wire.id
            )),
        }
    }

    /// The first way `contents` break the type's schema, if any (a schema the validator
    /// cannot compile counts as one).
    pub(super) fn violation(&self, contents: &Value) -> Option<String> {
        match jsonschema::validator_for(&self.wire.schema) {
            Ok(validator) => validator.validate(contents).err().map(|e| e.to_string()),
            Err(e) => Some(format!("the schema of {} is invalid: {e}", self.wire.id)),
        }
    }

    /// Whether `other` is another version of the same vendor and nss.
    pub(super) fn same_family(&self, other: &TypeUrn) -> bool {
        self.urn.vendor == other.vendor && self.urn.nss == other.nss
    }
}

/// `GET /cloudapi/1.0.0/entityTypes`: a page of types.
pub(super) async fn entity_types_list(
    State(lab): State<LabState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Page<DefinedEntityType>>, LabError> {
    let listing = Listing::parse(&params)?;
    let types = lab.at_now().types.iter().map(|t| t.wire.clone()).collect();
    Ok(Json(listing.page(types)))
}

/// `GET /cloudapi/1.0.0/entityTypes/{typeId}`: one type by its full URN.
pub(super) async fn entity_types_get(
    State(lab): State<LabState>,
    Path(id): Path<String>,
) -> Result<Json<DefinedEntityType>, LabError> {
    TypeUrn::parse_full(&id).map_err(|e| LabError::bad_request(e.to_string()))?;
    let inventory = lab.at_now();
    let found = inventory.entity_type(&id).map(|t| t.wire.clone());
    found
        .map(Json)
        .ok_or_else(|| LabError::not_found(format!("Entity type {id} not found")))
}

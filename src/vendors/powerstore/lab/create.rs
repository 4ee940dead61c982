//! Making new import sessions: the [`Blueprint`] every new session is built from (by
//! the seed, by `/_lab/import_sessions`, and by `POST /import_session`), and the
//! validation of `POST /import_session` bodies.

use std::time::SystemTime;

use crate::vendors::powerstore::wire::{
    ImportSession, ImportSessionCreate, ImportState, ImportType,
};

use crate::http::lab::LazyStart;

use super::body;
use super::copy::Copy;
use super::error::LabError;
use super::session::{SimSession, VOLUME_GROUP};
use super::state::Inventory;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;
/// Longest name and description the array accepts.
const MAX_TEXT: usize = 128;

/// The properties `POST /import_session` accepts.
pub(super) const CREATE_PROPERTIES: &[&str] = &[
    "name",
    "remote_system_id",
    "source_resource_id",
    "description",
    "automatic_cutover",
    "scheduled_timestamp",
    "protection_policy_id",
    "volume_group_id",
    "type",
    "host_ids",
    "host_group_ids",
    "global_storage_discovery_address",
];

/// Everything needed to add a session to the inventory.
#[derive(Clone, Debug)]
pub(super) struct Blueprint {
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) remote_system_id: String,
    pub(super) source_resource_id: String,
    pub(super) agentless: bool,
    /// A consistency group: `destination_resource_type` is `volume_group`.
    pub(super) group: bool,
    pub(super) automatic_cutover: bool,
    pub(super) volume_group_id: Option<String>,
    pub(super) protection_policy_id: Option<String>,
    pub(super) global_storage_discovery_address: Option<String>,
    pub(super) state: ImportState,
    /// Progress already made.
    pub(super) percent: u8,
    pub(super) size: u64,
    /// Bytes per lab second.
    pub(super) rate: u64,
    pub(super) stall_at: Option<u8>,
    pub(super) fail_at: Option<u8>,
    pub(super) scheduled: Option<SystemTime>,
    /// The source array stops answering at the stall point (see [`SimSession`]).
    pub(super) source_lost: bool,
    /// The timeline waits for a client's first touch (seeded sessions).
    pub(super) lazy: bool,
}

impl Blueprint {
    /// A `Queued` volume import of 8 GiB at 512 MiB/s.
    pub(super) fn new(name: &str, remote_system_id: &str, source_resource_id: &str) -> Self {
        Self {
            name: name.to_owned(),
            description: None,
            remote_system_id: remote_system_id.to_owned(),
            source_resource_id: source_resource_id.to_owned(),
            agentless: false,
            group: false,
            automatic_cutover: false,
            volume_group_id: None,
            protection_policy_id: None,
            global_storage_discovery_address: None,
            state: ImportState::Queued,
            percent: 0,
            size: 8 * GIB,
            rate: 512 * MIB,
            stall_at: None,
            fail_at: None,
            scheduled: None,
            source_lost: false,
            lazy: false,
        }
    }

    /// Size in GiB and rate in MiB/s, for the seed's table.
    pub(super) fn sized(mut self, gib: u64, mib_per_second: u64) -> Self {
        // Lab control requests may ask for absurd sizes; saturate rather than overflow.
        self.size = gib.saturating_mul(GIB);
        self.rate = mib_per_second.saturating_mul(MIB).max(1);
        self
    }
}

impl Blueprint {
    /// The attributes of the session, which has `id` and imports into `destination`.
    fn info(&self, id: String, destination: String) -> ImportSession {
        let (import_type, type_l10n) = match self.agentless {
            true => (ImportType::Agentless, "Agentless"),
            false => (ImportType::Non_Disruptive, "Non Disruptive"),
        };
        let (destination_type, destination_l10n) = match self.group {
            true => (VOLUME_GROUP, "Volume Group"),
            false => ("volume", "Volume"),
        };
        let volume_group_id = match self.group {
            true => Some(destination.clone()),
            false => self.volume_group_id.clone(),
        };
        ImportSession {
            id,
            name: Some(self.name.clone()),
            description: self.description.clone(),
            import_type: Some(import_type),
            type_l10n: Some(type_l10n.to_owned()),
            remote_system_id: Some(self.remote_system_id.clone()),
            source_resource_id: Some(self.source_resource_id.clone()),
            destination_resource_id: Some(destination),
            destination_resource_type: Some(destination_type.to_owned()),
            destination_resource_type_l10n: Some(destination_l10n.to_owned()),
            protection_policy_id: self.protection_policy_id.clone(),
            volume_group_id,
            automatic_cutover: Some(self.automatic_cutover),
            global_storage_discovery_address: self.global_storage_discovery_address.clone(),
            ..ImportSession::default()
        }
    }
}

impl Inventory {
    /// Adds a session built from `blueprint` as of `now`; its new id.
    pub(super) fn add(&mut self, blueprint: Blueprint, now: SystemTime) -> String {
        let id = self.new_id();
        let destination = self.new_id();
        let info = blueprint.info(id.clone(), destination);
        let salt = self.rng().u64(..);
        let mut copy = Copy::new(blueprint.size, blueprint.rate, blueprint.percent, salt);
        copy.stall_at = blueprint.stall_at;
        copy.fail_at = blueprint.fail_at;
        let mut session = SimSession::new(info, blueprint.state, copy, now);
        if let Some(at) = blueprint.scheduled {
            session.reschedule(at, now);
        }
        session.source_lost = blueprint.source_lost;
        if blueprint.lazy {
            session.start = LazyStart::pending(now);
        }
        self.sessions.push(session);
        id
    }

    /// Checks a `POST /import_session` body; what to build from it.
    pub(super) fn validate(
        &mut self,
        bytes: &[u8],
        now: SystemTime,
    ) -> Result<Blueprint, LabError> {
        let create: ImportSessionCreate = body::parse(bytes, CREATE_PROPERTIES)?;
        let scheduled = check(&create)?;
        let system = self
            .remote_system(&create.remote_system_id)
            .ok_or_else(|| {
                let key = create.remote_system_id.as_str();
                LabError::invalid_request(format!("The remote system {key} was not found."), &[key])
            })?;
        let system_id = system.id.clone();
        if self.name_in_use(&create.name) {
            return Err(LabError::name_in_use(&create.name));
        }
        let mut blueprint = Blueprint::new(&create.name, &system_id, &create.source_resource_id);
        blueprint.description = create.description;
        blueprint.agentless = create.import_type == Some(ImportType::Agentless);
        blueprint.group = is_group_resource(&create.source_resource_id);
        blueprint.automatic_cutover = create.automatic_cutover.unwrap_or(false);
        blueprint.volume_group_id = create.volume_group_id;
        blueprint.protection_policy_id = create.protection_policy_id;
        blueprint.global_storage_discovery_address = create.global_storage_discovery_address;
        blueprint.size = self.rng().u64(4..=16) * GIB;
        blueprint.rate = self.rng().u64(300..=800) * MIB;
        if let Some(at) = scheduled.filter(|at| *at > now) {
            blueprint.state = ImportState::Scheduled;
            blueprint.scheduled = Some(at);
        }
        Ok(blueprint)
    }
}

/// The schema checks of a create body; its `scheduled_timestamp`, if any.
fn check(create: &ImportSessionCreate) -> Result<Option<SystemTime>, LabError> {
    check_text("name", &create.name, true)?;
    if let Some(description) = &create.description {
        check_text("description", description, false)?;
    }
    if create.source_resource_id.trim().is_empty() {
        return Err(LabError::schema(
            "The source_resource_id must not be empty.",
        ));
    }
    create
        .scheduled_timestamp
        .as_deref()
        .map(|text| body::timestamp("scheduled_timestamp", text))
        .transpose()
}

/// Unity names consistency-group storage resources `res_N` (LUNs are `sv_N`); the lab
/// also takes `cg_N`.
fn is_group_resource(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("res_") || lower.starts_with("cg_")
}

fn check_text(attr: &str, text: &str, is_name: bool) -> Result<(), LabError> {
    let problem = if is_name && text.is_empty() {
        "must not be empty"
    } else if text.chars().count() > MAX_TEXT {
        "is longer than 128 characters"
    } else if is_name && text.chars().any(char::is_whitespace) {
        "must not contain whitespace"
    } else {
        return Ok(());
    };
    Err(LabError::schema(format!("The {attr} {problem}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn refused(body: &str, status: u16, message: &str) {
        let (state, _) = crate::vendors::powerstore::lab::tests::lab();
        let now = state.now();
        let error = state.lock().validate(body.as_bytes(), now).unwrap_err();
        let got = (
            error.status().as_u16(),
            error.body().messages[0].message_l10n.clone(),
        );
        assert_eq!(got, (status, message.to_owned()), "{body}");
    }

    #[test]
    fn create_bodies_are_validated() {
        let ok = r#""remote_system_id": "name:unity-01", "source_resource_id": "sv_1""#;
        refused(
            r#"{"remote_system_id": "x"}"#,
            400,
            "The request body is not valid: missing field `name`.",
        );
        refused(
            &format!(r#"{{"name": "", {ok}}}"#),
            400,
            "The name must not be empty.",
        );
        refused(
            &format!(r#"{{"name": "a b", {ok}}}"#),
            400,
            "The name must not contain whitespace.",
        );
        refused(
            &format!(r#"{{"name": "{}", {ok}}}"#, "x".repeat(129)),
            400,
            "The name is longer than 128 characters.",
        );
        refused(
            &format!(r#"{{"name": "n", "size": 1, {ok}}}"#),
            400,
            "The property size is not valid in this request.",
        );
        refused(
            &format!(r#"{{"name": "n", "type": "Fast", {ok}}}"#),
            400,
            "The request body is not valid: unknown variant `Fast`, expected `Non_Disruptive` or `Agentless`.",
        );
        refused(
            &format!(r#"{{"name": "n", "scheduled_timestamp": "soon", {ok}}}"#),
            400,
            "The value soon of scheduled_timestamp is not an ISO-8601 UTC timestamp.",
        );
        refused(
            r#"{"name": "n", "remote_system_id": "nope", "source_resource_id": "sv_1"}"#,
            400,
            "The remote system nope was not found.",
        );
        refused(
            &format!(r#"{{"name": "wave1-lun01", {ok}}}"#),
            422,
            "The name wave1-lun01 is already in use by another import session.",
        );
    }

    #[test]
    fn groups_are_recognised_by_their_source() {
        assert!(is_group_resource("res_7"));
        assert!(is_group_resource("CG_1"));
        assert!(!is_group_resource("sv_17"));
    }
}

//! [`LabState`]: the lab scaffolding's [`LabCore`] over one simulated vCenter (its
//! singleton history import, OVF sessions and the login sessions of both listeners).
//! Both routers share it, so the appliance port and the reverse proxy see one import.
//! Every lock through [`LabCore::at`] first moves the import forward to the lab clock.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::config::Secret;
use crate::http::lab::estate::{Estate, Fault};
use crate::http::lab::{LabCore, LabInventory, MutationLog};
use crate::vendors::LabSetup;
use crate::vendors::vcenter::wire::Encoding;

use super::history::{ESTATE_BLOCK_AT, History};
use super::ovf_packages::Packages;
use super::ovf_session::OvfSessions;

/// The local user of the appliance management port (5480).
pub const APPLIANCE_USER: &str = "root";
/// The SSO super administrator of the reverse proxy.
pub const PROXY_USER: &str = "administrator@vsphere.local";
/// An SSO user of the reverse proxy who may log in but is not a super administrator.
pub const VIEWER_USER: &str = "viewer@vsphere.local";
/// Minutes of lab time after which an unused session is gone.
pub const IDLE_MINUTES: u64 = 30;
/// Share of the seeded import already done: it started by itself after the upgrade.
pub(super) const SEEDED_COMPLETED: i64 = 10;

/// Which listener a request came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// The appliance management port (5480): local `root`.
    Appliance,
    /// The reverse proxy (443): SSO users.
    Proxy,
}

impl Port {
    /// `appliance` or `proxy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Appliance => "appliance",
            Self::Proxy => "proxy",
        }
    }

    /// The users this listener accepts, and whether each is a super administrator.
    pub(super) fn users(self) -> &'static [(&'static str, bool)] {
        match self {
            Self::Appliance => &[(APPLIANCE_USER, true)],
            Self::Proxy => &[(PROXY_USER, true), (VIEWER_USER, false)],
        }
    }
}

/// One session: its id, the listener it belongs to, who and when.
#[derive(Clone, Debug)]
pub(super) struct Login {
    pub(super) id: String,
    pub(super) port: Port,
    pub(super) user: String,
    pub(super) admin: bool,
    pub(super) created: SystemTime,
}

/// The live sessions of both listeners.
pub(super) type Logins = crate::http::lab::Logins<Login>;

/// The shared state of one vCenter simulator; cheap to clone. Both listeners accept
/// their users with the one lab password.
pub type LabState = LabCore<Inventory, Secret>;

impl LabState {
    /// A vCenter just upgraded with `defer_import`: the history import RUNNING at 10%,
    /// its clock starting at the first client that reads or acts on it; in an estate
    /// whose import blocks, it stops on an error at [`ESTATE_BLOCK_AT`]%.
    /// [`APPLIANCE_USER`] on the appliance port and [`PROXY_USER`] and [`VIEWER_USER`]
    /// on the reverse proxy all log in with the setup's password.
    /// Pull sessions read a package generated for any descriptor URL, broken for the
    /// applications the setup's estate gives [`Fault::BrokenOvf`]. Ids come from its seed.
    pub fn new(setup: &LabSetup<'_>) -> Self {
        let now = setup.clock.now();
        let block_at = setup.estate.history_blocks().then_some(ESTATE_BLOCK_AT);
        let history = History::estate(SEEDED_COMPLETED, block_at, APPLIANCE_USER, now);
        let inventory = Inventory {
            history,
            logins: Logins::new(
                setup.seed ^ 0x0E5C_E17E_5E55_1015,
                Duration::from_secs(IDLE_MINUTES * 60),
            ),
            ovf: OvfSessions::new(setup.seed, Packages::new(broken_packages(setup.estate))),
        };
        Self::assemble(inventory, setup.clock.clone(), setup.password.clone())
    }
}

/// The applications whose OVF package is broken.
fn broken_packages(estate: &Estate) -> Vec<String> {
    estate
        .apps
        .iter()
        .filter(|app| app.fault == Some(Fault::BrokenOvf))
        .map(|app| app.name.clone())
        .collect()
}

/// What the simulated vCenter holds.
pub struct Inventory {
    pub(super) history: History,
    pub(super) logins: Logins,
    pub(super) ovf: OvfSessions,
}

/// The import and the OVF sessions move on whenever the inventory is read.
impl LabInventory for Inventory {
    fn advance(&mut self, now: SystemTime, _: &MutationLog) {
        self.history.advance(now);
        self.ovf.advance(now);
    }

    /// The Info, sessions and OVF sessions (the listener adds which one it is).
    fn state_json(&mut self, now: SystemTime, _: &MutationLog) -> Map<String, Value> {
        let active = self.logins.active(now);
        let shown = json!({
            "history": self.history.info(Encoding::Api),
            "logins": self.logins.count(),
            "active_sessions": active,
            "idle_minutes": IDLE_MINUTES,
            "ovf_sessions": self.ovf.list.iter().map(|s| s.summary()).collect::<Vec<_>>(),
            "ovf_reclaim_after": self.ovf.reclaim_after.as_secs(),
        });
        match shown {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

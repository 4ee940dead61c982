//! [`LabState`]: one simulated vCenter (its singleton history import and the login
//! sessions of both listeners), its clock, password, fault rules and mutation log.
//! Both routers share it, so the appliance port and the reverse proxy see one import.
//! Every lock through [`LabState::at`] first moves the import forward to the lab clock.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::config::Secret;
use crate::http::lab::{Faults, MutationLog};
use crate::vendors::vcenter::wire::HistoryStatus;

use super::history::{Cause, DEFAULT_TOTAL, History};
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

/// The shared state of one vCenter simulator; cheap to clone.
#[derive(Clone)]
pub struct LabState {
    inventory: Arc<Mutex<Inventory>>,
    clock: Clock,
    password: Secret,
    faults: Faults,
    mutations: MutationLog,
}

impl std::fmt::Debug for LabState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabState")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl LabState {
    /// A vCenter just upgraded with `defer_import`: the history import RUNNING at 10%.
    /// [`APPLIANCE_USER`] on the appliance port and [`PROXY_USER`] and [`VIEWER_USER`]
    /// on the reverse proxy all log in with `password`.
    pub fn new(seed: u64, clock: Clock, password: Secret) -> Self {
        let now = clock.now();
        let history = History::seeded(
            HistoryStatus::Running,
            SEEDED_COMPLETED,
            DEFAULT_TOTAL,
            Cause::User,
            Some(APPLIANCE_USER.to_owned()),
            now,
        );
        let inventory = Inventory {
            history,
            logins: Logins::new(
                seed ^ 0x0E5C_E17E_5E55_1015,
                Duration::from_secs(IDLE_MINUTES * 60),
            ),
            ovf: OvfSessions::new(seed),
        };
        Self {
            inventory: Arc::new(Mutex::new(inventory)),
            clock,
            password,
            faults: Faults::new(),
            mutations: MutationLog::new(),
        }
    }

    /// The fault rules of `/_lab/faults`, shared by both listeners.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every mutation applied so far.
    pub fn mutations(&self) -> &MutationLog {
        &self.mutations
    }

    pub(super) fn password(&self) -> &Secret {
        &self.password
    }

    pub(super) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The inventory with the import moved forward to `now`.
    pub(super) fn at(&self, now: SystemTime) -> MutexGuard<'_, Inventory> {
        let mut inventory = self
            .inventory
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        inventory.history.advance(now);
        inventory.ovf.advance(now);
        inventory
    }
}

/// What the simulated vCenter holds.
pub(super) struct Inventory {
    pub(super) history: History,
    pub(super) logins: Logins,
    pub(super) ovf: OvfSessions,
}

//! [`LabCore`]: what every simulator holds beside its own routes: the vendor's inventory
//! behind one lock, the lab clock, the credentials it accepts, the fault rules, the
//! mutation log. A vendor's `LabState` is this type over its own
//! inventory, so the accessors are written once. Handlers lock briefly, never across an
//! `.await`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::{Faults, MutationLog};
use crate::clock::Clock;

/// What a vendor's inventory tells the scaffolding.
pub trait LabInventory: Send + 'static {
    /// Moves every simulated job forward to `now`; [`LabCore::at`] does it on every lock,
    /// so what a client reads always agrees with job state. Applying an automatic step is
    /// a mutation, hence the log.
    fn advance(&mut self, now: SystemTime, mutations: &MutationLog);

    /// The vendor's part of `GET /_lab/state` at `now` (the scaffolding adds `now`,
    /// `mutations`, `counts` and `faults`).
    fn state_json(&mut self, now: SystemTime, mutations: &MutationLog) -> Map<String, Value>;
}

/// The shared state of one simulator; cheap to clone, every clone sees the same lab.
pub struct LabCore<I, C> {
    inventory: Arc<Mutex<I>>,
    clock: Clock,
    credentials: Arc<C>,
    faults: Faults,
    mutations: MutationLog,
}

impl<I, C> Clone for LabCore<I, C> {
    fn clone(&self) -> Self {
        Self {
            inventory: Arc::clone(&self.inventory),
            clock: self.clock.clone(),
            credentials: Arc::clone(&self.credentials),
            faults: self.faults.clone(),
            mutations: self.mutations.clone(),
        }
    }
}

/// Shows the clock only: the inventory is large and the credentials are secret.
impl<I, C> std::fmt::Debug for LabCore<I, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabState")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<I: LabInventory, C> LabCore<I, C> {
    /// A lab holding `inventory` on `clock`, accepting `credentials`, with no fault rules,
    /// and an empty mutation log.
    pub fn assemble(inventory: I, clock: Clock, credentials: C) -> Self {
        Self {
            inventory: Arc::new(Mutex::new(inventory)),
            clock,
            credentials: Arc::new(credentials),
            faults: Faults::new(),
            mutations: MutationLog::new(),
        }
    }

    /// The lab clock every simulated job advances by.
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

    /// The lab clock's now.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// What the simulator accepts as a login (passwords, accounts, keys).
    pub fn credentials(&self) -> &C {
        &self.credentials
    }

    /// The inventory as it is, with nothing moved forward: for handlers that advance
    /// only what they touch.
    pub fn lock(&self) -> MutexGuard<'_, I> {
        // One handler's panic must not take every later request of the lab down with it.
        self.inventory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The inventory with every job moved forward to `now`. A handler that also uses
    /// `now` itself reads the clock once and passes it here, so what it answers and
    /// what the inventory applied agree.
    pub fn at(&self, now: SystemTime) -> MutexGuard<'_, I> {
        let mut inventory = self.lock();
        inventory.advance(now, &self.mutations);
        inventory
    }

    /// [`LabCore::at`] the lab clock's now.
    pub fn at_now(&self) -> MutexGuard<'_, I> {
        self.at(self.now())
    }

    /// The lab clock's now and [`LabCore::at`] it, read once: for a handler that also
    /// answers or logs with `now`.
    pub fn now_and_at(&self) -> (SystemTime, MutexGuard<'_, I>) {
        let now = self.now();
        (now, self.at(now))
    }
}

//! The vendor descriptor: the one value each vendor folder exports, saying everything the
//! rest of the program needs from it. [`super::ALL`] lists them; the engine, the lab,
//! `cutover doc`, `--definitions` and REPL completion read that list and name no vendor.

use std::sync::Arc;

use axum::Router;
use rhai::Engine;

use crate::clock::Clock;
use crate::config::{KindSpec, Secret, Target, TargetKind};
use crate::http::lab::estate::Estate;
use crate::http::mutation::Mutations;
use crate::script::Host;
use crate::script::job::HandleKind;

/// One vendor API family.
#[derive(Debug)]
pub struct Vendor {
    /// The kind of target it speaks (the target-file spelling, `kind = "vcd"`, and the
    /// name of the script constructor, `vcd("prod")`), the extra keys its target
    /// entries hold and how they are checked.
    pub target: KindSpec,
    /// One line saying what it drives, for the reference and the lab's listing.
    pub about: &'static str,
    /// Registers its script functions, with their documentation (doc comments are
    /// what `cutover doc`, `--definitions` and `:help` show).
    pub register: fn(&mut Engine, &Arc<Host>),
    /// Its client's mutating operations, each with how to tell afterwards whether it
    /// took effect: the only calls the mutation gate lets it send.
    pub mutations: &'static Mutations,
    /// The values its scripts hold that a step records as a reference and reads again
    /// on resume: its connection object first (a resume opens it to verify changes left
    /// unknown), then every kind of job handle.
    pub handles: &'static [HandleKind],
    /// Its simulators, one loopback listener each, sharing the lab's seed and clock.
    pub simulators: fn(&LabSetup<'_>) -> Vec<Simulator>,
    /// The targets that reach one of its listeners, from the target the lab would
    /// write for it (name, kind, URL, user and the lab password): [`one_target`] unless
    /// the listener answers as more than one kind of caller.
    pub lab_targets: fn(Target, &LabSetup<'_>) -> Vec<Target>,
    /// Sends every mutating operation of its client once to its first lab target, for
    /// the test that proves every vendor's table whole (`http::mutation_tests`).
    #[cfg(test)]
    pub drive: Drive,
}

/// What [`Vendor::drive`] is: given the lab target and a call record, what each call
/// ended with.
#[cfg(test)]
pub type Drive = fn(Target, crate::http::call_record::CallRecord) -> Driven;

/// The errors a [`Drive`] ends with, once its calls are made.
#[cfg(test)]
pub type Driven =
    std::pin::Pin<Box<dyn std::future::Future<Output = Vec<crate::api_error::ApiError>>>>;

impl Vendor {
    /// The kind of target it speaks.
    pub fn kind(&self) -> TargetKind {
        self.target.kind
    }
}

/// What every simulator of one lab shares.
pub struct LabSetup<'a> {
    /// Seeds ids, names and every other generated value.
    pub seed: u64,
    /// The clock simulated jobs advance by.
    pub clock: &'a Clock,
    /// The password of every simulator's user.
    pub password: &'a Secret,
    /// The secret key of an access key that signs its requests (Huawei SMS).
    pub secret_key: &'a Secret,
    /// The applications of the wave each simulator seeds objects for, and their scenario.
    pub estate: &'a Estate,
}

impl LabSetup<'_> {
    /// The one simulator of a vendor whose lab state is made from the setup and the one
    /// user its target logs in as (PowerStore, Cloud Director, echo).
    pub fn one_user<S>(
        &self,
        user: &'static str,
        state: impl FnOnce(&Self, &'static str) -> S,
        router: impl FnOnce(S) -> Router,
    ) -> Vec<Simulator> {
        vec![Simulator::only(user, router(state(self, user)))]
    }
}

/// A simulator's router, before it is served.
pub struct Simulator {
    /// Appended to the kind to name its target: empty for a vendor's first listener,
    /// e.g. [`crate::config::APPLIANCE_SUFFIX`] for another.
    pub suffix: &'static str,
    /// The user its target logs in as.
    pub user: &'static str,
    /// Its routes; the lab adds the clock routes.
    pub router: Router,
}

impl Simulator {
    /// The simulator of a vendor with one listener.
    pub fn only(user: &'static str, router: Router) -> Self {
        Self {
            suffix: "",
            user,
            router,
        }
    }
}

/// The default [`Vendor::lab_targets`]: the listener's target as the lab made it.
pub fn one_target(target: Target, _lab: &LabSetup<'_>) -> Vec<Target> {
    vec![target]
}

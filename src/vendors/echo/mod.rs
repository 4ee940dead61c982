//! A toy vendor that exists only in tests: an "echo job" API (start a job, it runs for
//! its number of lab seconds and is done; cancel it; read it). It is added the way
//! CONTRIBUTING.md says a vendor is added, so its tests prove that contract holds.

pub mod client;
pub mod lab;
#[cfg(test)]
mod mutation_drive;
pub mod script;
mod verify;
pub mod wire;

#[cfg(test)]
mod tests;

use super::{LabSetup, Simulator, Vendor};
use crate::config::{KindSpec, TargetKind};

/// The `echo` kind: its spelling in target files and its script constructor.
pub const KIND: TargetKind = TargetKind::new("echo");

/// The echo API: the `echo` kind, its script surface, its gate table and its simulator.
pub const VENDOR: Vendor = vendor! {
    target: KindSpec::plain(KIND),
    about: "a toy echo-job API, in tests only",
};

fn simulators(setup: &LabSetup<'_>) -> Vec<Simulator> {
    setup.one_user(lab::LAB_USER, lab::state, lab::router)
}

//! VMware Cloud Director defined-entity migration (vendor-apis.md §2).

pub mod client;
pub mod lab;
#[cfg(test)]
mod mutation_drive;
pub mod script;
mod verify;
pub mod wire;

use super::{LabSetup, Simulator, Vendor};
use crate::config::{KindSpec, TargetKind};

/// The user the Cloud Director simulator accepts: a provider (`System`) administrator,
/// who logs in through `/cloudapi/1.0.0/sessions/provider`.
pub const LAB_USER: &str = "administrator@System";

/// The `vcd` kind: its spelling in target files and its script constructor.
pub const KIND: TargetKind = TargetKind::new("vcd");

/// Cloud Director: the `vcd` kind, its script surface and its simulator.
pub const VENDOR: Vendor = vendor! {
    target: KindSpec::plain(KIND),
    about: "VMware Cloud Director defined-entity migration",
};

fn simulators(setup: &LabSetup<'_>) -> Vec<Simulator> {
    setup.one_user(LAB_USER, lab::LabState::new, lab::router)
}

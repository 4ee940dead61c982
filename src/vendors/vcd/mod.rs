//! VMware Cloud Director defined-entity migration (vendor-apis.md §2).

pub mod client;
pub mod lab;
pub mod script;
#[cfg(test)]
mod mutation_drive;
mod verify;
pub mod wire;

use super::{LabSetup, Simulator, Vendor, one_target};
use crate::config::{KindSpec, TargetKind};

/// The user the Cloud Director simulator accepts: a provider (`System`) administrator,
/// who logs in through `/cloudapi/1.0.0/sessions/provider`.
pub const LAB_USER: &str = "administrator@System";

/// The `vcd` kind: its spelling in target files and its script constructor.
pub const KIND: TargetKind = TargetKind::new("vcd");

/// Cloud Director: the `vcd` kind, its script surface and its simulator.
pub const VENDOR: Vendor = Vendor {
    target: KindSpec::plain(KIND),
    about: "VMware Cloud Director defined-entity migration",
    register: script::register,
    mutations: &client::MUTATIONS,
    handles: &script::HANDLES,
    simulators,
    lab_targets: one_target,
    #[cfg(test)]
    drive: mutation_drive::drive,
};

fn simulators(setup: &LabSetup<'_>) -> Vec<Simulator> {
    let state = lab::LabState::new(
        setup.seed,
        setup.clock.clone(),
        LAB_USER,
        setup.password.clone(),
        setup.estate,
    );
    vec![Simulator::only(LAB_USER, lab::router(state))]
}

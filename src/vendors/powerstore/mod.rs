//! Dell PowerStore volume import sessions (vendor-apis.md §4).

pub mod client;
pub mod lab;
pub mod script;
#[cfg(test)]
mod mutation_drive;
mod verify;
pub mod wire;

use super::{LabSetup, Simulator, Vendor, one_target};
use crate::config::{KindSpec, TargetKind};

/// The user the PowerStore simulator accepts.
pub const LAB_USER: &str = "admin";

/// The `powerstore` kind: its spelling in target files and its script constructor.
pub const KIND: TargetKind = TargetKind::new("powerstore");

/// PowerStore: the `powerstore` kind, its script surface and its simulator.
pub const VENDOR: Vendor = Vendor {
    target: KindSpec::plain(KIND),
    about: "Dell PowerStore volume import sessions",
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

//! Dell PowerStore volume import sessions (vendor-apis.md §4).

pub mod client;
pub mod lab;
#[cfg(test)]
mod mutation_drive;
pub mod script;
mod verify;
pub mod wire;

use super::{LabSetup, Simulator, Vendor};
use crate::config::{KindSpec, TargetKind};

/// The user the PowerStore simulator accepts.
pub const LAB_USER: &str = "admin";

/// The `powerstore` kind: its spelling in target files and its script constructor.
pub const KIND: TargetKind = TargetKind::new("powerstore");

/// PowerStore: the `powerstore` kind, its script surface and its simulator.
pub const VENDOR: Vendor = vendor! {
    target: KindSpec::plain(KIND),
    about: "Dell PowerStore volume import sessions",
};

fn simulators(setup: &LabSetup<'_>) -> Vec<Simulator> {
    setup.one_user(LAB_USER, lab::LabState::new, lab::router)
}

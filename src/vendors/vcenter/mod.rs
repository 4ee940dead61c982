//! VMware vCenter: the deferred import of historical data (vendor-apis.md §1) and the
//! OVF import session (§3).

pub mod client;
pub mod lab;
#[cfg(test)]
mod mutation_drive;
pub mod ovf;
pub mod ovf_client;
pub mod ovf_push;
pub mod ovf_push_script;
pub mod ovf_script;
pub mod ovf_wire;
pub mod script;
mod upload_hosts;
mod verify;
pub mod wire;

use super::{LabSetup, Simulator, Vendor};
use crate::config::{APPLIANCE_SUFFIX, KindSpec, TargetKind};

/// The `vcenter` kind: its spelling in target files and its script constructor.
pub const KIND: TargetKind = TargetKind::new("vcenter");

/// vCenter: the `vcenter` kind, its script surface and its two listeners.
pub const VENDOR: Vendor = vendor! {
    target: KindSpec {
        kind: KIND,
        keys: upload_hosts::KEYS,
        check: upload_hosts::check,
    },
    about: "VMware vCenter historical-data import and OVF import sessions",
};

/// One appliance behind two listeners sharing one state: the reverse proxy (SSO user)
/// and the appliance management port (local root), each a target of its own.
fn simulators(setup: &LabSetup<'_>) -> Vec<Simulator> {
    let state = lab::LabState::new(setup);
    vec![
        Simulator::only(lab::PROXY_USER, lab::proxy_router(state.clone())),
        Simulator {
            suffix: APPLIANCE_SUFFIX,
            user: lab::APPLIANCE_USER,
            router: lab::appliance_router(state),
        },
    ]
}

//! Huawei Cloud Server Migration Service v3 (vendor-apis.md §5): migration tasks, with
//! IAM tokens or `SDK-HMAC-SHA256` signed requests.

/// `Debug` for a type that holds a secret: only the fields named show, and the others
/// are marked as left out.
macro_rules! debug_showing_only {
    ($type:ident: $($field:ident),+ $(,)?) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    $(.field(stringify!($field), &self.$field))+
                    .finish_non_exhaustive()
            }
        }
    };
}

mod auth;
pub mod client;
pub mod iam_wire;
pub mod lab;
mod lab_targets;
#[cfg(test)]
mod mutation_drive;
pub mod script;
pub mod signer;
pub mod target;
mod task_handle;
mod task_script;
mod verify;
pub mod wire;

use super::{LabSetup, Simulator, Vendor};
use crate::config::{KindSpec, TargetKind};

/// The `huawei_sms` kind: its spelling in target files and its script constructor.
pub const KIND: TargetKind = TargetKind::new("huawei_sms");

/// Huawei SMS: the `huawei_sms` kind, its script surface, its simulator (which serves
/// IAM too) and the two targets that reach it.
pub const VENDOR: Vendor = vendor! {
    target: KindSpec {
        kind: KIND,
        keys: target::KEYS,
        check: target::check,
    },
    about: "Huawei Cloud Server Migration Service tasks",
    lab_targets: lab_targets::targets,
};

fn simulators(setup: &LabSetup<'_>) -> Vec<Simulator> {
    let state = lab::LabState::new(setup);
    vec![Simulator::only(lab::LAB_USER, lab::router(state))]
}

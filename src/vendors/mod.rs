//! One folder per vendor API family, each exporting one [`Vendor`] that says everything
//! the rest of the program needs from it; [`ALL`] lists them once. Adding a vendor is
//! written down in CONTRIBUTING.md ("Adding a vendor").

pub mod huawei_sms;
pub mod powerstore;
pub mod vcd;
pub mod vcenter;
mod vendor;

use std::sync::Arc;

use rhai::Engine;

pub use vendor::{LabSetup, Simulator, Vendor, one_target};

use crate::script::Host;

/// Every vendor, in the order listeners, targets and docs show them.
pub const ALL: &[&Vendor] = &[
    &powerstore::VENDOR,
    &vcd::VENDOR,
    &vcenter::VENDOR,
    &huawei_sms::VENDOR,
];

/// Registers every vendor's script functions: the one list the engine reads.
pub fn register_all(engine: &mut Engine, host: &Arc<Host>) {
    for vendor in ALL {
        (vendor.register)(engine, host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TargetKind;

    /// The target file knows a kind by name before any vendor is loaded (config sits
    /// below the vendors); each kind needs exactly one vendor, in the same order.
    #[test]
    fn every_kind_has_one_vendor_in_the_same_order() {
        let kinds: Vec<TargetKind> = ALL.iter().map(|vendor| vendor.kind).collect();
        assert_eq!(kinds, TargetKind::ALL);
    }
}

//! One folder per vendor API family, each exporting one [`Vendor`] that says everything
//! the rest of the program needs from it; [`ALL`] lists them once, from one line per
//! vendor. Adding a vendor is written down in CONTRIBUTING.md ("Adding a vendor").

#[cfg(test)]
mod host_gate_tests;
#[cfg(test)]
mod planned_tests;
#[cfg(test)]
mod replayed_tests;
mod vendor;
pub(crate) mod verdict;
#[cfg(test)]
pub(crate) mod verify_testing;

use std::sync::Arc;

use rhai::Engine;

pub use vendor::{LabSetup, Simulator, Vendor, one_target};

use crate::script::Host;

/// Declares each vendor's folder as a module and lists its [`Vendor`] in [`ALL`], from
/// one line per vendor (attributes such as `#[cfg(test)]` apply to both).
macro_rules! vendors {
    ($($(#[$attr:meta])* $name:ident,)+) => {
        $($(#[$attr])* pub mod $name;)+

        /// Every vendor, in the order listeners, targets and docs show them.
        pub const ALL: &[&Vendor] = &[$($(#[$attr])* &$name::VENDOR,)+];
    };
}

vendors! {
    powerstore,
    vcd,
    vcenter,
    huawei_sms,
    #[cfg(test)]
    echo,
}

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

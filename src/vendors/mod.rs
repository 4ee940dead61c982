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

use crate::config::KindSpec;
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

/// Every vendor's kind of target, for reading a target file.
pub fn kinds() -> Vec<&'static KindSpec> {
    ALL.iter().map(|vendor| &vendor.target).collect()
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

    /// A kind names one vendor: two vendors of one name would each claim its targets.
    #[test]
    fn every_kind_has_one_vendor() {
        let mut kinds: Vec<&str> = ALL.iter().map(|vendor| vendor.kind().as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), ALL.len());
    }
}

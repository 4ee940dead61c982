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

#[cfg(test)]
pub(crate) use vendor::Driven;
pub use vendor::{LabSetup, Simulator, Vendor, one_target};

use crate::config::KindSpec;
use crate::script::Host;

/// A vendor folder's [`Vendor`], from what differs between vendors: its `target`, its
/// `about` line and, unless [`one_target`], its `lab_targets`. The rest is named the same
/// in every folder (CONTRIBUTING.md, "Adding a vendor"): `script::register`,
/// `client::MUTATIONS`, `script::HANDLES`, a `simulators` function and
/// `mutation_drive::drive`.
macro_rules! vendor {
    (target: $target:expr, about: $about:expr $(,)?) => {
        vendor!(target: $target, about: $about, lab_targets: $crate::vendors::one_target)
    };
    (target: $target:expr, about: $about:expr, lab_targets: $lab_targets:expr $(,)?) => {
        $crate::vendors::Vendor {
            target: $target,
            about: $about,
            register: script::register,
            mutations: &client::MUTATIONS,
            handles: &script::HANDLES,
            simulators,
            lab_targets: $lab_targets,
            #[cfg(test)]
            drive: mutation_drive::drive,
        }
    };
}

/// A vendor client's [`Session`](crate::http::client::Session): the client is the
/// verifier of its own changes (each vendor's `verify.rs`). With a `$login` field (a
/// `LoginCache`), logging out takes the login, if there is one, and sends the request its
/// `async fn $request(&self, login)` builds, reading a refusal with the client module's
/// `parse_error` (failures are only logged); without one, there is no login to end.
macro_rules! session {
    ($client:ty $(, $login:ident => $request:ident)?) => {
        impl $crate::http::client::Session for $client {
            fn log_out(
                &self,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
                Box::pin(async move {
                    $(
                        let Some(login) = self.$login.take().await else {
                            return;
                        };
                        let request = self.$request(login).await;
                        self.http.log_out(request, parse_error).await;
                    )?
                })
            }

            fn verifier(
                self: std::sync::Arc<Self>,
            ) -> Option<std::sync::Arc<dyn $crate::http::mutation::Verify>> {
                Some(self)
            }
        }
    };
}

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

//! The lab and script hosts on it, in-process, for unit tests that drive scripts against
//! the simulators over real HTTP on 127.0.0.1, on the clock the test chose; and the
//! setup a simulator's own tests build its lab state from.

use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Estate, Lab, LabOptions};
use crate::clock::Clock;
use crate::config::{Secret, Targets};
use crate::http::lab::testing::{PASSWORD, seeded};
use crate::script::Host;
use crate::vendors::LabSetup;

/// A simulator's lab state made by `make` from the setup of a test lab (seed 7, the
/// tests' manual clock, [`PASSWORD`] as password and secret key, `estate`), and that
/// clock.
pub fn seeded_lab<L>(estate: &Estate, make: impl FnOnce(&LabSetup<'_>) -> L) -> (L, Clock) {
    seeded(|clock| with_setup(&clock, estate, make))
}

/// What `make` makes from the setup of a test lab on `clock`: seed 7, [`PASSWORD`] as
/// password and secret key, `estate`.
pub fn with_setup<L>(clock: &Clock, estate: &Estate, make: impl FnOnce(&LabSetup<'_>) -> L) -> L {
    let password = Secret::new(PASSWORD);
    make(&LabSetup {
        seed: 7,
        clock,
        password: &password,
        secret_key: &password,
        estate,
    })
}

/// A started lab, the runtime that serves it and the clock it runs on.
pub struct LabRig {
    pub runtime: tokio::runtime::Runtime,
    pub lab: Lab,
    pub clock: Clock,
}

impl LabRig {
    /// The lab seeded `seed`, its simulated jobs advancing by `clock`, served by a
    /// runtime of one worker.
    pub fn start(seed: u64, clock: Clock) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let options = LabOptions {
            seed,
            clock: clock.clone(),
            ..LabOptions::default()
        };
        let lab = runtime.block_on(Lab::start(options)).unwrap();
        Self {
            runtime,
            lab,
            clock,
        }
    }

    /// A script host whose targets are the lab's, on the lab's clock (a host of its
    /// own, as each run and each resumed run has).
    pub fn host(&self) -> Arc<Host> {
        let targets = Targets::parse(
            &self.lab.targets_toml(),
            Path::new("lab.toml"),
            &super::target_kinds(),
        )
        .unwrap();
        Arc::new(Host::new(
            self.runtime.handle().clone(),
            self.clock.clone(),
            CancellationToken::new(),
            targets,
        ))
    }
}

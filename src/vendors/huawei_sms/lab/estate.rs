//! The wave estate's migration tasks (`crate::http::lab::estate`): for each application
//! `crm`, a task `crm` migrating source server `crm`, `READY` as a task the console has
//! configured but nobody started (vendor-apis.md §5.5: `start` moves it to `RUNNING`).
//!
//! A started migration takes 15 to 40 minutes of lab time, the durations spread over the
//! applications (a golden-ratio walk from a seeded start); the flavour (Linux file- or
//! block-level, Windows block-level) goes round with the application's index. In a
//! `rough` estate the `SmsFailsOnce` application's copy fails part way on its first run
//! (`MIGRATE_FAIL` with the service's `error_json`) and succeeds when started or
//! restarted.

use std::time::{Duration, SystemTime};

use crate::http::lab::estate::{Estate, Fault};
use crate::vendors::huawei_sms::wire::TaskState;

use super::plan::Flavour;
use super::seed::{MIB, TaskSpec, add};
use super::state::Inventory;

/// The shortest and longest migration, from `start` to `MIGRATE_SUCCESS`.
pub(super) const SHORTEST: Duration = Duration::from_secs(15 * 60);
pub(super) const LONGEST: Duration = Duration::from_secs(40 * 60);

/// The copy rate of every estate task.
const RATE: u64 = 100 * MIB;
/// The golden ratio's fractional part: successive multiples fill [0, 1) evenly.
const GOLDEN: f64 = 0.618_033_988_749_895;

/// Adds a `READY` task for every application of `estate`, as of `now`; their timelines
/// wait for a client's first touch.
pub(super) fn populate(inventory: &mut Inventory, estate: &Estate, seed: u64, now: SystemTime) {
    let start = fastrand::Rng::with_seed(seed ^ 0x5A5E_57A7_E000_0001).f64();
    for (index, app) in estate.apps.iter().enumerate() {
        let mut rng =
            fastrand::Rng::with_seed(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let flavour = [
            Flavour::LinuxFile,
            Flavour::LinuxBlock,
            Flavour::WindowsBlock,
        ][index % 3];
        let total = migration_time(start, index);
        let mut spec = TaskSpec {
            name: app.name.clone(),
            state: TaskState::Ready,
            flavour,
            used_bytes: RATE,
            rate: RATE,
            progress: 0,
            fail_at: (app.fault == Some(Fault::SmsFailsOnce)).then(|| rng.u8(30..=70)),
            lazy: true,
        };
        // The size whose copy fills what the fixed subtasks leave of `total`.
        let fixed = fixed_time(flavour);
        let copy = total.saturating_sub(fixed).as_secs().max(1);
        spec.used_bytes = copy * RATE;
        // READY is a state `add` makes, so this cannot fail.
        let _ = add(inventory, &spec, now);
    }
}

/// How long the `index`th application's migration takes, on the walk from `start`.
pub(super) fn migration_time(start: f64, index: usize) -> Duration {
    let share = (start + index as f64 * GOLDEN).fract();
    SHORTEST + (LONGEST - SHORTEST).mul_f64(share)
}

/// Lab time of the steps of a full migration that do not copy.
fn fixed_time(flavour: Flavour) -> Duration {
    let sim = super::machine::SimTask::new(flavour, 0, RATE, 0);
    sim.plan(None)
        .iter()
        .filter(|step| !step.copies)
        .map(|step| step.length)
        .sum()
}

#[cfg(test)]
#[path = "estate_tests.rs"]
mod tests;

//! The wave estate's import sessions (`crate::http::lab::estate`): for each application
//! `crm`, `crm-data` (automatic cutover) and `crm-logs` (manual cutover), copying from one
//! of three arrays being retired, each described with its application's name.
//!
//! Every copy reaches `Ready_For_Cutover` between 5 minutes and 2 hours of lab time after
//! a client first reads it, the durations spread over the applications (a golden-ratio
//! walk from a seeded start, so any number of applications covers the range evenly), or
//! all after the same time when the estate fixes one (`--copy-time`, for benchmarks);
//! sizes and the progress already made come from the seed and the application's index.
//! In a `rough` estate the `CopyFails` application's `-data` copy fails part way, and the
//! `SourceUnreachable` one's source array stops answering part way through its copy.

use std::time::{Duration, SystemTime};

use crate::http::lab::estate::{App, Estate, Fault};
use crate::vendors::powerstore::wire::ImportState;

use super::create::Blueprint;
use super::state::Inventory;

/// The shortest and longest copy, in lab time from the first touch.
pub(super) const SHORTEST_COPY: Duration = Duration::from_secs(5 * 60);
pub(super) const LONGEST_COPY: Duration = Duration::from_secs(2 * 3600);

const GIB: u64 = 1 << 30;
/// The golden ratio's fractional part: successive multiples fill [0, 1) evenly.
const GOLDEN: f64 = 0.618_033_988_749_895;

/// The estate's arrays: name, type, serial number, management address.
const ARRAYS: [(&str, &str, &str, &str); 3] = [
    ("unity-03", "Unity", "APM00221502871", "10.0.20.13"),
    ("unity-04", "Unity", "APM00221502872", "10.0.20.14"),
    ("vnx-05", "VNX", "CKM00191100305", "10.0.20.15"),
];

/// Adds the estate's arrays and sessions as of `now`; their timelines wait for a
/// client's first touch.
pub(super) fn populate(inventory: &mut Inventory, estate: &Estate, seed: u64, now: SystemTime) {
    if estate.apps.is_empty() {
        return;
    }
    let first = inventory.remote_systems.len();
    for array in ARRAYS {
        inventory.add_array(
            array,
            format!("{} array of the wave's applications", array.1),
        );
    }
    let mut spread = fastrand::Rng::with_seed(seed ^ 0xE57A_7E00_C0B1_E500);
    let (data_start, logs_start) = (spread.f64(), spread.f64());
    for (index, app) in estate.apps.iter().enumerate() {
        let system = inventory.remote_systems[first + index % ARRAYS.len()]
            .id
            .clone();
        let mut rng =
            fastrand::Rng::with_seed(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for volume in [Volume::Data, Volume::Logs] {
            let start = match volume {
                Volume::Data => data_start,
                Volume::Logs => logs_start,
            };
            let copy = estate.copy_time.unwrap_or_else(|| copy_time(start, index));
            let blueprint = blueprint(app, index, volume, &system, copy, &mut rng);
            inventory.add(blueprint, now);
        }
    }
}

/// The two import sessions of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Volume {
    Data,
    Logs,
}

/// How long the copy of the `index`th application takes, on the walk from `start`.
pub(super) fn copy_time(start: f64, index: usize) -> Duration {
    let share = (start + index as f64 * GOLDEN).fract();
    SHORTEST_COPY + (LONGEST_COPY - SHORTEST_COPY).mul_f64(share)
}

/// The session of `app`'s `volume`, copying for `copy` from its first touch.
fn blueprint(
    app: &App,
    index: usize,
    volume: Volume,
    system: &str,
    copy: Duration,
    rng: &mut fastrand::Rng,
) -> Blueprint {
    let (suffix, what, gib, serial) = match volume {
        Volume::Data => ("data", "data", rng.u64(40..=400), 2 * index + 5000),
        Volume::Logs => ("logs", "log", rng.u64(5..=60), 2 * index + 5001),
    };
    let name = format!("{}-{suffix}", app.name);
    let mut blueprint = Blueprint::new(&name, system, &format!("sv_{serial}"));
    blueprint.description = Some(format!("application {}: {what} volume", app.name));
    blueprint.automatic_cutover = volume == Volume::Data;
    blueprint.state = ImportState::Copy_In_Progress;
    blueprint.percent = rng.u8(0..=30);
    blueprint.size = gib * GIB;
    // The rate that copies what is left in exactly `copy`.
    let left = blueprint.size / 100 * u64::from(100 - blueprint.percent);
    blueprint.rate = (left / copy.as_secs().max(1)).max(1);
    blueprint.lazy = true;
    if volume == Volume::Data {
        match app.fault {
            Some(Fault::CopyFails) => blueprint.fail_at = Some(rng.u8(40..=70)),
            Some(Fault::SourceUnreachable) => {
                blueprint.stall_at = Some(rng.u8(40..=70));
                blueprint.source_lost = true;
            }
            _ => {}
        }
    }
    blueprint
}

#[cfg(test)]
#[path = "estate_tests.rs"]
mod tests;

//! The seeded inventory: two remote systems and thirteen import sessions covering every
//! interesting path of the state machine. Ids come from the seed; sizes and rates are
//! fixed so the lab-time schedule below holds for every seed. Each session's timeline
//! starts when a client first reads or acts on it.
//!
//! | session | starts | then, in lab seconds from its first touch |
//! |---|---|---|
//! | `wave1-lun01` | Copy_In_Progress 40% | Ready_For_Cutover at 12 |
//! | `wave1-lun02` | Copy_In_Progress 75% | Ready_For_Cutover at 4 |
//! | `wave1-lun03` | Ready_For_Cutover | waits for cutover |
//! | `wave1-lun04` | Copy_In_Progress 30% | stalls at 60% at 6, for good |
//! | `wave1-lun05` | Copy_In_Progress 25% | Failed at 50% at 4 |
//! | `wave2-lun01` | Scheduled, 6 h ahead | Queued at 6 h, Ready_For_Cutover 6 h + 37 s |
//! | `wave2-lun02` | Queued | copying at 5, Ready_For_Cutover at 21 |
//! | `wave2-cg01` | Queued (group, automatic cutover) | copying at 5, Cutover_In_Progress at 37, Import_Completed at 40 |
//! | `old-lun09`, `old-lun10` | Import_Completed, Cancelled | deletable |
//! | `paused-lun11` | Paused 55% | Ready_For_Cutover 9 s after a resume |
//! | `agentless-lun12` | Mirror_Enabled | 8 s of copy after `start_copy` |
//! | `cleanup-lun13` | Cleanup_Required | Cancelled 4 s after `cleanup` |

use std::time::{Duration, SystemTime};

use crate::vendors::powerstore::wire::ImportState::{self, *};

use super::create::Blueprint;
use super::state::Inventory;

/// When `wave2-lun01` is scheduled to start, from its first touch.
pub(super) const SCHEDULED_AHEAD: Duration = Duration::from_secs(6 * 3600);

/// Name, state, percent done, GiB, MiB/s, remote system (0 `unity-01`, 1 `vnx-02`),
/// source resource.
type Row = (&'static str, ImportState, u8, u64, u64, usize, &'static str);

const SESSIONS: &[Row] = &[
    ("wave1-lun01", Copy_In_Progress, 40, 10, 512, 0, "sv_101"),
    ("wave1-lun02", Copy_In_Progress, 75, 12, 768, 0, "sv_102"),
    ("wave1-lun03", Ready_For_Cutover, 100, 6, 600, 0, "sv_103"),
    ("wave1-lun04", Copy_In_Progress, 30, 10, 512, 0, "sv_104"),
    ("wave1-lun05", Copy_In_Progress, 25, 8, 512, 0, "sv_105"),
    ("wave2-lun01", Scheduled, 0, 16, 512, 1, "sv_201"),
    ("wave2-lun02", Queued, 0, 6, 384, 1, "sv_202"),
    ("wave2-cg01", Queued, 0, 12, 384, 1, "res_7"),
    ("old-lun09", Import_Completed, 100, 4, 400, 0, "sv_9"),
    ("old-lun10", Cancelled, 20, 4, 400, 0, "sv_10"),
    ("paused-lun11", Paused, 55, 10, 512, 0, "sv_11"),
    ("agentless-lun12", Mirror_Enabled, 0, 4, 512, 1, "sv_12"),
    ("cleanup-lun13", Cleanup_Required, 0, 4, 512, 1, "sv_13"),
];

/// Fills an empty inventory as of `now`.
pub(super) fn populate(inventory: &mut Inventory, now: SystemTime) {
    for array in [
        ("unity-01", "Unity", "APM00213404195", "10.0.10.11"),
        ("vnx-02", "VNX", "CKM00184700502", "10.0.10.12"),
    ] {
        inventory.add_array(array, format!("{} array being retired", array.1));
    }
    for row in SESSIONS {
        let blueprint = blueprint(inventory, row, now);
        inventory.add(blueprint, now);
    }
}

fn blueprint(inventory: &Inventory, row: &Row, now: SystemTime) -> Blueprint {
    let &(name, state, percent, gib, rate, system, source) = row;
    let system_id = &inventory.remote_systems[system].id;
    let mut blueprint = Blueprint::new(name, system_id, source).sized(gib, rate);
    blueprint.state = state;
    blueprint.percent = percent;
    blueprint.description = name.split('-').next().map(|wave| format!("{wave} import"));
    blueprint.lazy = true;
    match name {
        "wave1-lun04" => blueprint.stall_at = Some(60),
        "wave1-lun05" => blueprint.fail_at = Some(50),
        "wave2-lun01" => blueprint.scheduled = Some(now + SCHEDULED_AHEAD),
        "wave2-cg01" => {
            blueprint.group = true;
            blueprint.automatic_cutover = true;
        }
        "agentless-lun12" => blueprint.agentless = true,
        _ => {}
    }
    blueprint
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::http::lab::estate::{Estate, Scenario};
    use crate::lab::testing::with_setup;
    use crate::vendors::LabSetup;
    use crate::vendors::powerstore::lab::LabState;
    use crate::vendors::powerstore::lab::tests::lab;

    /// The state of each seeded session `seconds` after a client first read them all,
    /// an hour after the lab started.
    fn states_at(seconds: u64) -> Vec<(String, ImportState)> {
        let (state, clock) = lab();
        clock.advance(Duration::from_secs(3600));
        let ids: Vec<String> = state
            .lock()
            .sessions
            .iter()
            .map(|s| s.id().to_owned())
            .collect();
        state.lock().touch(&ids, state.now());
        clock.advance(Duration::from_secs(seconds));
        let now = state.now();
        let mut inventory = state.lock();
        inventory.advance_all(now);
        inventory
            .sessions
            .iter()
            .map(|s| (s.name().to_owned(), s.state))
            .collect()
    }

    #[track_caller]
    fn case(seconds: u64, name: &str, expected: ImportState) {
        let states = states_at(seconds);
        let found = states.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
        assert_eq!(found, Some(expected), "{name} at {seconds}s");
    }

    #[test]
    fn the_schedule_in_the_module_doc_holds() {
        case(0, "wave1-lun01", Copy_In_Progress);
        case(11, "wave1-lun01", Copy_In_Progress);
        case(12, "wave1-lun01", Ready_For_Cutover);
        case(3, "wave1-lun02", Copy_In_Progress);
        case(4, "wave1-lun02", Ready_For_Cutover);
        case(3600, "wave1-lun04", Copy_In_Progress);
        case(3, "wave1-lun05", Copy_In_Progress);
        case(4, "wave1-lun05", Failed);
        case(6 * 3600 - 1, "wave2-lun01", Scheduled);
        case(6 * 3600, "wave2-lun01", Queued);
        case(6 * 3600 + 36, "wave2-lun01", Copy_In_Progress);
        case(6 * 3600 + 37, "wave2-lun01", Ready_For_Cutover);
        case(5, "wave2-lun02", Copy_In_Progress);
        case(21, "wave2-lun02", Ready_For_Cutover);
        case(36, "wave2-cg01", Copy_In_Progress);
        case(37, "wave2-cg01", Cutover_In_Progress);
        case(40, "wave2-cg01", Import_Completed);
        case(3600, "paused-lun11", Paused);
        case(3600, "agentless-lun12", Mirror_Enabled);
        case(3600, "cleanup-lun13", Cleanup_Required);
    }

    #[test]
    fn ids_depend_on_the_seed_alone() {
        let ids = |seed| {
            let state = with_setup(
                &Clock::manual(SystemTime::UNIX_EPOCH),
                &Estate::new(Scenario::Happy, 0),
                |setup| LabState::new(&LabSetup { seed, ..*setup }, "admin"),
            );
            let inventory = state.lock();
            inventory
                .sessions
                .iter()
                .map(|s| s.id().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(1), ids(1));
        assert_ne!(ids(1), ids(2));
        assert_eq!(ids(1).len(), 13);
    }
}

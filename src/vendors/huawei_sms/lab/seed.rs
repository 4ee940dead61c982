//! The seeded project, and tasks made in any state: a task is put in its state by
//! running the state machine from a start in the past, so its subtasks, dates and
//! progress are exactly what a task that really got there would show. A seeded task's
//! timeline starts when a client first reads or acts on it.

use std::time::{Duration, SystemTime};

use crate::http::lab::LazyStart;
use crate::vendors::huawei_sms::wire::TaskState;

use super::machine::SimTask;
use super::plan::Flavour;
use super::state::{Inventory, LabTask};

/// Bytes in a GiB and a MiB, the units of task sizes and copy rates.
pub(super) const GIB: u64 = 1 << 30;
pub(super) const MIB: u64 = 1 << 20;
/// A little lab time between the steps of a made-up history.
const BEAT: Duration = Duration::from_secs(1);

/// A task to make.
#[derive(Clone, Debug)]
pub(super) struct TaskSpec {
    pub(super) name: String,
    pub(super) state: TaskState,
    pub(super) flavour: Flavour,
    pub(super) used_bytes: u64,
    /// Bytes per lab second.
    pub(super) rate: u64,
    /// Percent of the copy done, for RUNNING, ABORT, MIGRATE_FAIL and SYNC_FAIL.
    pub(super) progress: u8,
    /// The next copy fails on reaching this percent.
    pub(super) fail_at: Option<u8>,
    /// The timeline waits for a client's first touch (seeded tasks).
    pub(super) lazy: bool,
}

impl TaskSpec {
    fn new(name: &str, state: TaskState, flavour: Flavour, gib: u64, progress: u8) -> Self {
        Self {
            name: name.to_owned(),
            state,
            flavour,
            used_bytes: gib * GIB,
            rate: 100 * MIB,
            progress,
            fail_at: None,
            lazy: true,
        }
    }
}

/// The seeded tasks: one of each interesting kind (ids depend on the seed).
pub(super) fn populate(inventory: &mut Inventory, now: SystemTime) {
    use Flavour::*;
    use TaskState::*;
    let specs = [
        TaskSpec::new("web-01", Ready, LinuxFile, 6, 0),
        TaskSpec::new("web-02", Abort, LinuxFile, 8, 40),
        TaskSpec::new("db-01", MigrateFail, LinuxBlock, 10, 55),
        TaskSpec::new("app-01", Running, LinuxFile, 500, 10),
        TaskSpec::new("win-01", MigrateSuccess, WindowsBlock, 12, 0),
        TaskSpec {
            fail_at: Some(30),
            ..TaskSpec::new("db-02", Ready, LinuxBlock, 6, 0)
        },
        TaskSpec::new("files-01", SyncFail, LinuxFile, 4, 50),
    ];
    for spec in specs {
        // Every seeded state is one `add` knows, so this cannot fail.
        let _ = add(inventory, &spec, now);
    }
}

/// Adds a task in `spec.state` as of `now`; its id, or why that state cannot be made.
pub(super) fn add(
    inventory: &mut Inventory,
    spec: &TaskSpec,
    now: SystemTime,
) -> Result<String, String> {
    let mut sim = SimTask::new(
        spec.flavour,
        spec.used_bytes,
        spec.rate,
        inventory.sub_id_block(),
    );
    let p = spec.progress.min(99);
    let full = sim.cycle_time(None);
    let start =
        |sim: &mut SimTask, at: SystemTime| sim.apply("start", at).map_err(|e| e.body().error_msg);
    match spec.state {
        TaskState::Ready => {}
        TaskState::Running => {
            let began = now - sim.time_to_copy(None, p);
            start(&mut sim, began)?;
        }
        TaskState::Abort => {
            let stop = now - BEAT * 3;
            let began = stop - sim.time_to_copy(None, p);
            start(&mut sim, began)?;
            sim.advance(stop);
            sim.apply("stop", stop).map_err(|e| e.body().error_msg)?;
        }
        TaskState::MigrateFail => {
            sim.fail_at = Some(p);
            let began = now - sim.time_to_copy(None, p) - BEAT;
            start(&mut sim, began)?;
        }
        TaskState::MigrateSuccess => start(&mut sim, now - full - BEAT)?,
        TaskState::SyncSuccess | TaskState::SyncFail => {
            let sync = if spec.state == TaskState::SyncFail {
                sim.time_to_copy(Some(0), p)
            } else {
                sim.cycle_time(Some(0))
            };
            let synced = now - sync - BEAT;
            start(&mut sim, synced - full - BEAT)?;
            sim.advance(synced);
            if spec.state == TaskState::SyncFail {
                sim.fail_at = Some(p);
            }
            start(&mut sim, synced)?;
        }
        other => {
            return Err(format!(
                "a task cannot be made in state {other}; use READY, RUNNING, ABORT, \
                 MIGRATE_FAIL, MIGRATE_SUCCESS, SYNC_SUCCESS or SYNC_FAIL"
            ));
        }
    }
    sim.advance(now);
    if spec.fail_at.is_some() {
        sim.fail_at = spec.fail_at;
    }
    let index = inventory.tasks.len();
    let id = inventory.new_id();
    let task = LabTask {
        id: id.clone(),
        name: spec.name.clone(),
        created: sim.started.unwrap_or(now) - Duration::from_secs(3600),
        sim,
        shown: None,
        log_collect_status: "INIT",
        clone_server: None,
        target_launched: false,
        network_check_info: None,
        source_id: inventory.new_uuid(),
        target_id: inventory.new_uuid(),
        vm_id: inventory.new_uuid(),
        ip: format!("192.168.0.{}", 10 + index % 240),
        start: if spec.lazy {
            LazyStart::pending(now)
        } else {
            LazyStart::running(now)
        },
    };
    inventory.tasks.push(task);
    Ok(id)
}

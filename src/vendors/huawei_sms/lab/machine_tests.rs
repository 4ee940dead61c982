//! The state machine on a stepped clock: cycles, pauses, failures and syncs.

use super::super::seed::{GIB, MIB};
use super::*;
use crate::vendors::huawei_sms::wire::{OPERATIONS, transition};

fn t(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_787_200 + seconds)
}

/// 6 GiB at 100 MiB/s: a 61.44 s copy; the full cycle takes 94.44 s.
fn task(flavour: Flavour) -> SimTask {
    SimTask::new(flavour, 6 * GIB, 100 * MIB, 100)
}

fn names(task: &SimTask) -> Vec<(&str, &str)> {
    task.sub_tasks
        .iter()
        .map(|s| (s.name, s.user_op.as_str()))
        .collect()
}

#[track_caller]
fn at(task: &mut SimTask, seconds: u64, state: TaskState) {
    task.advance(t(seconds));
    assert_eq!(task.state, state, "at {seconds}s");
}

#[test]
fn a_full_migration_runs_the_file_level_sequence_to_success() {
    let mut task = task(Flavour::LinuxFile);
    task.apply("start", t(0)).unwrap();
    at(&mut task, 10, TaskState::Running);
    assert_eq!(
        task.current(t(10)).map(|(s, p)| (s.name, p)),
        Some(("ATTACH_AGENT_IMAGE", 50))
    );
    at(&mut task, 50, TaskState::Running);
    let (sub, percent) = task.current(t(50)).unwrap();
    assert_eq!((sub.name, percent), ("MIGRATE_LINUX_FILE", 50));
    assert_eq!(task.remaining(t(50)).as_secs(), 30 + 14);
    at(&mut task, 95, TaskState::MigrateSuccess);
    assert_eq!(
        names(&task),
        [
            ("SSL_CONFIG", "REPLICATE"),
            ("ATTACH_AGENT_IMAGE", "REPLICATE"),
            ("FORMAT_DISK_LINUX_FILE", "REPLICATE"),
            ("MIGRATE_LINUX_FILE", "REPLICATE"),
            ("CONFIGURE_LINUX_FILE", "CUTOVER0"),
            ("DETTACH_AGENT_IMAGE", "CUTOVER0"),
        ]
    );
    assert_eq!(task.sub_tasks[0].end, Some(t(4)));
    assert_eq!(task.sub_tasks[1].start, t(4));
    assert_eq!(task.remaining(t(95)), Duration::ZERO);
    assert!(task.finished.is_some_and(|f| f <= t(95)));
}

#[test]
fn an_incremental_sync_follows_success_with_the_block_level_names() {
    let mut task = task(Flavour::WindowsBlock);
    task.apply("start", t(0)).unwrap();
    at(&mut task, 100, TaskState::MigrateSuccess);
    assert_eq!(task.sub_tasks[3].name, "MIGRATE_WINDOWS_BLOCK");
    task.apply("start", t(100)).unwrap();
    at(&mut task, 101, TaskState::Syncing);
    at(&mut task, 140, TaskState::SyncSuccess);
    let sync: Vec<_> = names(&task).into_iter().skip(6).collect();
    assert_eq!(
        sync,
        [
            ("SSL_CONFIG", "RESYNC0"),
            ("ATTACH_AGENT_IMAGE", "RESYNC0"),
            ("SYNC_WINDOWS_BLOCK", "RESYNC0"),
            ("CONFIGURE_WINDOWS", "CUTOVER1"),
            ("DETTACH_AGENT_IMAGE", "CUTOVER1"),
        ]
    );
    task.apply("start", t(140)).unwrap();
    at(&mut task, 141, TaskState::Syncing);
    assert_eq!(task.sub_tasks.last().unwrap().user_op, "RESYNC1");
}

#[test]
fn stop_pauses_and_start_resumes_where_the_copy_was() {
    let mut task = task(Flavour::LinuxBlock);
    task.apply("start", t(0)).unwrap();
    task.advance(t(50));
    task.apply("stop", t(50)).unwrap();
    at(&mut task, 51, TaskState::Aborting);
    at(&mut task, 60, TaskState::Abort);
    assert_eq!(
        task.current(t(500)).map(|(s, p)| (s.name, p)),
        Some(("MIGRATE_LINUX_BLOCK", 50))
    );
    let err = task.apply("stop", t(60)).unwrap_err();
    assert_eq!(err.body().error_msg, "The task is already stopped.");
    task.apply("start", t(100)).unwrap();
    at(&mut task, 130, TaskState::Running);
    assert_eq!(task.current(t(130)).map(|(_, p)| p), Some(99));
    at(&mut task, 145, TaskState::MigrateSuccess);
}

#[test]
fn a_copy_fails_at_its_point_and_resumes_from_there() {
    let mut task = task(Flavour::LinuxFile);
    task.fail_at = Some(25);
    task.apply("start", t(0)).unwrap();
    at(&mut task, 40, TaskState::MigrateFail);
    assert_eq!(
        task.error_json,
        r#"{"error_code":"SMS.3802","error_param":[]}"#
    );
    assert_eq!(task.current(t(40)).map(|(_, p)| p), Some(25));
    let err = task.apply("test", t(40)).unwrap_err();
    assert_eq!(err.body().error_code, "SMS.1802");
    task.apply("start", t(40)).unwrap();
    assert_eq!(task.error_json, "");
    at(&mut task, 41, TaskState::Running);
    at(&mut task, 101, TaskState::MigrateSuccess);
}

#[test]
fn start_on_a_running_task_is_refused_and_restart_starts_over() {
    let mut task = task(Flavour::LinuxFile);
    task.apply("start", t(0)).unwrap();
    let err = task.apply("start", t(1)).unwrap_err();
    assert_eq!(err.body().error_msg, "The task is already running.");
    assert_eq!(
        err.body().error_param,
        Some(vec!["start".into(), "RUNNING".into()])
    );
    task.advance(t(200));
    task.apply("restart", t(200)).unwrap();
    assert_eq!(task.sub_tasks.len(), 1);
    at(&mut task, 201, TaskState::Running);
}

#[test]
fn a_failed_sync_rolls_back() {
    let mut task = task(Flavour::LinuxFile);
    task.apply("start", t(0)).unwrap();
    task.advance(t(100));
    task.fail_at = Some(50);
    task.apply("start", t(100)).unwrap();
    at(&mut task, 130, TaskState::SyncFail);
    task.apply("sync_failed_rollback", t(130)).unwrap();
    at(&mut task, 131, TaskState::SyncFRollbacking);
    at(&mut task, 134, TaskState::SyncFRollbackSuccess);
    assert!(task.apply("start", t(134)).is_ok());
    at(&mut task, 135, TaskState::Syncing);
}

/// A file-level task driven into `state`, and the lab second it is there.
fn in_state(state: TaskState) -> (SimTask, u64) {
    use TaskState::*;
    let mut task = task(Flavour::LinuxFile);
    let step = |task: &mut SimTask, op: &str, at_s: u64, then: u64| {
        task.advance(t(at_s));
        task.apply(op, t(at_s)).unwrap();
        task.advance(t(then));
    };
    let at = match state {
        Ready => 0,
        Running => {
            step(&mut task, "start", 0, 50);
            50
        }
        Abort => {
            step(&mut task, "start", 0, 50);
            step(&mut task, "stop", 50, 60);
            60
        }
        MigrateSuccess => {
            step(&mut task, "start", 0, 100);
            100
        }
        SyncSuccess => {
            step(&mut task, "start", 0, 100);
            step(&mut task, "start", 100, 140);
            140
        }
        MigrateFail | SyncFail | SyncFRollbackSuccess => {
            let (sync, failed) = if state == MigrateFail {
                (0, 40)
            } else {
                (100, 130)
            };
            if sync > 0 {
                step(&mut task, "start", 0, 100);
            }
            task.fail_at = Some(25);
            step(&mut task, "start", sync, failed);
            if state == SyncFRollbackSuccess {
                step(&mut task, "sync_failed_rollback", failed, failed + 4);
            }
            failed + 4
        }
        other => panic!("no recipe for {other}"),
    };
    assert_eq!(task.state, state);
    (task, at)
}

#[test]
fn the_machine_follows_the_transitions_clients_rely_on() {
    use TaskState::*;
    // Every state a task rests in (`in_state` puts a task in each); the others pass.
    let states: Vec<TaskState> = TaskState::ALL
        .into_iter()
        .filter(|s| {
            !matches!(
                s,
                Syncing | Aborting | Skipping | Deleting | Reseting | SyncFRollbacking
            )
        })
        .collect();
    for (operation, transition) in OPERATIONS
        .iter()
        .filter_map(|op| Some((*op, transition(op)?)))
    {
        for &state in &states {
            let (mut task, at) = in_state(state);
            let applied = task.apply(operation, t(at)).is_ok();
            assert_eq!(
                applied,
                transition.from.contains(&state),
                "{operation} in {state}"
            );
            if applied {
                assert!(
                    transition.to.contains(&task.state),
                    "{operation} from {state} led to {}",
                    task.state
                );
            }
        }
    }
}

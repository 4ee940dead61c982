//! A lab task as the task JSON of vendor-apis.md §5.4 at a moment of lab time: progress,
//! `subtask_info`, `remain_seconds` and `estimate_complete_time` all read from the same
//! state machine, so they agree with each other.

use std::time::{Duration, SystemTime};

use crate::vendors::huawei_sms::wire::{
    Disk, PhysicalVolume, SourceServer, SubTask, TargetServer, Task, TaskState,
};

use super::state::{LAB_PROJECT_ID, LabTask, REGION};

/// Epoch milliseconds of `at`.
pub(super) fn millis(at: SystemTime) -> i64 {
    let ms = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// The task JSON at `now`; `list` adds the fields only list items have.
pub(super) fn render(task: &LabTask, now: SystemTime, list: bool) -> Task {
    let sim = &task.sim;
    let state = task.shown_state(now);
    let running = sim.is_running();
    let copying = sim.copying();
    let speed = if copying {
        (sim.rate as f64 * 8.0 / 1e6 * 10.0).round() / 10.0
    } else {
        0.0
    };
    let remaining = sim.remaining(now);
    let estimate = match state {
        _ if running => Some(millis(now) + i64::try_from(remaining.as_millis()).unwrap_or(0)),
        TaskState::MigrateSuccess | TaskState::SyncSuccess => sim.finished.map(millis),
        _ => None,
    };
    let worked: Duration = sim.sub_tasks.iter().map(|s| sim.worked(s, now)).sum();
    let subtask_info = match sim.current(now) {
        Some((sub, percent)) if running => format!("{}:{percent}", sub.name),
        _ => String::new(),
    };
    let sub_tasks = sim
        .sub_tasks
        .iter()
        .map(|s| SubTask {
            id: s.id,
            name: s.name.to_owned(),
            progress: i64::from(sim.percent(s, now)),
            start_date: Some(millis(s.start)),
            end_date: s.end.map(millis),
            user_op: s.user_op.clone(),
            migrate_speed: if s.copies && s.end.is_none() {
                speed
            } else {
                0.0
            },
            process_trace: String::new(),
        })
        .collect();
    let usage = |value: f64| if running { value } else { 0.0 };
    let (os_type, task_type) = sim.flavour.wire();
    Task {
        id: task.id.clone(),
        name: task.name.clone(),
        task_type: task_type.to_owned(),
        os_type: os_type.to_owned(),
        state,
        estimate_complete_time: estimate,
        create_date: Some(millis(task.created)),
        start_date: sim.started.map(millis),
        finish_date: sim.finished.filter(|_| state.is_terminal()).map(millis),
        priority: 1,
        speed_limit: 0,
        migrate_speed: speed,
        compress_rate: if copying { 0.6 } else { 0.0 },
        start_target_server: true,
        error_json: sim.error_json.clone(),
        total_time: i64::try_from(worked.as_millis()).unwrap_or(i64::MAX),
        remain_seconds: i64::try_from(remaining.as_secs()).unwrap_or(i64::MAX),
        migration_ip: Some(task.ip.clone()),
        float_ip: Some(task.ip.clone()),
        vm_template_id: None,
        region_name: REGION.to_owned(),
        region_id: REGION.to_owned(),
        project_name: REGION.to_owned(),
        project_id: LAB_PROJECT_ID.to_owned(),
        enterprise_project_id: "0".to_owned(),
        connected: true,
        need_migration_test: false,
        subtask_info,
        sub_tasks,
        source_server: source_server(task, state),
        target_server: target_server(task),
        clone_server: task.clone_server.clone(),
        target_snapshot_id: None,
        network_check_info: task.network_check_info.clone(),
        total_cpu_usage: usage(23.5),
        agent_cpu_usage: usage(6.2),
        total_mem_usage: usage(41.0),
        agent_mem_usage: usage(3.4),
        total_disk_io: usage(38.7),
        agent_disk_io: usage(31.9),
        log_collect_status: list.then(|| task.log_collect_status.to_owned()),
        syncing: list.then_some(state == TaskState::Syncing),
        special_config: list.then(Vec::new),
    }
}

fn source_server(task: &LabTask, state: TaskState) -> SourceServer {
    use TaskState::*;
    let (os_type, _) = task.sim.flavour.wire();
    let (server_state, cycle) = match state {
        Ready => ("waiting", None),
        Running => ("replicate", Some("replicating")),
        Syncing => ("syncing", Some("syncing")),
        Aborting => ("stopping", None),
        Abort => ("stopped", None),
        MigrateFail | SyncFail => ("error", None),
        MigrateSuccess | SyncSuccess => ("finished", Some("cutovered")),
        SyncFRollbacking | SyncFRollbackSuccess => ("clearing", None),
        _ => ("unavailable", None),
    };
    SourceServer {
        id: task.source_id.clone(),
        ip: Some(task.ip.clone()),
        name: task.name.clone(),
        os_type: os_type.to_owned(),
        os_version: Some(os_version(os_type).to_owned()),
        oem_system: false,
        state: server_state.to_owned(),
        migration_cycle: cycle.map(str::to_owned),
    }
}

fn target_server(task: &LabTask) -> TargetServer {
    let (os_type, _) = task.sim.flavour.wire();
    let size = i64::try_from(task.sim.used_bytes.saturating_mul(4)).unwrap_or(i64::MAX);
    let used = i64::try_from(task.sim.used_bytes).unwrap_or(i64::MAX);
    let linux = os_type == "LINUX";
    let volume = PhysicalVolume {
        id: 132_594,
        uuid: None,
        index: 0,
        name: if linux { "/dev/sda1" } else { "C:" }.to_owned(),
        relation_name: if linux { "/dev/vda1" } else { "C:" }.to_owned(),
        device_use: "OS".to_owned(),
        file_system: if linux { "ext4" } else { "NTFS" }.to_owned(),
        mount_point: if linux { "/" } else { "C:\\" }.to_owned(),
        size,
        used_size: used,
        free_size: size - used,
    };
    TargetServer {
        id: task.target_id.clone(),
        vm_id: task.vm_id.clone(),
        name: task.name.clone(),
        ip: None,
        os_type: os_type.to_owned(),
        os_version: None,
        system_dir: None,
        disks: vec![Disk {
            id: 86_364,
            name: if linux { "/dev/sda" } else { "Disk 0" }.to_owned(),
            relation_name: if linux { "/dev/vda" } else { "Disk 0" }.to_owned(),
            disk_id: task.vm_id.clone(),
            partition_style: "MBR".to_owned(),
            size,
            used_size: used,
            device_use: "BOOT".to_owned(),
            os_disk: true,
            physical_volumes: vec![volume],
            disk_index: "a".to_owned(),
        }],
        volume_groups: Vec::new(),
        image_disk_id: Some(task.target_id.clone()),
        rollback_snapshot_ids: None,
    }
}

fn os_version(os_type: &str) -> &'static str {
    if os_type == "LINUX" {
        "CENTOS_7_6_64BIT"
    } else {
        "WINDOWS2016_64BIT"
    }
}

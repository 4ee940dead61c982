//! What a cycle of a task runs (vendor-apis.md §5.4): the subtasks of the full
//! migration or of an incremental sync for each flavour of task, and how long each takes
//! in lab time, the copy following the task's size and rate. [`SimTask`] steps through
//! the plan.

use std::time::Duration;

use super::machine::SimTask;

/// Lab seconds of the fixed steps of a cycle.
const SSL_CONFIG: u64 = 4;
const ATTACH: u64 = 12;
const FORMAT: u64 = 3;
const CONFIGURE: u64 = 8;
const DETACH: u64 = 6;
/// An incremental sync copies this share of the used data (in percent).
const SYNC_SHARE: u64 = 2;

/// Operating system and migration level: they choose the subtask names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flavour {
    LinuxFile,
    LinuxBlock,
    WindowsBlock,
}

impl Flavour {
    /// `os_type` and `type` of the task JSON.
    pub(super) fn wire(self) -> (&'static str, &'static str) {
        match self {
            Self::LinuxFile => ("LINUX", "MIGRATE_FILE"),
            Self::LinuxBlock => ("LINUX", "MIGRATE_BLOCK"),
            Self::WindowsBlock => ("WINDOWS", "MIGRATE_BLOCK"),
        }
    }

    /// Format, migrate, sync and configure subtask names.
    fn names(self) -> [&'static str; 4] {
        match self {
            Self::LinuxFile => [
                "FORMAT_DISK_LINUX_FILE",
                "MIGRATE_LINUX_FILE",
                "SYNC_LINUX_FILE",
                "CONFIGURE_LINUX_FILE",
            ],
            Self::LinuxBlock => [
                "FORMAT_DISK_LINUX_BLOCK",
                "MIGRATE_LINUX_BLOCK",
                "SYNC_LINUX_BLOCK",
                "CONFIGURE_LINUX_BLOCK",
            ],
            Self::WindowsBlock => [
                "FORMAT_DISK_WINDOWS",
                "MIGRATE_WINDOWS_BLOCK",
                "SYNC_WINDOWS_BLOCK",
                "CONFIGURE_WINDOWS",
            ],
        }
    }
}

/// A planned step of a cycle.
#[derive(Clone, Debug)]
pub(super) struct Step {
    pub(super) name: &'static str,
    pub(super) user_op: String,
    pub(super) length: Duration,
    /// Whether this is the step that moves the data.
    pub(super) copies: bool,
}

impl SimTask {
    /// The steps of the full migration (`sync == None`) or of sync `n`.
    pub(super) fn plan(&self, sync: Option<u32>) -> Vec<Step> {
        let [format, migrate, sync_step, configure] = self.flavour.names();
        let step = |name, user_op: &str, seconds: u64, copies| Step {
            name,
            user_op: user_op.to_owned(),
            length: Duration::from_secs(seconds),
            copies,
        };
        let (head, tail) = match sync {
            None => ("REPLICATE".to_owned(), "CUTOVER0".to_owned()),
            Some(n) => (format!("RESYNC{n}"), format!("CUTOVER{}", n + 1)),
        };
        let mut plan = vec![
            step("SSL_CONFIG", &head, SSL_CONFIG, false),
            step("ATTACH_AGENT_IMAGE", &head, ATTACH, false),
        ];
        let copy = match sync {
            None => {
                plan.push(step(format, &head, FORMAT, false));
                Step {
                    length: self.copy_time(100),
                    ..step(migrate, &head, 0, true)
                }
            }
            Some(_) => Step {
                length: self.copy_time(SYNC_SHARE).max(Duration::from_secs(2)),
                ..step(sync_step, &head, 0, true)
            },
        };
        plan.push(copy);
        plan.push(step(configure, &tail, CONFIGURE, false));
        plan.push(step("DETTACH_AGENT_IMAGE", &tail, DETACH, false));
        plan
    }

    /// Lab time to copy `share` percent of the used data.
    fn copy_time(&self, share: u64) -> Duration {
        let bytes = self.used_bytes / 100 * share;
        Duration::from_secs_f64(bytes as f64 / self.rate as f64).max(Duration::from_secs(1))
    }

    /// Lab time from a cycle's start until its copy step is `percent` done.
    pub(super) fn time_to_copy(&self, sync: Option<u32>, percent: u8) -> Duration {
        let plan = self.plan(sync);
        let before: Duration = plan
            .iter()
            .take_while(|s| !s.copies)
            .map(|s| s.length)
            .sum();
        let copy = plan
            .iter()
            .find(|s| s.copies)
            .map_or(Duration::ZERO, |s| s.length);
        before + copy.mul_f64(f64::from(percent.min(100)) / 100.0)
    }

    /// Lab time a whole cycle takes.
    pub(super) fn cycle_time(&self, sync: Option<u32>) -> Duration {
        self.plan(sync).iter().map(|s| s.length).sum()
    }
}

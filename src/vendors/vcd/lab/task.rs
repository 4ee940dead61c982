//! Migration tasks on the legacy API (vendor-apis.md §2.7): `GET /api/task/{uuid}` as
//! XML and `POST /api/task/{uuid}/action/cancel`. A task's status is computed from the
//! lab clock whenever it is read: `queued` for [`QUEUED_FOR`], `preRunning` for
//! [`PRE_RUNNING_FOR`], `running` for [`RUNNING_FOR`] per started batch of
//! [`BATCH`] instances (at most [`MAX_RUNNING_FOR`]) with `Progress` growing, then
//! `success` (even when it left instances behind, as vendor-apis.md says), or `error`
//! when the lab was told to fail it. A cancel before the end freezes progress and ends
//! the task `canceled`.

use std::time::{Duration, SystemTime};

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::http::lab::timestamp;
use crate::vendors::vcd::wire::{Task, TaskStatus, TypeUrn, VCLOUD_XMLNS, XmlError, XmlRef};

use super::auth::OnId;
use super::error::LabError;
use super::state::{LabState, named_urn};

/// Lab time a task waits in `queued`.
pub(super) const QUEUED_FOR: Duration = Duration::from_secs(1);
/// Lab time a task spends in `preRunning`.
pub(super) const PRE_RUNNING_FOR: Duration = Duration::from_secs(1);
/// Lab time a task spends in `running` per started batch of [`BATCH`] instances,
/// progress going from 0 to 99.
pub(super) const RUNNING_FOR: Duration = Duration::from_secs(3);
/// Instances a task migrates in [`RUNNING_FOR`].
pub(super) const BATCH: usize = 10;
/// The longest a task runs, however many instances it covers.
pub(super) const MAX_RUNNING_FOR: Duration = Duration::from_secs(300);

/// How long a task covering `instances` instances spends in `running`.
pub(super) fn running_for(instances: usize) -> Duration {
    let batches = u32::try_from(instances.div_ceil(BATCH).max(1)).unwrap_or(u32::MAX);
    RUNNING_FOR.saturating_mul(batches).min(MAX_RUNNING_FOR)
}
/// How long a task is kept, as `expiryTime` says.
const EXPIRES_AFTER: Duration = Duration::from_secs(30 * 24 * 3600);

/// One `migrateEntities` task.
#[derive(Clone, Debug)]
pub(super) struct SimTask {
    pub(super) uuid: String,
    /// The `typeId` as the caller wrote it, and parsed.
    pub(super) source_text: String,
    pub(super) source: TypeUrn,
    pub(super) target: String,
    pub(super) force: bool,
    pub(super) created: SystemTime,
    /// Its time in `running` ([`running_for`] the instances it covers when created).
    pub(super) running_for: Duration,
    pub(super) user: String,
    pub(super) org: String,
    /// Ends in `error` instead of `success`, migrating nothing.
    pub(super) fail: bool,
    pub(super) canceled_at: Option<SystemTime>,
    /// Set once the end was reached and its effect applied.
    pub(super) finished: bool,
    pub(super) details: Option<String>,
}

impl SimTask {
    /// When the task reaches `success` or `error` if nobody cancels it.
    pub(super) fn done_at(&self) -> SystemTime {
        self.created + QUEUED_FOR + PRE_RUNNING_FOR + self.running_for
    }

    /// Status and progress at `now`.
    pub(super) fn phase(&self, now: SystemTime) -> (TaskStatus, u8) {
        match self.canceled_at {
            Some(at) if at < self.done_at() && at <= now => {
                (TaskStatus::Canceled, self.timeline(at).1)
            }
            _ => self.timeline(now),
        }
    }

    /// Status and progress at `at` if nobody cancels.
    fn timeline(&self, at: SystemTime) -> (TaskStatus, u8) {
        let elapsed = at.duration_since(self.created).unwrap_or_default();
        if elapsed < QUEUED_FOR {
            (TaskStatus::Queued, 0)
        } else if elapsed < QUEUED_FOR + PRE_RUNNING_FOR {
            (TaskStatus::PreRunning, 0)
        } else if elapsed < QUEUED_FOR + PRE_RUNNING_FOR + self.running_for {
            let running = elapsed - QUEUED_FOR - PRE_RUNNING_FOR;
            let share = running.as_secs_f64() / self.running_for.as_secs_f64();
            // share is in [0, 1): the cast cannot overflow.
            (TaskStatus::Running, ((share * 100.0) as u8).min(99))
        } else if self.fail {
            (TaskStatus::Error, 100)
        } else {
            (TaskStatus::Success, 100)
        }
    }

    /// When the task ended, if it has by `now`.
    fn ended_at(&self, now: SystemTime) -> Option<SystemTime> {
        match self.phase(now).0 {
            TaskStatus::Canceled => self.canceled_at,
            status if status.is_terminal() => Some(self.done_at()),
            _ => None,
        }
    }

    /// The task document, with links under `base`.
    pub(super) fn render(&self, base: &str, now: SystemTime) -> Task {
        let (status, progress) = self.phase(now);
        let error = match status {
            TaskStatus::Error => Some(XmlError {
                major_error_code: "500".to_owned(),
                minor_error_code: "INTERNAL_SERVER_ERROR".to_owned(),
                message: format!(
                    "Migration of entities of {} to {} failed: simulated internal error",
                    self.source_text, self.target
                ),
                stack_trace: None,
            }),
            TaskStatus::Canceled => Some(XmlError {
                major_error_code: "400".to_owned(),
                minor_error_code: "BAD_REQUEST".to_owned(),
                message: "The task was canceled by the user".to_owned(),
                stack_trace: None,
            }),
            _ => None,
        };
        let user_id = named_urn("user", &self.user);
        let org_id = named_urn("org", &self.org);
        let tail = |urn: &str| urn.rsplit(':').next().unwrap_or_default().to_owned();
        Task {
            xmlns: VCLOUD_XMLNS.to_owned(),
            status: status.as_str().to_owned(),
            name: "task".to_owned(),
            id: format!("urn:vcloud:task:{}", self.uuid),
            href: format!("{base}/api/task/{}", self.uuid),
            task_type: "application/vnd.vmware.vcloud.task+xml".to_owned(),
            operation: format!(
                "Migrating entities of {} to {}",
                self.source_text, self.target
            ),
            operation_name: "rdeMigrateEntities".to_owned(),
            service_namespace: "com.vmware.cloud".to_owned(),
            start_time: Some(timestamp(self.created)),
            end_time: self.ended_at(now).map(timestamp),
            expiry_time: Some(timestamp(self.created + EXPIRES_AFTER)),
            cancel_requested: self.canceled_at.is_some(),
            owner: Some(XmlRef {
                href: String::new(),
                id: Some(self.source_text.clone()),
                name: Some(self.source.nss.clone()),
                ref_type: Some("application/json".to_owned()),
            }),
            user: Some(XmlRef {
                href: format!("{base}/api/admin/user/{}", tail(&user_id)),
                id: Some(user_id),
                name: Some(self.user.clone()),
                ref_type: Some("application/vnd.vmware.admin.user+xml".to_owned()),
            }),
            organization: Some(XmlRef {
                href: format!("{base}/api/org/{}", tail(&org_id)),
                id: Some(org_id),
                name: Some(self.org.clone()),
                ref_type: Some("application/vnd.vmware.vcloud.org+xml".to_owned()),
            }),
            progress: Some(progress),
            details: self.details.clone().filter(|_| status.is_terminal()),
            error,
        }
    }
}

/// The task `uuid`, or the legacy API's 404.
fn find<'a>(tasks: &'a mut [SimTask], uuid: &str) -> Result<&'a mut SimTask, LabError> {
    tasks.iter_mut().find(|t| t.uuid == uuid).ok_or_else(|| {
        LabError::not_found(format!("No task with id urn:vcloud:task:{uuid}")).legacy()
    })
}

/// `GET /api/task/{uuid}`: the task as XML.
pub(super) async fn tasks_get(
    (State(lab), Extension(caller), Path(uuid)): OnId,
    headers: HeaderMap,
) -> Result<Response, LabError> {
    let (now, mut inventory) = lab.now_and_at();
    let task = find(&mut inventory.tasks, &uuid)?;
    let xml = task
        .render(&super::base_url(&headers), now)
        .to_xml()
        .map_err(|e| LabError::bad_request(format!("cannot write the task: {e}")).legacy())?;
    let content_type = format!(
        "application/vnd.vmware.vcloud.task+xml;version={}",
        caller.version
    );
    Ok(super::xml_response(StatusCode::OK, &content_type, xml))
}

/// `POST /api/task/{uuid}/action/cancel`: 204; a task that has not ended yet becomes
/// `canceled` and migrates nothing. Cancelling an ended task changes nothing.
pub(super) async fn tasks_cancel(
    State(lab): State<LabState>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, LabError> {
    let (now, mut inventory) = lab.now_and_at();
    let task = find(&mut inventory.tasks, &uuid)?;
    if !task.finished && !task.phase(now).0.is_terminal() {
        task.canceled_at = Some(now);
        lab.mutations().record("cancel", &task.uuid, now);
    }
    Ok(StatusCode::NO_CONTENT)
}

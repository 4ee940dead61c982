//! Rhai bindings for vCenter: `vcenter("NAME")` and its deferred history import,
//! `history()`, with `status()`, `start`, `pause`, `resume`, `cancel` and `wait_for`.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::job::{
    self, Connection, Docs, Handle, HandleKind, Job, Kind, Names, Reach, Waits, wire_value,
};
use crate::script::options::Options;
use crate::script::remote::{Remote, remote_client};
use crate::script::wait_log::Reading;
use crate::vendors::vcenter::client::VcenterClient;
use crate::vendors::vcenter::wire::{HistoryAction, HistoryInfo, HistoryStartSpec, HistoryStatus};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// What a step records instead of the target, its history import or an OVF import.
pub const HANDLES: [HandleKind; 3] = [
    HandleKind::connection::<Vcenter>(),
    HandleKind::job::<HistoryJob>(),
    HandleKind::job::<crate::vendors::vcenter::ovf_script::OvfJob>(),
];

/// A vCenter target, as scripts hold it.
pub type Vcenter = Remote<VcenterClient>;

remote_client!(VcenterClient, "Vcenter", param: "vcenter", super::KIND);

impl Vcenter {
    /// The target's client.
    pub(super) fn client(&self) -> &VcenterClient {
        &self.client
    }

    /// The target's client, for work that outlives one borrow (concurrent uploads).
    pub(super) fn shared_client(&self) -> Arc<VcenterClient> {
        self.client.clone()
    }

    /// The script host.
    pub(super) fn host(&self) -> &Host {
        &self.host
    }
}

/// The target's deferred history import (one per appliance), as last read: nothing
/// until `status()`, `refresh()` or a wait reads it.
pub type History = Handle<HistoryJob>;

/// The history import of a target, as its handle reaches it.
#[derive(Clone)]
pub struct HistoryJob {
    vcenter: Vcenter,
}

/// The history import, as waits and logs name it.
const HISTORY: &str = "the history import";

impl Reach for HistoryJob {
    type Client = VcenterClient;

    fn remote(&self) -> &Vcenter {
        &self.vcenter
    }

    /// One per appliance: the target alone names it.
    fn id(&self) -> Option<String> {
        None
    }

    fn reopen(host: &Arc<Host>, target: &str, _id: Option<&str>) -> Result<Self, ApiError> {
        Ok(Self {
            vcenter: Vcenter::open(host, target)?,
        })
    }
}

job::job_states!(HistoryStatus, HistoryStatus::ALL, success: HistoryStatus::Succeeded);

impl Job for HistoryJob {
    type Snapshot = Option<HistoryInfo>;
    type State = HistoryStatus;
    const KIND: Kind = Kind::new(
        Names {
            type_name: "History",
            param: "history",
            state_noun: "a history import status",
        },
        Waits {
            timeout: Duration::from_secs(6 * 3600),
            every: Duration::from_secs(10),
        },
        Docs {
            refresh: "/// Re-reads the import's Info; returns the history.",
            wait_for: "/// Polls until the import reaches `state` (e.g. \"SUCCEEDED\"); fails at once when it\n/// ends otherwise.",
            to_map: "/// The import's Info as last read (empty before the first read).",
            to_string: "/// `of `NAME``, naming the target, as `print` and the REPL show it.",
        },
    )
    .waiting_as("history.wait_for")
    .answering("Map");

    const OBJECT: &'static str = HISTORY;

    fn read(&self) -> Result<Option<HistoryInfo>, ApiError> {
        Ok(Some(
            self.vcenter.host.block_on(self.vcenter.client.history())?,
        ))
    }

    fn state(info: &Option<HistoryInfo>) -> Option<HistoryStatus> {
        info.as_ref().map(|info| info.status)
    }

    fn planned(&self, last: &Option<HistoryInfo>, state: HistoryStatus) -> Option<HistoryInfo> {
        last.clone().map(|mut info| {
            info.status = state;
            info
        })
    }

    /// What a wait sees in the history import: its status and how much of it is done.
    fn reading(&self, info: &Option<HistoryInfo>) -> Reading {
        let Some(info) = info else {
            return Reading::new(HISTORY, "unknown", None);
        };
        let percent = info
            .progress
            .as_ref()
            .filter(|p| p.total > 0)
            .map(|p| p.completed.clamp(0, p.total) * 100 / p.total)
            .and_then(|percent| u32::try_from(percent).ok());
        Reading::new(HISTORY, info.status.as_str(), percent)
    }

    fn describe(&self, _info: &Option<HistoryInfo>) -> String {
        format!("of `{}`", self.vcenter.client.target())
    }

    fn fields(&self, info: &Option<HistoryInfo>) -> Map {
        info.as_ref()
            .and_then(|info| wire_value(info).ok())
            .and_then(|info| info.try_cast::<Map>())
            .unwrap_or_default()
    }

    /// None: the Info is a map (`status()`), read when asked for, not a snapshot
    /// properties could go stale in.
    fn properties() -> Vec<String> {
        Vec::new()
    }

    /// Terminal, or BLOCKED by an error (not a pause): that waits for someone to fix the
    /// cause, and waiting for it to run on would only sit out the timeout.
    fn has_ended(info: &Option<HistoryInfo>, wanted: HistoryStatus) -> bool {
        info.as_ref().is_some_and(|info| {
            info.status != wanted && (info.status.is_terminal() || stopped_on_error(info, wanted))
        })
    }

    fn ended(&self, info: &Option<HistoryInfo>, wanted: HistoryStatus) -> ApiError {
        let Some(info) = info else {
            return ApiError::new(ErrorKind::InvalidState, format!("{HISTORY} was not read"));
        };
        let verb = if info.status.is_terminal() {
            "ended"
        } else {
            "stopped"
        };
        let mut message = format!(
            "the history import {verb} {} while waiting for {wanted}",
            info.status
        );
        if let Some(error) = info.error() {
            message.push_str(&format!(": {}", error.message()));
        }
        let notice = info.result.as_ref().and_then(|r| r.errors.first());
        if let Some(notice) = notice {
            message.push_str(&format!(": {}", notice.message.default_message));
            if let Some(resolution) = &notice.resolution {
                message.push_str(&format!(" ({})", resolution.default_message));
            }
        }
        ApiError::new(ErrorKind::InvalidState, message).with_state(info.status.as_str())
    }

    /// Waits answer the Info, as `status()` does.
    fn answer(history: &History) -> RhaiResult<Dynamic> {
        history
            .snapshot()
            .map_or(Ok(Dynamic::UNIT), |info| wire_value(&info))
    }
}

impl History {
    /// The Info, read now.
    fn status(&self) -> RhaiResult<Dynamic> {
        HistoryJob::answer(&self.refresh()?)
    }

    /// Runs `action`, then answers the Info re-read. A refusal reports the status the
    /// import was found in, so "already in desired state" can be treated as done.
    fn act(&self, action: HistoryAction, spec: Option<HistoryStartSpec>) -> RhaiResult<Dynamic> {
        let vcenter = &self.job().vcenter;
        tracing::info!(
            target = vcenter.client.target(),
            "history {}",
            action.as_str()
        );
        if let Err(err) = vcenter
            .host
            .block_on(vcenter.client.history_action(action, spec))
        {
            return Err(raise(self.with_found_state(err)));
        }
        self.status()
    }
}

fn stopped_on_error(info: &HistoryInfo, wanted: HistoryStatus) -> bool {
    info.status == HistoryStatus::Blocked
        && wanted != HistoryStatus::Blocked
        && info.result.as_ref().is_some_and(|r| !r.errors.is_empty())
}

/// Registers the vCenter script surface.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    Vcenter::register(
        engine,
        host,
        "/// The vCenter target `name` from the target file: its appliance port\n/// (user `root`, spoken to in `/rest`) or its reverse proxy (an SSO user, `/api`).",
        "/// The target's name, as `print` and the REPL show it.",
    );
    job::register::<HistoryJob>(engine);
    crate::vendors::vcenter::ovf_script::register(engine);
    engine.register_get("encoding", |vc: &mut Vcenter| {
        vc.client.encoding().as_str().to_owned()
    });
    FuncRegistration::new("history")
        .with_comments(["/// The deferred import of historical data (events, tasks, statistics)."])
        .with_params_info([Vcenter::this().as_str(), "History"])
        .register_into_engine(engine, |vc: &mut Vcenter| {
            Handle::unread(
                HistoryJob {
                    vcenter: vc.clone(),
                },
                None,
            )
        });

    job::method(
        engine,
        "status",
        "/// The import's Info: `status`, `progress` (`completed`/`total`), `start_time`,\n/// `end_time`, `cancelable`, `error`, … with the vendor's field names.",
        History::status,
    );
    job::method(
        engine,
        "start",
        "/// Starts the import (normally it starts by itself after the upgrade).",
        |h| h.act(HistoryAction::Start, None),
    );
    job::method_with(
        engine,
        ("start", "spec: Map"),
        "/// Starts the import with `#{ name, description }`.",
        |h, spec| {
            let options = Options::new("history.start", spec, &["name", "description"])?;
            let mut start = HistoryStartSpec::default();
            if let Some(name) = options.text("name")? {
                start.name = name;
            }
            if let Some(description) = options.text("description")? {
                start.description = description;
            }
            h.act(HistoryAction::Start, Some(start))
        },
    );
    for (name, action, doc) in [
        (
            "pause",
            HistoryAction::Pause,
            "/// Pauses a running import (it shows as BLOCKED). Pausing a paused import is an\n/// `invalid_state` error with `vendor_code` \"already_in_desired_state\".",
        ),
        (
            "resume",
            HistoryAction::Resume,
            "/// Resumes a paused import. After a cancel this fails for good: the history can\n/// only be imported again by redoing the upgrade or migration.",
        ),
        (
            "cancel",
            HistoryAction::Cancel,
            "/// Cancels the import for good (it ends FAILED).",
        ),
    ] {
        job::method(engine, name, doc, move |h: &History| h.act(action, None));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_status_suggests_the_one_meant() {
        let err = job::parse_state::<HistoryJob>("history.wait_for", "SUCEEDED").unwrap_err();
        let map = crate::script::error_value::error_map(&err).unwrap();
        assert_eq!(
            map["message"].clone().into_string().unwrap(),
            "`SUCEEDED` is not a history import status; did you mean `SUCCEEDED`?"
        );
        assert_eq!(
            job::parse_state::<HistoryJob>("history.wait_for", "succeeded").ok(),
            Some(HistoryStatus::Succeeded)
        );
    }
}

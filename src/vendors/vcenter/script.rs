//! Rhai bindings for vCenter: `vcenter("NAME")` and its deferred history import,
//! `history()`, with `status()`, `start`, `pause`, `resume`, `cancel` and `wait_for`.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::config::TargetKind;
use crate::script::Host;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::options::Options;
use crate::script::wait::{Verdict, Wait};
use crate::script::wait_log::{Reading, report};
use crate::vendors::vcenter::client::VcenterClient;
use crate::vendors::vcenter::wire::{HistoryAction, HistoryInfo, HistoryStartSpec, HistoryStatus};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

const WAIT_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
const WAIT_EVERY: Duration = Duration::from_secs(10);

/// A vCenter target, as scripts hold it.
#[derive(Clone)]
pub struct Vcenter {
    client: Arc<VcenterClient>,
    host: Arc<Host>,
}

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

    /// Runs `future` for a script, raising its error.
    pub(super) fn run<T>(
        &self,
        future: impl Future<Output = Result<T, ApiError>>,
    ) -> RhaiResult<T> {
        self.host.block_on(future).map_err(raise)
    }
}

/// The target's deferred history import (one per appliance).
#[derive(Clone)]
pub struct History {
    vcenter: Vcenter,
}

impl History {
    fn info(&self) -> Result<HistoryInfo, ApiError> {
        let info = self.vcenter.host.block_on(self.vcenter.client.history())?;
        report(reading(&info));
        Ok(info)
    }

    fn status(&self) -> RhaiResult<Dynamic> {
        to_dynamic(&self.info().map_err(raise)?)
    }

    /// Runs `action`, then answers the Info re-read. A refusal reports the status the
    /// import was found in, so "already in desired state" can be treated as done.
    fn act(&self, action: HistoryAction, spec: Option<HistoryStartSpec>) -> RhaiResult<Dynamic> {
        let client = &self.vcenter.client;
        tracing::info!(target = client.target(), "history {}", action.as_str());
        if let Err(mut err) = self
            .vcenter
            .host
            .block_on(client.history_action(action, spec))
        {
            if err.kind == ErrorKind::InvalidState {
                if let Ok(info) = self.info() {
                    err.state = Some(info.status.as_str().to_owned());
                }
            }
            return Err(raise(err));
        }
        self.status()
    }

    fn wait_for(&self, state: &str, options: Map) -> RhaiResult<Dynamic> {
        let wanted = HistoryStatus::parse(&state.to_ascii_uppercase()).ok_or_else(|| {
            invalid_argument(
                "history.wait_for",
                format!("`{state}` is not a history import status; use PENDING, RUNNING, BLOCKED, SUCCEEDED or FAILED"),
            )
        })?;
        let wait = Wait::new(
            "history.wait_for",
            self.vcenter.client.target(),
            options,
            (WAIT_TIMEOUT, WAIT_EVERY),
        )?
        .of(HISTORY, wanted.as_str());
        let judge = |info: &HistoryInfo| {
            if info.status == wanted {
                Verdict::Reached
            } else if info.status.is_terminal() || stopped_on_error(info, wanted) {
                Verdict::Ended(Box::new(self.ended_early(info, wanted)))
            } else {
                Verdict::Waiting
            }
        };
        to_dynamic(&wait.run(&self.vcenter.host, || self.info(), judge, reading)?)
    }

    fn ended_early(&self, info: &HistoryInfo, wanted: HistoryStatus) -> ApiError {
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
}

/// An import stopped BLOCKED by an error (not a pause) waits for someone to fix the
/// cause; waiting for it to run on would only sit out the timeout.
/// The history import, as waits and logs name it.
const HISTORY: &str = "the history import";

/// What a wait sees in the history import: its status and how much of it is done.
fn reading(info: &HistoryInfo) -> Reading {
    let percent = info
        .progress
        .as_ref()
        .filter(|p| p.total > 0)
        .map(|p| p.completed.clamp(0, p.total) * 100 / p.total)
        .and_then(|percent| u32::try_from(percent).ok());
    Reading::new(HISTORY, info.status.as_str(), percent)
}

fn stopped_on_error(info: &HistoryInfo, wanted: HistoryStatus) -> bool {
    info.status == HistoryStatus::Blocked
        && wanted != HistoryStatus::Blocked
        && info.result.as_ref().is_some_and(|r| !r.errors.is_empty())
}

fn to_dynamic(info: &HistoryInfo) -> RhaiResult<Dynamic> {
    rhai::serde::to_dynamic(serde_json::to_value(info).unwrap_or_default())
}

/// Registers the vCenter script surface.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    engine.register_type_with_name::<Vcenter>("Vcenter");
    engine.register_type_with_name::<History>("History");
    crate::vendors::vcenter::ovf_script::register(engine);

    let h = host.clone();
    FuncRegistration::new("vcenter")
        .with_comments(["/// The vCenter target `name` from the target file: its appliance port\n/// (user `root`, spoken to in `/rest`) or its reverse proxy (an SSO user, `/api`)."])
        .with_params_info(["name: &str", "Vcenter"])
        .register_into_engine(engine, move |name: &str| -> RhaiResult<Vcenter> {
            let clock = h.clock().clone();
            let client = h
                .client(TargetKind::Vcenter, name, |t, calls| VcenterClient::new(t, calls, clock))
                .map_err(raise)?;
            Ok(Vcenter { client, host: h.clone() })
        });
    engine.register_get("name", |vc: &mut Vcenter| vc.client.target().to_owned());
    FuncRegistration::new("to_string")
        .with_comments(["/// The target's name, as `print` and the REPL show it."])
        .with_params_info(["vcenter: Vcenter", "String"])
        .register_into_engine(engine, |vc: &mut Vcenter| vc.client.target().to_owned());
    FuncRegistration::new("to_string")
        .with_comments(["/// `of `NAME``, naming the target, as `print` and the REPL show it."])
        .with_params_info(["history: History", "String"])
        .register_into_engine(engine, |h: &mut History| {
            format!("of `{}`", h.vcenter.client.target())
        });
    engine.register_get("encoding", |vc: &mut Vcenter| {
        vc.client.encoding().as_str().to_owned()
    });
    FuncRegistration::new("history")
        .with_comments(["/// The deferred import of historical data (events, tasks, statistics)."])
        .with_params_info(["vcenter: Vcenter", "History"])
        .register_into_engine(engine, |vc: &mut Vcenter| History {
            vcenter: vc.clone(),
        });

    FuncRegistration::new("status")
        .with_comments(["/// The import's Info: `status`, `progress` (`completed`/`total`), `start_time`,\n/// `end_time`, `cancelable`, `error`, … with the vendor's field names."])
        .with_params_info(["history: History", "Map"])
        .register_into_engine(engine, |h: &mut History| h.status());
    FuncRegistration::new("start")
        .with_comments(["/// Starts the import (normally it starts by itself after the upgrade)."])
        .with_params_info(["history: History", "Map"])
        .register_into_engine(engine, |h: &mut History| h.act(HistoryAction::Start, None));
    FuncRegistration::new("start")
        .with_comments(["/// Starts the import with `#{ name, description }`."])
        .with_params_info(["history: History", "spec: Map", "Map"])
        .register_into_engine(engine, |h: &mut History, spec: Map| {
            let options = Options::new("history.start", spec, &["name", "description"])?;
            let mut start = HistoryStartSpec::default();
            if let Some(name) = options.text("name")? {
                start.name = name;
            }
            if let Some(description) = options.text("description")? {
                start.description = description;
            }
            h.act(HistoryAction::Start, Some(start))
        });
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
        FuncRegistration::new(name)
            .with_comments([doc])
            .with_params_info(["history: History", "Map"])
            .register_into_engine(engine, move |h: &mut History| h.act(action, None));
    }
    FuncRegistration::new("wait_for")
        .with_comments(["/// Polls until the import reaches `state` (e.g. \"SUCCEEDED\"); fails at once when it\n/// ends otherwise. Options: `timeout` (default \"6h\"), `every` (\"10s\")."])
        .with_params_info(["history: History", "state: &str", "options: Map", "Map"])
        .register_into_engine(engine, |h: &mut History, state: &str, options: Map| h.wait_for(state, options));
    FuncRegistration::new("wait_for")
        .with_comments(["/// `wait_for` with the default options."])
        .with_params_info(["history: History", "state: &str", "Map"])
        .register_into_engine(engine, |h: &mut History, state: &str| {
            h.wait_for(state, Map::new())
        });
}

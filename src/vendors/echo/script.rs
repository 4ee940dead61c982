//! Rhai bindings for the echo API: `echo("NAME")`, `start(name, seconds)` answering a job
//! handle (the generic job surface: `refresh`, `wait_for`, `to_map`, properties), and
//! `cancel` through the mutation gate.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration};

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::{Target, TargetKind};
use crate::http::call_record::CallRecord;
use crate::script::Host;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::job::{self, Docs, Handle, HandleKind, Job, Kind, Names, Waits};
use crate::script::remote::{Remote, RemoteClient, RemoteJob};
use crate::script::wait_log::Reading;
use crate::vendors::echo::client::EchoClient;
use crate::vendors::echo::wire::{self, JOB_FIELDS, JobState};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// What a step records instead of the target or one of its jobs.
pub const HANDLES: [HandleKind; 2] = HandleKind::pair::<Echo, EchoJob>();

/// An echo target, as scripts hold it.
pub type Echo = Remote<EchoClient>;

impl RemoteClient for EchoClient {
    const TYPE_NAME: &'static str = "Echo";
    const PARAM: &'static str = "echo";
    const KIND: TargetKind = super::KIND;

    // The toy waits on no clock of its own.
    fn connect(target: &Target, calls: CallRecord, _clock: Clock) -> Result<Self, ApiError> {
        Self::new(target, calls)
    }

    fn target_name(&self) -> &str {
        self.target()
    }
}

/// A job handle; copies share one snapshot.
pub type EchoJobHandle = Handle<EchoJob>;

/// A job of a target, as its handle reaches it.
pub type EchoJob = RemoteJob<EchoClient>;

job::job_states!(JobState, JobState::ALL, success: JobState::Done);

impl Job for EchoJob {
    type Snapshot = wire::Job;
    type State = JobState;

    const KIND: Kind = Kind::new(
        Names {
            type_name: "EchoJob",
            param: "job",
            state_noun: "an echo job state",
        },
        Waits {
            timeout: Duration::from_secs(3600),
            every: Duration::from_secs(1),
        },
        Docs {
            refresh: "/// Re-reads the job; returns the job.",
            wait_for: "/// Polls until the job reaches `state`; fails at once when it ends in another.",
            to_map: "/// Every field of the job with the API's names.",
            to_string: "/// One line: name and state.",
        },
    );

    const OBJECT: &'static str = crate::vendors::echo::client::JOB;

    fn read(&self) -> Result<wire::Job, ApiError> {
        self.remote.host.block_on(self.remote.client.job(&self.id))
    }

    fn state(snapshot: &wire::Job) -> Option<JobState> {
        Some(snapshot.state)
    }

    fn planned(&self, last: &wire::Job, state: JobState) -> wire::Job {
        wire::Job {
            state,
            ..last.clone()
        }
    }

    fn reading(&self, snapshot: &wire::Job) -> Reading {
        let what = format!("echo job `{}`", snapshot.name);
        Reading::new(what, snapshot.state.as_str(), None)
    }

    fn describe(&self, snapshot: &wire::Job) -> String {
        format!("{} {}", snapshot.name, snapshot.state.as_str())
    }

    fn properties() -> Vec<String> {
        JOB_FIELDS.iter().map(|f| (*f).to_owned()).collect()
    }

    fn field(&self, snapshot: &wire::Job, name: &str) -> Dynamic {
        serde_json::to_value(snapshot)
            .ok()
            .and_then(|json| json.get(name).cloned())
            .and_then(|v| rhai::serde::to_dynamic(v).ok())
            .unwrap_or(Dynamic::UNIT)
    }
}

impl Echo {
    fn start(&self, name: &str, seconds: i64) -> RhaiResult<EchoJobHandle> {
        let Ok(seconds) = u64::try_from(seconds) else {
            return Err(invalid_argument(
                "start",
                format!("`seconds` is {seconds}; use 0 or more"),
            ));
        };
        let job = self
            .host
            .block_on(self.client.create(name, seconds))
            .map_err(raise)?;
        let reach = EchoJob {
            remote: self.clone(),
            id: job.id.clone(),
        };
        Ok(Handle::new(reach, job))
    }
}

/// Cancels `job` through the gate and keeps the job as the answer shows it; a refusal
/// reports the state the job was found in.
fn cancel(job: &EchoJobHandle) -> RhaiResult<EchoJobHandle> {
    let reach = job.job();
    let name = job.snapshot().name;
    let cancelled = reach
        .remote
        .host
        .block_on(reach.remote.client.cancel(&reach.id, &name));
    match cancelled {
        Ok(answer) => {
            job.store(answer);
            Ok(job.clone())
        }
        Err(err) => Err(raise(job.with_found_state(err))),
    }
}

/// Registers the echo script surface.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    Echo::register(
        engine,
        host,
        "/// The echo target `name` from the target file.",
        "/// The target's name.",
    );
    job::register::<EchoJob>(engine);
    FuncRegistration::new("start")
        .with_comments([
            "/// Starts job `name`, done after `seconds`; starting it again answers the same job.",
        ])
        .with_params_info([
            Echo::this().as_str(),
            "name: &str",
            "seconds: i64",
            "EchoJob",
        ])
        .register_into_engine(engine, |echo: &mut Echo, name: &str, seconds: i64| {
            echo.start(name, seconds)
        });
    job::method::<EchoJob, _>(
        engine,
        "cancel",
        "/// Cancels a Running job; `invalid_state` otherwise.",
        cancel,
    );
}

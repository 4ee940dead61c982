//! Rhai bindings for Cloud Director: `vcd("NAME")`, entity types and entities as maps with
//! the vendor's field names, and `migrate_entities` answering a task handle with
//! `status`, `progress`, `refresh()`, `wait()` and `cancel()`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use rhai::{Array, Dynamic, Engine, EvalAltResult, FuncRegistration, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::job::{
    self, Connection, Docs, Handle, HandleKind, Job, Kind, Names, Reach, Waits, wire_value,
};
use crate::script::options::Options;
use crate::script::remote::{Remote, remote_client};
use crate::script::wait::options_doc;
use crate::script::wait_log::Reading;
use crate::vendors::vcd::client::VcdClient;
use crate::vendors::vcd::wire::{Task, TaskStatus};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

const PAGE_SIZE: u64 = 128;

/// What a step records instead of the target or one of its tasks.
pub const HANDLES: [HandleKind; 2] = HandleKind::pair::<Vcd, TaskJob>();

/// A Cloud Director target, as scripts hold it.
pub type Vcd = Remote<VcdClient>;

remote_client!(VcdClient, "Vcd", param: "vcd", super::KIND);

/// A legacy task handle; copies share one snapshot, so `refresh()` updates them all.
pub type VcdTask = Handle<TaskJob>;

/// A legacy task of a target, as its handle reaches it: by the URL the server gave.
#[derive(Clone)]
pub struct TaskJob {
    vcd: Vcd,
    url: Url,
}

impl Vcd {
    fn entity_types(&self, options: Map) -> RhaiResult<Array> {
        let options = Options::new("entity_types", options, &["filter"])?;
        let filter = options.text("filter")?;
        let types = self.run(self.client.entity_types(filter.as_deref()))?;
        types.iter().map(wire_value).collect()
    }

    fn entities(&self, type_urn: &str, options: Map) -> RhaiResult<Array> {
        let options = Options::new("entities", options, &["filter", "page_size"])?;
        let filter = options.text("filter")?;
        let page_size = options.count("page_size", PAGE_SIZE)?;
        let entities = self.run(self.client.entities(type_urn, filter.as_deref(), page_size))?;
        entities.iter().map(wire_value).collect()
    }

    fn migrate_entities(&self, type_urn: &str, options: Map) -> RhaiResult<VcdTask> {
        let options = Options::new("migrate_entities", options, &["target", "force"])?;
        let target = options.text("target")?.ok_or_else(|| {
            crate::script::error_value::invalid_argument(
                "migrate_entities",
                "`target` (a full entity type URN) is required",
            )
        })?;
        let force = options.flag("force", false)?;
        tracing::info!(target = self.client.target(), source = type_urn, to = %target, force, "migrate_entities");
        let url = self.run(self.client.migrate_entities(type_urn, &target, force))?;
        // The migration runs from here on; a busy server must not cost the script its
        // handle, or a retry would only meet BUSY_ENTITY.
        let job = TaskJob {
            vcd: self.clone(),
            url,
        };
        if job::plan_touching(&job).is_some() {
            // A planned migration's task is not read: it would be queued.
            let task = queued(&job.url);
            return Ok(Handle::new(job, task));
        }
        let task = match self.host.block_on(self.client.task(&job.url)) {
            Ok(task) => task,
            Err(err) if err.retryable => {
                tracing::warn!("reading the new task failed, will poll it: {err}");
                queued(&job.url)
            }
            Err(err) => return Err(raise(err)),
        };
        Ok(Handle::new(job, task))
    }
}

/// Every status, for "did you mean".
const STATUSES: [TaskStatus; 7] = [
    TaskStatus::Queued,
    TaskStatus::PreRunning,
    TaskStatus::Running,
    TaskStatus::Success,
    TaskStatus::Error,
    TaskStatus::Canceled,
    TaskStatus::Aborted,
];

/// The task's fields, as `to_map` and the properties show them.
const FIELDS: [&str; 9] = [
    "id",
    "href",
    "status",
    "progress",
    "operation",
    "operationName",
    "startTime",
    "endTime",
    "error",
];

impl Reach for TaskJob {
    type Client = VcdClient;

    fn remote(&self) -> &Vcd {
        &self.vcd
    }

    /// The task's uuid, the last segment of its URL.
    fn id(&self) -> Option<String> {
        self.url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(str::to_owned)
    }

    /// The task at `/api/task/{uuid}` of the target's own URL: a recorded reference never
    /// decides which host the target's credentials go to.
    fn reopen(host: &Arc<Host>, target: &str, id: Option<&str>) -> Result<Self, ApiError> {
        let uuid = job::required_id(id)?;
        let vcd = Vcd::open(host, target)?;
        let base = host
            .targets()
            .get(super::KIND, target)
            .map_err(|err| ApiError::new(ErrorKind::Validation, err.to_string()))?
            .url
            .clone();
        let mut url = Url::parse(&base).map_err(|err| {
            ApiError::new(
                ErrorKind::Validation,
                format!("target `{target}`: bad url `{base}`: {err}"),
            )
        })?;
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "task", uuid]);
        }
        Ok(Self { vcd, url })
    }
}

job::job_states!(TaskStatus, STATUSES, success: TaskStatus::Success);

impl Job for TaskJob {
    type Snapshot = Task;
    type State = TaskStatus;

    const KIND: Kind = Kind::new(
        Names {
            type_name: "VcdTask",
            param: "task",
            state_noun: "a task status",
        },
        Waits {
            timeout: Duration::from_secs(3600),
            every: Duration::from_secs(3),
        },
        Docs {
            refresh: "/// Re-reads the task; returns it.",
            wait_for: "/// Polls until the task reaches `state` (e.g. \"running\"); fails with the task's `Error`\n/// when it ends otherwise.",
            to_map: "/// The task's fields as a map.",
            to_string: "/// One line: the task, its status and progress.",
        },
    );

    const OBJECT: &'static str = crate::vendors::vcd::client::TASK;

    fn read(&self) -> Result<Task, ApiError> {
        self.vcd.host.block_on(self.vcd.client.task(&self.url))
    }

    fn state(task: &Task) -> Option<TaskStatus> {
        task.status()
    }

    fn planned(&self, last: &Task, state: TaskStatus) -> Task {
        Task {
            status: state.as_str().to_owned(),
            ..last.clone()
        }
    }

    /// What a wait sees in a task: its status and progress, named by its id.
    fn reading(&self, task: &Task) -> Reading {
        Reading::new(
            format!("task `{}`", task.id),
            task.status.as_str(),
            task.progress.map(u32::from),
        )
    }

    /// One line for the REPL and `print`: `urn:vcloud:task:… running 40%`.
    fn describe(&self, task: &Task) -> String {
        format!(
            "{} {} {}%",
            task.id,
            task.status,
            task.progress.unwrap_or(0)
        )
    }

    fn fields(&self, task: &Task) -> Map {
        let mut map = Map::new();
        map.insert("id".into(), task.id.clone().into());
        map.insert("href".into(), task.href.clone().into());
        map.insert("status".into(), task.status.clone().into());
        map.insert(
            "progress".into(),
            i64::from(task.progress.unwrap_or(0)).into(),
        );
        map.insert("operation".into(), task.operation.clone().into());
        map.insert("operationName".into(), task.operation_name.clone().into());
        map.insert(
            "startTime".into(),
            task.start_time.clone().map_or(Dynamic::UNIT, Dynamic::from),
        );
        map.insert(
            "endTime".into(),
            task.end_time.clone().map_or(Dynamic::UNIT, Dynamic::from),
        );
        let error = task.error.as_ref().map_or(Dynamic::UNIT, |e| {
            let mut error = Map::new();
            error.insert("majorErrorCode".into(), e.major_error_code.clone().into());
            error.insert("minorErrorCode".into(), e.minor_error_code.clone().into());
            error.insert("message".into(), e.message.clone().into());
            error.into()
        });
        map.insert("error".into(), error);
        map
    }

    fn properties() -> Vec<String> {
        FIELDS.map(str::to_owned).to_vec()
    }

    /// The task's `Error`, its codes as `vendor_code` and `status`.
    fn ended(&self, task: &Task, _wanted: TaskStatus) -> ApiError {
        let status = task.status.as_str();
        let mut message = format!("task `{}` ended {status}", task.id);
        let mut err = ApiError::new(ErrorKind::InvalidState, String::new());
        if let Some(error) = &task.error {
            message.push_str(&format!(": {}", error.message));
            err.vendor_code = Some(error.minor_error_code.clone()).filter(|c| !c.is_empty());
            err.status = error.major_error_code.parse().ok();
        }
        err.message = message;
        err.with_state(status)
    }
}

impl VcdTask {
    fn cancel(&self) -> RhaiResult<Self> {
        let TaskJob { vcd, url } = self.job();
        vcd.run(vcd.client.cancel_task(url))?;
        self.refresh()
    }
}

/// A stand-in for a task not read yet: queued, at the URL the server handed out.
fn queued(url: &Url) -> Task {
    let uuid = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default();
    Task {
        xmlns: String::new(),
        status: TaskStatus::Queued.as_str().to_owned(),
        name: "task".to_owned(),
        id: format!("urn:vcloud:task:{uuid}"),
        href: url.to_string(),
        task_type: String::new(),
        operation: String::new(),
        operation_name: String::new(),
        service_namespace: String::new(),
        start_time: None,
        end_time: None,
        expiry_time: None,
        cancel_requested: false,
        owner: None,
        user: None,
        organization: None,
        progress: Some(0),
        details: None,
        error: None,
    }
}

/// Registers the Cloud Director script surface.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    Vcd::register(
        engine,
        host,
        "/// The Cloud Director target `name` from the target file.",
        "/// The target's name, as `print` and the REPL show it.",
    );
    let this = Vcd::this();
    let this = this.as_str();
    FuncRegistration::new("api_version")
        .with_comments(["/// The newest API version the server offers (asked once)."])
        .with_params_info([this, "String"])
        .register_into_engine(engine, |vcd: &mut Vcd| vcd.run(vcd.client.api_version()));
    Vcd::register_listing(
        engine,
        ("entity_types", "Array"),
        (
            "/// Every entity type, as maps with the vendor's field names.\n/// Options: `filter` (FIQL, e.g. \"nss==vm\").",
            "/// Every entity type.",
        ),
        |vcd: &mut Vcd, options| vcd.entity_types(options),
    );
    FuncRegistration::new("entities")
        .with_comments(["/// Every entity of the types `type_urn` names, all pages: a full URN (one\n/// version), a URN without version (all versions) or a version prefix (`…:1.0`).\n/// Options: `filter` (FIQL, e.g. \"entityState==RESOLVED\"), `page_size` (1..128)."])
        .with_params_info([this, "type_urn: &str", "options: Map", "Array"])
        .register_into_engine(engine, |vcd: &mut Vcd, urn: &str, options: Map| vcd.entities(urn, options));
    FuncRegistration::new("entities")
        .with_comments(["/// Every entity of the types `type_urn` names."])
        .with_params_info([this, "type_urn: &str", "Array"])
        .register_into_engine(engine, |vcd: &mut Vcd, urn: &str| {
            vcd.entities(urn, Map::new())
        });
    Vcd::register_lookups(
        engine,
        "Map",
        &[
            (
                "entity_type",
                "urn: &str",
                "/// One entity type by its full URN; `not_found` when there is none.",
                |vcd, urn| wire_value(&vcd.run(vcd.client.entity_type(urn))?),
            ),
            (
                "entity",
                "id: &str",
                "/// One entity by id, with its `etag`.",
                |vcd, id| {
                    let tagged = vcd.run(vcd.client.entity(id))?;
                    let mut map: Map = wire_value(&tagged.entity)?.try_cast().unwrap_or_default();
                    map.insert(
                        "etag".into(),
                        tagged.etag.map_or(Dynamic::UNIT, Dynamic::from),
                    );
                    Ok(map.into())
                },
            ),
            (
                "resolve",
                "id: &str",
                "/// Validates an entity against its type's schema; returns its new state.",
                |vcd, id| wire_value(&vcd.run(vcd.client.resolve(id))?),
            ),
        ],
    );
    FuncRegistration::new("migrate_entities")
        .with_comments(["/// Migrates every instance of the types `type_urn` names to `target` (a full\n/// URN); returns the task. Options: `target` (required), `force` (default false:\n/// RESOLVED instances invalid against the target are left alone).\n/// Some instances may be skipped; `import \"cutover/vcd\"` re-runs until none are left."])
        .with_params_info([this, "type_urn: &str", "options: Map", "VcdTask"])
        .register_into_engine(engine, |vcd: &mut Vcd, urn: &str, options: Map| vcd.migrate_entities(urn, options));
    register_task(engine);
}

fn register_task(engine: &mut Engine) {
    job::register::<TaskJob>(engine);
    let wait = |t: &VcdTask, options| t.wait_until("wait", TaskStatus::Success, options);
    job::method_with(
        engine,
        ("wait", "options: Map"),
        &format!(
            "/// Polls until the task succeeds; fails with the task's `Error` when it ends in\n/// error, canceled or aborted.\n{}",
            options_doc(TaskJob::KIND.waits.timeout, TaskJob::KIND.waits.every)
        ),
        wait,
    );
    job::method(
        engine,
        "wait",
        "/// `wait` with the default options.",
        move |t| wait(t, Map::new()),
    );
    job::method(
        engine,
        "cancel",
        "/// Asks the server to cancel the task; returns it re-read.",
        VcdTask::cancel,
    );
}

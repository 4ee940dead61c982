//! Rhai bindings for the OVF import session: `vcenter("NAME").ovf_import(#{ … })` and its
//! handle with `state`, `progress`, `files`, `errors`, `vm_id`, `refresh()`,
//! `try_instantiate()`, `instantiate()`, `wait_for()` and `delete()`; `push()` is in
//! [`super::ovf_push_script`].

use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map};
use serde_json::Value;

use crate::api_error::ApiError;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::job::{self, Docs, Handle, Job, Kind, Names, Waits, wire_value};
use crate::script::options::Options;
use crate::script::remote::RemoteJob;
use crate::script::wait_log::Reading;
use crate::vendors::vcenter::client::VcenterClient;
use crate::vendors::vcenter::ovf_wire::{
    CreateRequest, CreateSpec, ImportInfo, ImportState, SourceType,
};
use crate::vendors::vcenter::script::Vcenter;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// An import session handle; copies share one snapshot.
pub type OvfImport = Handle<OvfJob>;

/// An OVF import session of a target, as its handle reaches it.
pub type OvfJob = RemoteJob<VcenterClient>;

job::job_states!(ImportState, ImportState::ALL, success: ImportState::ImportCompleted);

impl Job for OvfJob {
    type Snapshot = ImportInfo;
    type State = ImportState;

    const KIND: Kind = Kind::new(
        Names {
            type_name: "OvfImport",
            param: "session",
            state_noun: "an import session state",
        },
        Waits {
            timeout: Duration::from_secs(3600),
            every: Duration::from_secs(5),
        },
        Docs {
            refresh: "/// Re-reads the import session; returns it.",
            wait_for: "/// Polls until the session reaches `state`; fails at once, with the session's\n/// first error (and its place in the descriptor), when it ends otherwise.",
            to_map: "/// Every field of the session as a map with the vendor's field names, and its `id`.",
            to_string: "/// `ID STATE PROGRESS%`, as `print` and the REPL show the session.",
        },
    )
    .waiting_as("ovf.wait_for");

    const OBJECT: &'static str = crate::vendors::vcenter::client::OVF_SESSION;

    fn read(&self) -> Result<ImportInfo, ApiError> {
        self.remote
            .host()
            .block_on(self.remote.client().ovf_session(&self.id))
    }

    fn state(info: &ImportInfo) -> Option<ImportState> {
        Some(info.state)
    }

    fn planned(&self, last: &ImportInfo, state: ImportState) -> ImportInfo {
        ImportInfo {
            state,
            ..last.clone()
        }
    }

    /// What a wait sees in the session: its state and progress.
    fn reading(&self, info: &ImportInfo) -> Reading {
        let percent = u32::try_from(info.progress.clamp(0, 100)).ok();
        Reading::new(
            format!("import session `{}`", self.id),
            info.state.as_str(),
            percent,
        )
    }

    fn describe(&self, info: &ImportInfo) -> String {
        format!("{} {} {}%", self.id, info.state.as_str(), info.progress)
    }

    fn field(&self, info: &ImportInfo, name: &str) -> Dynamic {
        if name == "id" {
            return self.id.clone().into();
        }
        serde_json::to_value(info)
            .ok()
            .and_then(|v| v.get(name).cloned())
            .and_then(|v| rhai::serde::to_dynamic(v).ok())
            .unwrap_or(Dynamic::UNIT)
    }

    fn properties() -> Vec<String> {
        [
            "id",
            "state",
            "progress",
            "files",
            "errors",
            "warnings",
            "information",
            "vm_id",
            "vapp_id",
            "file_transfer_mode",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// The session's first problem, with the place in the descriptor it points at.
    fn why(info: &ImportInfo) -> Option<String> {
        let problem = problem(info);
        problem.strip_prefix(": ").map(str::to_owned)
    }
}

impl OvfImport {
    fn try_instantiate(&self, parameters: Dynamic) -> RhaiResult<Dynamic> {
        let parameters = parameter_list("try_instantiate", parameters)?;
        let OvfJob { remote, id } = self.job();
        wire_value(&remote.run(remote.client().ovf_try_instantiate(id, parameters))?)
    }

    fn instantiate(&self, parameters: Dynamic) -> RhaiResult<Self> {
        let parameters = parameter_list("instantiate", parameters)?;
        let OvfJob { remote, id } = self.job();
        if let Err(err) = remote
            .host()
            .block_on(remote.client().ovf_instantiate(id, parameters))
        {
            return Err(raise(self.with_found_state(err)));
        }
        self.refresh()
    }
}

/// `: ` and the session's first problem, with its place in the descriptor; or nothing.
pub(super) fn problem(info: &ImportInfo) -> String {
    let Some(problem) = info.errors.first() else {
        return String::new();
    };
    if let Some(issue) = problem.issues.first() {
        format!(
            ": {}:{}:{}: {}",
            issue.file, issue.line_number, issue.column_number, issue.message.default_message
        )
    } else if let Some(text) = &problem.message {
        format!(": {}", text.default_message)
    } else {
        String::new()
    }
}

/// Instantiation parameters: an array of OvfParams maps, or one map.
fn parameter_list(operation: &str, parameters: Dynamic) -> RhaiResult<Vec<Value>> {
    let json: Value = rhai::serde::from_dynamic(&parameters)
        .map_err(|err| invalid_argument(operation, err.to_string()))?;
    match json {
        Value::Array(list) => Ok(list),
        Value::Object(_) => Ok(vec![json]),
        Value::Null => Ok(Vec::new()),
        other => Err(invalid_argument(
            operation,
            format!("parameters must be a map or an array of maps, not {other}"),
        )),
    }
}

/// A session a planned create would have made, as it begins (vendor-apis.md §3.4):
/// waiting for its descriptor.
fn planned_session() -> ImportInfo {
    ImportInfo {
        state: ImportState::ImportOvfTransfer,
        progress: 0,
        file_transfer_mode: None,
        files: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        information: Vec::new(),
        vm_id: None,
        vapp_id: None,
        customization_results: None,
    }
}

/// `ovf_import(#{ … })`: builds the create request from the script's options.
fn create_request(options: Map) -> RhaiResult<CreateRequest> {
    const OPERATION: &str = "ovf_import";
    let options = Options::new(
        OPERATION,
        options,
        &[
            "source",
            "url",
            "library_item",
            "resource_pool",
            "folder",
            "host",
            "client_token",
            "flags",
        ],
    )?;
    let source = options.text("source")?.unwrap_or_else(|| "pull".to_owned());
    let source_type = match source.as_str() {
        "pull" => SourceType::PullSource,
        "push" => SourceType::PushSource,
        "library" => SourceType::ContentLibrarySource,
        other => {
            return Err(invalid_argument(
                OPERATION,
                format!("`source` is `{other}`; use pull, push or library"),
            ));
        }
    };
    let url = options.text("url")?;
    let library_item = options.text("library_item")?;
    if source_type == SourceType::PullSource && url.is_none() {
        return Err(invalid_argument(OPERATION, "a pull import needs `url`"));
    }
    if source_type == SourceType::ContentLibrarySource && library_item.is_none() {
        return Err(invalid_argument(
            OPERATION,
            "a library import needs `library_item`",
        ));
    }
    let resource_pool = options.text("resource_pool")?.ok_or_else(|| {
        invalid_argument(
            OPERATION,
            "`resource_pool` is required, e.g. \"resgroup-8\"",
        )
    })?;
    let flags = options
        .text("flags")?
        .map(|f| f.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    Ok(CreateRequest {
        client_token: options.text("client_token")?,
        resource_pool,
        host_system: options.text("host")?,
        folder: options.text("folder")?,
        create_spec: CreateSpec {
            source_type,
            import_flags: flags,
            locale: None,
            pull_source: url,
            ssl_certificate_thumbprint: None,
            push_source_content_type: None,
            push_source_ovf_option: None,
            content_library_item: library_item,
        },
    })
}

/// Registers the OVF import surface.
pub fn register(engine: &mut Engine) {
    job::register::<OvfJob>(engine);
    FuncRegistration::new("ovf_import")
        .with_comments(["/// Starts an OVF import session. Options: `source` (\"pull\", \"push\" or \"library\"),\n/// `url` (pull), `library_item`, `resource_pool` (required), `folder`, `host`,\n/// `client_token` (the same token answers the same session), `flags` (\"LAX,…\")."])
        .with_params_info([Vcenter::this().as_str(), "options: Map", "OvfImport"])
        .register_into_engine(engine, |vc: &mut Vcenter, options: Map| -> RhaiResult<OvfImport> {
            let request = create_request(options)?;
            let id = vc.run(vc.client().ovf_create(&request))?;
            let job = OvfJob {
                remote: vc.clone(),
                id,
            };
            let info = if job::plan_touching(&job).is_some() {
                planned_session()
            } else {
                vc.run(vc.client().ovf_session(&job.id))?
            };
            Ok(Handle::new(job, info))
        });
    Vcenter::register_lookups(
        engine,
        "Map",
        &[
            (
                "preview",
                "descriptor: &str",
                "/// What an OVF descriptor references, checked by vCenter without importing:
/// `#{ files, errors, warnings, information }`. `descriptor` is the XML, or base64
/// of the gzip-compressed XML.",
                |vc, descriptor| wire_value(&vc.run(vc.client().ovf_preview(descriptor))?),
            ),
            (
                "probe",
                "url: &str",
                "/// Whether vCenter can reach a package URL: `#{ status, ssl_thumbprint,
/// error_messages }`, `status` being SUCCESS, INVALID_URL, TIMED_OUT,
/// HOST_NOT_FOUND, CERTIFICATE_ERROR or UNKNOWN_ERROR.",
                |vc, url| wire_value(&vc.run(vc.client().ovf_probe(url))?),
            ),
        ],
    );
    FuncRegistration::new("try_instantiate")
        .with_comments(["/// Checks instantiation parameters (a map or an array of OvfParams maps) without\n/// changing the session; answers `#{ parameters, errors, warnings, information }`."])
        .with_params_info(["session: OvfImport", "parameters: Dynamic", "Map"])
        .register_into_engine(engine, |s: &mut OvfImport, parameters: Dynamic| s.try_instantiate(parameters));
    FuncRegistration::new("instantiate")
        .with_comments(["/// Instantiates the package; only in IMPORT_SELECTING_OVF_PARAMS (`invalid_state`\n/// otherwise, with the state found)."])
        .with_params_info(["session: OvfImport", "parameters: Dynamic", "OvfImport"])
        .register_into_engine(engine, |s: &mut OvfImport, parameters: Dynamic| s.instantiate(parameters));
    crate::vendors::vcenter::ovf_push_script::register(engine);
    FuncRegistration::new("delete")
        .with_comments(["/// Deletes (cancels) the import session."])
        .with_params_info(["session: OvfImport", "()"])
        .register_into_engine(engine, |s: &mut OvfImport| {
            let OvfJob { remote, id } = s.job();
            remote.run(remote.client().ovf_delete(id))
        });
}

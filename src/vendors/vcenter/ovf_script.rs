//! Rhai bindings for the OVF import session: `vcenter("NAME").ovf_import(#{ … })` and its
//! handle with `state`, `progress`, `files`, `errors`, `vm_id`, `refresh()`,
//! `try_instantiate()`, `instantiate()`, `wait_for()` and `delete()`; `push()` is in
//! [`super::ovf_push_script`].

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map};
use serde_json::Value;

use crate::api_error::{ApiError, ErrorKind};
use crate::script::error_value::{invalid_argument, raise};
use crate::script::options::Options;
use crate::script::wait::{Verdict, Wait};
use crate::script::wait_log::{Reading, report};
use crate::vendors::vcenter::ovf_wire::{
    CreateRequest, CreateSpec, ImportInfo, ImportState, SourceType,
};
use crate::vendors::vcenter::script::Vcenter;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

const WAIT_TIMEOUT: Duration = Duration::from_secs(3600);
const WAIT_EVERY: Duration = Duration::from_secs(5);

/// An import session handle; copies share one snapshot.
#[derive(Clone)]
pub struct OvfImport {
    pub(super) vcenter: Vcenter,
    pub(super) id: String,
    info: Arc<RwLock<ImportInfo>>,
}

impl OvfImport {
    pub(super) fn snapshot(&self) -> ImportInfo {
        self.info
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn field(&self, name: &str) -> Dynamic {
        if name == "id" {
            return self.id.clone().into();
        }
        serde_json::to_value(self.snapshot())
            .ok()
            .and_then(|v| v.get(name).cloned())
            .and_then(|v| rhai::serde::to_dynamic(v).ok())
            .unwrap_or(Dynamic::UNIT)
    }

    pub(super) fn refresh(&self) -> RhaiResult<Self> {
        let info = self
            .vcenter
            .run(self.vcenter.client().ovf_session(&self.id))?;
        self.store(info);
        Ok(self.clone())
    }

    /// Keeps a fresh reading of the session.
    fn store(&self, info: ImportInfo) {
        report(reading(&self.id, &info));
        *self.info.write().unwrap_or_else(PoisonError::into_inner) = info;
    }

    fn try_instantiate(&self, parameters: Dynamic) -> RhaiResult<Dynamic> {
        let parameters = parameter_list("try_instantiate", parameters)?;
        let result = self.vcenter.run(
            self.vcenter
                .client()
                .ovf_try_instantiate(&self.id, parameters),
        )?;
        rhai::serde::to_dynamic(serde_json::to_value(result).unwrap_or_default())
    }

    fn instantiate(&self, parameters: Dynamic) -> RhaiResult<Self> {
        let parameters = parameter_list("instantiate", parameters)?;
        let client = self.vcenter.client();
        if let Err(mut err) = self
            .vcenter
            .host()
            .block_on(client.ovf_instantiate(&self.id, parameters))
        {
            if err.kind == ErrorKind::InvalidState && self.refresh().is_ok() {
                err.state = Some(self.snapshot().state.as_str().to_owned());
            }
            return Err(raise(err));
        }
        self.refresh()
    }

    fn wait_for(&self, state: &str, options: Map) -> RhaiResult<Self> {
        let wanted = ImportState::parse(state).ok_or_else(|| {
            invalid_argument(
                "ovf.wait_for",
                format!("`{state}` is not an import session state, e.g. IMPORT_COMPLETED"),
            )
        })?;
        let client = self.vcenter.client();
        let wait = Wait::new(
            "ovf.wait_for",
            client.target(),
            options,
            (WAIT_TIMEOUT, WAIT_EVERY),
        )?
        .of(reading(&self.id, &self.snapshot()).what, wanted.as_str());
        let read = || self.vcenter.host().block_on(client.ovf_session(&self.id));
        let judge = |info: &ImportInfo| {
            // The handle shows every reading, so a script that catches the error sees
            // the state and errors the session ended with.
            self.store(info.clone());
            if info.state == wanted {
                Verdict::Reached
            } else if info.state.is_terminal() {
                Verdict::Ended(Box::new(self.ended_early(info, wanted)))
            } else {
                Verdict::Waiting
            }
        };
        wait.run(self.vcenter.host(), read, judge, |info| {
            reading(&self.id, info)
        })?;
        Ok(self.clone())
    }

    /// The error for a session that ended otherwise, with its first problem and the
    /// place in the descriptor it points at.
    fn ended_early(&self, info: &ImportInfo, wanted: ImportState) -> ApiError {
        let message = format!(
            "import session `{}` reached {} while waiting for {}{}",
            self.id,
            info.state.as_str(),
            wanted.as_str(),
            problem(info)
        );
        ApiError::new(ErrorKind::InvalidState, message).with_state(info.state.as_str())
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

/// What a wait sees in import session `id`: its state and progress.
fn reading(id: &str, info: &ImportInfo) -> Reading {
    let percent = u32::try_from(info.progress.clamp(0, 100)).ok();
    Reading::new(
        format!("import session `{id}`"),
        info.state.as_str(),
        percent,
    )
}

/// Registers the OVF import surface.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<OvfImport>("OvfImport");
    FuncRegistration::new("ovf_import")
        .with_comments(["/// Starts an OVF import session. Options: `source` (\"pull\", \"push\" or \"library\"),\n/// `url` (pull), `library_item`, `resource_pool` (required), `folder`, `host`,\n/// `client_token` (the same token answers the same session), `flags` (\"LAX,…\")."])
        .with_params_info(["vcenter: Vcenter", "options: Map", "OvfImport"])
        .register_into_engine(engine, |vc: &mut Vcenter, options: Map| -> RhaiResult<OvfImport> {
            let request = create_request(options)?;
            let id = vc.run(vc.client().ovf_create(&request))?;
            let info = vc.run(vc.client().ovf_session(&id))?;
            report(reading(&id, &info));
            Ok(OvfImport { vcenter: vc.clone(), id, info: Arc::new(RwLock::new(info)) })
        });
    FuncRegistration::new("preview")
        .with_comments([
            "/// What an OVF descriptor references, checked by vCenter without importing:
/// `#{ files, errors, warnings, information }`. `descriptor` is the XML, or base64
/// of the gzip-compressed XML.",
        ])
        .with_params_info(["vcenter: Vcenter", "descriptor: &str", "Map"])
        .register_into_engine(
            engine,
            |vc: &mut Vcenter, descriptor: &str| -> RhaiResult<Dynamic> {
                let preview = vc.run(vc.client().ovf_preview(descriptor))?;
                rhai::serde::to_dynamic(serde_json::to_value(preview).unwrap_or_default())
            },
        );
    FuncRegistration::new("probe")
        .with_comments([
            "/// Whether vCenter can reach a package URL: `#{ status, ssl_thumbprint,
/// error_messages }`, `status` being SUCCESS, INVALID_URL, TIMED_OUT,
/// HOST_NOT_FOUND, CERTIFICATE_ERROR or UNKNOWN_ERROR.",
        ])
        .with_params_info(["vcenter: Vcenter", "url: &str", "Map"])
        .register_into_engine(
            engine,
            |vc: &mut Vcenter, url: &str| -> RhaiResult<Dynamic> {
                let probe = vc.run(vc.client().ovf_probe(url))?;
                rhai::serde::to_dynamic(serde_json::to_value(probe).unwrap_or_default())
            },
        );
    for field in [
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
    ] {
        engine.register_get(field, move |s: &mut OvfImport| s.field(field));
    }
    FuncRegistration::new("refresh")
        .with_comments(["/// Re-reads the import session; returns it."])
        .with_params_info(["session: OvfImport", "OvfImport"])
        .register_into_engine(engine, |s: &mut OvfImport| s.refresh());
    FuncRegistration::new("try_instantiate")
        .with_comments(["/// Checks instantiation parameters (a map or an array of OvfParams maps) without\n/// changing the session; answers `#{ parameters, errors, warnings, information }`."])
        .with_params_info(["session: OvfImport", "parameters: Dynamic", "Map"])
        .register_into_engine(engine, |s: &mut OvfImport, parameters: Dynamic| s.try_instantiate(parameters));
    FuncRegistration::new("instantiate")
        .with_comments(["/// Instantiates the package; only in IMPORT_SELECTING_OVF_PARAMS (`invalid_state`\n/// otherwise, with the state found)."])
        .with_params_info(["session: OvfImport", "parameters: Dynamic", "OvfImport"])
        .register_into_engine(engine, |s: &mut OvfImport, parameters: Dynamic| s.instantiate(parameters));
    crate::vendors::vcenter::ovf_push_script::register(engine);
    FuncRegistration::new("wait_for")
        .with_comments(["/// Polls until the session reaches `state`; fails at once, with the session's\n/// first error (and its place in the descriptor), when it ends otherwise.\n/// Options: `timeout` (default \"1h\"), `every` (\"5s\")."])
        .with_params_info(["session: OvfImport", "state: &str", "options: Map", "OvfImport"])
        .register_into_engine(engine, |s: &mut OvfImport, state: &str, options: Map| s.wait_for(state, options));
    FuncRegistration::new("wait_for")
        .with_comments(["/// `wait_for` with the default options."])
        .with_params_info(["session: OvfImport", "state: &str", "OvfImport"])
        .register_into_engine(engine, |s: &mut OvfImport, state: &str| {
            s.wait_for(state, Map::new())
        });
    FuncRegistration::new("to_string")
        .with_comments(["/// `ID STATE PROGRESS%`, as `print` and the REPL show the session."])
        .with_params_info(["session: OvfImport", "String"])
        .register_into_engine(engine, |s: &mut OvfImport| {
            let info = s.snapshot();
            format!("{} {} {}%", s.id, info.state.as_str(), info.progress)
        });
    FuncRegistration::new("delete")
        .with_comments(["/// Deletes (cancels) the import session."])
        .with_params_info(["session: OvfImport", "()"])
        .register_into_engine(engine, |s: &mut OvfImport| {
            s.vcenter.run(s.vcenter.client().ovf_delete(&s.id))
        });
}

//! Rhai bindings for PowerStore: `powerstore("NAME")`, its import sessions as handles with
//! read-only properties, and the session operations `cutover`, `cancel`, `pause`,
//! `resume`, `refresh` and `wait_for`.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rhai::{Array, Dynamic, Engine, EvalAltResult, FuncRegistration, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::config::TargetKind;
use crate::script::Host;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::options::Options;
use crate::script::wait::{Verdict, Wait};
use crate::script::wait_log::{Reading, report};
use crate::suggest::{closest, did_you_mean};
use crate::vendors::powerstore::client::{PowerStoreClient, SessionQuery};
use crate::vendors::powerstore::wire::{IMPORT_SESSION_FIELDS, ImportSession, ImportState};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

const WAIT_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
const WAIT_EVERY: Duration = Duration::from_secs(30);

/// A PowerStore target, as scripts hold it.
#[derive(Clone)]
pub struct PowerStore {
    client: Arc<PowerStoreClient>,
    host: Arc<Host>,
}

/// An import session handle; copies share one snapshot, so `refresh()` updates them all.
#[derive(Clone)]
pub struct ImportSessionHandle {
    array: PowerStore,
    data: Arc<RwLock<Snapshot>>,
}

/// A session as last read, and its JSON form that properties read from.
struct Snapshot {
    session: ImportSession,
    json: serde_json::Value,
}

impl Snapshot {
    fn new(session: ImportSession) -> Self {
        let json = serde_json::to_value(&session).unwrap_or_default();
        Self { session, json }
    }
}

/// Every property of a session handle: the documented attributes and the embedded
/// remote system.
fn properties() -> impl Iterator<Item = &'static str> {
    IMPORT_SESSION_FIELDS
        .iter()
        .copied()
        .chain(["remote_system"])
}

/// A session as waits and logs name it.
fn what(session: &ImportSession) -> String {
    format!(
        "import session `{}`",
        session.name.as_deref().unwrap_or(&session.id)
    )
}

/// What a wait sees in a session: its state and copy progress.
fn reading(session: &ImportSession) -> Reading {
    Reading::new(
        what(session),
        session
            .state
            .map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
        session.progress_percentage.map(u32::from),
    )
}

impl PowerStore {
    fn run<T>(&self, future: impl Future<Output = Result<T, ApiError>>) -> RhaiResult<T> {
        self.host.block_on(future).map_err(raise)
    }

    fn handle(&self, session: ImportSession) -> ImportSessionHandle {
        report(reading(&session));
        ImportSessionHandle {
            array: self.clone(),
            data: Arc::new(RwLock::new(Snapshot::new(session))),
        }
    }

    fn import_sessions(&self, options: Map) -> RhaiResult<Array> {
        let options = Options::new(
            "import_sessions",
            options,
            &["state", "name", "limit", "page_size"],
        )?;
        let state = options
            .text("state")?
            .map(|s| parse_state("import_sessions", &s))
            .transpose()?;
        let size = |key: &str| -> RhaiResult<Option<usize>> {
            let n = options.count(key, 0)?;
            Ok((n > 0).then(|| usize::try_from(n).unwrap_or(usize::MAX)))
        };
        let query = SessionQuery {
            state,
            name: options.text("name")?,
            limit: size("limit")?,
            page_size: size("page_size")?,
        };
        let sessions = self.run(self.client.import_sessions(&query))?;
        Ok(sessions
            .into_iter()
            .map(|s| Dynamic::from(self.handle(s)))
            .collect())
    }
}

impl ImportSessionHandle {
    fn snapshot(&self) -> ImportSession {
        self.data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .session
            .clone()
    }

    fn id(&self) -> String {
        self.snapshot().id
    }

    fn label(&self) -> String {
        let s = self.snapshot();
        s.name.unwrap_or(s.id)
    }

    fn field(&self, name: &str) -> Dynamic {
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        data.json
            .get(name)
            .and_then(|v| rhai::serde::to_dynamic(v).ok())
            .unwrap_or(Dynamic::UNIT)
    }

    fn to_map(&self) -> Map {
        properties()
            .map(|name| (name.into(), self.field(name)))
            .collect()
    }

    fn store(&self, session: ImportSession) {
        report(reading(&session));
        *self.data.write().unwrap_or_else(PoisonError::into_inner) = Snapshot::new(session);
    }

    fn refresh(&self) -> RhaiResult<Self> {
        let id = self.id();
        let session = self.array.run(self.array.client.import_session(&id))?;
        self.store(session);
        Ok(self.clone())
    }

    /// Runs a mutation, then re-reads the session so its properties show the new state.
    /// A refused mutation reports the state the session was found in.
    fn mutate(
        &self,
        operation: &str,
        future: impl Future<Output = Result<(), ApiError>>,
    ) -> RhaiResult<Self> {
        tracing::info!(target = self.array.client.target(), session = %self.label(), "{operation}");
        if let Err(mut err) = self.array.host.block_on(future) {
            if err.kind == ErrorKind::InvalidState && self.refresh().is_ok() {
                err.state = self.snapshot().state.map(|s| s.to_string());
            }
            return Err(raise(err));
        }
        if let Err(err) = self.refresh() {
            tracing::warn!(
                "{operation} was applied but re-reading the session failed: {}",
                crate::script::diagnostic::headline(&err)
            );
        }
        Ok(self.clone())
    }

    fn wait_for(&self, state: &str, options: Map) -> RhaiResult<Self> {
        let wanted = parse_state("wait_for", state)?;
        let client = &self.array.client;
        let wait = Wait::new(
            "wait_for",
            client.target(),
            options,
            (WAIT_TIMEOUT, WAIT_EVERY),
        )?
        .of(what(&self.snapshot()), wanted.to_string());
        let read = || self.array.host.block_on(client.import_session(&self.id()));
        let judge = |session: &ImportSession| {
            // The handle shows every reading, so a script that catches the error sees
            // the state the session ended in.
            self.store(session.clone());
            tracing::debug!(session = %self.label(), state = ?session.state, progress = session.progress_percentage, "polled");
            match session.state {
                Some(found) if found == wanted => Verdict::Reached,
                Some(found) if found.is_terminal() => {
                    let failure = session.error.as_ref().map(|e| e.message_l10n.clone());
                    Verdict::Ended(Box::new(self.ended_early(wanted, found, failure)))
                }
                _ => Verdict::Waiting,
            }
        };
        wait.run(&self.array.host, read, judge, reading)?;
        Ok(self.clone())
    }

    fn ended_early(
        &self,
        wanted: ImportState,
        found: ImportState,
        failure: Option<String>,
    ) -> ApiError {
        let mut message = format!(
            "import session `{}` reached {found} while waiting for {wanted}",
            self.label()
        );
        if let Some(failure) = failure {
            message.push_str(&format!(": {failure}"));
        }
        ApiError::new(ErrorKind::InvalidState, message).with_state(found.to_string())
    }
}

fn parse_state(operation: &str, text: &str) -> RhaiResult<ImportState> {
    ImportState::parse(text).ok_or_else(|| {
        let states = ImportState::ALL.map(ImportState::as_str);
        let closest = closest(text, states).map_or_else(
            || format!("; use one of {}", states.join(", ")),
            did_you_mean,
        );
        invalid_argument(
            operation,
            format!("`{text}` is not an import session state{closest}"),
        )
    })
}

/// Registers the PowerStore script surface.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    engine.register_type_with_name::<PowerStore>("PowerStore");
    engine.register_type_with_name::<ImportSessionHandle>("ImportSession");

    let h = host.clone();
    FuncRegistration::new("powerstore")
        .with_comments(["/// The PowerStore target `name` from the target file."])
        .with_params_info(["name: &str", "PowerStore"])
        .register_into_engine(engine, move |name: &str| -> RhaiResult<PowerStore> {
            let clock = h.clock().clone();
            let client = h
                .client(TargetKind::Powerstore, name, |t, calls| {
                    PowerStoreClient::new(t, calls, clock)
                })
                .map_err(raise)?;
            Ok(PowerStore {
                client,
                host: h.clone(),
            })
        });

    FuncRegistration::new("import_sessions")
        .with_comments(["/// Import sessions, every page. Options: `state` (e.g. \"Copy_In_Progress\"),\n/// `name` (exact, or with `*` wildcards), `limit`, `page_size` (sessions per request)."])
        .with_params_info(["array: PowerStore", "options: Map", "Array"])
        .register_into_engine(engine, |array: &mut PowerStore, options: Map| array.import_sessions(options));
    FuncRegistration::new("import_sessions")
        .with_comments(["/// Every import session of the array."])
        .with_params_info(["array: PowerStore", "Array"])
        .register_into_engine(engine, |array: &mut PowerStore| {
            array.import_sessions(Map::new())
        });
    FuncRegistration::new("import_session")
        .with_comments(["/// One import session by id or by name; `not_found` when there is none."])
        .with_params_info(["array: PowerStore", "id_or_name: &str", "ImportSession"])
        .register_into_engine(
            engine,
            |array: &mut PowerStore, id: &str| -> RhaiResult<ImportSessionHandle> {
                let session = array.run(array.client.import_session(id))?;
                Ok(array.handle(session))
            },
        );
    engine.register_get("name", |array: &mut PowerStore| {
        array.client.target().to_owned()
    });
    FuncRegistration::new("to_string")
        .with_comments(["/// The target's name, as `print` and the REPL show the array."])
        .with_params_info(["array: PowerStore", "String"])
        .register_into_engine(engine, |array: &mut PowerStore| {
            array.client.target().to_owned()
        });

    engine.register_get("is_terminal", |s: &mut ImportSessionHandle| {
        s.snapshot().state.is_some_and(ImportState::is_terminal)
    });
    for field in properties() {
        engine.register_get(field, move |s: &mut ImportSessionHandle| s.field(field));
    }
    register_session_methods(engine);
}

fn register_session_methods(engine: &mut Engine) {
    FuncRegistration::new("refresh")
        .with_comments(["/// Re-reads the session from the array; returns the session."])
        .with_params_info(["session: ImportSession", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| s.refresh());
    FuncRegistration::new("cutover")
        .with_comments([
            "/// Commits a session that is `Ready_For_Cutover`; `invalid_state` otherwise.",
        ])
        .with_params_info(["session: ImportSession", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| {
            let id = s.id();
            s.mutate("cutover", s.array.client.cutover(&id))
        });
    FuncRegistration::new("cancel")
        .with_comments(["/// Cancels the session (from Scheduled, Queued, Copy_In_Progress,\n/// Ready_For_Cutover or Paused); the host goes back to the source volume."])
        .with_params_info(["session: ImportSession", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| {
            let id = s.id();
            s.mutate("cancel", s.array.client.cancel(&id, false))
        });
    FuncRegistration::new("cancel")
        .with_comments(["/// Cancels the session; `#{ force: true }` terminates it even when the source\n/// or host cannot be reached, without rolling back."])
        .with_params_info(["session: ImportSession", "options: Map", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle, options: Map| {
            let force = Options::new("cancel", options, &["force"])?.flag("force", false)?;
            let id = s.id();
            s.mutate("cancel", s.array.client.cancel(&id, force))
        });
    FuncRegistration::new("pause")
        .with_comments(["/// Pauses a session in Copy_In_Progress."])
        .with_params_info(["session: ImportSession", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| {
            let id = s.id();
            s.mutate("pause", s.array.client.pause(&id))
        });
    FuncRegistration::new("resume")
        .with_comments(["/// Resumes a Paused session."])
        .with_params_info(["session: ImportSession", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| {
            let id = s.id();
            s.mutate("resume", s.array.client.resume(&id))
        });
    FuncRegistration::new("wait_for")
        .with_comments(["/// Polls until the session reaches `state`. Fails at once, naming the state it\n/// found, when the session ends in another terminal state.\n/// Options: `timeout` (default \"6h\"), `every` (\"30s\")."])
        .with_params_info(["session: ImportSession", "state: &str", "options: Map", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle, state: &str, options: Map| s.wait_for(state, options));
    FuncRegistration::new("wait_for")
        .with_comments(["/// `wait_for` with the default options."])
        .with_params_info(["session: ImportSession", "state: &str", "ImportSession"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle, state: &str| {
            s.wait_for(state, Map::new())
        });
    FuncRegistration::new("to_map")
        .with_comments([
            "/// Every attribute of the session as a map with the vendor's field names.",
        ])
        .with_params_info(["session: ImportSession", "Map"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| s.to_map());
    FuncRegistration::new("to_string")
        .with_comments(["/// One line: name, state and, while copying, the percent done."])
        .with_params_info(["session: ImportSession", "String"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| describe(s));
    FuncRegistration::new("to_debug")
        .with_comments(["/// The same line as `to_string`, for `debug` and the REPL."])
        .with_params_info(["session: ImportSession", "String"])
        .register_into_engine(engine, |s: &mut ImportSessionHandle| describe(s));
}

/// One line for the REPL and `print`: `wave1-lun01 Copy_In_Progress 37%`.
fn describe(s: &ImportSessionHandle) -> String {
    let snapshot = s.snapshot();
    let state = snapshot.state.map_or("?".to_owned(), |s| s.to_string());
    match snapshot.progress_percentage {
        Some(p) if snapshot.state == Some(ImportState::Copy_In_Progress) => {
            format!("{} {state} {p}%", s.label())
        }
        _ => format!("{} {state}", s.label()),
    }
}

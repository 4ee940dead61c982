//! Rhai bindings for PowerStore: `powerstore("NAME")`, its import sessions as handles with
//! read-only properties, and the session operations `cutover`, `cancel`, `pause`,
//! `resume`, `refresh` and `wait_for`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use crate::api_error::ApiError;
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::job::{self, Docs, Handle, HandleKind, Job, Kind, Names, Waits, parse_state};
use crate::script::options::Options;
use crate::script::remote::{Remote, RemoteJob, remote_client};
use crate::script::shared_read::{Fetch, SharedReads};
use crate::script::wait_log::Reading;
use crate::vendors::powerstore::client::{PowerStoreClient, SessionQuery, looks_like_id};
use crate::vendors::powerstore::wire::{IMPORT_SESSION_FIELDS, ImportSession, ImportState};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// What a step records instead of the array or one of its sessions.
pub const HANDLES: [HandleKind; 2] = HandleKind::pair::<PowerStore, SessionJob>();

/// A PowerStore target, as scripts hold it.
pub type PowerStore = Remote<PowerStoreClient>;

remote_client!(PowerStoreClient, "PowerStore", param: "array", super::KIND);

/// An import session handle; copies share one snapshot, so `refresh()` updates them all.
pub type ImportSessionHandle = Handle<SessionJob>;

/// An import session of an array, as its handle reaches it.
pub type SessionJob = RemoteJob<PowerStoreClient>;

/// A session as last read, and its JSON form that properties read from.
#[derive(Clone)]
pub struct Snapshot {
    session: ImportSession,
    /// The session by its wire names, made when a script first reads a property: a
    /// wait or a loop of reads never needs it.
    json: OnceLock<serde_json::Value>,
}

impl Snapshot {
    fn new(session: ImportSession) -> Self {
        Self {
            session,
            json: OnceLock::new(),
        }
    }

    fn json(&self) -> &serde_json::Value {
        // Plain fields and maps: serialising them cannot fail.
        self.json
            .get_or_init(|| serde_json::to_value(&self.session).unwrap_or(serde_json::Value::Null))
    }
}

/// A session as waits and logs name it.
fn what(session: &ImportSession) -> String {
    format!(
        "import session `{}`",
        session.name.as_deref().unwrap_or(&session.id)
    )
}

job::job_states!(ImportState, ImportState::ALL, success: ImportState::Import_Completed);

impl Job for SessionJob {
    type Snapshot = Snapshot;
    type State = ImportState;

    const KIND: Kind = Kind::new(
        Names {
            type_name: "ImportSession",
            param: "session",
            state_noun: "an import session state",
        },
        Waits {
            timeout: Duration::from_secs(6 * 3600),
            every: Duration::from_secs(30),
        },
        Docs {
            refresh: "/// Re-reads the session from the array; returns the session.",
            wait_for: "/// Polls until the session reaches `state`. Fails at once, naming the state it\n/// found, when the session ends in another terminal state.",
            to_map: "/// Every attribute of the session as a map with the vendor's field names.",
            to_string: "/// One line: name, state and, while copying, the percent done.",
        },
    );

    const OBJECT: &'static str = crate::vendors::powerstore::client::SESSION;

    fn read(&self) -> Result<Snapshot, ApiError> {
        let session = self
            .remote
            .host
            .block_on(self.remote.client.import_session(&self.id))?;
        Ok(Snapshot::new(session))
    }

    /// The waits on one array read their sessions together, `id=in.(…)`.
    fn shared_reads(&self) -> Option<(Arc<SharedReads<Snapshot>>, String)> {
        // Only a UUID can go in the list's filter as it is.
        if !looks_like_id(&self.id) {
            return None;
        }
        let client = &self.remote.client;
        let host = &self.remote.host;
        let reads = host.per_target(super::KIND, client.target(), || {
            SharedReads::new(
                host.clock().clone(),
                host.runtime().clone(),
                host.closing(),
                list_by_id(Arc::clone(client)),
            )
        });
        Some((reads, self.id.clone()))
    }

    fn state(snapshot: &Snapshot) -> Option<ImportState> {
        snapshot.session.state
    }

    fn planned(&self, last: &Snapshot, state: ImportState) -> Snapshot {
        let mut session = last.session.clone();
        session.state = Some(state);
        Snapshot::new(session)
    }

    /// What a wait sees in a session: its state and copy progress.
    fn reading(&self, snapshot: &Snapshot) -> Reading {
        let session = &snapshot.session;
        Reading::new(
            what(session),
            session
                .state
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
            session.progress_percentage.map(u32::from),
        )
    }

    /// One line for the REPL and `print`: `wave1-lun01 Copy_In_Progress 37%`.
    fn describe(&self, snapshot: &Snapshot) -> String {
        let session = &snapshot.session;
        let label = session.name.as_deref().unwrap_or(&session.id);
        let state = session.state.map_or("?".to_owned(), |s| s.to_string());
        match session.progress_percentage {
            Some(p) if session.state == Some(ImportState::Copy_In_Progress) => {
                format!("{label} {state} {p}%")
            }
            _ => format!("{label} {state}"),
        }
    }

    /// The documented attributes and the embedded remote system.
    fn properties() -> Vec<String> {
        IMPORT_SESSION_FIELDS
            .iter()
            .copied()
            .chain(["remote_system"])
            .map(str::to_owned)
            .collect()
    }

    fn field(&self, snapshot: &Snapshot, name: &str) -> Dynamic {
        snapshot
            .json()
            .get(name)
            .and_then(|v| rhai::serde::to_dynamic(v).ok())
            .unwrap_or(Dynamic::UNIT)
    }

    fn why(snapshot: &Snapshot) -> Option<String> {
        let error = snapshot.session.error.as_ref()?;
        Some(error.message_l10n.clone())
    }
}

/// How the shared reads of an array read its sessions: one list of them by id.
fn list_by_id(client: Arc<PowerStoreClient>) -> Fetch<Snapshot> {
    Arc::new(move |ids: Vec<String>| {
        let client = Arc::clone(&client);
        Box::pin(async move {
            let sessions = client.import_sessions_by_id(&ids).await?;
            Ok(sessions
                .into_iter()
                .map(|session| (session.id.clone(), Snapshot::new(session)))
                .collect())
        })
    })
}

impl PowerStore {
    fn handle(&self, session: ImportSession) -> ImportSessionHandle {
        let job = SessionJob {
            remote: self.clone(),
            id: session.id.clone(),
        };
        Handle::new(job, Snapshot::new(session))
    }

    fn import_sessions(&self, options: Map) -> RhaiResult<Array> {
        let options = Options::new(
            "import_sessions",
            options,
            &["state", "name", "limit", "page_size"],
        )?;
        let state = options
            .text("state")?
            .map(|s| parse_state::<SessionJob>("import_sessions", &s))
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

/// A change the array makes to a session.
#[derive(Clone, Copy)]
enum Mutation {
    Cutover,
    Cancel { force: bool },
    Pause,
    Resume,
}

impl Mutation {
    /// The operation's name, as logs and errors give it.
    fn name(self) -> &'static str {
        match self {
            Self::Cutover => "cutover",
            Self::Cancel { .. } => "cancel",
            Self::Pause => "pause",
            Self::Resume => "resume",
        }
    }

    /// Sends the change for session `id`.
    fn send(self, array: &PowerStore, id: &str) -> Result<(), ApiError> {
        let client = &array.client;
        match self {
            Self::Cutover => array.host.block_on(client.cutover(id)),
            Self::Cancel { force } => array.host.block_on(client.cancel(id, force)),
            Self::Pause => array.host.block_on(client.pause(id)),
            Self::Resume => array.host.block_on(client.resume(id)),
        }
    }
}

/// Runs a mutation of session `s`, then re-reads it so its properties show the new
/// state. A refused mutation reports the state the session was found in.
fn mutate(s: &ImportSessionHandle, mutation: Mutation) -> RhaiResult<ImportSessionHandle> {
    let RemoteJob { remote: array, id } = s.job();
    let operation = mutation.name();
    let snapshot = s.snapshot();
    let label = snapshot.session.name.unwrap_or(snapshot.session.id);
    tracing::info!(target = array.client.target(), session = %label, "{operation}");
    if let Err(err) = mutation.send(array, id) {
        return Err(raise(s.with_found_state(err)));
    }
    if let Err(err) = s.refresh() {
        tracing::warn!(
            "{operation} was applied but re-reading the session failed: {}",
            crate::script::diagnostic::headline(&err)
        );
    }
    Ok(s.clone())
}

/// Registers the PowerStore script surface.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    PowerStore::register(
        engine,
        host,
        "/// The PowerStore target `name` from the target file.",
        "/// The target's name, as `print` and the REPL show the array.",
    );
    job::register::<SessionJob>(engine);

    PowerStore::register_listing(
        engine,
        ("import_sessions", "Array"),
        (
            "/// Import sessions, every page. Options: `state` (e.g. \"Copy_In_Progress\"),\n/// `name` (exact, or with `*` wildcards), `limit`, `page_size` (sessions per request).",
            "/// Every import session of the array.",
        ),
        |array: &mut PowerStore, options| array.import_sessions(options),
    );
    PowerStore::register_lookups(
        engine,
        "ImportSession",
        &[(
            "import_session",
            "id_or_name: &str",
            "/// One import session by id or by name; `not_found` when there is none.",
            |array, id| {
                let session = array.run(array.client.import_session(id))?;
                Ok(Dynamic::from(array.handle(session)))
            },
        )],
    );

    register_session_methods(engine);
}

fn register_session_methods(engine: &mut Engine) {
    use Mutation::{Cancel, Cutover, Pause, Resume};
    for (mutation, doc) in [
        (
            Cutover,
            "/// Commits a session that is `Ready_For_Cutover`; `invalid_state` otherwise.",
        ),
        (
            Cancel { force: false },
            "/// Cancels the session (from Scheduled, Queued, Copy_In_Progress,\n/// Ready_For_Cutover or Paused); the host goes back to the source volume.",
        ),
        (Pause, "/// Pauses a session in Copy_In_Progress."),
        (Resume, "/// Resumes a Paused session."),
    ] {
        job::method::<SessionJob, _>(engine, mutation.name(), doc, move |s| mutate(s, mutation));
    }
    job::method_with::<SessionJob, _>(
        engine,
        ("cancel", "options: Map"),
        "/// Cancels the session; `#{ force: true }` terminates it even when the source\n/// or host cannot be reached, without rolling back.",
        |s, options| {
            let force = Options::new("cancel", options, &["force"])?.flag("force", false)?;
            mutate(s, Cancel { force })
        },
    );
}

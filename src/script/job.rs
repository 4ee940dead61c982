//! One mechanism for every remote job a script holds (an import session, a task): a
//! vendor says how to read its kind of job and what its states mean ([`Job`]), and
//! [`register`] gives the handle `refresh`, `wait_for` with and without options,
//! `to_string`, `to_debug`, `to_map`, its properties and their documentation. So the
//! rules of a wait (fail at once on a wrong terminal state, suggest a close state name,
//! honour `timeout` and `every`) are the same for every vendor. A kind also says how a
//! step records a handle and reopens it on resume ([`HandleKind`]), as does each vendor's
//! connection object ([`Connection`]). A vendor's own methods of a handle are registered
//! with their docs by [`method`] and [`method_with`].

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map, Variant};

use crate::api_error::{ApiError, ErrorKind};
use crate::http::plan::Plan;
use crate::script::Host;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::remote::{Remote, RemoteClient};
use crate::script::shared_read::SharedReads;
use crate::script::wait::{Verdict, Wait, options_doc};
use crate::script::wait_log::{Reading, report};
use crate::suggest::{closest, did_you_mean};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// What stays the same for every job of a kind: its names, wait defaults and the
/// documentation of the functions [`register`] gives it.
pub struct Kind {
    /// The script type name, e.g. `ImportSession`.
    pub type_name: &'static str,
    /// The parameter name in signatures, e.g. `session`.
    pub param: &'static str,
    /// The operation `wait_for` reports in errors, e.g. `ovf.wait_for`.
    pub wait_operation: &'static str,
    /// What a state is called in errors, with its article: "an import session state".
    pub state_noun: &'static str,
    /// `wait_for`'s defaults.
    pub waits: Waits,
    /// What `wait_for` and the kind's own methods answer, as signatures show it: the
    /// handle's type, or `Map`.
    pub answer_type: &'static str,
    pub docs: Docs,
}

impl Kind {
    /// The kind of `names`, whose `wait_for` waits as `waits` says unless told
    /// otherwise, reports its errors as `wait_for` and answers the handle.
    pub const fn new(names: Names, waits: Waits, docs: Docs) -> Self {
        Self {
            type_name: names.type_name,
            param: names.param,
            wait_operation: "wait_for",
            state_noun: names.state_noun,
            waits,
            answer_type: names.type_name,
            docs,
        }
    }

    /// The kind with `wait_for` reporting its errors as `operation`.
    pub const fn waiting_as(self, operation: &'static str) -> Self {
        Self {
            wait_operation: operation,
            ..self
        }
    }

    /// The kind with `wait_for` and its methods answering `answer_type`.
    pub const fn answering(self, answer_type: &'static str) -> Self {
        Self {
            answer_type,
            ..self
        }
    }
}

/// What a kind is called in scripts, signatures and errors.
pub struct Names {
    /// The script type name, e.g. `ImportSession`.
    pub type_name: &'static str,
    /// The parameter name in signatures, e.g. `session`.
    pub param: &'static str,
    /// What a state is called in errors, with its article: "an import session state".
    pub state_noun: &'static str,
}

/// `wait_for`'s defaults: how long it waits at most, and how often it reads the job.
#[derive(Clone, Copy)]
pub struct Waits {
    pub timeout: Duration,
    pub every: Duration,
}

/// The doc comments of the generic functions, with the kind's own words.
pub struct Docs {
    pub refresh: &'static str,
    /// What `wait_for` does; the line of its options is written from the kind's
    /// [`Waits`].
    pub wait_for: &'static str,
    pub to_map: &'static str,
    pub to_string: &'static str,
}

/// A vendor's answer as a script value with the vendor's field names: through its JSON,
/// as the wire has it.
pub fn wire_value(answer: &impl serde::Serialize) -> RhaiResult<Dynamic> {
    let json = serde_json::to_value(answer).map_err(|err| {
        raise(ApiError::new(
            ErrorKind::Validation,
            format!("the vendor's answer cannot be made a script value: {err}"),
        ))
    })?;
    rhai::serde::to_dynamic(json)
}

/// The states of a kind of job: what a wait compares, suggests and reports.
pub trait State: Copy + PartialEq + Send + Sync + 'static {
    /// Every state, for "did you mean" and the list offered when none is close.
    const ALL: &'static [Self];
    /// The vendor's spelling.
    fn name(self) -> &'static str;
    /// A state from a script; the vendor's own spelling rules (case) apply.
    fn parse(text: &str) -> Option<Self>;
    fn is_terminal(self) -> bool;
    fn is_success(self) -> bool;
    fn is_failure(self) -> bool {
        self.is_terminal() && !self.is_success()
    }
}

/// Implements [`State`] for a vendor's state enum from its own `as_str`, `parse` and
/// `is_terminal`, its list of states and the patterns that mean success.
macro_rules! job_states {
    ($state:ty, $all:expr, success: $ok:pat) => {
        impl $crate::script::job::State for $state {
            const ALL: &'static [Self] = &$all;
            fn name(self) -> &'static str {
                <$state>::as_str(self)
            }
            fn parse(text: &str) -> Option<Self> {
                <$state>::parse(text)
            }
            fn is_terminal(self) -> bool {
                <$state>::is_terminal(self)
            }
            fn is_success(self) -> bool {
                matches!(self, $ok)
            }
        }
    };
}
pub(crate) use job_states;

/// How a handle reaches its job: through its target's [`Remote`], by the id it is read
/// by. Most jobs are reached by a client and an id ([`crate::script::remote::RemoteJob`]).
pub trait Reach: Sized {
    /// The client of the job's target.
    type Client: RemoteClient;
    /// The target the job is on, as scripts hold it.
    fn remote(&self) -> &Remote<Self::Client>;
    /// The host the job's reads block on.
    fn host(&self) -> &Host {
        &self.remote().host
    }
    /// The target's name, for errors and for the reference a step records.
    fn target(&self) -> &str {
        self.remote().target()
    }
    /// The id the job is read again by, for the reference a step records; `None` for a
    /// kind there is one of per target.
    fn id(&self) -> Option<String>;
    /// The job `id` names on target `target`, reached through a client built as the
    /// script's constructor builds it; nothing is read yet.
    fn reopen(host: &Arc<Host>, target: &str, id: Option<&str>) -> Result<Self, ApiError>;
}

/// One kind of remote job of a vendor: how to read it, and what its states mean. The
/// implementing value is what the handle needs to reach the job (its client and id).
pub trait Job: Reach + Clone + Send + Sync + 'static {
    /// The job as last read.
    type Snapshot: Clone + Send + Sync + 'static;
    /// Its state.
    type State: State;

    const KIND: Kind;
    /// The object kind its vendor's table of mutations names, e.g. `import session`: a
    /// planned change to the same kind of object with the job's id touches this job.
    const OBJECT: &'static str;

    /// Reads the job now (through the host's `block_on`).
    fn read(&self) -> Result<Self::Snapshot, ApiError>;
    /// Where waits on this job read it together with the other waits on its target (one
    /// list request for all of them, see [`SharedReads`]), and the id it is read by
    /// there; `None` when each wait reads its job alone.
    fn shared_reads(&self) -> Option<(Arc<SharedReads<Self::Snapshot>>, String)> {
        None
    }
    fn state(snapshot: &Self::Snapshot) -> Option<Self::State>;
    /// The job as a planned change leaves it once it reaches `state`: `last` (as last
    /// read, or as the plan made it) showing `state`.
    fn planned(&self, last: &Self::Snapshot, state: Self::State) -> Self::Snapshot;

    /// What a wait and the log see: the job's name, state and progress.
    fn reading(&self, snapshot: &Self::Snapshot) -> Reading;
    /// One line for `print` and the REPL.
    fn describe(&self, snapshot: &Self::Snapshot) -> String;
    /// The property names: the fields a snapshot may have.
    fn properties() -> Vec<String>;
    /// Every field, with the vendor's field names. A vendor gives this or [`Job::field`].
    fn fields(&self, snapshot: &Self::Snapshot) -> Map {
        Self::properties()
            .into_iter()
            .map(|name| {
                let value = self.field(snapshot, &name);
                (name.into(), value)
            })
            .collect()
    }
    /// One field; `()` when absent.
    fn field(&self, snapshot: &Self::Snapshot, name: &str) -> Dynamic {
        self.fields(snapshot).remove(name).unwrap_or(Dynamic::UNIT)
    }

    /// Whether a wait for `wanted` can stop: the job is in another terminal state.
    fn has_ended(snapshot: &Self::Snapshot, wanted: Self::State) -> bool {
        Self::state(snapshot).is_some_and(|s| s != wanted && s.is_terminal())
    }
    /// The job's own account of why it failed, if it gives one.
    fn why(_snapshot: &Self::Snapshot) -> Option<String> {
        None
    }
    /// The error for a job that ended otherwise than awaited.
    fn ended(&self, snapshot: &Self::Snapshot, wanted: Self::State) -> ApiError {
        let found = Self::state(snapshot).map_or("unknown", State::name);
        let mut message = format!(
            "{} reached {found} while waiting for {}",
            self.reading(snapshot).what,
            wanted.name()
        );
        if let Some(why) = Self::why(snapshot) {
            message.push_str(&format!(": {why}"));
        }
        ApiError::new(ErrorKind::InvalidState, message).with_state(found)
    }

    /// What `wait_for` answers once the state is reached: the handle, unless the
    /// vendor's scripts expect otherwise ([`Kind::answer_type`] names it).
    fn answer(handle: &Handle<Self>) -> RhaiResult<Dynamic> {
        Ok(Dynamic::from(handle.clone()))
    }
}

/// What a step records instead of a handle: the target it reaches and the id it is read
/// again by. Never a secret: the target file gives the rest on resume.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    pub target: String,
    pub id: Option<String>,
}

/// A type of value scripts hold that cannot be stored as data but can be read again: a
/// job handle or a vendor's connection object. Each vendor lists its own
/// (`Vendor::handles`); a step's result is converted through that one list.
#[derive(Debug)]
pub struct HandleKind {
    /// The script type name, which tags the reference.
    pub type_name: &'static str,
    /// The reference of `value`, if it is a value of this kind.
    pub reference: fn(&Dynamic) -> Option<Reference>,
    /// The value `reference` names, read again from its vendor.
    pub reopen: fn(&Arc<Host>, &Reference) -> Result<Dynamic, ApiError>,
}

impl HandleKind {
    /// The kind of the handles of `J`: reopened and read once, so it shows the job now.
    pub const fn job<J: Job>() -> Self {
        Self {
            type_name: J::KIND.type_name,
            reference: job_reference::<J>,
            reopen: reopen_job::<J>,
        }
    }

    /// The kinds of a vendor with one connection object `C` and one kind of job `J`.
    pub const fn pair<C: Connection, J: Job>() -> [Self; 2] {
        [Self::connection::<C>(), Self::job::<J>()]
    }

    /// The kind of a vendor's connection object `C`.
    pub const fn connection<C: Connection>() -> Self {
        Self {
            type_name: C::TYPE_NAME,
            reference: connection_reference::<C>,
            reopen: reopen_connection::<C>,
        }
    }
}

/// A vendor's connection object, as `powerstore("array1")` answers it.
pub trait Connection: Clone + Send + Sync + 'static {
    /// The script type name.
    const TYPE_NAME: &'static str;
    /// The connection to target `name`, as the script constructor makes it.
    fn open(host: &Arc<Host>, name: &str) -> Result<Self, ApiError>;
    /// The target's name.
    fn target(&self) -> &str;
}

fn job_reference<J: Job>(value: &Dynamic) -> Option<Reference> {
    let handle = value.read_lock::<Handle<J>>()?;
    Some(Reference {
        target: handle.job.target().to_owned(),
        id: handle.job.id(),
    })
}

fn reopen_job<J: Job>(host: &Arc<Host>, reference: &Reference) -> Result<Dynamic, ApiError> {
    let job = J::reopen(host, &reference.target, reference.id.as_deref())?;
    let snapshot = job.read()?;
    Ok(Dynamic::from(Handle::new(job, snapshot)))
}

fn connection_reference<C: Connection>(value: &Dynamic) -> Option<Reference> {
    let connection = value.read_lock::<C>()?;
    Some(Reference {
        target: connection.target().to_owned(),
        id: None,
    })
}

fn reopen_connection<C: Connection>(
    host: &Arc<Host>,
    reference: &Reference,
) -> Result<Dynamic, ApiError> {
    C::open(host, &reference.target).map(Dynamic::from)
}

/// The id of a reference to a job read by id; a `validation` error when it has none.
pub fn required_id(id: Option<&str>) -> Result<&str, ApiError> {
    id.ok_or_else(|| {
        ApiError::new(
            ErrorKind::Validation,
            "the reference has no `id`; run the step afresh without `--resume`",
        )
    })
}

/// The run's plan, when a change it planned touches `job`: then the job is not read (it
/// may not exist, or not show the change), the plan answers for it.
pub fn plan_touching<J: Job>(job: &J) -> Option<Arc<Plan>> {
    let plan = job.host().calls().plan()?;
    let id = job.id();
    plan.touches(job.target(), J::OBJECT, id.as_deref())
        .then(|| Arc::clone(plan))
}

/// A job as a script holds it; copies share one snapshot, so `refresh()` updates them all.
#[derive(Clone)]
pub struct Handle<J: Job> {
    job: J,
    data: Arc<RwLock<J::Snapshot>>,
}

impl<J: Job> Handle<J> {
    /// A handle on `job` as `snapshot` shows it; the reading is logged.
    pub fn new(job: J, snapshot: J::Snapshot) -> Self {
        report(job.reading(&snapshot));
        Self {
            job,
            data: Arc::new(RwLock::new(snapshot)),
        }
    }

    /// A handle on a job not read yet (`snapshot` says so): nothing to log.
    pub fn unread(job: J, snapshot: J::Snapshot) -> Self {
        Self {
            job,
            data: Arc::new(RwLock::new(snapshot)),
        }
    }

    /// What the handle reaches the job through.
    pub fn job(&self) -> &J {
        &self.job
    }

    /// The job as last read.
    pub fn snapshot(&self) -> J::Snapshot {
        self.data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The state as last read.
    pub fn state(&self) -> Option<J::State> {
        J::state(&self.snapshot())
    }

    /// Keeps a fresh reading, logging what changed.
    pub fn store(&self, snapshot: J::Snapshot) {
        report(self.job.reading(&snapshot));
        *self.data.write().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }

    /// The run's plan, when a change it planned touches this job ([`plan_touching`]).
    fn plan(&self) -> Option<Arc<Plan>> {
        plan_touching(&self.job)
    }

    /// Re-reads the job; one a planned change touches keeps what the plan made of it.
    pub fn refresh(&self) -> RhaiResult<Self> {
        if self.plan().is_some() {
            return Ok(self.clone());
        }
        self.store(self.job.read().map_err(raise)?);
        Ok(self.clone())
    }

    /// Adds the state the job is in now to a refusal (`invalid_state`), so a script can
    /// tell "already there" from "not yet"; a failed re-read leaves the error as it is.
    pub fn with_found_state(&self, mut err: ApiError) -> ApiError {
        if err.kind == ErrorKind::InvalidState && self.refresh().is_ok() {
            err.state = self.state().map(|s| s.name().to_owned());
        }
        err
    }

    /// Every field with the vendor's names.
    pub fn to_map(&self) -> Map {
        self.job.fields(&self.snapshot())
    }

    fn describe(&self) -> String {
        self.job.describe(&self.snapshot())
    }

    /// Polls until the job reaches `state`, as operation `operation`.
    pub fn wait_for(&self, state: &str, options: Map) -> RhaiResult<Dynamic> {
        let wanted = parse_state::<J>(J::KIND.wait_operation, state)?;
        self.wait_until(J::KIND.wait_operation, wanted, options)
    }

    /// Polls until the job reaches `wanted`, failing at once when it ends in another
    /// terminal state; every reading is kept, so a script that catches the error sees
    /// the state the job ended in.
    pub fn wait_until(
        &self,
        operation: &str,
        wanted: J::State,
        options: Map,
    ) -> RhaiResult<Dynamic> {
        let job = &self.job;
        let wait = Wait::new(
            operation,
            job.target(),
            options,
            (J::KIND.waits.timeout, J::KIND.waits.every),
        )?
        .of(job.reading(&self.snapshot()).what, wanted.name());
        if let Some(plan) = self.plan() {
            // Only the planned change would bring the job there: the plan notes the
            // wait and goes on as if it had.
            plan.waited(&job.reading(&self.snapshot()).what, wanted.name());
            self.store(job.planned(&self.snapshot(), wanted));
            return J::answer(self);
        }
        let judge = |snapshot: &J::Snapshot| {
            self.store(snapshot.clone());
            if J::state(snapshot) == Some(wanted) {
                Verdict::Reached
            } else if J::has_ended(snapshot, wanted) {
                Verdict::Ended(Box::new(job.ended(snapshot, wanted)))
            } else {
                Verdict::Waiting
            }
        };
        let look = |s: &J::Snapshot| job.reading(s);
        match job.shared_reads() {
            Some((shared, id)) => {
                wait.run_shared(job.host(), (&shared, &id), || job.read(), judge, look)?
            }
            None => wait.run(job.host(), || job.read(), judge, look)?,
        };
        J::answer(self)
    }
}

/// A state from a script, or a `validation` error suggesting a close one (or listing
/// them all when none is close).
pub fn parse_state<J: Job>(operation: &str, text: &str) -> RhaiResult<J::State> {
    J::State::parse(text).ok_or_else(|| {
        let states = J::State::ALL.iter().map(|s| s.name());
        let hint = closest(text.trim(), states.clone()).map_or_else(
            || format!("; use one of {}", states.collect::<Vec<_>>().join(", ")),
            did_you_mean,
        );
        invalid_argument(
            operation,
            format!("`{text}` is not {}{hint}", J::KIND.state_noun),
        )
    })
}

/// The handle as the first parameter of a signature: `session: ImportSession`.
fn this<J: Job>() -> String {
    format!("{}: {}", J::KIND.param, J::KIND.type_name)
}

/// Registers method `name` of the handle of `J`, documented by `doc`: it takes the
/// handle alone and answers what the kind's methods answer ([`Kind::answer_type`]).
pub fn method<J: Job, R: Variant + Clone>(
    engine: &mut Engine,
    name: &str,
    doc: &str,
    method: impl Fn(&Handle<J>) -> RhaiResult<R> + Send + Sync + 'static,
) {
    FuncRegistration::new(name)
        .with_comments([doc])
        .with_params_info([this::<J>().as_str(), J::KIND.answer_type])
        .register_into_engine(engine, move |h: &mut Handle<J>| method(h));
}

/// Registers method `name` of the handle of `J`, documented by `doc`: it takes the
/// handle and a map (`params`, e.g. `options: Map`) and answers as [`method`] does.
pub fn method_with<J: Job, R: Variant + Clone>(
    engine: &mut Engine,
    (name, params): (&str, &str),
    doc: &str,
    method: impl Fn(&Handle<J>, Map) -> RhaiResult<R> + Send + Sync + 'static,
) {
    FuncRegistration::new(name)
        .with_comments([doc])
        .with_params_info([this::<J>().as_str(), params, J::KIND.answer_type])
        .register_into_engine(engine, move |h: &mut Handle<J>, map: Map| method(h, map));
}

/// Registers the handle type of `J` and everything every handle has.
pub fn register<J: Job>(engine: &mut Engine) {
    let kind = &J::KIND;
    let name = kind.type_name;
    let this = this::<J>();
    engine.register_type_with_name::<Handle<J>>(name);
    for field in J::properties() {
        let key = field.clone();
        engine.register_get(field, move |h: &mut Handle<J>| {
            h.job.field(&h.snapshot(), &key)
        });
    }
    let test = |f: fn(J::State) -> bool| move |h: &mut Handle<J>| h.state().is_some_and(f);
    engine.register_get("is_terminal", test(J::State::is_terminal));
    engine.register_get("is_success", test(J::State::is_success));
    engine.register_get("is_failure", test(J::State::is_failure));
    FuncRegistration::new("refresh")
        .with_comments([kind.docs.refresh])
        .with_params_info([this.as_str(), name])
        .register_into_engine(engine, |h: &mut Handle<J>| h.refresh());
    FuncRegistration::new("wait_for")
        .with_comments([format!(
            "{}\n{}",
            kind.docs.wait_for,
            options_doc(kind.waits.timeout, kind.waits.every)
        )])
        .with_params_info([
            this.as_str(),
            "state: &str",
            "options: Map",
            kind.answer_type,
        ])
        .register_into_engine(engine, |h: &mut Handle<J>, state: &str, options: Map| {
            h.wait_for(state, options)
        });
    FuncRegistration::new("wait_for")
        .with_comments(["/// `wait_for` with the default options."])
        .with_params_info([this.as_str(), "state: &str", kind.answer_type])
        .register_into_engine(engine, |h: &mut Handle<J>, state: &str| {
            h.wait_for(state, Map::new())
        });
    FuncRegistration::new("to_map")
        .with_comments([kind.docs.to_map])
        .with_params_info([this.as_str(), "Map"])
        .register_into_engine(engine, |h: &mut Handle<J>| h.to_map());
    FuncRegistration::new("to_string")
        .with_comments([kind.docs.to_string])
        .with_params_info([this.as_str(), "String"])
        .register_into_engine(engine, |h: &mut Handle<J>| h.describe());
    FuncRegistration::new("to_debug")
        .with_comments(["/// The same line as `to_string`, for `debug` and the REPL."])
        .with_params_info([this.as_str(), "String"])
        .register_into_engine(engine, |h: &mut Handle<J>| h.describe());
}

#[cfg(test)]
mod tests {
    use crate::script::catalogue::Catalogue;
    use crate::script::{Host, Limits};

    #[test]
    fn every_handle_type_has_the_whole_job_surface() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let host = Host::offline(runtime.handle().clone());
        let engine = crate::engine::build(&host, Limits::default(), ".".into());
        let catalogue = Catalogue::new(&engine).unwrap();
        for handle in [
            "ImportSession",
            "VcdTask",
            "History",
            "OvfImport",
            "SmsTask",
            // The test-only toy vendor's, registered the same way.
            "EchoJob",
        ] {
            let members = catalogue.members(handle);
            for expected in [
                "refresh",
                "wait_for",
                "to_map",
                "to_string",
                "to_debug",
                "is_terminal",
                "is_success",
                "is_failure",
            ] {
                assert!(
                    members.iter().any(|m| m == expected),
                    "{handle} lacks {expected}: {members:?}"
                );
            }
        }
    }
}

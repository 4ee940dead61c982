//! `Host`: what script functions reach through: the shared tokio runtime, the clock,
//! the run's cancellation token, the targets, one cached vendor client per target, the
//! record of the mutating calls they made, and the run's verdict (`fail_run`).

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::config::{Target, TargetKind, Targets};
use crate::http::call_record::CallRecord;
use crate::http::client::Session;
use crate::http::local_io;
use crate::script::board::Board;
use crate::script::verdict::Verdict;
use crate::thread_stack;

type ClientCache = HashMap<(TargetKind, String), (Arc<dyn Any + Send + Sync>, Arc<dyn Session>)>;
type SharedCache = HashMap<(TargetKind, String, TypeId), Arc<dyn Any + Send + Sync>>;

/// How long the logouts at the end of a run may take together.
const LOGOUT_GRACE: Duration = Duration::from_secs(5);

thread_local! {
    /// The deadlines (clock time) of the waits in progress on this script thread.
    static WAIT_DEADLINES: RefCell<Vec<SystemTime>> = const { RefCell::new(Vec::new()) };
}

/// A wait's deadline, in force for the requests of this thread until it is dropped.
pub type DeadlineGuard = thread_stack::Held<SystemTime>;

/// Makes `deadline` bound the retries of every request this thread makes (through
/// [`Host::block_on`]) until the guard is dropped, so a read retried inside a wait never
/// outlasts the wait.
pub fn hold_deadline(deadline: SystemTime) -> DeadlineGuard {
    thread_stack::push(&WAIT_DEADLINES, deadline)
}

/// The earliest deadline of the waits in progress on this thread.
fn wait_deadline() -> Option<SystemTime> {
    WAIT_DEADLINES.with(|deadlines| deadlines.borrow().iter().min().copied())
}

thread_local! {
    /// The cancellation of the `parallel` items this thread runs, innermost last: while
    /// one is held, it stands in for the host's line token on this thread.
    static ITEM_CANCELS: RefCell<Vec<ItemCancel>> = const { RefCell::new(Vec::new()) };
}

/// What cancels one item of `parallel`: its own token (a child of the token in force
/// where `parallel` was called, so Ctrl-C reaches it) and why it was cancelled, when
/// something other than an interruption of the run did it (`fail_fast`).
#[derive(Clone, Debug)]
pub struct ItemCancel {
    token: CancellationToken,
    reason: Arc<OnceLock<String>>,
}

impl ItemCancel {
    /// Cancelled by `token`; `reason`, once set, is the message of its `cancelled` errors.
    pub fn new(token: CancellationToken, reason: Arc<OnceLock<String>>) -> Self {
        Self { token, reason }
    }

    /// Its token.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// The error its interrupted waits end with.
    pub fn error(&self) -> ApiError {
        match self.reason.get() {
            Some(reason) => ApiError::new(ErrorKind::Cancelled, reason.clone()),
            None => cancelled(),
        }
    }
}

/// Makes `cancel` stand in for the host's line token on this thread (its sleeps, waits,
/// requests and the check between operations) until the guard is dropped, so
/// cancelling one item of `parallel` stops that item alone.
pub fn hold_item_cancel(cancel: ItemCancel) -> ItemCancelGuard {
    thread_stack::push(&ITEM_CANCELS, cancel)
}

/// Holds an item's cancellation on this thread; see [`hold_item_cancel`].
pub type ItemCancelGuard = thread_stack::Held<ItemCancel>;

/// The cancellation of the item this thread runs, if any.
fn item_cancel() -> Option<ItemCancel> {
    thread_stack::innermost(&ITEM_CANCELS)
}

/// Everything a running script reaches outside itself.
pub struct Host {
    runtime: Handle,
    clock: Clock,
    cancel: CancellationToken,
    /// The token of the evaluation in progress: a child of `cancel`, renewed for each
    /// REPL line so that Ctrl-C stops one line and the session goes on.
    line: RwLock<CancellationToken>,
    targets: Targets,
    allowed_reads: Vec<PathBuf>,
    /// Shared with [`Host::child`] hosts, so each target logs in once per process.
    clients: Arc<Mutex<ClientCache>>,
    /// What the waits on a target share (its shared reads), one of each type per target,
    /// shared with child hosts like the clients.
    shared: Arc<Mutex<SharedCache>>,
    /// Cancelled by [`Host::close`] before the logouts: what still reads on its own
    /// (shared readings) stops then (shared with child hosts).
    closing: CancellationToken,
    /// The mutating calls of every client built here (shared with child hosts, which
    /// share the clients).
    calls: CallRecord,
    /// Whether the script marked this run failed; a child host has its own.
    verdict: Verdict,
    /// What each item of the run is doing, for the operator's view and the summary.
    board: Arc<Board>,
    /// Whether every `confirm` gate is approved without asking (`--yes`).
    approve_all: bool,
}

impl Host {
    /// A host over `targets` that runs async work on `runtime`.
    pub fn new(runtime: Handle, clock: Clock, cancel: CancellationToken, targets: Targets) -> Self {
        let calls = CallRecord::new();
        calls.send_on(runtime.clone());
        Self {
            runtime,
            clock,
            line: RwLock::new(cancel.child_token()),
            cancel,
            targets,
            allowed_reads: Vec::new(),
            clients: Arc::new(Mutex::new(HashMap::new())),
            shared: Arc::new(Mutex::new(HashMap::new())),
            closing: CancellationToken::new(),
            calls,
            verdict: Verdict::default(),
            board: Arc::default(),
            approve_all: false,
        }
    }

    /// A host for one run among many (a hook invocation): the same runtime, clock,
    /// targets, readable folders and logged-in clients, with its own cancellation
    /// token, so one run can be cancelled without the others.
    pub fn child(&self, cancel: CancellationToken) -> Arc<Self> {
        Arc::new(Self {
            runtime: self.runtime.clone(),
            clock: self.clock.clone(),
            line: RwLock::new(cancel.child_token()),
            cancel,
            targets: self.targets.clone(),
            allowed_reads: self.allowed_reads.clone(),
            clients: Arc::clone(&self.clients),
            shared: Arc::clone(&self.shared),
            closing: self.closing.clone(),
            calls: self.calls.clone(),
            verdict: Verdict::default(),
            board: Arc::default(),
            approve_all: self.approve_all,
        })
    }

    /// Approves every `confirm` gate without asking (`--yes`).
    #[must_use]
    pub fn approving_all(mut self, approve_all: bool) -> Self {
        self.approve_all = approve_all;
        self
    }

    /// Whether every `confirm` gate is approved without asking (`--yes`).
    pub fn approves_all(&self) -> bool {
        self.approve_all
    }

    /// Lets scripts read files under `folders` as well as under their own folder.
    #[must_use]
    pub fn allowing_reads(mut self, folders: Vec<PathBuf>) -> Self {
        self.allowed_reads = folders;
        self
    }

    /// Folders besides their own that scripts may read files from.
    pub fn allowed_reads(&self) -> &[PathBuf] {
        &self.allowed_reads
    }

    /// A host for compiling and documenting scripts: wall clock, no targets.
    pub fn offline(runtime: Handle) -> Arc<Self> {
        Arc::new(Self::new(
            runtime,
            Clock::wall(),
            CancellationToken::new(),
            Targets::default(),
        ))
    }

    /// The clock scripts sleep and time out on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The run's cancellation token.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Starts the next evaluation (a REPL line) with a fresh token, so an earlier
    /// interruption does not carry over; cancelling the run still cancels it.
    pub fn next_line(&self) {
        *self.line.write().unwrap_or_else(PoisonError::into_inner) = self.cancel.child_token();
    }

    /// Stops the evaluation in progress: its waits end and a busy script is stopped.
    pub fn interrupt_line(&self) {
        self.line_token().cancel();
    }

    /// Whether the evaluation in progress was interrupted (or the run cancelled); on the
    /// thread of a `parallel` item, whether that item was cancelled.
    pub fn is_interrupted(&self) -> bool {
        self.current_token().is_cancelled()
    }

    /// The token that stops what this thread runs: the item's on a `parallel` item's
    /// thread, else the evaluation's (the REPL line, or the run).
    pub fn current_token(&self) -> CancellationToken {
        item_cancel().map_or_else(|| self.line_token(), |item| item.token)
    }

    /// The `cancelled` error of what this thread runs: why its `parallel` item was
    /// cancelled, or the run's interruption.
    pub fn interruption(&self) -> ApiError {
        item_cancel().map_or_else(cancelled, |item| item.error())
    }

    fn line_token(&self) -> CancellationToken {
        self.line
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The targets of this run.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// The mutating calls made so far.
    pub fn calls(&self) -> &CallRecord {
        &self.calls
    }

    /// What each item of the run is doing.
    pub fn board(&self) -> &Arc<Board> {
        &self.board
    }

    /// What the script said about its run's outcome.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// Runs `future` to completion from a script thread, giving up with a `cancelled`
    /// error when the run (or the REPL line, or this thread's `parallel` item) is
    /// interrupted; requests retried inside it stop at the deadline of the wait in
    /// progress. Script threads are plain OS threads, never tokio workers, so blocking
    /// here is allowed.
    pub fn block_on<T>(
        &self,
        future: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let item = item_cancel();
        let token = item
            .as_ref()
            .map_or_else(|| self.line_token(), |item| item.token.clone());
        // A request's future is kilobytes of state: boxed once, the wrappers below move a
        // pointer instead of copying it at each layer.
        let future = Box::pin(future);
        let future = crate::http::retry::within_deadline(wait_deadline(), &self.clock, future);
        let cancellable = async {
            tokio::select! {
                biased;
                () = token.cancelled() => Err(item.as_ref().map_or_else(cancelled, ItemCancel::error)),
                result = future => result,
            }
        };
        // On a thread that drives its own requests, polled there; else on the shared runtime.
        local_io::block_on(cancellable).unwrap_or_else(|future| self.runtime.block_on(future))
    }

    /// Cancelled when the run closes its logins ([`Host::close`]): work that outlives one
    /// script call stops with it.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// The run's shared runtime: where work that outlives one script call runs.
    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// Sleeps for `duration` of clock time, or until the run is interrupted.
    pub fn sleep(&self, duration: Duration) -> Result<(), ApiError> {
        self.block_on(async {
            self.clock.sleep(duration).await;
            Ok(())
        })
    }

    /// The cached client of `kind` for target `name`, built by `make` on first use so
    /// each target logs in once per run; `make` is handed the record its mutating calls
    /// go into.
    pub fn client<C: Session + 'static>(
        &self,
        kind: TargetKind,
        name: &str,
        make: impl FnOnce(&Target, CallRecord) -> Result<C, ApiError>,
    ) -> Result<Arc<C>, ApiError> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (kind, name.to_owned());
        if let Some(client) = clients
            .get(&key)
            .and_then(|(c, _)| Arc::clone(c).downcast::<C>().ok())
        {
            return Ok(client);
        }
        let target = self
            .targets
            .get(kind, name)
            .map_err(|err| ApiError::new(ErrorKind::Validation, err.to_string()))?;
        let client = Arc::new(make(target, self.calls.clone())?);
        if let Some(verifier) = Arc::clone(&client).verifier() {
            self.calls.verify_with(name, &verifier);
        }
        clients.insert(key, (client.clone(), client.clone()));
        Ok(client)
    }

    /// The one `T` of target `name` of `kind` in this run, made by `make` on first use:
    /// what every wait on the target shares, such as its [`SharedReads`].
    ///
    /// [`SharedReads`]: crate::script::shared_read::SharedReads
    pub fn per_target<T: Any + Send + Sync>(
        &self,
        kind: TargetKind,
        name: &str,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (kind, name.to_owned(), TypeId::of::<T>());
        if let Some(found) = shared
            .get(&key)
            .and_then(|found| Arc::clone(found).downcast::<T>().ok())
        {
            return found;
        }
        let made = Arc::new(make());
        shared.insert(key, made.clone());
        made
    }

    /// Logs every client out, all at once and within `LOGOUT_GRACE` (5 s) together; called
    /// once the script has ended, or was stopped, so no login is left open on a target.
    pub fn close(&self) {
        self.closing.cancel();
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let sessions: Vec<Arc<dyn Session>> = self
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, (_, session))| session)
            .collect();
        if sessions.is_empty() {
            return;
        }
        self.runtime.block_on(async {
            let mut logouts = tokio::task::JoinSet::new();
            for session in sessions {
                logouts.spawn(async move { session.log_out().await });
            }
            let all = async { while logouts.join_next().await.is_some() {} };
            if tokio::time::timeout(LOGOUT_GRACE, all).await.is_err() {
                tracing::warn!(
                    "logging out of the targets took too long; their sessions will idle out"
                );
            }
        });
    }
}

/// The error every interrupted wait returns.
pub fn cancelled() -> ApiError {
    ApiError::new(ErrorKind::Cancelled, "the run was interrupted")
}

/// Offline hosts for tests, each on a new runtime the test keeps alive.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use tokio::runtime::{Builder, Runtime};

    use super::Host;

    /// A host whose runtime runs tasks only while the test's thread blocks on it.
    pub(crate) fn on_this_thread() -> (Runtime, Arc<Host>) {
        with(&mut Builder::new_current_thread())
    }

    /// A host whose runtime runs tasks on a thread of its own, while the test does
    /// something else.
    pub(crate) fn on_a_worker() -> (Runtime, Arc<Host>) {
        with(Builder::new_multi_thread().worker_threads(1))
    }

    fn with(builder: &mut Builder) -> (Runtime, Arc<Host>) {
        let runtime = builder.enable_all().build().unwrap();
        let host = Host::offline(runtime.handle().clone());
        (runtime, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_line_ends_alone_and_the_next_one_starts_afresh() {
        let (_runtime, host) = testing::on_this_thread();
        let wait = || host.sleep(Duration::from_secs(3600));
        host.interrupt_line();
        assert!(host.is_interrupted());
        assert_eq!(wait().unwrap_err().kind, ErrorKind::Cancelled);
        assert!(!host.cancel_token().is_cancelled(), "the run goes on");
        host.next_line();
        assert!(!host.is_interrupted());
        host.cancel_token().cancel();
        assert!(
            host.is_interrupted(),
            "cancelling the run stops the line too"
        );
        assert_eq!(wait().unwrap_err().kind, ErrorKind::Cancelled);
    }

    #[test]
    fn cancelling_one_item_stops_it_alone_with_its_reason() {
        let (_runtime, host) = testing::on_a_worker();
        let reason = Arc::new(OnceLock::new());
        let first = ItemCancel::new(host.current_token().child_token(), Arc::clone(&reason));
        let second = ItemCancel::new(host.current_token().child_token(), Arc::clone(&reason));
        let _ = reason.set("cancelled: `crm` failed and `fail_fast` is set".to_owned());
        first.token().cancel();
        std::thread::scope(|scope| {
            let stopped = scope.spawn(|| {
                let _item = hold_item_cancel(first);
                (host.is_interrupted(), host.sleep(Duration::from_secs(3600)))
            });
            let going = scope.spawn(|| {
                let _item = hold_item_cancel(second);
                host.is_interrupted()
            });
            let (interrupted, slept) = stopped.join().unwrap();
            assert!(interrupted);
            let err = slept.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Cancelled);
            assert_eq!(
                err.message,
                "cancelled: `crm` failed and `fail_fast` is set"
            );
            assert!(!going.join().unwrap(), "the other item goes on");
        });
        assert!(!host.is_interrupted(), "the caller goes on");
        host.cancel_token().cancel();
        let later = ItemCancel::new(host.current_token().child_token(), Arc::default());
        let _item = hold_item_cancel(later);
        assert!(
            host.is_interrupted(),
            "cancelling the run reaches every item"
        );
        assert_eq!(host.interruption().message, "the run was interrupted");
    }
}

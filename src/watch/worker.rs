//! The watcher's one long-lived task: file events pass the filter, are debounced per
//! handler and file, settle, are checked against the memory of what was handled, and
//! start handler runs under each handler's concurrency and `on_busy` policy. Hook edits
//! reload their hook; a stop signal ends it all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::script::hook::LoadedHook;
use crate::script::{Host, Limits};
use crate::watch::debounce::Debouncer;
use crate::watch::event::{ChangeKind, FileEvent, RawEvent, Stat};
use crate::watch::files;
use crate::watch::filter::{IGNORE_FILE, Ignores};
use crate::watch::memory::{Memory, Outcome, Record};
use crate::watch::registry::{Handler, Registry};
use crate::watch::run::{self, Finished};
use crate::watch::settle::{Observation, Settler};
use crate::watch::slots::{Offer, OnBusy, Slots};
use crate::watch::source::{Source, SourceEvent};
use crate::watch::{WatchEnd, report};

/// Quiet time after a hook file's last event before it is reloaded: editors save in
/// several steps.
const RELOAD_QUIET: Duration = Duration::from_millis(100);
/// How long cancelled runs get to end after the stop timeout.
const GRACE: Duration = Duration::from_secs(3);

/// A handler and a file.
pub type Key = (String, PathBuf);

/// What comes back to the worker from threads and tasks it started.
pub enum Message {
    /// A run ended.
    Finished(Finished),
    /// A hook file was (re)loaded.
    Loaded(PathBuf, Result<LoadedHook, String>),
    /// A settled file was compared with the memory: `repeat` when it was handled before
    /// and its content is unchanged.
    Checked(Arc<Handler>, FileEvent, bool),
}

/// The worker's state.
pub struct Worker {
    pub(super) host: Arc<Host>,
    pub(super) limits: Limits,
    stop_timeout: Duration,
    pub(super) registry: Registry,
    pub(super) ignores: HashMap<PathBuf, Ignores>,
    pub(super) source: Option<Source>,
    memory: Arc<Memory>,
    pub(super) messages: UnboundedSender<Message>,
    pub(super) pending: Debouncer<Key, RawEvent>,
    pub(super) settling: Settler<Key, RawEvent>,
    reloads: Debouncer<PathBuf, ()>,
    pub(super) slots: HashMap<String, Slots<FileEvent>>,
    hashes: HashMap<Key, tokio::task::JoinHandle<Option<String>>>,
    records: JoinSet<()>,
    pub(super) stopping: Option<Stopping>,
}

pub(super) struct Stopping {
    deadline: Instant,
    cancelled: bool,
}

impl Worker {
    /// A worker over what `cutover watch` set up.
    pub fn new(
        host: Arc<Host>,
        limits: Limits,
        stop_timeout: Duration,
        registry: Registry,
        memory: Arc<Memory>,
        messages: UnboundedSender<Message>,
    ) -> Self {
        Self {
            host,
            limits,
            stop_timeout,
            registry,
            ignores: HashMap::new(),
            source: None,
            memory,
            messages,
            pending: Debouncer::default(),
            settling: Settler::default(),
            reloads: Debouncer::default(),
            slots: HashMap::new(),
            hashes: HashMap::new(),
            records: JoinSet::new(),
            stopping: None,
        }
    }

    /// Watches until stopped.
    pub async fn run(
        mut self,
        mut events: UnboundedReceiver<SourceEvent>,
        mut messages: UnboundedReceiver<Message>,
        mut signals: UnboundedReceiver<()>,
    ) -> WatchEnd {
        let end = loop {
            if let Some(end) = self.check_stop(Instant::now()) {
                break end;
            }
            let wake = self.next_wake();
            tokio::select! {
                Some(event) = events.recv() => self.on_source(event),
                Some(message) = messages.recv() => self.on_message(message),
                Some(()) = signals.recv() => self.on_signal(),
                () = sleep_until(wake) => {}
            }
            self.on_time(Instant::now());
        };
        let records = std::mem::take(&mut self.records);
        if tokio::time::timeout(GRACE, records.join_all())
            .await
            .is_err()
        {
            report::warn("some runs could not be recorded in the state file in time");
        }
        end
    }

    /// Hands every file already under the handlers' roots to them, as `create` events.
    pub fn initial_scan(&mut self) {
        let now = Instant::now();
        for root in self.registry.roots() {
            for path in files::walk(&root) {
                let raw = RawEvent {
                    initial: true,
                    ..RawEvent::new(ChangeKind::Create, path)
                };
                for handler in self.handlers() {
                    if handler.root == root {
                        self.push(&handler, &raw, Duration::ZERO, now);
                    }
                }
            }
        }
    }

    fn handlers(&self) -> Vec<Arc<Handler>> {
        self.registry.handlers().cloned().collect()
    }

    fn next_wake(&self) -> Option<Instant> {
        [
            self.pending.next_due(),
            self.settling.next_due(),
            self.reloads.next_due(),
            self.stopping.as_ref().map(|s| s.deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn on_source(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Change(raw) => self.on_change(raw),
            SourceEvent::Overflow => report::warn(
                "the kernel dropped file events (its queue overflowed), so some changes were \
                 missed; raise `fs.inotify.max_queued_events` with sysctl",
            ),
            SourceEvent::Error(text) => report::warn(&text),
        }
    }

    fn on_change(&mut self, raw: RawEvent) {
        if self.stopping.is_some() {
            return;
        }
        let now = Instant::now();
        for path in std::iter::once(&raw.path).chain(raw.from.as_ref()) {
            if self.registry.is_hook_file(path) {
                self.reloads
                    .push(path.clone(), (), RELOAD_QUIET, now, |_, _| {});
            }
        }
        if self.registry.is_hook_file(&raw.path) || self.is_state_file(&raw.path) {
            return;
        }
        if raw.path.file_name().is_some_and(|n| n == IGNORE_FILE) {
            if let Some(root) = raw.path.parent() {
                self.load_ignores(root);
            }
            return;
        }
        for handler in self.handlers() {
            self.push(&handler, &raw, handler.spec.debounce, raw.seen);
        }
    }

    fn is_state_file(&self, path: &Path) -> bool {
        path.as_os_str()
            .to_string_lossy()
            .starts_with(&*self.memory.path().as_os_str().to_string_lossy())
    }

    /// Whether `path` is under `handler`'s root, not ignored there, and matches.
    fn matches(&self, handler: &Handler, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(&handler.root) else {
            return false;
        };
        let ignored = self
            .ignores
            .get(&handler.root)
            .is_some_and(|i| i.is_ignored(relative))
            || crate::watch::filter::is_hidden(relative);
        !ignored && handler.spec.pattern.matches(relative)
    }

    /// Offers `raw` to `handler`'s debounce, when the handler wants it. A file renamed
    /// out of the pattern is a removal of its old name.
    fn push(&mut self, handler: &Arc<Handler>, raw: &RawEvent, quiet: Duration, at: Instant) {
        let event = if self.matches(handler, &raw.path) {
            raw.clone()
        } else {
            match &raw.from {
                Some(from) if self.matches(handler, from) => RawEvent {
                    kind: ChangeKind::Remove,
                    path: from.clone(),
                    from: None,
                    ..raw.clone()
                },
                _ => return,
            }
        };
        if !handler.spec.wants(event.kind) {
            return;
        }
        let slots = self.slots_of(handler);
        if slots.on_busy() == OnBusy::Skip && slots.is_running(&event.path) {
            tracing::debug!(
                "{}: skipped {} (its run is going)",
                handler.name,
                event.path.display()
            );
            return;
        }
        let key = (handler.name.clone(), event.path.clone());
        let now = Instant::now();
        if self.settling.changed(&key, now, |v| v.merge(event.clone())) {
            return;
        }
        self.pending.push(key, event, quiet, at, RawEvent::merge);
    }

    fn slots_of(&mut self, handler: &Handler) -> &mut Slots<FileEvent> {
        self.slots
            .entry(handler.name.clone())
            .or_insert_with(|| Slots::new(handler.spec.concurrency, handler.spec.on_busy))
    }

    fn on_time(&mut self, now: Instant) {
        if self.stopping.is_some() {
            return;
        }
        for (key, raw) in self.pending.take_due(now) {
            self.debounced(key, raw, now);
        }
        for key in self.settling.due(now) {
            match self.settling.observe(&key, files::stat(&key.1), now) {
                Observation::Settled(raw, stat) => self.settled(&key.0, &raw, Some(stat)),
                Observation::Gone(raw) => {
                    tracing::debug!("{} went away before it settled", raw.path.display());
                }
                Observation::Waiting => {}
            }
        }
        for (hook, ()) in self.reloads.take_due(now) {
            self.reload(hook);
        }
    }

    /// A file's events went quiet: removals go on at once, other files settle first.
    fn debounced(&mut self, key: Key, raw: RawEvent, now: Instant) {
        let Some(handler) = self.registry.handler(&key.0).cloned() else {
            return;
        };
        if raw.kind == ChangeKind::Remove {
            self.settled(&key.0, &raw, None);
        } else if handler.spec.settle.is_zero() {
            match files::stat(&raw.path) {
                Some(stat) => self.settled(&key.0, &raw, Some(stat)),
                None => tracing::debug!("{} went away", raw.path.display()),
            }
        } else {
            let last_change = if raw.initial { now } else { raw.seen };
            self.settling
                .start(key, raw, handler.spec.settle, last_change, now);
        }
    }

    /// A file is ready for its handler, unless the memory says it was handled already.
    fn settled(&mut self, name: &str, raw: &RawEvent, stat: Option<Stat>) {
        let Some(handler) = self.registry.handler(name).cloned() else {
            return;
        };
        let event = FileEvent {
            stat,
            ..FileEvent::new(raw, &handler.root)
        };
        let Some(stat) = stat else {
            return self.offer(handler, event);
        };
        let handled = match self.memory.handled(&handler.name, &event.path) {
            Ok(handled) => handled,
            Err(err) => {
                report::warn(&err.to_string());
                None
            }
        };
        match handled {
            // Same size and time: only the content can tell, and hashing may be long.
            Some(before) if before.stat == stat => {
                let messages = self.messages.clone();
                tokio::task::spawn_blocking(move || {
                    let repeat =
                        before.hash.is_some() && files::hash(&event.path).ok() == before.hash;
                    let _ = messages.send(Message::Checked(handler, event, repeat));
                });
            }
            _ => self.offer(handler, event),
        }
    }

    fn offer(&mut self, handler: Arc<Handler>, event: FileEvent) {
        let path = event.path.clone();
        match self.slots_of(&handler).offer(path, event) {
            Offer::Start(event, cancel) => self.start(handler, event, cancel),
            other => tracing::debug!("{}: {:?}", handler.name, std::mem::discriminant(&other)),
        }
    }

    fn start(&mut self, handler: Arc<Handler>, event: FileEvent, cancel: CancellationToken) {
        report::started(&handler, &event);
        let key = (handler.name.clone(), event.path.clone());
        if event.stat.is_some() {
            let path = event.path.clone();
            let hash = tokio::task::spawn_blocking(move || files::hash(&path).ok());
            self.hashes.insert(key.clone(), hash);
        }
        let messages = self.messages.clone();
        let done = move |finished| {
            let _ = messages.send(Message::Finished(finished));
        };
        if let Err(err) = run::spawn(&self.host, self.limits, handler, event, cancel, done) {
            report::warn(&format!("cannot start a thread for `{}`: {err}", key.0));
            self.hashes.remove(&key);
            self.after_run(&key);
        }
    }

    fn on_message(&mut self, message: Message) {
        match message {
            Message::Finished(finished) => self.finished(finished),
            Message::Loaded(hook, result) => self.loaded(&hook, result),
            Message::Checked(handler, event, repeat) => {
                if repeat {
                    tracing::info!(
                        "{}: {} was handled already and has not changed",
                        handler.name,
                        event.name
                    );
                } else if self.stopping.is_none() {
                    self.offer(handler, event);
                }
            }
        }
    }

    fn finished(&mut self, finished: Finished) {
        let Finished {
            handler,
            event,
            started,
            took,
            result,
        } = finished;
        let outcome = match &result {
            Ok(()) => {
                report::succeeded(&handler, &event, took);
                Outcome::Ok
            }
            Err(failure) if failure.cancelled => {
                report::cancelled(&handler, &event, took);
                Outcome::Cancelled
            }
            Err(failure) => {
                report::failed(&handler, &event, took, &failure.rendered);
                Outcome::Failed
            }
        };
        let key = (handler.name.clone(), event.path.clone());
        let hash = self.hashes.remove(&key);
        if let Some(stat) = event.stat {
            let record = Record {
                handler: handler.name.clone(),
                path: event.path.clone(),
                kind: event.kind.as_str().to_owned(),
                stat,
                hash: None,
                outcome,
                message: result.err().map(|f| f.headline),
                started,
                ended: started + took,
            };
            self.record(record, hash);
        }
        self.after_run(&key);
    }

    /// Writes `record` once its file's hash is known, off the worker's task.
    fn record(
        &mut self,
        mut record: Record,
        hash: Option<tokio::task::JoinHandle<Option<String>>>,
    ) {
        let memory = Arc::clone(&self.memory);
        self.records.spawn(async move {
            if let Some(hash) = hash {
                record.hash = hash.await.ok().flatten();
            }
            let written = tokio::task::spawn_blocking(move || memory.record(&record)).await;
            if let Ok(Err(err)) = written {
                report::warn(&err.to_string());
            }
        });
    }

    /// Frees the run's slot and starts what was waiting for it.
    fn after_run(&mut self, key: &Key) {
        let Some(slots) = self.slots.get_mut(&key.0) else {
            return;
        };
        let next = slots.finished(&key.1);
        for (event, cancel) in next {
            match self.registry.handler(&key.0).cloned() {
                Some(handler) => self.start(handler, event, cancel),
                None => self.after_run(&(key.0.clone(), event.path)),
            }
        }
    }

    fn on_signal(&mut self) {
        let now = Instant::now();
        match &mut self.stopping {
            None => self.begin_stop(now),
            // A second Ctrl-C does not wait for the stop timeout.
            Some(stopping) if !stopping.cancelled => stopping.deadline = now,
            Some(_) => {}
        }
    }

    fn running(&self) -> usize {
        self.slots.values().map(Slots::running).sum()
    }

    fn begin_stop(&mut self, now: Instant) {
        self.source = None;
        self.pending.clear();
        self.settling.clear();
        self.reloads.clear();
        for slots in self.slots.values_mut() {
            slots.drop_pending();
        }
        report::stopping(self.running(), self.stop_timeout);
        self.stopping = Some(Stopping {
            deadline: now + self.stop_timeout,
            cancelled: false,
        });
    }

    /// Ends the loop once stopping and nothing runs, or once cancelled runs had their grace.
    fn check_stop(&mut self, now: Instant) -> Option<WatchEnd> {
        let running = self.running();
        let stopping = self.stopping.as_mut()?;
        if running == 0 {
            return Some(if stopping.cancelled {
                WatchEnd::Cancelled
            } else {
                WatchEnd::Stopped
            });
        }
        if now < stopping.deadline {
            return None;
        }
        if stopping.cancelled {
            report::warn("some handlers did not stop within their grace; leaving them");
            return Some(WatchEnd::Cancelled);
        }
        stopping.cancelled = true;
        stopping.deadline = now + GRACE;
        report::cancelling(running);
        for slots in self.slots.values() {
            slots.cancel_all();
        }
        None
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

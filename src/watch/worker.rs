//! The watcher's one long-lived task and its state: a loop that takes file events,
//! messages from the threads and tasks it started, stop signals and its own timers, and
//! hands each to the part that deals with it ([`intake`](super::intake) for events and
//! timers, [`dispatch`](super::dispatch) for runs, [`reload`](super::reload) for hook
//! edits, [`stop`](super::stop) for signals).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;

use crate::hook::event::{FileEvent, RawEvent};
use crate::hook::filter::Ignores;
use crate::script::{Host, Limits};
use crate::stop_signal::StopSignal;
use crate::watch::debounce::Debouncer;
use crate::watch::memory::Memory;
use crate::watch::program::LoadedHook;
use crate::watch::registry::{Handler, Registry};
use crate::watch::run::Finished;
use crate::watch::settle::Settler;
use crate::watch::slots::Slots;
use crate::watch::source::{Source, SourceEvent};
use crate::watch::{WatchEnd, report};

/// Quiet time after a hook file's last event before it is reloaded: editors save in
/// several steps.
pub(super) const RELOAD_QUIET: Duration = Duration::from_millis(100);
/// How long cancelled runs get to end after the stop timeout.
pub(super) const GRACE: Duration = Duration::from_secs(3);

/// A handler and a file.
pub type Key = (String, PathBuf);

/// What comes back to the worker from threads and tasks it started.
pub enum Message {
    /// A run ended.
    Finished(Finished),
    /// A hook file was (re)loaded: by the load numbered `generation`.
    Loaded(PathBuf, u64, Result<LoadedHook, String>),
    /// A settled file was compared with the memory: `repeat` when it was handled before
    /// and its content is unchanged.
    Checked(Arc<Handler>, FileEvent, bool),
}

/// The worker's state.
pub struct Worker {
    pub(super) host: Arc<Host>,
    pub(super) limits: Limits,
    pub(super) stop_timeout: Duration,
    pub(super) registry: Registry,
    pub(super) ignores: HashMap<PathBuf, Ignores>,
    pub(super) source: Option<Source>,
    pub(super) memory: Arc<Memory>,
    pub(super) messages: UnboundedSender<Message>,
    pub(super) pending: Debouncer<Key, RawEvent>,
    pub(super) settling: Settler<Key, RawEvent>,
    pub(super) reloads: Debouncer<PathBuf, ()>,
    /// The number of each hook file's latest load: an earlier one that ends later is
    /// stale and must not replace it.
    pub(super) generations: HashMap<PathBuf, u64>,
    pub(super) slots: HashMap<String, Slots<FileEvent>>,
    pub(super) hashes: HashMap<Key, tokio::task::JoinHandle<Option<String>>>,
    pub(super) records: JoinSet<()>,
    /// Set on stop: hashing gives up, so a large file does not hold the exit.
    pub(super) hash_stop: Arc<AtomicBool>,
    pub(super) stopping: Option<Stopping>,
}

/// A stop in progress.
pub(super) struct Stopping {
    /// When running handlers are cancelled (or, once they are, given up on).
    pub(super) deadline: Instant,
    /// Whether they were cancelled already.
    pub(super) cancelled: bool,
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
            generations: HashMap::new(),
            slots: HashMap::new(),
            hashes: HashMap::new(),
            records: JoinSet::new(),
            hash_stop: Arc::new(AtomicBool::new(false)),
            stopping: None,
        }
    }

    /// A worker for `registry` with the default limits and its memory in the new file
    /// `memory`; its messages stay in the receiver it comes with.
    #[cfg(test)]
    pub(crate) fn for_tests(
        host: Arc<Host>,
        registry: Registry,
        memory: &std::path::Path,
    ) -> (Self, UnboundedReceiver<Message>) {
        let memory = Memory::open(memory).unwrap();
        let (messages, received) = tokio::sync::mpsc::unbounded_channel();
        let worker = Self::new(
            host,
            Limits::default(),
            Duration::from_secs(1),
            registry,
            Arc::new(memory),
            messages,
        );
        (worker, received)
    }

    /// Watches until stopped.
    pub async fn run(
        mut self,
        mut events: UnboundedReceiver<SourceEvent>,
        mut messages: UnboundedReceiver<Message>,
        mut signals: UnboundedReceiver<StopSignal>,
    ) -> WatchEnd {
        let end = loop {
            if let Some(end) = self.check_stop(Instant::now()) {
                break end;
            }
            let wake = self.next_wake();
            tokio::select! {
                Some(event) = events.recv() => self.on_source(event),
                Some(message) = messages.recv() => self.on_message(message),
                Some(_) = signals.recv() => self.on_signal(),
                // Finished records are collected as they end, not only at exit.
                Some(_) = self.records.join_next() => {}
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

    pub(super) fn handlers(&self) -> Vec<Arc<Handler>> {
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
            SourceEvent::Overflow => {
                report::warn(
                    "the kernel dropped file events (its queue overflowed); looking at every \
                     watched file again (raise `fs.inotify.max_queued_events` with sysctl)",
                );
                if self.stopping.is_none() {
                    self.scan(false);
                }
            }
            SourceEvent::Error(text) => report::warn(&text),
        }
    }

    fn on_message(&mut self, message: Message) {
        match message {
            Message::Finished(finished) => self.finished(finished),
            Message::Loaded(hook, generation, result) => self.loaded(&hook, generation, result),
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
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

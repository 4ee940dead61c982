//! From a ready file to a run and back: the handler's slots decide whether it starts
//! now; a run that ends is reported, recorded in the state file (with the content hash
//! taken while it ran) and frees its slot for what waited.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::file_gate::Protected;

use crate::hook::event::FileEvent;
use crate::hook::files;
use crate::watch::memory::{Outcome, Record};
use crate::watch::registry::Handler;
use crate::watch::report;
use crate::watch::run::{self, Finished};
use crate::watch::slots::Offer;
use crate::watch::worker::{Key, Message, Worker};

impl Worker {
    /// Offers a ready file to its handler's slots; starts a run when they say so.
    pub(super) fn offer(&mut self, handler: Arc<Handler>, event: FileEvent) {
        let path = event.path.clone();
        let later = match self.slots_of(&handler).offer(path.clone(), event) {
            Offer::Start(event, cancel) => return self.start(handler, event, cancel),
            Offer::Queued => "runs again once its run ends",
            Offer::Skipped => "skipped: its run is going",
            Offer::Restarting => "restarts once its cancelled run ends",
            Offer::Waiting => "waits for a free run slot",
        };
        tracing::debug!("{}: {} {later}", handler.name, path.display());
    }

    /// Starts a run on its own thread, hashing the file meanwhile for the state file.
    ///
    /// An event that waited (queued behind a run, for a free slot, or for a restart) may
    /// be older than the file: if the file changed since it settled, its run would see
    /// it half-written, so the event gives way to the file settling again.
    pub(super) fn start(
        &mut self,
        handler: Arc<Handler>,
        event: FileEvent,
        cancel: CancellationToken,
    ) {
        let key = (handler.name.clone(), event.path.clone());
        if self.pending.contains(&key) || self.settling.contains(&key) {
            // The newer event is offered once the file settles.
            tracing::debug!(
                "{}: {} changed again while it waited; it runs once it settles",
                handler.name,
                event.path.display()
            );
            return self.after_run(&key);
        }
        if event.stat.is_some() && files::stat(&event.path) != event.stat {
            // Changed with no event taken yet (or one this handler does not want).
            tracing::debug!(
                "{}: {} changed since it settled; it settles again",
                handler.name,
                event.path.display()
            );
            self.settle_again(&handler, event);
            return self.after_run(&key);
        }
        report::started(&handler, &event);
        if event.stat.is_some() {
            let path = event.path.clone();
            let stop = Arc::clone(&self.hash_stop);
            let hash = tokio::task::spawn_blocking(move || files::hash(&path, &stop).ok());
            self.hashes.insert(key.clone(), hash);
        }
        let messages = self.messages.clone();
        let done = move |finished| {
            let _ = messages.send(Message::Finished(finished));
        };
        let mut protected = self.registry.protected();
        protected.push(Protected::File(self.memory.path().to_path_buf()));
        let setup = (self.limits, protected);
        if let Err(err) = run::spawn(&self.host, setup, handler, event, cancel, done) {
            report::warn(&format!("cannot start a thread for `{}`: {err}", key.0));
            self.hashes.remove(&key);
            self.after_run(&key);
        }
    }

    /// A run ended: report it, record it, free its slot.
    pub(super) fn finished(&mut self, finished: Finished) {
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

    /// Writes `record` at once, so rows follow the order runs ended and a stop loses
    /// none (a single small insert), and adds its file's hash once that is known, off
    /// the worker's task. A row whose hash never came (a stop cut the hashing short) is
    /// not taken as "handled and unchanged": that file is handed over again.
    pub(super) fn record(
        &mut self,
        record: Record,
        hash: Option<tokio::task::JoinHandle<Option<String>>>,
    ) {
        let row = match self.memory.record(&record) {
            Ok(row) => row,
            Err(err) => return report::warn(&err.to_string()),
        };
        let Some(hash) = hash else {
            return;
        };
        let memory = Arc::clone(&self.memory);
        self.records.spawn(async move {
            let Ok(Some(hash)) = hash.await else {
                return;
            };
            let written = tokio::task::spawn_blocking(move || memory.set_hash(row, &hash)).await;
            if let Ok(Err(err)) = written {
                report::warn(&err.to_string());
            }
        });
    }

    /// Frees the run's slot and starts what was waiting for it.
    pub(super) fn after_run(&mut self, key: &Key) {
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
}

//! From file events to files ready for their handlers: hook edits go to reloads, the
//! rest pass each handler's filter, are debounced per handler and file, and settle; a
//! settled file is checked against the memory of what was handled before it is offered.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::hook::event::{ChangeKind, FileEvent, RawEvent, Stat};
use crate::hook::files;
use crate::hook::filter::IGNORE_FILE;
use crate::hook::spec::OnBusy;
use crate::watch::registry::Handler;
use crate::watch::report;
use crate::watch::settle::Observation;
use crate::watch::slots::Slots;
use crate::watch::worker::{Key, Message, RELOAD_QUIET, Worker};

impl Worker {
    /// Hands every file already under the handlers' roots to them, as `create` events.
    pub fn initial_scan(&mut self) {
        self.scan(true);
    }

    /// Offers every file under the handlers' roots as a `create`: at start
    /// (`initial`), and after the kernel dropped events, when nothing says which files
    /// changed. Files handled before and unchanged since are skipped by the memory.
    pub(super) fn scan(&mut self, initial: bool) {
        let now = Instant::now();
        for root in self.registry.roots() {
            for path in files::walk(&root) {
                let raw = RawEvent {
                    initial,
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

    /// A file changed: a hook edit is reloaded, anything else offered to each handler.
    pub(super) fn on_change(&mut self, raw: RawEvent) {
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
        if raw.path.file_name().is_some_and(|n| n == IGNORE_FILE) {
            if let Some(root) = raw.path.parent() {
                self.load_ignores(root);
            }
            return;
        }
        let arrived = matches!(raw.kind, ChangeKind::Create | ChangeKind::Rename);
        if arrived && files::is_dir(&raw.path) {
            return self.folder_arrived(&raw);
        }
        for handler in self.handlers() {
            self.push(&handler, &raw, handler.spec.debounce, raw.seen);
        }
    }

    /// A folder was created or moved in: the files in it came with it (or before its
    /// watch was in place) and no event of their own will tell, so each is offered as
    /// created, or renamed from its place in the folder's old path.
    fn folder_arrived(&mut self, raw: &RawEvent) {
        for path in files::walk(&raw.path) {
            let from = raw.from.as_ref().and_then(|old| {
                path.strip_prefix(&raw.path)
                    .ok()
                    .map(|inside| old.join(inside))
            });
            let file = RawEvent {
                path,
                from,
                ..raw.clone()
            };
            for handler in self.handlers() {
                self.push(&handler, &file, handler.spec.debounce, file.seen);
            }
        }
    }

    pub(super) fn is_state_file(&self, path: &Path) -> bool {
        path.as_os_str()
            .to_string_lossy()
            .starts_with(&*self.memory.path().as_os_str().to_string_lossy())
    }

    /// Whether `path` is under `handler`'s root, not ignored there, and matches. Hook
    /// files and the state file are never handed to handlers (`--initial` included):
    /// a `*` handler would otherwise run for its own hook, or for every record it adds.
    pub(super) fn matches(&self, handler: &Handler, path: &Path) -> bool {
        if self.registry.is_hook_file(path) || self.is_state_file(path) {
            return false;
        }
        let Ok(relative) = path.strip_prefix(&handler.root) else {
            return false;
        };
        let ignored = self
            .ignores
            .get(&handler.root)
            .is_some_and(|i| i.is_ignored(relative))
            || crate::hook::filter::is_hidden(relative);
        !ignored && handler.spec.pattern.matches(relative)
    }

    /// Offers `raw` to `handler`'s debounce, when the handler wants it. A file renamed
    /// out of the pattern is a removal of its old name.
    pub(super) fn push(
        &mut self,
        handler: &Arc<Handler>,
        raw: &RawEvent,
        quiet: Duration,
        at: Instant,
    ) {
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

    /// The run slots of `handler`, made on first use.
    pub(super) fn slots_of(&mut self, handler: &Handler) -> &mut Slots<FileEvent> {
        let root = self.host.cancel_token();
        self.slots.entry(handler.name.clone()).or_insert_with(|| {
            Slots::new(handler.spec.concurrency, handler.spec.on_busy, root.clone())
        })
    }

    /// The timers: debounced files, settling files, hook reloads.
    pub(super) fn on_time(&mut self, now: Instant) {
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
    pub(super) fn debounced(&mut self, key: Key, raw: RawEvent, now: Instant) {
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
            self.settling.start(key, raw, handler.spec.settle, now);
        }
    }

    /// Puts `event`'s file back to settle, for an event that went stale while it waited.
    pub(super) fn settle_again(&mut self, handler: &Handler, event: FileEvent) {
        let now = Instant::now();
        let raw = RawEvent {
            kind: event.kind,
            path: event.path.clone(),
            from: event.from,
            seen: now,
            initial: event.initial,
        };
        let key = (handler.name.clone(), event.path);
        self.settling.start(key, raw, handler.spec.settle, now);
    }

    /// A file is ready for its handler, unless the memory says it was handled already.
    pub(super) fn settled(&mut self, name: &str, raw: &RawEvent, stat: Option<Stat>) {
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
                let stop = Arc::clone(&self.hash_stop);
                tokio::task::spawn_blocking(move || {
                    // Without a hash from before, nothing says the content is the same.
                    let repeat = before.hash.is_some()
                        && files::hash(&event.path, &stop).ok() == before.hash;
                    let _ = messages.send(Message::Checked(handler, event, repeat));
                });
            }
            _ => self.offer(handler, event),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::hook::files;
    use crate::script::{Limits, ScriptFile};
    use crate::watch::program::HookProgram;
    use crate::watch::registry::Registry;
    use crate::watch::worker::Worker;

    #[test]
    fn after_dropped_events_every_file_under_the_roots_is_looked_at_again() {
        let (_dir, root) = crate::hook::files::tests::temp_root();
        let hook = root.join("h.rhai");
        files::write_text(&hook, r#"on_file("in/*", |e| {});"#).unwrap();
        for name in ["in/a", "in/b", "elsewhere/c"] {
            files::create_dir_all(&root.join(name).with_file_name("")).unwrap();
            files::write_text(&root.join(name), "x").unwrap();
        }
        let (_runtime, host) = crate::script::host::testing::on_a_worker();
        let loaded =
            HookProgram::load(&host, Limits::default(), ScriptFile::read(&hook).unwrap()).unwrap();
        let mut registry = Registry::new(std::slice::from_ref(&hook)).unwrap();
        registry.install(&hook, loaded).unwrap();
        let (mut worker, _messages) = Worker::for_tests(host, registry, &root.join(".state/w.db"));
        assert!(worker.pending.is_empty());
        worker.scan(false);
        assert_eq!(worker.pending.len(), 2, "in/a and in/b, not elsewhere/c");
    }
}

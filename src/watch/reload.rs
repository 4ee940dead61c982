//! Loading hook scripts, at start and whenever one is edited: the script compiles and
//! registers on its own thread; a version that does not load is reported and the
//! previous one keeps running. Also the folders to watch and their ignore rules, which
//! follow the handlers.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::hook::files;
use crate::hook::filter::{IGNORE_FILE, Ignores};
use crate::script::{Host, Limits, ScriptFile};
use crate::watch::error::WatchError;
use crate::watch::program::{HookProgram, LoadedHook};
use crate::watch::report;
use crate::watch::worker::{Message, Worker};

/// Loads the hook at `shown` (its path as the operator gave it) on a new thread and
/// passes the outcome to `done`.
fn spawn_load(
    host: Arc<Host>,
    limits: Limits,
    shown: PathBuf,
    done: impl FnOnce(Result<LoadedHook, String>) + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("hook-load".into())
        .spawn(move || done(load(&host, limits, &shown)))
        .map(drop)
}

fn load(host: &Arc<Host>, limits: Limits, shown: &Path) -> Result<LoadedHook, String> {
    let file = ScriptFile::read(shown)
        .map_err(|err| format!("error: cannot read `{}`: {err}\n", shown.display()))?;
    HookProgram::load(host, limits, file)
}

impl Worker {
    /// Loads every hook file; any that does not load stops the start.
    pub fn load_all(&mut self) -> Result<(), WatchError> {
        let hooks = self
            .registry
            .hook_files()
            .map_err(|err| WatchError::Hooks {
                path: self.registry.first_folder().unwrap_or_default(),
                err,
            })?;
        for hook in hooks {
            let shown = self.registry.shown(&hook);
            let (tx, rx) = std::sync::mpsc::channel();
            spawn_load(
                self.host.clone(),
                self.limits,
                shown.clone(),
                move |result| {
                    let _ = tx.send(result);
                },
            )
            .map_err(WatchError::Thread)?;
            let loaded = rx
                .recv()
                .map_err(|_| {
                    WatchError::Load(format!("error: loading `{}` failed\n", shown.display()))
                })?
                .map_err(WatchError::Load)?;
            let handlers = self
                .registry
                .install(&hook, loaded)
                .map_err(|err| WatchError::Load(format!("error: {err}\n")))?
                .to_vec();
            report::loaded(&shown, &handlers, false);
        }
        Ok(())
    }

    /// Watches every handler's root (recursively) and the hook folders, and reads the
    /// ignore rules of roots not seen before.
    pub fn watch_folders(&mut self) -> Result<(), WatchError> {
        for root in self.registry.roots() {
            if !self.ignores.contains_key(&root) {
                self.load_ignores(&root);
            }
            if let Some(source) = &mut self.source {
                source.watch(&root, true)?;
            }
        }
        for folder in self.registry.hook_folders() {
            if let Some(source) = &mut self.source {
                source.watch(&folder, false)?;
            }
        }
        Ok(())
    }

    /// (Re)reads `root`'s `.cutoverignore`.
    pub(super) fn load_ignores(&mut self, root: &Path) {
        if !self.registry.roots().contains(root) {
            return;
        }
        let text = match files::read_optional(&root.join(IGNORE_FILE)) {
            Ok(text) => text,
            Err(err) => {
                report::warn(&format!(
                    "cannot read `{}`: {err}",
                    root.join(IGNORE_FILE).display()
                ));
                None
            }
        };
        let (ignores, warnings) = Ignores::with_rules(text.as_deref());
        for warning in warnings {
            report::warn(&format!("{}: {warning}", root.display()));
        }
        self.ignores.insert(root.to_path_buf(), ignores);
    }

    /// A hook file changed: load it again, or forget it if it is gone.
    pub(super) fn reload(&mut self, hook: PathBuf) {
        let shown = self.registry.shown(&hook);
        let generation = self.generations.entry(hook.clone()).or_default();
        *generation += 1;
        let generation = *generation;
        if files::stat(&hook).is_none() {
            if self.registry.remove(&hook) {
                report::removed(&shown);
                self.prune();
            }
            return;
        }
        let messages = self.messages.clone();
        let done = move |result| {
            let _ = messages.send(Message::Loaded(hook, generation, result));
        };
        if let Err(err) = spawn_load(self.host.clone(), self.limits, shown.clone(), done) {
            report::warn(&format!("cannot reload `{}`: {err}", shown.display()));
        }
    }

    /// A reload finished: install the new handlers, or keep the old ones. Loads end in
    /// any order; only the latest one started for `hook` counts.
    pub(super) fn loaded(
        &mut self,
        hook: &Path,
        generation: u64,
        result: Result<LoadedHook, String>,
    ) {
        if self.stopping.is_some() {
            return;
        }
        if self.generations.get(hook) != Some(&generation) {
            tracing::debug!("{}: an older load ended late; ignored", hook.display());
            return;
        }
        let shown = self.registry.shown(hook);
        let installed = result.and_then(|loaded| {
            self.registry
                .install(hook, loaded)
                .map(<[_]>::to_vec)
                .map_err(|err| format!("error: {err}\n"))
        });
        let handlers = match installed {
            Ok(handlers) => handlers,
            Err(rendered) => return report::reload_failed(&shown, &rendered),
        };
        report::loaded(&shown, &handlers, true);
        for handler in &handlers {
            if let Some(slots) = self.slots.get_mut(&handler.name) {
                slots.reconfigure(handler.spec.concurrency, handler.spec.on_busy);
            }
        }
        if let Err(err) = self.watch_folders() {
            report::warn(&err.to_string());
        }
        self.prune();
    }

    /// Drops what waits for handlers that no longer exist.
    fn prune(&mut self) {
        let names: HashSet<String> = self.registry.handlers().map(|h| h.name.clone()).collect();
        self.pending.retain(|(name, _)| names.contains(name));
        self.settling.retain(|(name, _)| names.contains(name));
        self.slots
            .retain(|name, slots| names.contains(name) || slots.running() > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::registry::Registry;

    #[test]
    fn a_load_that_ends_after_a_newer_one_is_ignored() {
        let (_dir, root) = crate::hook::files::tests::temp_root();
        let hook = root.join("a.rhai");
        let (runtime, host) = crate::script::host::testing::on_a_worker();
        let limits = Limits::default();
        let version = |folder: &str| {
            files::write_text(&hook, &format!(r#"on_file("{folder}/*", |e| {{}});"#)).unwrap();
            load(&host, limits, &hook).unwrap()
        };
        let (older, newer) = (version("old"), version("new"));
        let registry = Registry::new(std::slice::from_ref(&hook)).unwrap();
        let (mut worker, _messages) =
            Worker::for_tests(host.clone(), registry, &root.join("state.db"));
        worker.generations.insert(hook.clone(), 2);
        let _guard = runtime.enter();
        worker.loaded(&hook, 2, Ok(newer));
        worker.loaded(&hook, 1, Ok(older));
        let names: Vec<String> = worker.handlers().iter().map(|h| h.name.clone()).collect();
        assert_eq!(names, ["a.rhai: new/*"]);
    }
}

//! `cutover watch`: hook scripts register handlers with `on_file`; files that arrive or
//! change under their folders run those handlers on script threads until Ctrl-C.
//!
//! The hook scripts themselves (their `on_file` data and Rhai bindings) are
//! [`crate::hook`]; this is the watcher that loads ([`program`]) and runs them. The path
//! of an event: notify ([`source`]) → filter (globs and ignore rules,
//! [`crate::hook::filter`]) → debounce per handler and file ([`debounce`]) → settling
//! ([`settle`]) → the memory of what was handled ([`memory`]) → the handler's run slots
//! and `on_busy` policy ([`slots`]) → a run on its own thread ([`run`]). [`worker`]
//! drives it all.

pub mod debounce;
pub mod dispatch;
pub mod error;
pub mod intake;
pub mod keyed;
pub mod memory;
pub mod program;
pub mod registry;
pub mod reload;
pub mod report;
pub mod run;
pub mod settle;
pub mod slots;
pub mod source;
pub mod stop;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

pub use error::WatchError;

use crate::runtime::Runtime;
use crate::stop_signal::{self, StopSignal};
use crate::watch::memory::Memory;
use crate::watch::registry::Registry;
use crate::watch::source::Source;
use crate::watch::worker::Worker;

/// What `cutover watch` was asked to do.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Hook scripts: files, or folders whose `*.rhai` files are all loaded.
    pub paths: Vec<PathBuf>,
    /// Also hand over the files already there at start.
    pub initial: bool,
    /// How long running handlers may take to finish once a stop was asked for.
    pub stop_timeout: Duration,
    /// The state file; `None` for `.cutover/watch.db` in the first hook folder.
    pub state: Option<PathBuf>,
}

/// How watching ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// Stopped by a signal; every running handler finished.
    Stopped,
    /// Stopped by a signal; handlers still running at the stop timeout were cancelled.
    Cancelled,
}

/// Loads the hooks and watches until SIGINT or SIGTERM.
pub fn watch(runtime: &Runtime, options: &WatchOptions) -> Result<WatchEnd, WatchError> {
    let registry = Registry::new(&options.paths)?;
    let state = options.state.clone().unwrap_or_else(|| {
        registry
            .first_folder()
            .unwrap_or_default()
            .join(memory::DEFAULT_PATH)
    });
    let memory = Arc::new(Memory::open(&state)?);
    let (messages, messages_rx) = unbounded_channel();
    let mut worker = Worker::new(
        runtime.host().clone(),
        runtime.limits(),
        options.stop_timeout,
        registry,
        memory,
        messages,
    );
    worker.load_all()?;
    let handlers = worker.registry.handlers().count();
    if handlers == 0 {
        let paths = options
            .paths
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(WatchError::NoHandlers { paths });
    }
    runtime.block_on(async {
        let signals = signals();
        let (events, events_rx) = unbounded_channel();
        worker.source = Some(Source::start(events)?);
        worker.watch_folders()?;
        if options.initial {
            worker.initial_scan();
        }
        report::watching(handlers, &state);
        Ok(worker.run(events_rx, messages_rx, signals).await)
    })
}

/// A message for each SIGINT or SIGTERM. The handlers are installed before this
/// returns, so a signal arriving once watching has been announced is never fatal.
fn signals() -> UnboundedReceiver<StopSignal> {
    stop_signal::listen().unwrap_or_else(|err| {
        tracing::warn!("cannot listen for SIGINT and SIGTERM: {err}");
        unbounded_channel().1
    })
}

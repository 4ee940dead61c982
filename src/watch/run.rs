//! One handler run: on its own named OS thread (scripts never run on tokio's threads),
//! with a host whose cancellation token belongs to this run alone; its end comes back
//! to the watcher as a [`Finished`] message.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::script::files::FileGate;
use crate::script::hook::RunFailure;
use crate::script::{Host, Limits};
use crate::watch::event::FileEvent;
use crate::watch::registry::Handler;

/// A run that ended.
pub struct Finished {
    /// The handler that ran.
    pub handler: Arc<Handler>,
    /// The event it was handed.
    pub event: FileEvent,
    /// When it started (wall clock, for the state file) and how long it took.
    pub started: SystemTime,
    pub took: std::time::Duration,
    /// How it ended.
    pub result: Result<(), RunFailure>,
}

/// Starts `handler` on `event` on a new thread; `cancel` stops this run alone.
pub fn spawn(
    host: &Host,
    limits: Limits,
    handler: Arc<Handler>,
    event: FileEvent,
    cancel: CancellationToken,
    done: impl FnOnce(Finished) + Send + 'static,
) -> std::io::Result<()> {
    let host = host.child(cancel);
    std::thread::Builder::new()
        .name("hook".into())
        .spawn(move || {
            let started = SystemTime::now();
            let clock = Instant::now();
            // A handler reads where its hook may, and reads and writes in its root.
            let gate = FileGate::new(handler.folder.clone(), host.allowed_reads())
                .writable(vec![handler.root.clone()]);
            let result = handler.program.invoke(
                &host,
                limits,
                gate,
                (&handler.callback, handler.spec.line),
                &event,
            );
            done(Finished {
                handler,
                event,
                started,
                took: clock.elapsed(),
                result,
            });
        })
        .map(drop)
}

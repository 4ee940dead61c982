//! One handler run: on its own named OS thread (scripts never run on tokio's threads),
//! with a host whose cancellation token belongs to this run alone; its end comes back
//! to the watcher as a [`Finished`] message.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::file_gate::{FileGate, Protected};
use crate::hook::event::FileEvent;
use crate::script::{Host, Limits};
use crate::watch::program::RunFailure;
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

/// Starts `handler` on `event` on a new thread; `cancel` stops this run alone. The
/// run may not write the `protected` files (hooks, the state file).
pub fn spawn(
    host: &Host,
    (limits, protected): (Limits, Vec<Protected>),
    handler: Arc<Handler>,
    event: FileEvent,
    cancel: CancellationToken,
    done: impl FnOnce(Finished) + Send + 'static,
) -> std::io::Result<()> {
    let host = host.child(cancel);
    std::thread::Builder::new()
        .name("hook".into())
        .stack_size(crate::script::STACK_SIZE)
        .spawn(move || {
            let started = SystemTime::now();
            let clock = Instant::now();
            // A panic must still end the run, or its file would stay busy for good.
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                // A handler reads where its hook may, and reads and writes in its root
                // (but never the watcher's own files).
                let gate = FileGate::new(handler.folder.clone(), host.allowed_reads())
                    .guarding(host.targets().secret_files())
                    .writable(vec![handler.root.clone()])
                    .protecting(protected);
                handler.program.invoke(
                    &host,
                    limits,
                    gate,
                    (&handler.callback, handler.spec.line),
                    &event,
                )
            }))
            .unwrap_or_else(|panic| Err(panicked(panic.as_ref())));
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

/// The failure of a run that panicked, with the panic's message when it has one.
fn panicked(panic: &(dyn Any + Send)) -> RunFailure {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    let headline = format!("the handler stopped on an internal error: {message}");
    RunFailure {
        rendered: format!("error: {headline}\n"),
        headline,
        cancelled: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_failure_with_its_message() {
        let failure = panicked(&"index out of bounds");
        assert!(
            failure.headline.ends_with("index out of bounds"),
            "{failure:?}"
        );
        assert!(!failure.cancelled);
        let failure = panicked(&String::from("boom"));
        assert!(failure.rendered.starts_with("error: "));
        assert!(failure.headline.ends_with("boom"));
        assert!(panicked(&7_u8).headline.ends_with("no message"));
    }
}

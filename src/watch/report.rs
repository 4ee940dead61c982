//! What `cutover watch` tells the operator on stderr: what it watches, each run's start
//! and end, failures with their diagnostic, reloads. Handlers' own `print` output goes
//! to stdout. Names come from the file system, so they are escaped for the terminal.

use std::path::Path;
use std::time::Duration;

use crate::hook::event::FileEvent;
use crate::terminal_text::escape_control;
use crate::watch::registry::Handler;

/// Writes `text` to stderr; a closed stderr must not stop the watcher. Unit tests go
/// through `eprint!`, which the test harness captures, so reports of a passing test
/// never show among its results.
fn emit(text: &str) {
    #[cfg(test)]
    eprint!("{text}");
    #[cfg(not(test))]
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
}

/// Writes one line to stderr.
fn line(text: &str) {
    emit(&format!("{}\n", escape_control(text)));
}

/// Writes a rendered diagnostic (escaped already) to stderr.
fn rendered(text: &str) {
    if text.ends_with('\n') {
        emit(text);
    } else {
        emit(&format!("{text}\n"));
    }
}

fn seconds(took: Duration) -> String {
    format!("{:.2}s", took.as_secs_f64())
}

/// The handlers of a hook that was loaded.
pub fn loaded(hook: &Path, handlers: &[std::sync::Arc<Handler>], reloaded: bool) {
    let verb = if reloaded { "reloaded" } else { "loaded" };
    line(&format!(
        "{verb} {}: {} handler{}",
        hook.display(),
        handlers.len(),
        if handlers.len() == 1 { "" } else { "s" }
    ));
    for handler in handlers {
        line(&format!(
            "  {}  ({})",
            handler.name,
            handler.root.join(handler.spec.pattern.as_str()).display()
        ));
    }
}

/// Watching has started.
pub fn watching(handlers: usize, state: &Path) {
    line(&format!(
        "watching with {handlers} handler{} (state in {}); Ctrl-C stops",
        if handlers == 1 { "" } else { "s" },
        state.display()
    ));
}

/// A run starts.
pub fn started(handler: &Handler, event: &FileEvent) {
    line(&format!(
        "run {} ({}) with `{}`",
        event.name,
        event.kind.as_str(),
        handler.name
    ));
}

/// A run ended well.
pub fn succeeded(handler: &Handler, event: &FileEvent, took: Duration) {
    line(&format!(
        "ok {} in {} (`{}`)",
        event.name,
        seconds(took),
        handler.name
    ));
}

/// A run failed; `rendered` is its diagnostic, escaped already.
pub fn failed(handler: &Handler, event: &FileEvent, took: Duration, diagnostic: &str) {
    rendered(diagnostic);
    line(&format!(
        "failed {} after {} (`{}`); watching goes on",
        event.name,
        seconds(took),
        handler.name
    ));
}

/// A run was cancelled.
pub fn cancelled(handler: &Handler, event: &FileEvent, took: Duration) {
    line(&format!(
        "cancelled {} after {} (`{}`)",
        event.name,
        seconds(took),
        handler.name
    ));
}

/// A hook edit that does not load; `rendered` is the diagnostic.
pub fn reload_failed(hook: &Path, diagnostic: &str) {
    rendered(diagnostic);
    line(&format!(
        "{} was not reloaded; its previous version keeps running",
        hook.display()
    ));
}

/// A hook file went away.
pub fn removed(hook: &Path) {
    line(&format!(
        "{} was removed; its handlers stopped",
        hook.display()
    ));
}

/// Stopping has begun.
pub fn stopping(running: usize, timeout: Duration) {
    if running > 0 {
        line(&format!(
            "stopping: waiting up to {} for {running} running handler{}",
            seconds(timeout),
            if running == 1 { "" } else { "s" }
        ));
    } else {
        line("stopping");
    }
}

/// Runs still going at the stop timeout are being cancelled.
pub fn cancelling(running: usize) {
    line(&format!(
        "cancelling {running} handler{} still running",
        if running == 1 { "" } else { "s" }
    ));
}

/// Something went wrong that does not stop watching.
pub fn warn(text: &str) {
    line(&format!("warning: {text}"));
}

//! The one live display a run may show on stderr, and the way every other output gets
//! past it: while it is shown, a script's `print` (stdout) and a log line (stderr) are
//! written with the display suspended (cleared, written, drawn again below), so lines
//! scroll above it and it never tears. With no display shown, writes go straight out.

use std::io::{self, Write};
use std::sync::{PoisonError, RwLock};

use indicatif::ProgressBar;

/// The display shown now, if any.
static SHOWN: RwLock<Option<ProgressBar>> = RwLock::new(None);

/// Makes `bar` the display every write gets past, until [`hide`].
pub fn show(bar: ProgressBar) {
    *SHOWN.write().unwrap_or_else(PoisonError::into_inner) = Some(bar);
}

/// Writes go straight out again; answers the display that was shown.
pub fn hide() -> Option<ProgressBar> {
    SHOWN.write().unwrap_or_else(PoisonError::into_inner).take()
}

/// Runs `write` with the display, if one is shown, out of the way.
pub fn around<R>(write: impl FnOnce() -> R) -> R {
    // Cloned out of the lock: a write that logs must not wait on it.
    let shown = SHOWN.read().unwrap_or_else(PoisonError::into_inner).clone();
    match shown {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Writes `line` and a newline on stdout, past the display. A closed stdout (e.g.
/// `| head`) is ignored: it must not kill a run mid-migration.
pub fn print_line(line: &str) {
    around(|| {
        let _ = writeln!(io::stdout().lock(), "{line}");
    });
}

/// Stderr past the display, for the log: each event is one `write_all`, so a line is
/// never split by a redraw.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        around(|| io::stderr().lock().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        around(|| io::stderr().lock().write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

//! `Session`: what happens to one entry, typed or piped: a meta-command runs, script
//! text is evaluated and its value printed for people, an error is printed with its
//! caret and the session goes on.

use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::runtime::Runtime;
use crate::script::console::Console;

/// What the loop does after an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Read the next entry.
    Next,
    /// End the session (`:quit`).
    Quit,
}

/// A REPL session over one runtime.
pub(super) struct Session<'r> {
    pub(super) console: Console,
    pub(super) runtime: &'r Runtime,
    /// `:time` is on: each entry's duration is printed after it.
    pub(super) timing: bool,
    /// Some entry failed; a piped session then exits non-zero.
    pub(super) failed: bool,
    /// For piped input, the line of standard input the entry being handled starts on.
    pub(super) first_line: Option<usize>,
}

impl<'r> Session<'r> {
    /// A session with an empty scope.
    pub(super) fn new(runtime: &'r Runtime) -> Result<Self, String> {
        let base_dir = std::env::current_dir().unwrap_or_default();
        Ok(Self {
            console: runtime.console(base_dir)?,
            runtime,
            timing: false,
            failed: false,
            first_line: None,
        })
    }

    /// Handles one complete entry.
    pub(super) fn handle(&mut self, entry: &str) -> Step {
        let trimmed = entry.trim();
        if trimmed.is_empty() {
            return Step::Next;
        }
        if trimmed.starts_with(':') {
            return super::meta::run(self, trimmed);
        }
        let started = Instant::now();
        let result = self.console.eval(entry);
        self.report(result);
        if self.timing {
            print_out(&format!("time: {}", elapsed(started.elapsed())));
        }
        Step::Next
    }

    /// Prints an entry's value, or its error on stderr.
    pub(super) fn report(
        &mut self,
        result: Result<Option<String>, crate::script::console::Failure>,
    ) {
        match result {
            Ok(Some(shown)) => print_out(&shown),
            Ok(None) => {}
            Err(failure) => {
                self.failed = true;
                if failure.interrupted {
                    print_err("interrupted\n");
                } else if let Some(first) = self.first_line {
                    print_err(&super::relocate::relocate(&failure.rendered, first));
                } else {
                    print_err(&failure.rendered);
                }
            }
        }
    }
}

/// Prints a line on stdout; a closed stdout must not end the session with a panic.
pub(super) fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Prints already formatted text on stderr.
pub(super) fn print_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{text}");
    let _ = err.flush();
}

/// `12ms`, `1.234s`.
fn elapsed(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.3}s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_easily() {
        assert_eq!(elapsed(Duration::from_micros(12_400)), "12ms");
        assert_eq!(elapsed(Duration::from_millis(1234)), "1.234s");
    }
}

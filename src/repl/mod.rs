//! The REPL, `cutover repl`: script entries evaluated one by one in a persistent scope,
//! against the targets or the lab, for the ad-hoc work of a migration weekend.
//!
//! On a terminal it is a line editor with history and completion (`terminal.rs`); with
//! standard input from a pipe or file, entries are read and evaluated one by one and
//! their results printed, so the REPL can be scripted. Either way Ctrl-C stops the entry
//! being evaluated and the session goes on; SIGTERM ends the session, logged out of its
//! targets, with exit status 143.

mod complete;
mod history;
mod input;
mod lab_state;
mod meta;
mod relocate;
mod session;
mod terminal;
mod terminate;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use session::{Session, Step};

use crate::runtime::Runtime;

/// How to run the REPL.
#[derive(Clone, Debug, Default)]
pub struct ReplOptions {
    /// The history file; `None` for `cutover/history` in the user's data folder.
    pub history: Option<PathBuf>,
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every entry succeeded, or the session was interactive.
    Clean,
    /// A piped session had entries that failed.
    SomeEntriesFailed,
}

/// Why the REPL could not run at all (an entry's failure is not one of these).
#[derive(Debug, thiserror::Error)]
pub enum ReplError {
    /// The engine's metadata or the Ctrl-C handler could not be set up.
    #[error("cannot start the REPL: {0}")]
    Start(String),
    /// The terminal failed.
    #[error("the terminal failed: {0}")]
    Terminal(#[from] rustyline::error::ReadlineError),
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    Input(#[from] std::io::Error),
}

/// Runs a session on `runtime` until Ctrl-D, `:quit` or the end of standard input.
pub fn run(runtime: &Runtime, options: &ReplOptions) -> Result<Ending, ReplError> {
    let mut session = Session::new(runtime).map_err(ReplError::Start)?;
    runtime
        .interrupt_on_ctrl_c()
        .map_err(|err| ReplError::Start(format!("cannot handle Ctrl-C: {err}")))?;
    terminate::end_on_sigterm(runtime)
        .map_err(|err| ReplError::Start(format!("cannot handle SIGTERM: {err}")))?;
    if std::io::stdin().is_terminal() {
        let history = options.history.clone().or_else(history::default_path);
        terminal::run(&mut session, history)?;
        return Ok(Ending::Clean);
    }
    piped(&mut session, std::io::stdin().lock())?;
    Ok(if session.failed {
        Ending::SomeEntriesFailed
    } else {
        Ending::Clean
    })
}

/// Evaluates the entries of `input` one by one, with no prompt and no history.
fn piped(session: &mut Session<'_>, input: impl BufRead) -> std::io::Result<()> {
    let mut pending = String::new();
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        if pending.is_empty() {
            // Errors name the line of standard input the entry starts on.
            session.first_line = Some(index + 1);
            if line.trim_start().starts_with(':') {
                if session.handle(&line) == Step::Quit {
                    return Ok(());
                }
                continue;
            }
        }
        pending.push_str(&line);
        if input::is_open(&pending) {
            pending.push('\n');
            continue;
        }
        if session.handle(&std::mem::take(&mut pending)) == Step::Quit {
            return Ok(());
        }
    }
    // An entry still open at the end goes to the compiler, which says what is missing.
    session.handle(&pending);
    Ok(())
}

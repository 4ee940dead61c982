//! `confirm(message[, #{ timeout }])`: an approval gate before an irreversible step.
//! With `--yes` every gate is approved; on a terminal (stdin and stderr both are one)
//! the operator is asked `message [y/N]`; with neither, the gate fails and says to pass
//! `--yes`. Gates are asked one at a time, even from `parallel` items, and every answer
//! is logged. Under `--plan` no gate is asked: each is noted in the plan and approved.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rhai::{Engine, EvalAltResult, FuncRegistration, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::script::error_value::raise;
use crate::script::host::Host;
use crate::script::options::Options;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Held while a gate asks, so answers from the terminal go to one question at a time.
static GATE: Mutex<()> = Mutex::new(());

/// How often a gate waiting for an answer checks whether the run was interrupted.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// Registers `confirm`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    FuncRegistration::new("confirm")
        .with_comments(["/// An approval gate: returns true once `message` is approved. On a terminal it\n/// asks `message [y/N]` and waits; `--yes` approves every gate without asking;\n/// with no terminal and no `--yes` it fails (kind `validation`). A `no` is a\n/// `declined` error, which stops the script unless caught. Each answer is logged."])
        .with_params_info(["message: &str", "bool"])
        .register_into_engine(engine, move |message: &str| {
            confirm(&h, message, Map::new())
        });
    let h = host.clone();
    FuncRegistration::new("confirm")
        .with_comments(["/// `confirm` with options: `timeout` (e.g. \"10m\", wall-clock time): no answer\n/// by then is a `timeout` error."])
        .with_params_info(["message: &str", "options: Map", "bool"])
        .register_into_engine(engine, move |message: &str, options: Map| {
            confirm(&h, message, options)
        });
}

fn confirm(host: &Host, message: &str, options: Map) -> RhaiResult<bool> {
    let options = Options::new("confirm", options, &["timeout"])?;
    // An operator answers in wall-clock time, whatever speed the lab runs at.
    let timeout = options
        .has("timeout")
        .then(|| options.duration("timeout", Duration::ZERO))
        .transpose()?;
    let shown = crate::terminal_text::escape_control(message);
    if let Some(plan) = host.calls().plan() {
        // A plan changes nothing, so there is nothing to approve yet: the gate is shown
        // in the plan and the plan goes on.
        plan.gate(message);
        tracing::info!(target: "cutover::script", "confirm `{shown}`: shown in the plan, not asked");
        return Ok(true);
    }
    if host.approves_all() {
        tracing::info!(target: "cutover::script", "confirm `{shown}`: approved by --yes");
        return Ok(true);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(gate_error(
            ErrorKind::Validation,
            format!(
                "`{shown}` needs an operator's approval and there is no terminal to ask on; \
                 pass `--yes` to approve every gate"
            ),
        ));
    }
    let _gate = GATE.lock().unwrap_or_else(PoisonError::into_inner);
    let answer = crate::screen::around(|| ask(host, &shown, timeout))?;
    let Some(line) = answer else {
        tracing::info!(target: "cutover::script", "confirm `{shown}`: no answer in time");
        let waited = humantime::format_duration(timeout.unwrap_or_default());
        return Err(gate_error(
            ErrorKind::Timeout,
            format!("no answer to `{shown}` within {waited}"),
        ));
    };
    if approves(&line) {
        tracing::info!(target: "cutover::script", "confirm `{shown}`: approved at the terminal");
        Ok(true)
    } else {
        tracing::info!(target: "cutover::script", "confirm `{shown}`: declined at the terminal");
        Err(gate_error(
            ErrorKind::Declined,
            format!("the operator declined `{shown}`"),
        ))
    }
}

/// Whether an answer says yes: `y` or `yes`, in any case.
fn approves(line: &str) -> bool {
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn gate_error(kind: ErrorKind, message: String) -> Box<EvalAltResult> {
    let mut err = ApiError::new(kind, message);
    err.operation = Some("confirm".to_owned());
    raise(err)
}

/// Asks `message [y/N]` and reads one line; `None` when `timeout` passed first.
fn ask(host: &Host, message: &str, timeout: Option<Duration>) -> RhaiResult<Option<String>> {
    forget_typed_ahead();
    let mut stderr = std::io::stderr().lock();
    let asked = write!(stderr, "{message} [y/N] ").and_then(|()| stderr.flush());
    drop(stderr);
    asked.map_err(|err| gate_error(ErrorKind::Validation, format!("cannot ask: {err}")))?;
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    loop {
        if host.is_interrupted() {
            let _ = writeln!(std::io::stderr());
            return Err(raise(host.interruption()));
        }
        let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        if left.is_some_and(|left| left.is_zero()) {
            let _ = writeln!(std::io::stderr());
            return Ok(None);
        }
        let slice = left.map_or(CHECK_EVERY, |left| left.min(CHECK_EVERY));
        if readable(slice) {
            let mut line = String::new();
            let read = std::io::stdin().read_line(&mut line);
            return match read {
                Ok(0) => {
                    // The terminal closed: nobody can approve.
                    let _ = writeln!(std::io::stderr());
                    Ok(Some(String::new()))
                }
                Ok(_) => Ok(Some(line)),
                Err(err) => Err(gate_error(
                    ErrorKind::Validation,
                    format!("cannot read the answer: {err}"),
                )),
            };
        }
    }
}

/// Drops what the terminal holds that was typed before the question (type-ahead, a
/// second answer to an earlier gate), so only an answer to this question counts.
#[cfg(unix)]
fn forget_typed_ahead() {
    use nix::sys::termios::{FlushArg, tcflush};
    // Not a terminal after all: nothing was typed ahead to drop.
    let _ = tcflush(std::io::stdin(), FlushArg::TCIFLUSH);
}

#[cfg(not(unix))]
fn forget_typed_ahead() {}

/// Whether stdin has something to read within `wait`.
#[cfg(unix)]
fn readable(wait: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd as _;
    let stdin = std::io::stdin();
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    let millis = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
    // An interrupted poll (EINTR, e.g. Ctrl-C) reads as not yet readable; the caller
    // checks the run's token next.
    poll(&mut fds, PollTimeout::from(millis)).is_ok_and(|ready| ready > 0)
}

/// Without poll, the read blocks until the operator answers.
#[cfg(not(unix))]
fn readable(_wait: Duration) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_approves() {
        for yes in ["y", "Y\n", " yes \n", "YES"] {
            assert!(approves(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "sure", "y y"] {
            assert!(!approves(no), "{no:?}");
        }
    }
}

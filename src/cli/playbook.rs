//! `cutover run`: read the target file and the playbook, build a [`Runtime`](crate::Runtime) (with the
//! lab when rehearsing), run, and turn the outcome into an exit code. A run stopped by
//! SIGINT or SIGTERM still logs out of its targets and lists the mutating calls it made,
//! so the operator knows where things stand.

use std::path::Path;

use super::{RunArgs, fail, load_targets, read_script, report};
use crate::exit_code::ExitCode;
use crate::http::call_record::CallRecord;
use crate::runtime::{RunError, marked_line};
use crate::script::ScriptFile;
use crate::stop_signal::StopSignal;
use crate::terminal_text::escape_control;

/// Loads the target file, then the playbook, as `run` and `check` both begin: either
/// failing is a usage error, the target file's reported first.
pub(super) fn load_playbook(
    target_file: Option<&Path>,
    playbook: &Path,
) -> Result<(crate::config::Targets, ScriptFile), ExitCode> {
    let targets = load_targets(target_file)?;
    let file = read_script(playbook)?;
    Ok((targets, file))
}

pub(super) fn run(args: &RunArgs, target_file: Option<&Path>) -> ExitCode {
    let (targets, file) = match load_playbook(target_file, &args.file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let runtime = match args.rehearsal.start(targets, &args.limits) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    if let Err(err) = runtime.cancel_on_signals() {
        runtime.shutdown();
        return fail(
            ExitCode::Failure,
            format!("cannot listen for SIGINT and SIGTERM: {err}"),
        );
    }
    let calls = runtime.host().calls().clone();
    let result = runtime.run_file(&file);
    runtime.shutdown();
    match result {
        Ok(()) => {
            log_calls(&calls);
            ExitCode::Success
        }
        Err(RunError::Compile(rendered) | RunError::Config(rendered)) => {
            report(ExitCode::Usage, &rendered)
        }
        Err(RunError::Script(rendered)) => {
            log_calls(&calls);
            report(ExitCode::Failure, &rendered)
        }
        Err(RunError::Marked(reasons)) => {
            log_calls(&calls);
            report(ExitCode::Failure, &marked(&reasons))
        }
        Err(RunError::Interrupted {
            signal,
            marked: reasons,
        }) => {
            let code = signal.map_or(ExitCode::Interrupted, StopSignal::exit_code);
            let stopped = RunError::Interrupted {
                signal,
                marked: Vec::new(),
            };
            fail(code, stopped);
            let record = escape_control(&calls.report());
            report(code, &format!("{}{record}", marked(&reasons)))
        }
        Err(err @ RunError::Thread(_)) => fail(ExitCode::Failure, err),
    }
}

/// The `error:` lines of the reasons given to `fail_run`.
fn marked(reasons: &[String]) -> String {
    reasons.iter().map(|reason| marked_line(reason)).collect()
}

/// At `-v`, the record of mutating calls of a run that reached its end (well or not);
/// the normal output stays the playbook's own.
fn log_calls(calls: &CallRecord) {
    for line in calls.report().lines() {
        tracing::info!(target: "cutover::calls", "{line}");
    }
}

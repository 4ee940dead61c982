//! `cutover repl`: read the target file, build a [`Runtime`](crate::Runtime) (with the lab when asked),
//! and hand it to the REPL.

use std::path::Path;

use super::{LimitArgs, RehearsalArgs, ReplArgs, fail, load_targets};
use crate::exit_code::ExitCode;
use crate::repl::{self, ReplOptions};

/// Loads the target file and builds the runtime over it, as `repl` and `watch` both
/// start: a target file that does not load is exit 2, a runtime that cannot start exit 1.
pub(super) fn start_runtime(
    target_file: Option<&Path>,
    rehearsal: &RehearsalArgs,
    limits: &LimitArgs,
) -> Result<crate::Runtime, ExitCode> {
    let targets = load_targets(target_file)?;
    rehearsal.start(targets, limits)
}

pub(super) fn run(args: &ReplArgs, target_file: Option<&Path>) -> ExitCode {
    let runtime = match start_runtime(target_file, &args.rehearsal, &args.limits) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let options = ReplOptions {
        history: args.history.clone(),
    };
    let result = repl::run(&runtime, &options);
    // `fail_run` in a session fails it at its end, as in a playbook.
    let marked = runtime.host().verdict().take();
    super::shut_down(runtime);
    for reason in &marked {
        fail(
            ExitCode::Failure,
            format!("the session was marked failed: {reason}"),
        );
    }
    match result {
        Ok(repl::Ending::Clean) if marked.is_empty() => ExitCode::Success,
        Ok(repl::Ending::Clean | repl::Ending::SomeEntriesFailed) => ExitCode::Failure,
        Err(err) => fail(ExitCode::Failure, err),
    }
}

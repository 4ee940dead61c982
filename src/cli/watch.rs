//! `cutover watch`: read the target file, build a [`Runtime`](crate::Runtime) (with the
//! lab when rehearsing), load the hook scripts and watch until SIGINT or SIGTERM.

use std::path::Path;

use super::{WatchArgs, fail, report};
use crate::exit_code::ExitCode;
use crate::watch::{WatchEnd, WatchError, WatchOptions};

pub(super) fn run(args: &WatchArgs, target_file: Option<&Path>) -> ExitCode {
    let runtime = match super::repl::start_runtime(target_file, &args.rehearsal, &args.limits) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let options = WatchOptions {
        paths: args.paths.clone(),
        initial: args.initial,
        stop_timeout: args.stop_timeout,
        state: args.state.clone(),
    };
    let result = crate::watch::watch(&runtime, &options);
    super::shut_down(runtime);
    match result {
        Ok(WatchEnd::Stopped) => ExitCode::Success,
        Ok(WatchEnd::Cancelled) => ExitCode::Interrupted,
        Err(WatchError::Load(rendered)) => report(ExitCode::Usage, &rendered),
        Err(err) if err.is_script() => fail(ExitCode::Usage, err),
        Err(err @ WatchError::Hooks { .. }) => fail(ExitCode::Usage, err),
        Err(err) => fail(ExitCode::Failure, err),
    }
}

//! `cutover repl`: read the target file, build a [`Runtime`] (with the lab when asked),
//! and hand it to the REPL.

use std::path::Path;

use super::{ReplArgs, fail};
use crate::config::Targets;
use crate::exit_code::ExitCode;
use crate::repl::{self, ReplOptions};
use crate::runtime::Runtime;

pub(super) fn run(args: &ReplArgs, target_file: Option<&Path>) -> ExitCode {
    let targets = match Targets::load(target_file) {
        Ok(targets) => targets,
        Err(err) => return fail(ExitCode::Usage, err),
    };
    let builder = Runtime::builder()
        .targets(targets)
        .limits(args.limits.limits());
    let runtime = match args.rehearsal.apply(builder).build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(ExitCode::Failure, format!("cannot start: {err}")),
    };
    let options = ReplOptions {
        history: args.history.clone(),
    };
    let result = repl::run(&runtime, &options);
    runtime.shutdown();
    match result {
        Ok(repl::Ending::Clean) => ExitCode::Success,
        Ok(repl::Ending::SomeEntriesFailed) => ExitCode::Failure,
        Err(err) => fail(ExitCode::Failure, err),
    }
}

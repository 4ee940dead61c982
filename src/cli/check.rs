//! `cutover check`: compile a playbook and its imports, run nothing.

use std::path::Path;

use super::{CheckArgs, read_script, report, runtime};
use crate::exit_code::ExitCode;
use crate::script::{self, Host};

pub(super) fn run(args: &CheckArgs) -> ExitCode {
    let file = match read_script(&args.file) {
        Ok(file) => file,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let host = Host::offline(runtime.handle().clone());
    let base_dir = args.file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let engine = script::engine(&host, args.limits.limits(), base_dir);
    match file.compile(&engine) {
        Ok(_) => {
            println!("{}: ok", file.name());
            ExitCode::Success
        }
        Err(rendered) => report(ExitCode::Usage, &rendered),
    }
}

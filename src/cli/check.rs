//! `cutover check`: compile a playbook and its imports, check that every call has a
//! function to answer it and that the target file has every target the playbook names
//! with a literal; run nothing and reach no target.

use std::path::Path;

use super::{CheckArgs, fail, report};
use crate::exit_code::ExitCode;
use crate::script::ScriptFile;
use crate::script::preflight::{self, Depth};

pub(super) fn run(args: &CheckArgs, target_file: Option<&Path>) -> ExitCode {
    let (targets, file) = match super::playbook::load_playbook(target_file, &args.file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    // Without a target file (and without the lab) there is nothing to check names against.
    let names_known = targets.file().is_some() || args.lab;
    let mut builder = crate::Runtime::builder()
        .targets(targets)
        .limits(args.limits.limits());
    if args.lab {
        builder = builder.lab(1);
    }
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(ExitCode::Failure, format!("cannot start: {err}")),
    };
    let outcome = check(&file, &runtime, names_known);
    runtime.shutdown();
    match outcome {
        Ok(note) => {
            println!("{}: ok{note}", file.name());
            ExitCode::Success
        }
        Err(rendered) => report(ExitCode::Usage, &rendered),
    }
}

/// Every problem with `file`, rendered; or a note on what was not checked.
fn check(file: &ScriptFile, runtime: &crate::Runtime, names_known: bool) -> Result<String, String> {
    let engine = crate::engine::build(runtime.host(), runtime.limits(), file.base_dir());
    let ast = file.parse(&engine)?;
    let mut problems = file.check_calls(&engine, &ast);
    let mut note = String::new();
    if names_known {
        let targets = preflight::problems(runtime.host().targets(), &ast, Depth::Names);
        problems.extend(targets.iter().map(|err| file.render(err)));
    } else if !preflight::target_uses(&ast, runtime.host().targets().kinds()).is_empty() {
        note = " (target names not checked: no target file; pass --targets, set \
                CUTOVER_TARGETS or create ./cutover.toml)"
            .to_owned();
    }
    if problems.is_empty() {
        Ok(note)
    } else {
        Err(problems.join("\n"))
    }
}

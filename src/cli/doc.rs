//! `cutover doc`: print the script reference, and write editor definition files on
//! request.

use super::{DocArgs, fail, runtime};
use crate::exit_code::ExitCode;
use crate::script::{Host, Limits, reference};

pub(super) fn run(args: &DocArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let host = Host::offline(runtime.handle().clone());
    let engine = crate::engine::build(&host, Limits::default(), ".".into());
    // Definitions are what was asked for then: say where they went, not the listing.
    if let Some(dir) = &args.definitions {
        return match reference::write_definitions(&engine, dir) {
            Ok(files) => {
                let noun = if files.len() == 1 { "file" } else { "files" };
                println!(
                    "wrote {} definition {noun} to {}: {}",
                    files.len(),
                    dir.display(),
                    files.join(", ")
                );
                ExitCode::Success
            }
            Err(err) => fail(
                ExitCode::Failure,
                format!("cannot write definitions to `{}`: {err}", dir.display()),
            ),
        };
    }
    match reference::reference(&engine) {
        Ok(text) => {
            print!("{}{text}", kinds());
            ExitCode::Success
        }
        Err(err) => fail(ExitCode::Failure, err),
    }
}

/// The target kinds, one per vendor, each with what it drives: the head of the reference.
fn kinds() -> String {
    let mut out = String::from("# Target kinds\n");
    for vendor in crate::vendors::ALL {
        let kind = vendor.kind().as_str();
        out.push_str(&format!(
            "\n{kind}\n    {}: `kind = \"{kind}\"` in the target file, `{kind}(name)` in scripts.\n",
            vendor.about
        ));
    }
    out.push('\n');
    out
}

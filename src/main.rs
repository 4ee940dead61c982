//! The `cutover` binary: everything lives in the library; this only turns its answer into
//! the process exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    // The REPL and `check` evaluate and compile scripts on this thread: give it the stack
    // script threads have, so a deeply nested value ends in an error, not an abort.
    let started = std::thread::Builder::new()
        .name("main".into())
        .stack_size(cutover::STACK_SIZE)
        .spawn(move || cutover::cli::run(args).into());
    match started.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        // The panic has already been reported on stderr.
        Ok(Err(_)) => ExitCode::from(101),
        Err(err) => {
            eprintln!("error: cannot start the main thread: {err}");
            ExitCode::FAILURE
        }
    }
}

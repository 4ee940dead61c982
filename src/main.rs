//! The `cutover` binary: everything lives in the library; this only turns its answer into
//! the process exit code.

fn main() -> std::process::ExitCode {
    cutover::cli::run(std::env::args_os()).into()
}

//! Process exit codes, decided in exactly one place. README's "Exit status" table lists
//! them for operators and schedulers.

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything went well.
    Success = 0,
    /// The playbook, or a part of it, failed: an uncaught error, or `fail_run`.
    Failure = 1,
    /// Bad arguments, a bad target file, or a script that does not compile.
    Usage = 2,
    /// Ctrl-C (SIGINT) ended the run.
    Interrupted = 130,
    /// SIGTERM ended the run.
    Terminated = 143,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

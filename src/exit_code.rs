//! Process exit codes, decided in exactly one place.

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything went well.
    Success = 0,
    /// The playbook ran and failed.
    Failure = 1,
    /// Bad arguments, a bad target file, or a script that does not compile.
    Usage = 2,
    /// Ctrl-C (SIGINT) ended the run.
    Interrupted = 130,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

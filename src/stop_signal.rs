//! SIGINT and SIGTERM, the two ways an operator (Ctrl-C) or a scheduler (`kill`,
//! systemd, Kubernetes) stops cutover. Both stop a run the same way; the exit status says
//! which one it was, as a shell would (128 + the signal's number).

use std::fmt;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::exit_code::ExitCode;

/// A signal asking the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: a scheduler or service manager stopping the process.
    Terminate,
}

impl StopSignal {
    /// The signal's name, e.g. `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }

    /// The exit status of a run this signal stopped.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Interrupt => ExitCode::Interrupted,
            Self::Terminate => ExitCode::Terminated,
        }
    }
}

impl fmt::Display for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Takes over SIGINT and SIGTERM and sends each one that arrives; the handlers are in
/// place when this returns. Call it inside a tokio runtime.
pub fn listen() -> std::io::Result<UnboundedReceiver<StopSignal>> {
    let (tx, rx) = unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            loop {
                let stop = tokio::select! {
                    Some(()) = interrupt.recv() => StopSignal::Interrupt,
                    Some(()) = terminate.recv() => StopSignal::Terminate,
                    else => break,
                };
                if tx.send(stop).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(StopSignal::Interrupt).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_has_its_shell_exit_status() {
        #[track_caller]
        fn case(signal: StopSignal, name: &str, code: u8) {
            assert_eq!(signal.to_string(), name);
            assert_eq!(signal.exit_code() as u8, code);
        }
        case(StopSignal::Interrupt, "SIGINT", 130);
        case(StopSignal::Terminate, "SIGTERM", 143);
    }
}

//! SIGTERM ends a REPL session the way it stops a run: the entry being evaluated is
//! cancelled, every target the session logged in to is logged out of, and the process
//! exits 143. The REPL's own thread may be blocked reading a line (from a pipe or the
//! terminal) that will never come, so a thread of its own does the ending.

use std::sync::Arc;

use crate::runtime::Runtime;
use crate::script::Host;
use crate::stop_signal::StopSignal;

/// Ends the process on SIGTERM; SIGINT stays the REPL's way to stop one entry. The
/// handler is in place when this returns.
pub(super) fn end_on_sigterm(runtime: &Runtime) -> std::io::Result<()> {
    let stops = runtime.stop_signals()?;
    let host = Arc::clone(runtime.host());
    std::thread::Builder::new()
        .name("sigterm".into())
        .spawn(move || {
            // The channel closes when the runtime shuts down at the session's normal end.
            while let Ok(signal) = stops.recv() {
                if signal == StopSignal::Terminate {
                    end(&host, signal);
                }
            }
        })?;
    Ok(())
}

/// Cancels what runs, logs out (bounded by the logouts' own limit), says why and exits.
fn end(host: &Host, signal: StopSignal) -> ! {
    host.cancel_token().cancel();
    host.close();
    super::session::print_err(&format!(
        "error: interrupted by {signal}; the session ended\n"
    ));
    std::process::exit(i32::from(signal.exit_code() as u8))
}

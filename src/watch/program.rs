//! Hook scripts, following rhai's `examples/event_handler_main`: a hook is compiled once
//! and its top level runs once, registering handlers with `on_file`; each file event
//! then calls one handler on a fresh engine whose host carries that run's own
//! cancellation token.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use rhai::{AST, EvalAltResult, Position};

use crate::file_gate::FileGate;
use crate::hook::event::FileEvent;
use crate::hook::script::{Callback, Registrations, call, collect_into};
use crate::hook::spec::HandlerSpec;
use crate::script::error_value::{error_map, innermost};
use crate::script::{Host, Limits, ScriptFile, preflight};
use crate::terminal_text::escape_control;

/// A compiled hook script, kept for its handlers' runs and for rendering their errors.
pub struct HookProgram {
    file: ScriptFile,
    ast: AST,
    base_dir: PathBuf,
}

/// A hook script after its top level ran: the program and what it registered.
pub struct LoadedHook {
    /// The program.
    pub program: Arc<HookProgram>,
    /// Each `on_file` call, in order.
    pub handlers: Vec<(HandlerSpec, Callback)>,
}

/// Why a handler run failed.
#[derive(Debug)]
pub struct RunFailure {
    /// The diagnostic (file, line, caret), escaped for the terminal.
    pub rendered: String,
    /// Its one-line summary.
    pub headline: String,
    /// Whether the run was cancelled rather than failing on its own.
    pub cancelled: bool,
}

impl HookProgram {
    /// Compiles `file`, checks the targets it names, and runs its top level, collecting
    /// the handlers it registers. Errors come rendered for the terminal.
    pub fn load(host: &Arc<Host>, limits: Limits, file: ScriptFile) -> Result<LoadedHook, String> {
        let base_dir = file.path.parent().map(PathBuf::from).unwrap_or_default();
        let mut engine = crate::engine::build(host, limits, base_dir.clone());
        let ast = file.compile(&engine)?;
        preflight::check(host.targets(), &ast).map_err(|errs| file.render_all(&errs))?;
        let registrations = Registrations::default();
        collect_into(&mut engine, &registrations);
        engine.run_ast(&ast).map_err(|err| file.render(&err))?;
        let handlers =
            std::mem::take(&mut *registrations.lock().unwrap_or_else(PoisonError::into_inner));
        Ok(LoadedHook {
            program: Arc::new(Self {
                file,
                ast,
                base_dir,
            }),
            handlers,
        })
    }

    /// The hook's file.
    pub fn file(&self) -> &ScriptFile {
        &self.file
    }

    /// Runs `callback` (registered on line `line`) for `event` on the calling thread,
    /// with `host` (whose token cancels this run alone) and the files `gate` allows.
    pub fn invoke(
        &self,
        host: &Arc<Host>,
        limits: Limits,
        gate: FileGate,
        (callback, line): (&Callback, usize),
        event: &FileEvent,
    ) -> Result<(), RunFailure> {
        let mut engine = crate::engine::build(host, limits, self.base_dir.clone());
        gate.install(&mut engine);
        callback.install_imports(&mut engine);
        let result = call(&engine, &self.ast, callback, event);
        // `fail_run` in a handler fails that run alone, as an uncaught error would.
        let (marked, marked_lines) = marked(host);
        let Err(err) = result else {
            return match marked {
                None => Ok(()),
                Some(headline) => Err(RunFailure {
                    rendered: marked_lines,
                    headline,
                    cancelled: false,
                }),
            };
        };
        let mut err = unwrap_handler(*err);
        // Stopped by a limit or cancelled, the error has no place of its own; point
        // at the handler's registration rather than at nothing.
        if err.position().is_none() {
            // Rhai has no line 0 (a position without one panics).
            let line = u16::try_from(line.max(1)).unwrap_or(u16::MAX);
            err.set_position(Position::new(line, 1));
        }
        Err(RunFailure {
            rendered: format!("{}{marked_lines}", self.file.render(&err)),
            headline: self.file.headline(&err),
            cancelled: host.cancel_token().is_cancelled() && is_cancellation(&err),
        })
    }
}

/// The reasons a handler gave `fail_run`, as a headline (`None` when it gave none) and
/// one `error:` line each.
fn marked(host: &Host) -> (Option<String>, String) {
    let reasons: Vec<String> = host
        .verdict()
        .take()
        .iter()
        .map(|reason| format!("the handler marked its run failed: {reason}"))
        .collect();
    let lines = reasons
        .iter()
        .map(|reason| format!("error: {}\n", escape_control(reason)))
        .collect();
    ((!reasons.is_empty()).then(|| reasons.join("; ")), lines)
}

/// The error inside the frame of the handler itself: the watcher called it, not a line
/// of the script, so that frame has no place to show.
fn unwrap_handler(err: EvalAltResult) -> EvalAltResult {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, pos) if pos.is_none() => *inner,
        other => other,
    }
}

/// Whether `err` is what a cancelled run ends with: the engine stopped it, or a wait
/// gave up with a `cancelled` error.
fn is_cancellation(err: &EvalAltResult) -> bool {
    matches!(innermost(err), EvalAltResult::ErrorTerminated(..))
        || error_map(err)
            .and_then(|m| m.get("kind").map(ToString::to_string))
            .is_some_and(|kind| kind == "cancelled")
}

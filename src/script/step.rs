//! `step(name, f)`: runs `f()` and names the current item's step on the board while it
//! does, so the operator's view and the summary say where each item is (or stopped).
//! When the run has a journal, the step is recorded with its result; a resumed run
//! returns a done step's recorded result instead of running it again. Steps are keyed
//! by the items and steps they run in, their name and their occurrence, so a step in a
//! loop or in a `parallel` item is found again in the next attempt.

use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, NativeCallContext};

use crate::api_error::{ApiError, ErrorKind};
use crate::journal::frame;
use crate::journal::run_journal::RunJournal;
use crate::script::error_value::raise;
use crate::script::job::HandleKind;
use crate::script::{Host, board, stored_value};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Registers `step`.
pub fn register(engine: &mut Engine, host: &Arc<Host>, kinds: Vec<&'static HandleKind>) {
    let host = host.clone();
    FuncRegistration::new("step")
        .with_comments(["/// Runs `f()` and returns what it returns, naming the current `parallel` item's\n/// step `name` on the run's board (the live view and the summary show the last\n/// step each item reached). The run's journal records the step and its result:\n/// `cutover run --resume` returns a done step's recorded result without running\n/// `f` again (a handle is read again from its vendor). A result must be data\n/// (numbers, strings, arrays, maps, handles), not a function."])
        .with_params_info(["name: &str", "f: FnPtr", "Dynamic"])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, name: &str, f: FnPtr| -> RhaiResult<Dynamic> {
                step(&host, &kinds, &ctx, name, &f)
            },
        );
}

fn step(
    host: &Arc<Host>,
    kinds: &[&HandleKind],
    ctx: &NativeCallContext,
    name: &str,
    f: &FnPtr,
) -> RhaiResult<Dynamic> {
    tracing::debug!(target: "cutover::script", "step `{name}`");
    // The step stays named after `f` returns or fails: the summary shows the step an
    // item reached, and a failed item the step it failed in.
    board::enter_step(name);
    let Some(journal) = host.calls().journal().cloned() else {
        return f.call_within_context(ctx, ());
    };
    let key = frame::child_key(&frame::current_key(), name);
    let occurrence = journal.occurrence(&key);
    let failed = |err: crate::journal::JournalError| {
        let kind = if err.stopped() {
            ErrorKind::Cancelled
        } else {
            ErrorKind::Validation
        };
        raise(ApiError::new(kind, format!("step `{name}`: {err}")))
    };
    if journal.replays() {
        let done = || journal.journal().done_step(journal.run(), &key, occurrence);
        // A follower outside the items waits for its leader to do the step.
        let recorded = match journal
            .follow(&format!("step `{key}`"), done)
            .map_err(failed)?
        {
            Some(recorded) => Some(recorded),
            None => done().map_err(failed)?,
        };
        if let Some(recorded) = recorded {
            tracing::info!(target: "cutover::script", "step `{key}` is done already; its recorded result stands");
            return stored_value::from_stored(kinds, host, &recorded).map_err(raise);
        }
    }
    let id = journal
        .journal()
        .begin_step(
            journal.run(),
            (journal.attempt(), journal.next_ord()),
            &key,
            name,
            frame::current_item().as_deref(),
            occurrence,
        )
        .map_err(failed)?;
    let result = {
        let _frame = frame::enter_step(frame::occurrence_key(&key, occurrence), Some(id));
        f.call_within_context::<Dynamic>(ctx, ())
    };
    end(&journal, kinds, id, name, result).map_err(|err| match err {
        Ended::Script(err) => err,
        Ended::Journal(err) => failed(err),
    })
}

enum Ended {
    Script(Box<EvalAltResult>),
    Journal(crate::journal::JournalError),
}

/// Records how step `id` ended and passes its result on; a result that cannot be
/// recorded fails the step, since a resume could not return it.
fn end(
    journal: &RunJournal,
    kinds: &[&HandleKind],
    id: i64,
    name: &str,
    result: RhaiResult<Dynamic>,
) -> Result<Dynamic, Ended> {
    let stored = match &result {
        Ok(value) => stored_value::to_stored(kinds, value).map_err(|why| {
            format!("step `{name}` returned a value the journal cannot record: {why}")
        }),
        Err(err) => Err(crate::script::error_value::message_of(err)),
    };
    match stored {
        Ok(stored) => {
            journal
                .journal()
                .end_step(id, Ok(&stored))
                .map_err(Ended::Journal)?;
            result.map_err(Ended::Script)
        }
        Err(message) => {
            journal
                .journal()
                .end_step(id, Err(&message))
                .map_err(Ended::Journal)?;
            match result {
                Ok(_) => Err(Ended::Script(raise(ApiError::new(
                    ErrorKind::Script,
                    message,
                )))),
                Err(err) => Err(Ended::Script(err)),
            }
        }
    }
}

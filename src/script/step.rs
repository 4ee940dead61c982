//! `step(name, f)`: runs `f()` and names the current item's step on the board while it
//! does, so the operator's view and the summary say where each item is (or stopped).

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, NativeCallContext};

use crate::script::board;

/// Registers `step`.
pub fn register(engine: &mut Engine) {
    FuncRegistration::new("step")
        .with_comments(["/// Runs `f()` and returns what it returns, naming the current `parallel` item's\n/// step `name` on the run's board (the live view and the summary show the last\n/// step each item reached). Outside `parallel` it just runs `f()`."])
        .with_params_info(["name: &str", "f: FnPtr", "Dynamic"])
        .register_into_engine(
            engine,
            |ctx: NativeCallContext, name: &str, f: FnPtr| -> Result<Dynamic, Box<EvalAltResult>> {
                step(&ctx, name, &f)
            },
        );
}

fn step(ctx: &NativeCallContext, name: &str, f: &FnPtr) -> Result<Dynamic, Box<EvalAltResult>> {
    tracing::debug!(target: "cutover::script", "step `{name}`");
    // The step stays named after `f` returns or fails: the summary shows the step an
    // item reached, and a failed item the step it failed in.
    board::enter_step(name);
    f.call_within_context(ctx, ())
}

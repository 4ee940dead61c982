//! `planning()`: whether the run is `cutover run --plan`, so a playbook can skip a check
//! that depends on a planned change's effect (the change was recorded, not made).

use std::sync::Arc;

use rhai::{Engine, FuncRegistration};

use crate::script::host::Host;

/// Registers `planning`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    FuncRegistration::new("planning")
        .with_comments(["/// True under `cutover run --plan`: changes are listed, not sent, so what they\n/// would change stays as it was. A check of a change's effect can be skipped then."])
        .with_params_info(["bool"])
        .register_into_engine(engine, move || h.calls().plan().is_some());
}

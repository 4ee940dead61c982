//! Assembles the Rhai engine every script of this process runs on: the script toolkit,
//! then every vendor in the vendor list, then the hook functions.

use std::path::PathBuf;
use std::sync::Arc;

use rhai::Engine;

use crate::script::job::HandleKind;
use crate::script::{Host, Limits};

/// Builds the engine every script of this process runs on. `base_dir` is where
/// `import "file"` looks and where relative file paths start.
pub fn build(host: &Arc<Host>, limits: Limits, base_dir: PathBuf) -> Engine {
    let mut engine = crate::script::toolkit(host, limits, base_dir);
    crate::script::step::register(&mut engine, host, handle_kinds());
    crate::vendors::register_all(&mut engine, host);
    crate::hook::script::register(&mut engine, host, limits.max_string_size);
    engine
}

/// Every vendor's handle kinds: what a step records instead of a value that is not data,
/// and reads again on resume ([`crate::script::stored_value`]).
pub fn handle_kinds() -> Vec<&'static HandleKind> {
    crate::vendors::ALL
        .iter()
        .flat_map(|vendor| vendor.handles)
        .collect()
}

//! cutover: Rhai playbooks for infrastructure migrations, with a built-in lab.
//!
//! The binary is a thin shell over this library: [`cli::run`] parses arguments and
//! dispatches; [`Runtime`] runs playbooks for any embedder; [`config`] reads the target
//! file; [`lab`] starts the vendors' simulators; [`clock`] is the time both run on.

pub mod cli;
pub mod clock;
pub mod config;
pub mod exit_code;
pub mod lab;

// The rest is the crate's own. The module is the boundary: items inside stay `pub`, which
// the crate alone can reach, rather than each spelling `pub(crate)`.
#[allow(unreachable_pub)]
pub(crate) mod api_error;
#[allow(unreachable_pub)]
pub(crate) mod engine;
#[allow(unreachable_pub)]
pub(crate) mod file_gate;
#[allow(unreachable_pub)]
pub(crate) mod hook;
#[allow(unreachable_pub)]
pub(crate) mod http;
#[allow(unreachable_pub)]
pub(crate) mod repl;
#[allow(unreachable_pub)]
pub(crate) mod runtime;
#[allow(unreachable_pub)]
pub(crate) mod script;
#[allow(unreachable_pub)]
pub(crate) mod stop_signal;
#[allow(unreachable_pub)]
pub(crate) mod suggest;
#[allow(unreachable_pub)]
pub(crate) mod terminal_text;
#[allow(unreachable_pub)]
pub(crate) mod vendors;
#[allow(unreachable_pub)]
pub(crate) mod watch;

#[cfg(test)]
mod fuzz_tests;

pub use runtime::{RunError, Runtime, RuntimeBuilder};
pub use script::{STACK_SIZE, ScriptFile};

/// Counts each thread's live bytes, for the script memory budget (`--max-memory`).
#[global_allocator]
static ALLOCATOR: script::memory::Counting = script::memory::Counting;

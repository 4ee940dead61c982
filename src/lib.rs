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
// the crate alone can reach, rather than each spelling `pub(crate)` (so `unreachable_pub`
// is not enabled in Cargo.toml).
pub(crate) mod api_error;
pub(crate) mod engine;
pub(crate) mod file_gate;
pub(crate) mod hook;
pub(crate) mod http;
pub(crate) mod journal;
pub(crate) mod repl;
pub(crate) mod runtime;
pub(crate) mod screen;
pub(crate) mod script;
pub(crate) mod stop_signal;
pub(crate) mod suggest;
pub(crate) mod terminal_text;
pub(crate) mod thread_stack;
pub(crate) mod vendors;
pub(crate) mod view;
pub(crate) mod watch;

#[cfg(test)]
mod fuzz_tests;

pub use runtime::{RunError, Runtime, RuntimeBuilder};
pub use script::{STACK_SIZE, ScriptFile};

/// Counts each thread's live bytes, for the script memory budget (`--max-memory`).
#[global_allocator]
static ALLOCATOR: script::memory::Counting = script::memory::Counting;

//! cutover: Rhai playbooks for infrastructure migrations, with a built-in lab.
//!
//! The binary is a thin shell over this library: [`cli::run`] parses arguments and
//! dispatches; [`Runtime`] runs playbooks for any embedder; [`script`] hosts the Rhai engine; [`vendors`] holds one folder per vendor
//! API (wire types, client, script bindings, simulator); [`lab`] starts the simulators.

pub mod cli;
pub mod clock;
pub mod config;
pub mod exit_code;
pub mod http;
pub mod lab;
pub mod repl;
pub mod runtime;
pub mod script;
pub mod stop_signal;
pub mod vendors;
pub mod watch;

#[cfg(test)]
mod fuzz_tests;

pub use runtime::{RunError, Runtime, RuntimeBuilder};

/// Counts each thread's live bytes, for the script memory budget (`--max-memory`).
#[global_allocator]
static ALLOCATOR: script::memory::Counting = script::memory::Counting;

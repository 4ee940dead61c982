//! Hook scripting: what an `on_file` call asks for ([`spec`], [`filter`]), the events a
//! handler is handed ([`event`]), and the Rhai bindings hook scripts call ([`script`],
//! with the file access in [`files`]). Plain data and bindings: the watcher that loads
//! and runs hooks is [`crate::watch`], and the engine registers [`script`].

pub mod event;
pub mod files;
pub mod filter;
pub mod script;
pub mod spec;

//! Dell PowerStore volume import sessions (vendor-apis.md §4).

pub mod client;
pub mod lab;
pub mod script;
pub mod wire;

//! VMware Cloud Director defined-entity migration (vendor-apis.md §2).

pub mod client;
pub mod lab;
pub mod script;
pub mod wire;

//! VMware Cloud Director defined-entity migration (vendor-apis.md §2).

pub mod lab;
pub mod wire;

//! VMware vCenter Server: the deferred import of historical data (vendor-apis.md §1).

pub mod lab;
pub mod wire;

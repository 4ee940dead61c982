//! VMware vCenter: the deferred import of historical data (vendor-apis.md §1).

pub mod client;
pub mod lab;
pub mod ovf;
pub mod script;
pub mod wire;

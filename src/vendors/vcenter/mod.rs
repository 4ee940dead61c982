//! VMware vCenter: the deferred import of historical data (vendor-apis.md §1) and the
//! OVF import session (§3).

pub mod client;
pub mod lab;
pub mod ovf;
pub mod ovf_client;
pub mod ovf_push;
pub mod ovf_push_script;
pub mod ovf_script;
pub mod ovf_wire;
pub mod script;
pub mod wire;

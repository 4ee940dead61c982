//! One folder per vendor API family; adding a vendor is adding a folder here and a line
//! in [`crate::config::TargetKind`].

pub mod huawei_sms;
pub mod powerstore;
pub mod vcd;
pub mod vcenter;

use std::sync::Arc;

use rhai::Engine;

use crate::script::Host;

/// Registers every vendor's script functions: the one list the engine reads.
pub fn register_all(engine: &mut Engine, host: &Arc<Host>) {
    powerstore::script::register(engine, host);
    vcd::script::register(engine, host);
    vcenter::script::register(engine, host);
    huawei_sms::script::register(engine, host);
}

//! One folder per vendor API family; adding a vendor is adding a folder here and a line
//! in [`crate::config::TargetKind`].

pub mod huawei_sms;
pub mod powerstore;
pub mod vcd;
pub mod vcenter;

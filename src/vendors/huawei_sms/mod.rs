//! Huawei Cloud Server Migration Service v3 (vendor-apis.md §5): migration tasks, with
//! IAM tokens or `SDK-HMAC-SHA256` signed requests.

mod auth;
pub mod client;
pub mod iam_wire;
pub mod lab;
pub mod script;
pub mod signer;
mod task_handle;
mod task_script;
pub mod wire;

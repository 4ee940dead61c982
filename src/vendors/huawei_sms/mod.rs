//! Huawei Cloud Server Migration Service v3 (vendor-apis.md §5): migration tasks, with
//! IAM tokens or `SDK-HMAC-SHA256` signed requests.

pub mod iam_wire;
pub mod signer;
pub mod wire;

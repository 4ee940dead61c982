//! The one HTTP layer: a client per target, the error every vendor call returns, text
//! sanitising, and the scaffolding the lab's simulators share.

pub mod backoff;
mod ca_file;
pub mod client;
pub mod error;
pub mod lab;
pub mod login;
pub mod sanitize;

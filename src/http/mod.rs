//! The one HTTP layer: a client per target, the mutation gate every mutating call passes
//! and the record it feeds, implicit retries of reads, and the scaffolding the lab's
//! simulators share.

mod answer_check;
pub mod backoff;
pub mod basic_auth;
mod ca_file;
pub mod call_record;
pub mod client;
pub mod host_gate;
pub mod in_flight;
pub mod lab;
pub mod local_io;
pub mod login;
pub mod mutation;
pub mod plan;
pub mod retry;
pub mod throttle;

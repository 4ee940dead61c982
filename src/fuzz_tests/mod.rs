//! Property tests of every parser that reads outside input (issue 14, "Fuzzing"): vendor
//! answers, URNs, durations, target files, OVF descriptors and PowerStore filters. Each
//! target runs a fixed number of cases from a fixed seed, so CI is deterministic and
//! bounded; `CUTOVER_FUZZ_CASES` raises the count for a long local run. Inputs are
//! arbitrary text and bytes and, above all, mutations of valid documents (see
//! [`mutate`]), since random bytes alone never get past a parser's first check.
//!
//! The PowerStore filter builder's target, `powerstore_filter.rs`, is declared by the
//! PowerStore lab (as `fuzz_powerstore_filter`), whose query parser reads its output.

mod durations;
mod huawei_sms_decode;
pub(crate) mod mutate;
mod ovf_descriptor;
mod powerstore_decode;
pub(crate) mod support;
mod target_file;
mod vcd_decode;
mod vcd_urn;
mod vcenter_history_decode;
mod vcenter_ovf_decode;

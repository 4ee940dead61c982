//! Integration tests: each starts the lab on 127.0.0.1:0 inside the test process and runs
//! real scripts through the `cutover` binary.

mod check;
mod cli;
mod examples;
mod powerstore;
mod run;
mod test;

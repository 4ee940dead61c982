//! Integration tests: each starts the lab on 127.0.0.1:0 inside the test process and runs
//! real scripts through the `cutover` binary.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    unreachable_pub,
    reason = "tests read what the binary wrote and fail loudly; helpers are shared across modules"
)]

mod architecture;
mod calls;
mod chaos;
mod chaos_wave;
mod check;
mod cli;
mod diagnostics;
mod durations;
mod embed;
mod estate;
mod examples;
mod fail_run;
mod hooks;
mod hostile;
mod interrupts;
mod journal_kind;
mod lost_answers;
mod mutation_gate;
mod ovf;
mod ovf_push;
mod parallel;
mod plan;
mod postgres;
mod powerstore;
mod read_retries;
mod rehearse;
mod repl;
mod request_limits;
mod resume;
mod run;
mod runaway;
mod runners;
mod secrets;
mod secrets_end_to_end;
mod shared_polling;
mod sms;
mod stop;
mod test;
mod tls;
mod vcd;
mod vcenter;
mod view;
mod wait_logs;
mod watch;
mod wave;
mod wave_resume;

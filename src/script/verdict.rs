//! `fail_run(reason)`: a playbook says its run failed without stopping it, so a wave
//! with one failed session still reports every session, then exits 1 and a scheduler
//! can tell a partial wave from a clean one.

use std::sync::{Arc, Mutex, PoisonError};

use rhai::{Engine, FuncRegistration};

use crate::script::host::Host;

/// The reasons a run was marked failed, in the order given.
#[derive(Debug, Default)]
pub struct Verdict(Mutex<Vec<String>>);

impl Verdict {
    /// Marks the run failed for `reason`.
    pub fn fail(&self, reason: &str) {
        let reason = reason.trim();
        let reason = if reason.is_empty() {
            "no reason given".to_owned()
        } else {
            reason.to_owned()
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(reason);
    }

    /// The reasons given so far, clearing them for the next run.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Registers `fail_run`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    FuncRegistration::new("fail_run")
        .with_comments(["/// Marks the run failed without stopping it: the script goes on to its end, then\n/// `cutover run` exits 1 with `error: the playbook marked the run failed: <reason>`\n/// (every reason, when called more than once). In a hook handler it fails that run."])
        .with_params_info(["reason: &str", "()"])
        .register_into_engine(engine, move |reason: &str| h.verdict().fail(reason));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_kept_in_order_and_taken_once() {
        let verdict = Verdict::default();
        verdict.fail("1 session failed ");
        verdict.fail("  ");
        verdict.fail("2 left behind");
        assert_eq!(
            verdict.take(),
            ["1 session failed", "no reason given", "2 left behind"]
        );
        assert!(verdict.take().is_empty());
    }

    #[test]
    fn a_script_marks_its_run_and_goes_on() {
        let (_runtime, host) = crate::script::host::testing::on_this_thread();
        let engine = crate::engine::build(&host, crate::script::Limits::default(), ".".into());
        let ended: i64 = engine
            .eval(r#"fail_run("first"); fail_run(`second ${1 + 1}`); 7"#)
            .unwrap();
        assert_eq!(ended, 7, "the script ran to its end");
        assert_eq!(host.verdict().take(), ["first", "second 2"]);
    }
}

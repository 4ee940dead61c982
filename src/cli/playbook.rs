//! `cutover run`: read the target file and the playbook, build a [`Runtime`](crate::Runtime) (with the
//! lab when rehearsing), run, and turn the outcome into an exit code. A run stopped by
//! SIGINT or SIGTERM still logs out of its targets and lists the mutating calls it made,
//! so the operator knows where things stand. While it goes, the operator's view shows
//! the board; at the end come the summary table and, with `--report`, the JSON report.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::{RunArgs, fail, load_targets, read_script, report};
use crate::exit_code::ExitCode;
use crate::http::call_record::CallRecord;
use crate::http::plan::Plan;
use crate::journal::Outcome;
use crate::journal::run_journal::RunJournal;
use crate::runtime::{RunError, marked_line};
use crate::script::ScriptFile;
use crate::stop_signal::StopSignal;
use crate::terminal_text::escape_control;
use crate::view::{View, report, summary};

/// Loads the target file, then the playbook, as `run` and `check` both begin: either
/// failing is a usage error, the target file's reported first.
pub(super) fn load_playbook(
    target_file: Option<&Path>,
    playbook: &Path,
) -> Result<(crate::config::Targets, ScriptFile), ExitCode> {
    let targets = load_targets(target_file)?;
    let file = read_script(playbook)?;
    Ok((targets, file))
}

pub(super) fn run(args: &RunArgs, target_file: Option<&Path>, quiet: bool) -> ExitCode {
    let started = SystemTime::now();
    let (targets, file) = match load_playbook(target_file, &args.file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    // Opened before anything runs: a report that cannot be written is known before the
    // first change is made, not after the migration.
    let pending_report = match args.report.as_deref().map(PendingReport::open).transpose() {
        Ok(pending) => pending,
        Err(code) => return code,
    };
    let runtime = match args.rehearsal.start(targets, &args.limits) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    if let Err(err) = runtime.cancel_on_signals() {
        runtime.shutdown();
        return fail(
            ExitCode::Failure,
            format!("cannot listen for SIGINT and SIGTERM: {err}"),
        );
    }
    let host = Arc::clone(runtime.host());
    let scenario = runtime
        .lab()
        .map(|lab| lab.estate().scenario.as_str().to_owned());
    let compiled = match runtime.compile(&file) {
        Ok(compiled) => compiled,
        Err(err) => {
            runtime.shutdown();
            return conclude(Err(err), host.calls());
        }
    };
    let journal = match super::run_journal::start(args, &file, compiled.files.clone(), &runtime) {
        Ok(journal) => journal,
        Err(code) => {
            runtime.shutdown();
            return code;
        }
    };
    if let Some(journal) = &journal {
        host.calls().journal_into(Arc::clone(journal));
        // A shared run's runners check what others left unknown as they reach it
        // (the gate), not all at once: another runner may be sending it right now.
        if journal.runner().is_none() {
            super::reconcile::earlier_unknowns(&host, journal);
        } else {
            let host = Arc::downgrade(&host);
            journal.reconcile_with(Box::new(move |journal, calls| {
                if let Some(host) = host.upgrade() {
                    super::reconcile::settle(&host, journal, calls);
                }
            }));
        }
    }
    let plan = args.plan.then(|| Arc::new(Plan::default()));
    if let Some(plan) = &plan {
        host.calls().plan_into(Arc::clone(plan));
    }
    let view = View::start(host.board(), quiet);
    let result = runtime.run_compiled(&file, compiled);
    view.finish();
    super::shut_down(runtime);
    let resume_note = journal
        .as_ref()
        .and_then(|journal| end_journal(journal, &result));
    let items = host.board().items();
    if !items.is_empty() {
        crate::screen::print_line(summary::table(&items, Instant::now()).trim_end());
    }
    if let Some(plan) = &plan {
        crate::screen::print_line(plan.text().trim_end());
    }
    let code = conclude(result, host.calls());
    if let Some(note) = resume_note {
        eprintln!("{}", escape_control(&note));
    }
    let Some(pending_report) = pending_report else {
        return code;
    };
    let facts = report::Facts {
        script: args.file.display().to_string(),
        started,
        ended: SystemTime::now(),
        exit: code,
        scenario,
    };
    let report = report::build(&facts, &items, host.calls(), Instant::now());
    let path = pending_report.path.clone();
    match pending_report.finish(&report) {
        Ok(()) => code,
        Err(err) => {
            let failed = fail(
                ExitCode::Failure,
                format!("cannot write the report `{}`: {err}", path.display()),
            );
            if code == ExitCode::Success {
                failed
            } else {
                code
            }
        }
    }
}

/// Records how the run ended. A run that did not succeed after it began recording steps
/// or changes answers the note that says how to go on from where it stopped.
fn end_journal(journal: &RunJournal, result: &Result<(), RunError>) -> Option<String> {
    let outcome = match result {
        Ok(()) => Outcome::Succeeded,
        Err(RunError::Interrupted { .. }) => Outcome::Interrupted,
        Err(_) => Outcome::Failed,
    };
    if let Err(err) = journal.end(outcome) {
        tracing::warn!("cannot record how the run ended: {err}");
    }
    tracing::info!(
        "run {} ended {} in the journal `{}`",
        journal.run(),
        outcome.as_str(),
        journal.journal().place()
    );
    let resumable = outcome != Outcome::Succeeded && journal.recorded_anything();
    resumable.then(|| {
        format!(
            "note: run {} is journaled; to go on from where it stopped, run the same command with `--resume {}`",
            journal.run(),
            journal.run()
        )
    })
}

/// Reports how the run ended and answers its exit code.
fn conclude(result: Result<(), RunError>, calls: &CallRecord) -> ExitCode {
    match result {
        Ok(()) => {
            log_calls(calls);
            ExitCode::Success
        }
        Err(RunError::Compile(rendered) | RunError::Config(rendered)) => {
            report(ExitCode::Usage, &rendered)
        }
        Err(RunError::Script(rendered)) => {
            log_calls(calls);
            report(ExitCode::Failure, &rendered)
        }
        Err(RunError::Marked(reasons)) => {
            log_calls(calls);
            report(ExitCode::Failure, &marked(&reasons))
        }
        Err(RunError::Interrupted {
            signal,
            marked: reasons,
        }) => {
            let code = signal.map_or(ExitCode::Interrupted, StopSignal::exit_code);
            let stopped = RunError::Interrupted {
                signal,
                marked: Vec::new(),
            };
            fail(code, stopped);
            let record = escape_control(&calls.report());
            report(code, &format!("{}{record}", marked(&reasons)))
        }
        Err(err @ RunError::Thread(_)) => fail(ExitCode::Failure, err),
    }
}

/// The report being prepared: written to `<path>.part` and renamed onto `path` once
/// whole, so a file already at `path` stays as it was until then, and a run that stops
/// before its end leaves no empty or half-written report.
struct PendingReport {
    path: PathBuf,
    part: PathBuf,
    file: File,
    renamed: bool,
}

impl PendingReport {
    /// Creates the part file before anything runs; one that cannot be is a usage error.
    fn open(path: &Path) -> Result<Self, ExitCode> {
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        let file = File::create(&part).map_err(|err| {
            fail(
                ExitCode::Usage,
                format!(
                    "cannot write the report `{}`: {err}; check that its folder exists and is writable",
                    path.display()
                ),
            )
        })?;
        Ok(Self {
            path: path.to_owned(),
            part,
            file,
            renamed: false,
        })
    }

    /// Writes `report` and puts it in place.
    fn finish(mut self, report: &report::Report) -> std::io::Result<()> {
        let text = report::to_json(report)?;
        self.file.write_all(text.as_bytes())?;
        self.file.sync_all()?;
        std::fs::rename(&self.part, &self.path)?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for PendingReport {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

/// The `error:` lines of the reasons given to `fail_run`.
fn marked(reasons: &[String]) -> String {
    reasons.iter().map(|reason| marked_line(reason)).collect()
}

/// At `-v`, the record of mutating calls of a run that reached its end (well or not);
/// the normal output stays the playbook's own.
fn log_calls(calls: &CallRecord) {
    for line in calls.report().lines() {
        tracing::info!(target: "cutover::calls", "{line}");
    }
}

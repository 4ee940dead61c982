//! `cutover runs`: the journal's recent runs, and `runs show ID`, one run's steps and
//! mutating calls in order: the audit trail a change ticket needs.

use std::path::PathBuf;

use super::{RunId, RunsArgs, RunsCommand, fail};
use crate::exit_code::ExitCode;
use crate::journal::{DEFAULT_PATH, Journal, show};

pub(super) fn run(args: &RunsArgs) -> ExitCode {
    let path = args
        .journal
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    let database = crate::journal::postgres::is_url(&path.display().to_string());
    if !database && !path.exists() {
        return fail(
            ExitCode::Usage,
            format!(
                "there is no journal at `{}`; runs are journaled beside their playbook (`<folder>/{DEFAULT_PATH}`): pass --journal FILE",
                path.display()
            ),
        );
    }
    let journal = match Journal::open(&path) {
        Ok(journal) => journal,
        Err(err) => return fail(ExitCode::Usage, err),
    };
    let printed = match &args.show {
        None => journal.runs(args.limit).map(|runs| {
            if args.json {
                format!("{}\n", show::runs_json(&runs))
            } else {
                show::runs_table(&runs, |id| {
                    journal.items(id).unwrap_or_else(|err| {
                        tracing::warn!("cannot read the work items of run {id}: {err}");
                        Vec::new()
                    })
                })
            }
        }),
        Some(RunsCommand::Show { id }) => {
            let id = match id {
                RunId::Id(id) => Some(*id),
                RunId::Last => match journal.runs(1) {
                    Ok(runs) => runs.first().map(|run| run.id),
                    Err(err) => return fail(ExitCode::Failure, err),
                },
            };
            let detail = match id.map(|id| journal.detail(id)).transpose() {
                Ok(detail) => detail.flatten(),
                Err(err) => return fail(ExitCode::Failure, err),
            };
            let Some(detail) = detail else {
                return fail(
                    ExitCode::Usage,
                    "no such run in this journal; `cutover runs` lists them",
                );
            };
            Ok(if args.json {
                format!("{}\n", show::detail_json(&detail))
            } else {
                show::detail_text(&detail)
            })
        }
    };
    match printed {
        Ok(text) => {
            print!("{text}");
            ExitCode::Success
        }
        Err(err) => fail(ExitCode::Failure, err),
    }
}

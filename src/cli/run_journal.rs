//! `cutover run`'s journal: opens it, begins a new run or takes over the one to resume
//! (refusing a playbook that changed since, unless `--force`), and hands the gate and
//! `step` the run's [`RunJournal`].

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{RunArgs, RunId, fail};
use crate::exit_code::ExitCode;
use crate::journal::fingerprint::{self, FileHash};
use crate::journal::lease::Owner;
use crate::journal::run_journal::RunJournal;
use crate::journal::{DEFAULT_PATH, Journal, NewRun, RunRow};
use crate::script::ScriptFile;

/// The journal's file for a run of `file`.
fn path(args: &RunArgs, file: &ScriptFile) -> PathBuf {
    args.journal
        .journal
        .clone()
        .unwrap_or_else(|| file.base_dir().join(DEFAULT_PATH))
}

/// Opens the journal and begins (or resumes) the run of `file`, whose files are `files`;
/// `None` with `--no-journal` or `--plan`.
pub(super) fn start(
    args: &RunArgs,
    file: &ScriptFile,
    files: Vec<FileHash>,
    runtime: &crate::Runtime,
) -> Result<Option<Arc<RunJournal>>, ExitCode> {
    if args.journal.no_journal || args.plan {
        return Ok(None);
    }
    let path = path(args, file);
    let journal = Journal::open(&path).map_err(|err| {
        fail(
            ExitCode::Usage,
            format!("{err}; pass --journal FILE to keep it elsewhere, or --no-journal"),
        )
    })?;
    let journal = Arc::new(journal);
    let owner = Owner::this_process();
    // `./wave.rhai` and `wave.rhai` name one playbook.
    let script: std::path::PathBuf = args
        .file
        .components()
        .filter(|part| *part != std::path::Component::CurDir)
        .collect();
    let script = script.display().to_string();
    let scenario = runtime
        .lab()
        .map(|lab| lab.estate().scenario.as_str().to_owned());
    let seed = args.rehearsal.lab.then_some(args.rehearsal.seed);
    let new = NewRun {
        script,
        files,
        arguments: arguments(args),
        targets: runtime
            .host()
            .targets()
            .iter()
            .map(|t| t.name.clone())
            .collect(),
        scenario,
        seed,
    };
    if args.journal.runners {
        return shared(args, &journal, owner, new, runtime.cancel_token().clone()).map(Some);
    }
    let (script, files) = (&new.script, &new.files);
    let (run, attempt) = match args.journal.resume {
        None => {
            let id = journal
                .begin_run(&new, &owner)
                .map_err(|err| fail(ExitCode::Failure, err))?;
            (id, 1)
        }
        Some(wanted) => {
            let id = match wanted {
                RunId::Id(id) => id,
                RunId::Last => journal
                    .last_run(script)
                    .map_err(|err| fail(ExitCode::Failure, err))?
                    .ok_or_else(|| {
                        fail(
                            ExitCode::Usage,
                            format!(
                                "the journal `{}` has no run of `{script}` to resume",
                                path.display()
                            ),
                        )
                    })?,
            };
            let row = journal
                .run(id)
                .map_err(|err| fail(ExitCode::Failure, err))?
                .ok_or_else(|| {
                    fail(
                        ExitCode::Usage,
                        format!(
                            "there is no run {id} in the journal `{}`; `cutover runs` lists them",
                            path.display()
                        ),
                    )
                })?;
            if row.begun.script != *script {
                return Err(fail(
                    ExitCode::Usage,
                    format!(
                        "run {id} is a run of `{}`, not of `{script}`",
                        row.begun.script
                    ),
                ));
            }
            let changed = fingerprint::changes(&row.begun.files, files);
            if !changed.is_empty() {
                if !args.journal.force {
                    return Err(fail(
                        ExitCode::Usage,
                        format!(
                            "run {id} cannot be resumed: {}; resume it with the files it began with, or pass --force to go on with these",
                            changed.join("; ")
                        ),
                    ));
                }
                tracing::warn!(
                    "resuming run {id} although {} (--force)",
                    changed.join("; ")
                );
            }
            let then = setting(&row.begun);
            let now = setting(&new);
            if then != now {
                if !args.journal.force {
                    return Err(fail(
                        ExitCode::Usage,
                        format!(
                            "run {id} began against {then}, and this resume would run against {now}; resume it against what it began with, or pass --force"
                        ),
                    ));
                }
                tracing::warn!("resuming run {id}, begun against {then}, against {now} (--force)");
            }
            let (_, attempt) = journal
                .take_run(id, &owner)
                .map_err(|err| fail(ExitCode::Usage, err))?;
            (id, attempt)
        }
    };
    tracing::info!(
        "run {run}, attempt {attempt}, journaled in `{}`",
        path.display()
    );
    Ok(Some(Arc::new(RunJournal::new(
        journal, run, attempt, owner,
    ))))
}

/// Joins (or begins) the shared run of `script` as one of its runners.
fn shared(
    args: &RunArgs,
    journal: &Arc<Journal>,
    owner: Owner,
    new: NewRun,
    stop: CancellationToken,
) -> Result<Arc<RunJournal>, ExitCode> {
    if !journal.is_shared() {
        return Err(fail(
            ExitCode::Usage,
            format!(
                "--runners needs a journal runners on several machines can share: a PostgreSQL database (--journal postgres://user@host:port/db), not the file `{}`",
                journal.place()
            ),
        ));
    }
    let resume = match args.journal.resume {
        None => None,
        Some(RunId::Id(id)) => Some(id),
        Some(RunId::Last) => journal
            .last_run(&new.script)
            .map_err(|err| fail(ExitCode::Failure, err))?,
    };
    let only = args.journal.only_targets.clone();
    if let Some(only) = &only {
        let known: Vec<String> = new.targets.clone();
        if let Some(unknown) = only.iter().find(|name| !known.contains(name)) {
            return Err(fail(
                ExitCode::Usage,
                format!(
                    "--only-targets names `{unknown}`, which is not a target of this run; its targets are {}",
                    crate::suggest::quoted(&known)
                ),
            ));
        }
    }
    let lease = args.journal.lease;
    let now = setting(&new);
    // Checked before the run is joined: a refused runner leaves it as it was.
    let accept = |row: &RunRow| -> Result<(), String> {
        let changed = fingerprint::changes(&row.begun.files, &new.files);
        if !changed.is_empty() {
            return Err(format!(
                "run {} is shared by runners of other files: {}; start every runner with the same playbook and imports",
                row.id,
                changed.join("; ")
            ));
        }
        let then = setting(&row.begun);
        if then != now {
            return Err(format!(
                "run {} runs against {then}, and this runner against {now}; start every runner against what the run began with",
                row.id
            ));
        }
        Ok(())
    };
    let joined = journal
        .join_run(&new, &owner, only.as_deref(), resume, lease, &accept)
        .map_err(|err| fail(ExitCode::Failure, err))?
        .map_err(|why| fail(ExitCode::Usage, why))?;
    tracing::info!(
        "run {}, runner {} ({}), {} it, journaled in `{}`",
        joined.run,
        joined.attempt,
        owner.to_stored(),
        if joined.began { "began" } else { "joined" },
        journal.place()
    );
    Ok(Arc::new(RunJournal::shared(
        Arc::clone(journal),
        &joined,
        owner,
        only,
        lease,
        stop,
    )))
}

/// What a run goes against, as an operator says it: the lab with its scenario and seed,
/// or the targets by name. A resume against another is refused: it would record steps
/// done that were done elsewhere.
fn setting(run: &NewRun) -> String {
    let NewRun {
        arguments,
        scenario,
        seed,
        targets,
        ..
    } = run;
    if arguments.get("lab").and_then(serde_json::Value::as_bool) == Some(true) {
        let apps = arguments
            .get("apps")
            .map_or_else(String::new, |apps| format!(", {apps} applications"));
        format!(
            "the lab (scenario {}, seed {}{apps})",
            scenario.as_deref().unwrap_or("?"),
            seed.map_or_else(|| "?".to_owned(), |s| s.to_string())
        )
    } else {
        format!("targets {}", targets.join(", "))
    }
}

/// The command line's choices that shape the run, for the runs table; never a secret.
fn arguments(args: &RunArgs) -> serde_json::Value {
    let r = &args.rehearsal;
    let mut map = serde_json::Map::new();
    if r.lab {
        map.insert("lab".into(), true.into());
        map.insert("scenario".into(), r.scenario.as_str().into());
        map.insert("apps".into(), r.apps.into());
        map.insert("seed".into(), r.seed.into());
        if let Some(speed) = r.speed {
            map.insert("speed".into(), speed.into());
        }
    }
    if r.yes {
        map.insert("yes".into(), true.into());
    }
    if args.journal.runners {
        map.insert("runners".into(), true.into());
    }
    if let Some(report) = &args.report {
        map.insert("report".into(), report.display().to_string().into());
    }
    serde_json::Value::Object(map)
}

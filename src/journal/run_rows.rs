//! The runs table: a run is begun with what identifies it (script, file hashes,
//! arguments, targets, lab scenario and seed), leased by the process running it, resumed
//! by another attempt, and ended with its outcome.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::fingerprint::FileHash;
use super::lease::{self, LEASE, Owner};
use super::sql::{Row, args};
use super::{Journal, JournalError, millis};

/// How a run ended, or that it has not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still running, or its process died (its lease tells which).
    Running,
    Succeeded,
    Failed,
    /// Stopped by SIGINT or SIGTERM.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "interrupted" => Self::Interrupted,
            _ => Self::Running,
        }
    }
}

/// What a new run is.
#[derive(Clone, Debug, Serialize)]
pub struct NewRun {
    /// The playbook's path as given.
    pub script: String,
    /// The playbook, then its imports, with their content hashes.
    pub files: Vec<FileHash>,
    /// The command line's choices that shape the run; never a secret.
    pub arguments: serde_json::Value,
    pub targets: Vec<String>,
    pub scenario: Option<String>,
    pub seed: Option<u64>,
}

/// One run as the journal holds it.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    pub id: i64,
    /// What the run was begun as.
    #[serde(flatten)]
    pub begun: NewRun,
    pub started: i64,
    pub ended: Option<i64>,
    pub outcome: Outcome,
    pub attempts: i64,
    #[serde(skip)]
    pub owner: Option<String>,
    #[serde(skip)]
    pub lease_until: Option<i64>,
    /// Mutating calls that took effect.
    pub changes: i64,
}

impl RunRow {
    /// Whether another live process holds the run now.
    pub fn held_by_other(&self, me: &Owner, now: SystemTime) -> Option<Owner> {
        let owner = Owner::parse(self.owner.as_deref()?)?;
        let live = self.outcome == Outcome::Running
            && owner != *me
            && lease::holds(&owner, self.lease_until?, now);
        live.then_some(owner)
    }
}

pub(super) const RUN_COLUMNS: &str = "id, script, files, arguments, targets, scenario, seed, started, ended, outcome, attempts, owner, lease_until, \
     (SELECT count(*) FROM calls WHERE calls.run = runs.id AND calls.status = 'answered' AND calls.http_status BETWEEN 200 AND 299) \
     + (SELECT count(*) FROM calls WHERE calls.run = runs.id AND calls.status = 'verified_applied')";

pub(super) fn run_row(row: &Row) -> Result<RunRow, String> {
    Ok(RunRow {
        id: row.int(0)?,
        begun: NewRun {
            script: row.text(1)?,
            files: row.json(2)?,
            arguments: row.json(3)?,
            targets: row.json(4)?,
            scenario: row.opt_text(5)?,
            seed: row.opt_int(6)?.map(|s| s as u64),
        },
        started: row.int(7)?,
        ended: row.opt_int(8)?,
        outcome: Outcome::parse(&row.text(9)?),
        attempts: row.int(10)?,
        owner: row.opt_text(11)?,
        lease_until: row.opt_int(12)?,
        changes: row.int(13)?,
    })
}

/// Why a run cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    #[error("{0}")]
    Journal(#[from] JournalError),
    #[error("there is no run {0} in the journal; `cutover runs` lists them")]
    NoSuchRun(i64),
    #[error(
        "run {run} is being run by process {} on {} (its lease lasts until {}); wait for it to end, or stop that process first",
        .owner.pid, .owner.host, super::show_time(*.until)
    )]
    Held { run: i64, owner: Owner, until: i64 },
    #[error(
        "run {0} {1} already; only a run that was interrupted, failed or killed can be resumed"
    )]
    Succeeded(i64, &'static str),
}

impl Journal {
    /// Records a new run, leased by `owner`; answers its id.
    pub fn begin_run(&self, run: &NewRun, owner: &Owner) -> Result<i64, JournalError> {
        let files = serde_json::to_string(&run.files).map_err(|err| self.error(err.to_string()))?;
        let targets =
            serde_json::to_string(&run.targets).map_err(|err| self.error(err.to_string()))?;
        let now = millis(SystemTime::now());
        self.with(|c| {
            c.query_one(
                "INSERT INTO runs (script, files, arguments, targets, scenario, seed, started, outcome, attempts, owner, lease_until)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', 1, ?8, ?9) RETURNING id",
                args![
                    run.script.as_str(),
                    files,
                    run.arguments.to_string(),
                    targets,
                    &run.scenario,
                    run.seed.map(|s| s as i64),
                    now,
                    owner.to_stored(),
                    now + LEASE.as_millis() as i64,
                ],
            )?
            .int(0)
        })
    }

    /// Takes run `id` over for another attempt by `owner`, unless another live process
    /// holds it or it succeeded; answers the run as it was and the new attempt's number.
    pub fn take_run(&self, id: i64, owner: &Owner) -> Result<(RunRow, i64), TakeError> {
        let now = SystemTime::now();
        // One transaction: two processes taking one run never both see it free.
        self.transaction(|tx| {
            let lock = tx.for_update();
            let row = tx.query_opt(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1{lock}"),
                args![id],
            )?;
            let Some(row) = row.as_ref().map(run_row).transpose()? else {
                return Ok(Err(TakeError::NoSuchRun(id)));
            };
            if let Some(holder) = row.held_by_other(owner, now) {
                return Ok(Err(TakeError::Held {
                    run: id,
                    owner: holder,
                    until: row.lease_until.unwrap_or(0),
                }));
            }
            if row.outcome == Outcome::Succeeded {
                return Ok(Err(TakeError::Succeeded(id, "succeeded")));
            }
            let attempt = row.attempts + 1;
            tx.execute(
                "UPDATE runs SET attempts = ?2, outcome = 'running', ended = NULL, owner = ?3, lease_until = ?4 WHERE id = ?1",
                args![id, attempt, owner.to_stored(), millis(now) + LEASE.as_millis() as i64],
            )?;
            Ok(Ok((row, attempt)))
        })?
    }

    /// Extends `owner`'s lease of `run` by `lease`; false when `owner` no longer holds
    /// it (another process took the run over after the lease lapsed).
    pub fn renew_lease(
        &self,
        run: i64,
        owner: &Owner,
        lease: std::time::Duration,
    ) -> Result<bool, JournalError> {
        let until = millis(SystemTime::now()) + lease.as_millis() as i64;
        self.with(|c| {
            c.execute(
                "UPDATE runs SET lease_until = ?3 WHERE id = ?1 AND owner = ?2",
                args![run, owner.to_stored(), until],
            )
        })
        .map(|updated| updated == 1)
    }

    /// Records how `run` ended and gives up `owner`'s lease; a run another process has
    /// taken over is left to it.
    pub fn end_run(&self, run: i64, owner: &Owner, outcome: Outcome) -> Result<(), JournalError> {
        let now = millis(SystemTime::now());
        self.with(|c| {
            c.execute(
                "UPDATE runs SET outcome = ?3, ended = ?4, owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND owner = ?2",
                args![run, owner.to_stored(), outcome.as_str(), now],
            )
        })
        .map(drop)
    }

    /// Run `id`, if the journal has it.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>, JournalError> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                args![id],
            )?
            .as_ref()
            .map(run_row)
            .transpose()
        })
    }

    /// The newest `limit` runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRow>, JournalError> {
        self.rows(
            &format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"),
            args![limit as i64],
            run_row,
        )
    }

    /// The newest run of `script`.
    pub fn last_run(&self, script: &str) -> Result<Option<i64>, JournalError> {
        self.with(|c| {
            c.query_one("SELECT max(id) FROM runs WHERE script = ?1", args![script])?
                .opt_int(0)
        })
    }
}

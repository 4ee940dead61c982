//! Runners sharing one run through a PostgreSQL journal (`cutover run --runners`).
//!
//! Every runner started with the same playbook and journal joins the newest running
//! shared run of that playbook (or begins one), as an attempt of its own. The run's
//! owner is its *leader*: it alone makes the changes outside `parallel` items; the
//! others follow, and take the lead when the leader's lease lapses. The items of a
//! top-level `parallel` are *work items*: each runner leases the next one it can reach
//! with `SELECT … FOR UPDATE SKIP LOCKED`, renews its leases by heartbeat, and records
//! the item's end with its result. A runner that stops renewing loses its items to the
//! others, which replay the item from the journal: done steps are not run again, and
//! every change it may have made is checked with the vendor before anything is sent.

use std::time::{Duration, SystemTime};

use super::fingerprint::FileHash;
use super::lease::Owner;
use super::run_rows::{RUN_COLUMNS, run_row};
use super::sql::{Row, Sql, args};
use super::{Journal, JournalError, NewRun, RunRow, millis};

/// A runner's place in a shared run.
#[derive(Clone, Debug)]
pub struct Joined {
    pub run: i64,
    pub attempt: i64,
    /// Its row in `runners`.
    pub runner: i64,
    /// Whether it began the run (and so leads it).
    pub began: bool,
    /// The files the run began with, to check this runner's against.
    pub files: Vec<FileHash>,
}

/// A work item a runner leased.
#[derive(Clone, Debug)]
pub struct Leased {
    pub id: i64,
    pub ord: i64,
    /// The runner that held it before, when this is a takeover.
    pub taken_from: Option<String>,
}

/// One work item as `parallel` and `runs show` see it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ItemRow {
    #[serde(skip)]
    pub batch: String,
    pub ord: i64,
    pub key: String,
    pub label: String,
    pub status: String,
    pub runner: Option<String>,
    pub takeovers: i64,
    #[serde(skip)]
    pub result: Option<String>,
}

/// One runner of a shared run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunnerRow {
    pub id: i64,
    pub attempt: i64,
    pub name: String,
    pub only_targets: Option<Vec<String>>,
    pub started: i64,
    pub heartbeat: i64,
    pub ended: Option<i64>,
}

/// What a heartbeat found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Beat {
    /// This runner leads the run (it did, or it just took the lead from a dead one).
    pub leads: bool,
    /// The run has ended (its leader ended it).
    pub ended: bool,
}

fn until(lease: Duration) -> i64 {
    millis(SystemTime::now()) + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

/// What a runner's row is told, at a time.
enum Mark {
    /// The runner is alive.
    Heartbeat(i64),
    /// The runner stopped.
    Ended(i64),
}

/// Writes `mark` on runner `runner`'s row, and `lease_until` as the lease of the items
/// it runs.
fn mark_runner(c: &mut dyn Sql, runner: i64, mark: Mark, lease_until: i64) -> Result<(), String> {
    let (sql, at) = match mark {
        Mark::Heartbeat(at) => ("UPDATE runners SET heartbeat = ?2 WHERE id = ?1", at),
        Mark::Ended(at) => ("UPDATE runners SET ended = ?2 WHERE id = ?1", at),
    };
    c.execute(sql, args![runner, at])?;
    c.execute(
        "UPDATE work_items SET lease_until = ?2 WHERE runner = ?1 AND status = 'running'",
        args![runner, lease_until],
    )
    .map(drop)
}

fn runner_row(row: &Row) -> Result<RunnerRow, String> {
    Ok(RunnerRow {
        id: row.int(0)?,
        attempt: row.int(1)?,
        name: row.text(2)?,
        only_targets: row.opt_json(3)?,
        started: row.int(4)?,
        heartbeat: row.int(5)?,
        ended: row.opt_int(6)?,
    })
}

fn item_row(row: &Row) -> Result<ItemRow, String> {
    Ok(ItemRow {
        ord: row.int(0)?,
        key: row.text(1)?,
        label: row.text(2)?,
        status: row.text(3)?,
        runner: row.opt_text(4)?,
        takeovers: row.int(5)?,
        result: row.opt_text(6)?,
        batch: row.text(7)?,
    })
}

impl Journal {
    /// Joins the newest shared run of `new.script` still running (or run `resume`),
    /// or begins one led by `owner`; registers this runner, which may reach only
    /// `only_targets` when given. One transaction with the runs table locked, so
    /// runners started together join one run.
    ///
    /// `accept` is asked, before anything is written, whether this runner may join an
    /// existing run (the same files, against the same lab or targets); its refusal is
    /// answered as `Ok(Err(why))`, and a run `resume` names that is not shared is
    /// refused likewise. Joining a run by `resume` lets its failed items run again.
    pub fn join_run(
        &self,
        new: &NewRun,
        owner: &Owner,
        only_targets: Option<&[String]>,
        resume: Option<i64>,
        lease: Duration,
        accept: &dyn Fn(&RunRow) -> Result<(), String>,
    ) -> Result<Result<Joined, String>, JournalError> {
        let files = serde_json::to_string(&new.files).map_err(|err| self.error(err.to_string()))?;
        let targets =
            serde_json::to_string(&new.targets).map_err(|err| self.error(err.to_string()))?;
        let only = only_targets
            .map(serde_json::to_string)
            .transpose()
            .map_err(|err| self.error(err.to_string()))?;
        let now = millis(SystemTime::now());
        self.transaction(|tx| {
            tx.batch("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")?;
            let found = match resume {
                Some(id) => tx.query_opt(
                    &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1 AND script = ?2"),
                    args![id, new.script.as_str()],
                )?,
                None => tx.query_opt(
                    &format!(
                        "SELECT {RUN_COLUMNS} FROM runs WHERE script = ?1 AND outcome = 'running'
                         AND arguments LIKE '%\"runners\":true%' ORDER BY id DESC LIMIT 1"
                    ),
                    args![new.script.as_str()],
                )?,
            };
            let found = found.as_ref().map(run_row).transpose()?;
            let (run, attempt, began, files) = match found {
                Some(row) => {
                    let shared = row.begun.arguments.get("runners");
                    if shared.and_then(serde_json::Value::as_bool) != Some(true) {
                        return Ok(Err(format!(
                            "run {} is not shared by runners; resume it without --runners",
                            row.id
                        )));
                    }
                    if let Err(why) = accept(&row) {
                        return Ok(Err(why));
                    }
                    let attempt = tx
                        .query_one(
                            "UPDATE runs SET attempts = attempts + 1, outcome = 'running', ended = NULL
                             WHERE id = ?1 RETURNING attempts",
                            args![row.id],
                        )?
                        .int(0)?;
                    if resume.is_some() {
                        tx.execute(
                            "UPDATE work_items SET status = 'waiting', runner = NULL, lease_until = NULL, result = NULL, ended = NULL
                             WHERE run = ?1 AND status = 'failed'",
                            args![row.id],
                        )?;
                    }
                    (row.id, attempt, false, row.begun.files)
                }
                None if let Some(id) = resume => {
                    return Ok(Err(format!("there is no run {id} of `{}`", new.script)));
                }
                None => {
                    let run = tx
                        .query_one(
                            "INSERT INTO runs (script, files, arguments, targets, scenario, seed, started, outcome, attempts, owner, lease_until)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', 1, ?8, ?9) RETURNING id",
                            args![
                                new.script.as_str(),
                                files.as_str(),
                                new.arguments.to_string(),
                                targets.as_str(),
                                &new.scenario,
                                new.seed.map(|s| s as i64),
                                now,
                                owner.to_stored(),
                                until(lease),
                            ],
                        )?
                        .int(0)?;
                    (run, 1, true, new.files.clone())
                }
            };
            let runner = tx
                .query_one(
                    "INSERT INTO runners (run, attempt, name, only_targets, started, heartbeat)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
                    args![run, attempt, owner.to_stored(), only, now],
                )?
                .int(0)?;
            Ok(Ok(Joined {
                run,
                attempt,
                runner,
                began,
                files,
            }))
        })
    }

    /// Renews runner `runner`'s heartbeat and the leases of its items, and the run's
    /// lease if it leads; marks runners on this host whose process is gone as ended
    /// and frees their items; takes the lead when the leader's lease has lapsed.
    pub fn beat(
        &self,
        run: i64,
        runner: i64,
        owner: &Owner,
        lease: Duration,
    ) -> Result<Beat, JournalError> {
        let now = millis(SystemTime::now());
        let until = until(lease);
        let me = owner.to_stored();
        let others = self.runners(run)?;
        for other in others
            .iter()
            .filter(|r| r.id != runner && r.ended.is_none())
        {
            let dead = Owner::parse(&other.name).is_some_and(|o| !o.may_be_alive());
            if dead {
                tracing::warn!(
                    "runner {} of run {run} is gone; its work items are free for the others",
                    other.name
                );
                self.leave_run(other.id)?;
            }
        }
        self.with(|c| {
            mark_runner(c, runner, Mark::Heartbeat(now), until)?;
            let row = c.query_one(
                "SELECT owner, lease_until, outcome FROM runs WHERE id = ?1",
                args![run],
            )?;
            let (holder, held_until, outcome) = (row.opt_text(0)?, row.opt_int(1)?, row.text(2)?);
            if outcome != "running" {
                return Ok(Beat {
                    leads: false,
                    ended: true,
                });
            }
            let leads = if holder.as_deref() == Some(me.as_str()) {
                c.execute(
                    "UPDATE runs SET lease_until = ?3 WHERE id = ?1 AND owner = ?2",
                    args![run, me.as_str(), until],
                )? == 1
            } else {
                let lapsed = held_until.is_none_or(|held| held < now)
                    || holder
                        .as_deref()
                        .and_then(Owner::parse)
                        .is_none_or(|o| !o.may_be_alive());
                // Compared with what was read, so two followers never both take it.
                lapsed
                    && c.execute(
                        "UPDATE runs SET owner = ?2, lease_until = ?3
                         WHERE id = ?1 AND outcome = 'running' AND owner IS NOT DISTINCT FROM ?4",
                        args![run, me.as_str(), until, holder],
                    )? == 1
            };
            Ok(Beat {
                leads,
                ended: false,
            })
        })
    }

    /// Records that runner `runner` stopped; its items still leased are free at once.
    pub fn leave_run(&self, runner: i64) -> Result<(), JournalError> {
        let now = millis(SystemTime::now());
        self.with(|c| mark_runner(c, runner, Mark::Ended(now), 0))
    }

    /// Adds the work items of one `parallel` (`batch` is its key): for each, its key,
    /// place, label and the targets it needs (`None`: every target of the run). Items
    /// another runner added already are left as they are.
    pub fn add_items(
        &self,
        run: i64,
        batch: &str,
        items: &[(String, i64, String, Option<String>)],
    ) -> Result<(), JournalError> {
        self.transaction(|tx| {
            for (key, ord, label, targets) in items {
                tx.execute(
                    "INSERT INTO work_items (run, batch, key, ord, label, targets, status, takeovers)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'waiting', 0) ON CONFLICT (run, batch, key) DO NOTHING",
                    args![run, batch, key.as_str(), *ord, label.as_str(), targets],
                )?;
            }
            Ok(())
        })
    }

    /// Leases the first item of `batch` that is waiting, or whose lease lapsed, and
    /// that needs only targets in `only_targets` (any, when `None`), for `lease`.
    pub fn lease_item(
        &self,
        run: i64,
        batch: &str,
        runner: i64,
        only_targets: Option<&str>,
        lease: Duration,
    ) -> Result<Option<Leased>, JournalError> {
        let now = millis(SystemTime::now());
        self.with(|c| {
            c.query_opt(
                "WITH next AS (
                    SELECT w.id, r.name AS before FROM work_items w LEFT JOIN runners r ON r.id = w.runner
                    WHERE w.run = ?1 AND w.batch = ?2
                      AND (w.status = 'waiting'
                           OR (w.status = 'running' AND w.lease_until < ?5 AND w.runner <> ?3))
                      AND (?4::text IS NULL OR (w.targets IS NOT NULL AND w.targets::jsonb <@ ?4::text::jsonb))
                    ORDER BY w.ord LIMIT 1 FOR UPDATE OF w SKIP LOCKED)
                 UPDATE work_items SET status = 'running', runner = ?3, lease_until = ?6,
                    started = COALESCE(started, ?5),
                    takeovers = takeovers + (CASE WHEN next.before IS NULL THEN 0 ELSE 1 END)
                 FROM next WHERE work_items.id = next.id
                 RETURNING work_items.id, work_items.ord, next.before",
                args![run, batch, runner, only_targets, now, until(lease)],
            )?
            .map(|row| {
                Ok(Leased {
                    id: row.int(0)?,
                    ord: row.int(1)?,
                    taken_from: row.opt_text(2)?,
                })
            })
            .transpose()
        })
    }

    /// Records that item `id` ended (`ok` or failed) with `result` (JSON), if runner
    /// `runner` still holds it; false when another runner took it over meanwhile.
    pub fn end_item(
        &self,
        id: i64,
        runner: i64,
        ok: bool,
        result: &str,
    ) -> Result<bool, JournalError> {
        let now = millis(SystemTime::now());
        let status = if ok { "done" } else { "failed" };
        self.with(|c| {
            c.execute(
                "UPDATE work_items SET status = ?3, result = ?4, ended = ?5, lease_until = NULL
                 WHERE id = ?1 AND runner = ?2 AND status = 'running'",
                args![id, runner, status, result, now],
            )
        })
        .map(|updated| updated == 1)
    }

    /// Whether runner `runner` holds item `id` for `margin` more at least.
    pub fn holds_item(&self, id: i64, runner: i64, margin: Duration) -> Result<bool, JournalError> {
        self.with(|c| {
            c.query_opt(
                "SELECT 1 FROM work_items WHERE id = ?1 AND runner = ?2 AND status = 'running' AND lease_until > ?3",
                args![id, runner, until(margin)],
            )
            .map(|row| row.is_some())
        })
    }

    /// Whether `owner` leads `run` for `margin` more at least.
    pub fn holds_lead(
        &self,
        run: i64,
        owner: &Owner,
        margin: Duration,
    ) -> Result<bool, JournalError> {
        self.with(|c| {
            c.query_opt(
                "SELECT 1 FROM runs WHERE id = ?1 AND owner = ?2 AND lease_until > ?3",
                args![run, owner.to_stored(), until(margin)],
            )
            .map(|row| row.is_some())
        })
    }

    /// How many items of `batch` have not ended, and how many of those no runner holds:
    /// what a runner with nothing to lease looks at while it waits, without reading
    /// every item of the run.
    pub fn items_left(&self, run: i64, batch: &str) -> Result<(i64, i64), JournalError> {
        self.with(|c| {
            let row = c.query_one(
                "SELECT count(*), count(*) FILTER (WHERE status = 'waiting') FROM work_items
                 WHERE run = ?1 AND batch = ?2 AND status IN ('waiting', 'running')",
                args![run, batch],
            )?;
            Ok((row.int(0)?, row.int(1)?))
        })
    }

    /// The work items of `run`, in order.
    pub fn items(&self, run: i64) -> Result<Vec<ItemRow>, JournalError> {
        self.rows(
            "SELECT w.ord, w.key, w.label, w.status, r.name, w.takeovers, w.result, w.batch
             FROM work_items w LEFT JOIN runners r ON r.id = w.runner
             WHERE w.run = ?1 ORDER BY w.id",
            args![run],
            item_row,
        )
    }

    /// The runners that joined `run`, in the order they joined.
    pub fn runners(&self, run: i64) -> Result<Vec<RunnerRow>, JournalError> {
        self.rows(
            "SELECT id, attempt, name, only_targets, started, heartbeat, ended
             FROM runners WHERE run = ?1 ORDER BY id",
            args![run],
            runner_row,
        )
    }
}

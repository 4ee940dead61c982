//! The steps table: each `step(name, fn)` of a run, keyed by the items and steps it runs
//! in, its name and its occurrence, with its result once done; a resume returns a done
//! step's result instead of running it again.

use std::time::SystemTime;

use serde::Serialize;

use super::sql::{Row, args};
use super::{Journal, JournalError, millis};

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Begun and not ended: running, or its process died.
    Running,
    Done,
    Failed,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => Self::Running,
        }
    }
}

/// One step as the journal holds it.
#[derive(Clone, Debug, Serialize)]
pub struct StepRow {
    pub id: i64,
    pub attempt: i64,
    pub ord: i64,
    pub key: String,
    pub name: String,
    pub item: Option<String>,
    pub occurrence: i64,
    pub status: StepStatus,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub started: i64,
    pub ended: Option<i64>,
}

fn step_row(row: &Row) -> Result<StepRow, String> {
    Ok(StepRow {
        id: row.int(0)?,
        attempt: row.int(1)?,
        ord: row.int(2)?,
        key: row.text(3)?,
        name: row.text(4)?,
        item: row.opt_text(5)?,
        occurrence: row.int(6)?,
        status: StepStatus::parse(&row.text(7)?),
        result: row.opt_json(8)?,
        error: row.opt_text(9)?,
        started: row.int(10)?,
        ended: row.opt_int(11)?,
    })
}

impl Journal {
    /// The result of the done step `key` (its `occurrence`) of `run`, if one is done.
    pub fn done_step(
        &self,
        run: i64,
        key: &str,
        occurrence: i64,
    ) -> Result<Option<serde_json::Value>, JournalError> {
        let text: Option<String> = self.with(|c| {
            c.query_opt(
                "SELECT result FROM steps WHERE run = ?1 AND key = ?2 AND occurrence = ?3 AND status = 'done'
                 ORDER BY id DESC LIMIT 1",
                args![run, key, occurrence],
            )?
            .map(|row| row.text(0))
            .transpose()
        })?;
        text.map(|text| {
            serde_json::from_str(&text)
                .map_err(|err| self.error(format!("step `{key}` has an unreadable result: {err}")))
        })
        .transpose()
    }

    /// Records step `key` beginning in `attempt`; answers its row id.
    pub fn begin_step(
        &self,
        run: i64,
        (attempt, ord): (i64, i64),
        key: &str,
        name: &str,
        item: Option<&str>,
        occurrence: i64,
    ) -> Result<i64, JournalError> {
        let now = millis(SystemTime::now());
        self.with(|c| {
            c.query_one(
                "INSERT INTO steps (run, attempt, ord, key, name, item, occurrence, status, started)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8) RETURNING id",
                args![run, attempt, ord, key, name, item, occurrence, now],
            )?
            .int(0)
        })
    }

    /// Records how step `id` ended: its result, or why it failed.
    pub fn end_step(
        &self,
        id: i64,
        ended: Result<&serde_json::Value, &str>,
    ) -> Result<(), JournalError> {
        let now = millis(SystemTime::now());
        let (status, result, error) = match ended {
            Ok(result) => ("done", Some(result.to_string()), None),
            Err(error) => ("failed", None, Some(error)),
        };
        self.with(|c| {
            c.execute(
                "UPDATE steps SET status = ?2, result = ?3, error = ?4, ended = ?5 WHERE id = ?1",
                args![id, status, result, error, now],
            )
        })
        .map(drop)
    }

    /// Every step of `run`, in the order they began.
    pub fn steps(&self, run: i64) -> Result<Vec<StepRow>, JournalError> {
        const QUERY: &str = "SELECT id, attempt, ord, key, name, item, occurrence, status, \
            result, error, started, ended FROM steps WHERE run = ?1 ORDER BY attempt, ord";
        self.rows(QUERY, args![run], step_row)
    }
}

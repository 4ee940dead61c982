//! The steps table: each `step(name, fn)` of a run, keyed by the items and steps it runs
//! in, its name and its occurrence, with its result once done; a resume returns a done
//! step's result instead of running it again.

use std::time::SystemTime;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

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

impl Journal {
    /// The result of the done step `key` (its `occurrence`) of `run`, if one is done.
    pub fn done_step(
        &self,
        run: i64,
        key: &str,
        occurrence: i64,
    ) -> Result<Option<serde_json::Value>, JournalError> {
        let text: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT result FROM steps WHERE run = ?1 AND key = ?2 AND occurrence = ?3 AND status = 'done'
                 ORDER BY id DESC LIMIT 1",
                params![run, key, occurrence],
                |row| row.get(0),
            )
            .optional()
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
            c.execute(
                "INSERT INTO steps (run, attempt, ord, key, name, item, occurrence, status, started)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8)",
                params![run, attempt, ord, key, name, item, occurrence, now],
            )?;
            Ok(c.last_insert_rowid())
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
                params![id, status, result, error, now],
            )
        })
        .map(drop)
    }

    /// Every step of `run`, in the order they began.
    pub fn steps(&self, run: i64) -> Result<Vec<StepRow>, JournalError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT id, attempt, ord, key, name, item, occurrence, status, result, error, started, ended
                 FROM steps WHERE run = ?1 ORDER BY attempt, ord",
            )?;
            let rows = statement.query_map([run], |row| {
                let result: Option<String> = row.get(8)?;
                Ok(StepRow {
                    id: row.get(0)?,
                    attempt: row.get(1)?,
                    ord: row.get(2)?,
                    key: row.get(3)?,
                    name: row.get(4)?,
                    item: row.get(5)?,
                    occurrence: row.get(6)?,
                    status: StepStatus::parse(&row.get::<_, String>(7)?),
                    result: result.and_then(|text| serde_json::from_str(&text).ok()),
                    error: row.get(9)?,
                    started: row.get(10)?,
                    ended: row.get(11)?,
                })
            })?;
            rows.collect()
        })
    }
}

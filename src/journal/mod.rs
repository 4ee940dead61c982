//! The journal: a database holding every run, its steps and its mutating calls, so
//! a run killed at any moment can be resumed without sending a change twice, and a
//! change ticket can show what was done. A mutating call's row is written (and synced)
//! before the call is sent and completed after, so a crash leaves an honest "sent,
//! outcome unknown" row that a resume reconciles with the vendor.
//!
//! One `Journal` per process, shared by every script thread, in an SQLite file
//! ([`sqlite`]) or a PostgreSQL database ([`postgres`]) that several runners share
//! ([`runners`]); each run is leased by the process running it ([`lease`]), each shared
//! run's work item by the runner working on it.

mod call_rows;
pub mod crash_point;
pub mod fingerprint;
pub mod frame;
pub mod lease;
pub mod postgres;
pub mod run_journal;
mod run_rows;
pub mod runners;
mod schema;
pub mod show;
pub(crate) mod sql;
mod sqlite;
mod step_rows;

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

pub use call_rows::{Answer, CallEnd, CallRow, CallStatus, Change, NewCall};
pub use run_rows::{NewRun, Outcome, RunRow};
pub use step_rows::{StepRow, StepStatus};

use sql::Sql;

/// Where the journal lives unless `--journal` or `CUTOVER_JOURNAL` say otherwise,
/// relative to the playbook's folder.
pub const DEFAULT_PATH: &str = ".cutover/journal.db";

/// The journal could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("journal `{place}`: {message}")]
pub struct JournalError {
    place: String,
    message: String,
    /// The run stopped while this runner waited for what its leader records: nothing
    /// failed.
    stopped: bool,
}

impl JournalError {
    /// Whether the run stopped while the journal was waited on, rather than the journal
    /// failing.
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

/// The database holding the journal.
enum Store {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Postgres),
}

impl Store {
    fn sql(&mut self) -> &mut dyn Sql {
        match self {
            Self::Sqlite(connection) => connection,
            Self::Postgres(connection) => connection,
        }
    }
}

/// An open journal.
pub struct Journal {
    /// The file, or the database's URL (which never holds its password).
    place: String,
    store: Mutex<Store>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("place", &self.place)
            .finish()
    }
}

impl Journal {
    /// Opens the journal `place` names: a PostgreSQL URL, or a file (created with its
    /// folder if needed); brings its tables to this cutover's version.
    pub fn open(place: &Path) -> Result<Self, JournalError> {
        let text = place.display().to_string();
        let shown = postgres::without_password(&text);
        let fail = |message: String| JournalError {
            place: shown.clone(),
            message,
            stopped: false,
        };
        let mut store = if postgres::is_url(&text) {
            let secrets = postgres::Secrets::from_env().map_err(fail)?;
            Store::Postgres(postgres::Postgres::connect(&text, secrets).map_err(fail)?)
        } else {
            Store::Sqlite(sqlite::open(place).map_err(fail)?)
        };
        schema::migrate(&mut store).map_err(fail)?;
        Ok(Self {
            place: shown,
            store: Mutex::new(store),
        })
    }

    /// The file, or the database's URL, as the operator named it.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// Whether the journal is in a PostgreSQL database, which runners can share.
    pub fn is_shared(&self) -> bool {
        matches!(*self.lock(), Store::Postgres(_))
    }

    /// The database's own check: `ok` when it is whole (SQLite's integrity check; a
    /// PostgreSQL server keeps its own).
    pub fn integrity_check(&self) -> Result<String, JournalError> {
        let mut store = self.lock();
        let answer = match &mut *store {
            Store::Sqlite(connection) => connection
                .query_one("PRAGMA integrity_check", &[])
                .and_then(|row| row.text(0)),
            Store::Postgres(connection) => connection
                .query_one("SELECT 'ok'", &[])
                .and_then(|row| row.text(0)),
        };
        answer.map_err(|message| self.error(message))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the connection, naming the journal in any error.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, String>,
    ) -> Result<T, JournalError> {
        f(self.lock().sql()).map_err(|message| self.error(message))
    }

    /// Runs a query, and reads each row of its answer with `read`.
    fn rows<T>(
        &self,
        sql: &str,
        args: &[sql::Value],
        read: fn(&sql::Row) -> Result<T, String>,
    ) -> Result<Vec<T>, JournalError> {
        self.with(|c| c.query(sql, args)?.iter().map(read).collect())
    }

    /// Runs `f` in one transaction that no other writer interleaves with: SQLite's
    /// IMMEDIATE (the file's write lock from the start), PostgreSQL's rows locked as
    /// `f` reads them `FOR UPDATE`. Rolled back if `f` fails.
    fn transaction<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, String>,
    ) -> Result<T, JournalError> {
        let mut store = self.lock();
        let begin = match &*store {
            Store::Sqlite(_) => "BEGIN IMMEDIATE",
            Store::Postgres(_) => "BEGIN",
        };
        let sql = store.sql();
        let answer = sql
            .batch(begin)
            .and_then(|()| f(sql).and_then(|answer| sql.batch("COMMIT").map(|()| answer)))
            .inspect_err(|_| {
                let _ = sql.batch("ROLLBACK");
            });
        answer.map_err(|message| self.error(message))
    }

    pub fn error(&self, message: impl Into<String>) -> JournalError {
        JournalError {
            place: self.place.clone(),
            message: message.into(),
            stopped: false,
        }
    }
}

/// Milliseconds since the epoch, as the journal stores times.
pub fn millis(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A stored time as an operator reads it: UTC, to the second.
pub fn show_time(millis: i64) -> String {
    let time = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0));
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests;

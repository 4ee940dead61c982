//! The journal: an SQLite file holding every run, its steps and its mutating calls, so
//! a run killed at any moment can be resumed without sending a change twice, and a
//! change ticket can show what was done. A mutating call's row is written (and synced)
//! before the call is sent and completed after, so a crash leaves an honest "sent,
//! outcome unknown" row that a resume reconciles with the vendor.
//!
//! One `Journal` per process, shared by every script thread; SQLite's WAL lets another
//! process (a second `cutover run`, `cutover runs`) read and write the same file, and
//! each run is leased by the process running it ([`lease`]).

mod call_rows;
pub mod crash_point;
pub mod fingerprint;
pub mod frame;
pub mod lease;
pub mod run_journal;
mod run_rows;
mod schema;
pub mod show;
mod step_rows;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rusqlite::Connection;

pub use call_rows::{Answer, CallEnd, CallRow, CallStatus, Change, NewCall};
pub use run_rows::{NewRun, Outcome, RunRow};
pub use step_rows::{StepRow, StepStatus};

/// Where the journal lives unless `--journal` or `CUTOVER_JOURNAL` say otherwise,
/// relative to the playbook's folder.
pub const DEFAULT_PATH: &str = ".cutover/journal.db";

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The journal could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("journal `{}`: {message}", path.display())]
pub struct JournalError {
    path: PathBuf,
    message: String,
}

/// An open journal.
pub struct Journal {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Opens the journal at `path`, creating it and its folder if needed, and brings its
    /// tables to this cutover's version.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let fail = |message: String| JournalError {
            path: path.to_owned(),
            message,
        };
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|err| fail(format!("cannot create its folder: {err}")))?;
        }
        let mut connection = Connection::open(path).map_err(|err| fail(err.to_string()))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .and_then(|()| connection.pragma_update(None, "journal_mode", "WAL"))
            // Every row is on disk before the call it describes is sent.
            .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
            .and_then(|()| connection.pragma_update(None, "foreign_keys", true))
            .map_err(|err| fail(err.to_string()))?;
        schema::migrate(&mut connection).map_err(fail)?;
        Ok(Self {
            path: path.to_owned(),
            connection: Mutex::new(connection),
        })
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's own check of the file: `ok` when it is whole.
    pub fn integrity_check(&self) -> Result<String, JournalError> {
        self.with(|c| c.query_row("PRAGMA integrity_check", [], |row| row.get(0)))
    }

    /// Runs `f` on the connection, naming the journal in any error.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, JournalError> {
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut connection).map_err(|err| JournalError {
            path: self.path.clone(),
            message: err.to_string(),
        })
    }

    pub fn error(&self, message: impl Into<String>) -> JournalError {
        JournalError {
            path: self.path.clone(),
            message: message.into(),
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

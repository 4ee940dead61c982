//! The watcher's memory of what it handled: one row per handled event (path, size,
//! modification time, content hash, handler, outcome) in a small SQLite file beside the
//! hooks, so a restarted `cutover watch` does not hand over again a file it already
//! handled that has not changed. The run journal of design.md can take this table over.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, params};

use crate::hook::event::Stat;

/// Where the memory lives, relative to the first hook folder.
pub const DEFAULT_PATH: &str = ".cutover/watch.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS handled (
    id          INTEGER PRIMARY KEY,
    handler     TEXT NOT NULL,
    path        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    modified_ns INTEGER NOT NULL,
    hash        TEXT,
    outcome     TEXT NOT NULL,
    message     TEXT,
    started_ms  INTEGER NOT NULL,
    ended_ms    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS handled_by_file ON handled (handler, path, id);
";

/// The memory could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The state file's folder could not be made.
    #[error("cannot create the folder of the watch state file `{}`: {err}", path.display())]
    Folder {
        /// The state file.
        path: PathBuf,
        /// Why.
        err: std::io::Error,
    },
    /// SQLite refused.
    #[error("the watch state file `{}`: {err}", path.display())]
    Sqlite {
        /// The state file.
        path: PathBuf,
        /// What SQLite said.
        err: rusqlite::Error,
    },
}

/// How a handler run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The handler returned.
    Ok,
    /// The handler failed (or was stopped by a limit).
    Failed,
    /// The run was cancelled (`on_busy: "restart"`, or stopping).
    Cancelled,
}

impl Outcome {
    /// The name stored in the state file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One handled event.
#[derive(Clone, Debug)]
pub struct Record {
    /// The handler's name.
    pub handler: String,
    /// The file.
    pub path: PathBuf,
    /// The event's kind (`create`, `modify`, ...).
    pub kind: String,
    /// The file as it was handed over.
    pub stat: Stat,
    /// Its content hash, when it could be read.
    pub hash: Option<String>,
    /// How the run ended.
    pub outcome: Outcome,
    /// The error's headline, for a failed run.
    pub message: Option<String>,
    /// When the run started and ended.
    pub started: SystemTime,
    pub ended: SystemTime,
}

/// The last successful run of a handler for a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    /// The file as it was then.
    pub stat: Stat,
    /// Its content hash then.
    pub hash: Option<String>,
}

/// The state file, open.
pub struct Memory {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Memory {
    /// Opens (creating it and its folder if needed) the state file at `path`.
    pub fn open(path: &Path) -> Result<Self, MemoryError> {
        let fail = |err| MemoryError::Sqlite {
            path: path.to_path_buf(),
            err,
        };
        if let Some(folder) = path.parent() {
            crate::hook::files::create_dir_all(folder).map_err(|err| MemoryError::Folder {
                path: path.to_path_buf(),
                err,
            })?;
        }
        let conn = Connection::open(path).map_err(fail)?;
        // WAL lets a later `cutover runs` read while the watcher writes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        Ok(Self {
            // Absolute and canonical, so the watcher knows its own writes (`--state` may
            // be relative).
            path: crate::hook::files::absolute(path),
            conn: Mutex::new(conn),
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last run of `handler` for `path`, if it succeeded.
    pub fn handled(&self, handler: &str, path: &Path) -> Result<Option<Handled>, MemoryError> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let row = conn
            .query_row(
                "SELECT size, modified_ns, hash, outcome FROM handled
                 WHERE handler = ?1 AND path = ?2 ORDER BY id DESC LIMIT 1",
                params![handler, path.to_string_lossy()],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|err| self.fail(err))?;
        Ok(row.and_then(|(size, modified, hash, outcome)| {
            (outcome == Outcome::Ok.as_str()).then(|| Handled {
                stat: Stat {
                    size: u64::try_from(size).unwrap_or_default(),
                    modified: from_nanos(modified),
                },
                hash,
            })
        }))
    }

    /// Records a run; returns its row, for [`Memory::set_hash`] once the hash is known.
    pub fn record(&self, record: &Record) -> Result<i64, MemoryError> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        conn.execute(
            "INSERT INTO handled (handler, path, kind, size, modified_ns, hash, outcome,
                                  message, started_ms, ended_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                record.handler,
                record.path.to_string_lossy(),
                record.kind,
                i64::try_from(record.stat.size).unwrap_or(i64::MAX),
                nanos(record.stat.modified),
                record.hash,
                record.outcome.as_str(),
                record.message,
                nanos(record.started) / 1_000_000,
                nanos(record.ended) / 1_000_000,
            ],
        )
        .map_err(|err| self.fail(err))?;
        Ok(conn.last_insert_rowid())
    }

    /// Adds the content hash to the run recorded as `row`. Until then the row has none,
    /// and a row without a hash never counts as "handled and unchanged".
    pub fn set_hash(&self, row: i64, hash: &str) -> Result<(), MemoryError> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        conn.execute(
            "UPDATE handled SET hash = ?1 WHERE id = ?2",
            params![hash, row],
        )
        .map_err(|err| self.fail(err))?;
        Ok(())
    }

    fn fail(&self, err: rusqlite::Error) -> MemoryError {
        MemoryError::Sqlite {
            path: self.path.clone(),
            err,
        }
    }
}

/// Nanoseconds since the epoch (negative before it), saturating.
fn nanos(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

fn from_nanos(ns: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(ns.unsigned_abs());
    if ns >= 0 {
        SystemTime::UNIX_EPOCH + magnitude
    } else {
        SystemTime::UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: Outcome, size: u64) -> Record {
        let modified = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        Record {
            handler: "ovf.rhai: incoming/*.ovf".into(),
            path: "/hooks/incoming/app.ovf".into(),
            kind: "create".into(),
            stat: Stat { size, modified },
            hash: Some("blake3:ab".into()),
            outcome,
            message: None,
            started: SystemTime::now(),
            ended: SystemTime::now(),
        }
    }

    #[test]
    fn the_last_successful_run_is_remembered_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".cutover/watch.db");
        let file = Path::new("/hooks/incoming/app.ovf");
        let handler = "ovf.rhai: incoming/*.ovf";
        {
            let memory = Memory::open(&path).unwrap();
            assert_eq!(memory.handled(handler, file).unwrap(), None);
            let mut first = record(Outcome::Ok, 10);
            first.hash = None;
            let row = memory.record(&first).unwrap();
            let handled = memory.handled(handler, file).unwrap().unwrap();
            assert_eq!(handled.hash, None, "no hash until it is known");
            memory.set_hash(row, "blake3:ab").unwrap();
        }
        let memory = Memory::open(&path).unwrap();
        let handled = memory.handled(handler, file).unwrap().unwrap();
        assert_eq!(handled.stat, record(Outcome::Ok, 10).stat);
        assert_eq!(handled.hash.as_deref(), Some("blake3:ab"));
        assert_eq!(memory.handled("other", file).unwrap(), None);
        memory.record(&record(Outcome::Failed, 11)).unwrap();
        assert_eq!(
            memory.handled(handler, file).unwrap(),
            None,
            "a failed run is not remembered as handled"
        );
    }

    #[test]
    fn times_round_trip_to_the_nanosecond() {
        for ns in [0, 1, 1_700_000_000_123_456_789, -5_000_000_000] {
            assert_eq!(nanos(from_nanos(ns)), ns);
        }
    }
}

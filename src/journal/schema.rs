//! The journal's tables, versioned with SQLite's `user_version`: each entry of
//! [`MIGRATIONS`] moves a journal one version up, so a journal written by an older
//! cutover is brought forward when opened, and one written by a newer cutover is
//! refused rather than misread.

use rusqlite::{Connection, TransactionBehavior};

/// Each step from version `i` to `i + 1`; never edit one that has shipped, add another.
const MIGRATIONS: &[&str] = &[
    // 1: runs, their steps and their mutating calls.
    "
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    script      TEXT NOT NULL,
    files       TEXT NOT NULL,      -- JSON [{path, hash}]: the script, then its imports
    arguments   TEXT NOT NULL,      -- JSON: the command line's choices, never a secret
    targets     TEXT NOT NULL,      -- JSON [name]
    scenario    TEXT,               -- the lab's scenario when rehearsing
    seed        INTEGER,            -- the lab's seed when rehearsing
    started     INTEGER NOT NULL,   -- ms since the epoch
    ended       INTEGER,
    outcome     TEXT NOT NULL,      -- running, succeeded, failed, interrupted
    attempts    INTEGER NOT NULL,   -- 1, and one more for each resume
    owner       TEXT,               -- the process running it: pid@host
    lease_until INTEGER             -- ms since the epoch
);
CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    run         INTEGER NOT NULL REFERENCES runs(id),
    attempt     INTEGER NOT NULL,
    ord         INTEGER NOT NULL,   -- its place among the attempt's steps and calls
    key         TEXT NOT NULL,      -- the items and enclosing steps it runs in, then its name
    name        TEXT NOT NULL,
    item        TEXT,               -- the parallel item it runs for
    occurrence  INTEGER NOT NULL,   -- 1 for the first step of this key in the run
    status      TEXT NOT NULL,      -- running, done, failed
    result      TEXT,               -- JSON, when done
    error       TEXT,               -- when failed
    started     INTEGER NOT NULL,
    ended       INTEGER
);
CREATE INDEX steps_by_key ON steps(run, key, occurrence);
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    run         INTEGER NOT NULL REFERENCES runs(id),
    attempt     INTEGER NOT NULL,
    ord         INTEGER NOT NULL,   -- its place among the attempt's steps and calls
    step        INTEGER REFERENCES steps(id),
    frame       TEXT NOT NULL,      -- the step key it ran in ('' outside any)
    seq         INTEGER NOT NULL,   -- its place among the frame's calls in this attempt
    target      TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    operation   TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT,
    object_name TEXT,
    detail      TEXT,               -- the client token or file its verification reads
    summary     TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      TEXT NOT NULL,      -- see CallStatus
    http_status INTEGER,
    request_id  TEXT,
    answer      TEXT,               -- JSON {status, headers, body} of a success, for a resume
    verdict     TEXT,               -- what verification read
    started     INTEGER NOT NULL,
    duration_ms INTEGER
);
CREATE INDEX calls_by_frame ON calls(run, frame, attempt, seq);
",
];

/// The version this cutover writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the journal to [`VERSION`] in one IMMEDIATE transaction, reading its version
/// inside it: two processes opening a new journal at once never both migrate it.
pub fn migrate(connection: &mut Connection) -> Result<(), String> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|err| err.to_string())?;
    let found: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|err| err.to_string())?;
    if found > VERSION {
        return Err(format!(
            "it was written by a newer cutover (journal version {found}, this one reads up to {VERSION}); use that cutover, or another journal with --journal"
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let next = index + 1;
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", next as i64))
            .map_err(|err| format!("cannot bring it to version {next}: {err}"))?;
    }
    tx.commit().map_err(|err| err.to_string())
}

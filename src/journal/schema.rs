//! The journal's tables, versioned: each entry of [`MIGRATIONS`] moves a journal one
//! version up, so a journal written by an older cutover is brought forward when opened,
//! and one written by a newer cutover is refused rather than misread. The statements are
//! SQLite's; PostgreSQL gets the same tables with 64-bit numbers ([`for_postgres`]).
//! SQLite keeps the version in `user_version`, PostgreSQL in a table of its own.

use super::Store;

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
    // 2: the runners sharing a run, and its work items.
    "
CREATE TABLE runners (
    id          INTEGER PRIMARY KEY,
    run         INTEGER NOT NULL REFERENCES runs(id),
    attempt     INTEGER NOT NULL,   -- the attempt of the run it writes steps and calls as
    name        TEXT NOT NULL,      -- pid@host
    only_targets TEXT,              -- JSON [name]: the targets it can reach, when restricted
    started     INTEGER NOT NULL,
    heartbeat   INTEGER NOT NULL,   -- ms since the epoch, its last renewal
    ended       INTEGER
);
CREATE TABLE work_items (
    id          INTEGER PRIMARY KEY,
    run         INTEGER NOT NULL REFERENCES runs(id),
    batch       TEXT NOT NULL,      -- the `parallel` it belongs to
    key         TEXT NOT NULL,      -- its frame key: the enclosing frame, then the item
    ord         INTEGER NOT NULL,   -- its place in the list given to `parallel`
    label       TEXT NOT NULL,
    targets     TEXT,               -- JSON [name]: the targets it needs (none said: all)
    status      TEXT NOT NULL,      -- waiting, running, done, failed
    runner      INTEGER REFERENCES runners(id),
    lease_until INTEGER,            -- ms since the epoch
    takeovers   INTEGER NOT NULL,   -- how many times another runner took it over
    result      TEXT,               -- JSON: what `parallel` answers for it, once ended
    started     INTEGER,
    ended       INTEGER,
    UNIQUE (run, batch, key)
);
CREATE INDEX work_items_by_status ON work_items(run, status);
",
];

/// The version this cutover writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// A migration's statements for PostgreSQL: every number 64-bit, every id a sequence.
fn for_postgres(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
}

/// Brings the journal to [`VERSION`] in one transaction that reads its version inside
/// it (SQLite's IMMEDIATE, PostgreSQL's advisory lock): two processes opening a new
/// journal at once never both migrate it.
pub fn migrate(store: &mut Store) -> Result<(), String> {
    let postgres = matches!(store, Store::Postgres(_));
    let sql = store.sql();
    let (begin, read) = if postgres {
        (
            "BEGIN; SELECT pg_advisory_xact_lock(7307466115); \
             CREATE TABLE IF NOT EXISTS cutover_schema (version BIGINT NOT NULL); \
             INSERT INTO cutover_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM cutover_schema);",
            "SELECT version FROM cutover_schema",
        )
    } else {
        ("BEGIN IMMEDIATE", "PRAGMA user_version")
    };
    sql.batch(begin)?;
    let migrated = (|| {
        let found = sql.query_one(read, &[])?.int(0)?;
        if found > VERSION {
            return Err(format!(
                "it was written by a newer cutover (journal version {found}, this one reads up to {VERSION}); use that cutover, or another journal with --journal"
            ));
        }
        for (index, statements) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let next = index + 1;
            let (statements, mark) = if postgres {
                (
                    for_postgres(statements),
                    format!("UPDATE cutover_schema SET version = {next}"),
                )
            } else {
                (
                    statements.to_string(),
                    format!("PRAGMA user_version = {next}"),
                )
            };
            sql.batch(&statements)
                .and_then(|()| sql.batch(&mark))
                .map_err(|err| format!("cannot bring it to version {next}: {err}"))?;
        }
        Ok(())
    })();
    match migrated {
        Ok(()) => sql.batch("COMMIT"),
        Err(err) => {
            let _ = sql.batch("ROLLBACK");
            Err(err)
        }
    }
}

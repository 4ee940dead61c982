//! The durable-runs tests run on each journal backend: [`Journal`] names one (SQLite, or
//! PostgreSQL plain or over TLS), [`Journal::store`] makes a fresh empty journal of that
//! kind, and [`on_each_journal!`] turns a test body taking a `Journal` into one test per
//! backend. The checks that read the journal itself (is it whole after a kill, does any
//! secret reach it) are asked of the [`Store`], which answers them each its own way.

use std::ffi::OsString;
use std::process::Command;

use crate::postgres::{Database, database};

/// A journal backend a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Journal {
    /// A file, as by default.
    Sqlite,
    /// A database on the test server, without TLS.
    Postgres,
    /// A database on the test server over TLS, the server's certificate verified.
    PostgresTls,
}

/// One fresh, empty journal: a file in a folder of its own, or a database of its own.
pub enum Store {
    File(tempfile::TempDir),
    Postgres { db: Database, tls: bool },
}

impl Journal {
    /// A new empty journal of this kind.
    pub fn store(self) -> Store {
        match self {
            Self::Sqlite => Store::File(tempfile::tempdir().unwrap()),
            Self::Postgres => Store::Postgres {
                db: database(),
                tls: false,
            },
            Self::PostgresTls => Store::Postgres {
                db: database(),
                tls: true,
            },
        }
    }
}

impl Store {
    /// What `--journal` (or `CUTOVER_JOURNAL`) takes: the file, or the database's URL.
    pub fn location(&self) -> OsString {
        match self {
            Self::File(dir) => dir.path().join("journal.db").into_os_string(),
            Self::Postgres { db, tls: false } => db.url.clone().into(),
            Self::Postgres { db, tls: true } => format!("{}?sslmode=require", db.url).into(),
        }
    }

    /// The environment a command needs to use this journal: `CUTOVER_JOURNAL` naming it,
    /// and for PostgreSQL its password and, over TLS, the CA.
    fn env(&self) -> Vec<(&'static str, Option<OsString>)> {
        let mut env = vec![("CUTOVER_JOURNAL", Some(self.location()))];
        match self {
            Self::File(_) => {
                env.push(("CUTOVER_JOURNAL_PASSWORD", None));
                env.push(("CUTOVER_JOURNAL_CA", None));
            }
            Self::Postgres { db, tls } => {
                env.push(("CUTOVER_JOURNAL_PASSWORD", Some(db.password.clone().into())));
                let ca = tls.then(|| db.ca.clone().into_os_string());
                env.push(("CUTOVER_JOURNAL_CA", ca));
            }
        }
        env.push(("CUTOVER_JOURNAL_PASSWORD_FILE", None));
        env
    }

    /// `command` set to use this journal.
    pub fn apply<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        for (key, value) in self.env() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }

    /// The journal is whole after a kill. SQLite: its own integrity check of the file.
    /// PostgreSQL keeps its tables whole itself (a killed client's transaction is rolled
    /// back), so this checks the rows agree with each other instead: no step or call of
    /// an attempt its run never made, no call in another run's step, no answered call
    /// without its HTTP status, no ended step without its end.
    #[track_caller]
    pub fn assert_whole(&self) {
        match self {
            Self::File(dir) => {
                let connection = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
                let check: String = connection
                    .query_row("PRAGMA integrity_check", [], |row| row.get(0))
                    .unwrap();
                assert_eq!(check, "ok");
            }
            Self::Postgres { db, .. } => {
                let bad = db.psql(
                    "SELECT 'step ' || s.id FROM steps s JOIN runs r ON r.id = s.run \
                       WHERE s.attempt NOT BETWEEN 1 AND r.attempts \
                     UNION ALL SELECT 'call ' || c.id FROM calls c JOIN runs r ON r.id = c.run \
                       WHERE c.attempt NOT BETWEEN 1 AND r.attempts \
                     UNION ALL SELECT 'call ' || c.id FROM calls c JOIN steps s ON s.id = c.step \
                       WHERE s.run <> c.run \
                     UNION ALL SELECT 'call ' || id FROM calls \
                       WHERE status = 'answered' AND http_status IS NULL \
                     UNION ALL SELECT 'step ' || id FROM steps \
                       WHERE status IN ('done', 'failed') AND ended IS NULL",
                );
                assert_eq!(bad, "", "rows that disagree with the others");
                assert_ne!(db.psql("SELECT count(*) FROM runs"), "0", "no run recorded");
            }
        }
    }

    /// Everything the journal holds, as text, to look for secrets in: the file's bytes,
    /// or every row of every table.
    pub fn text(&self) -> String {
        match self {
            Self::File(dir) => {
                let bytes = std::fs::read(dir.path().join("journal.db")).unwrap();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Self::Postgres { db, .. } => db.psql(
                "SELECT row_to_json(t)::text FROM runs t \
                 UNION ALL SELECT row_to_json(t)::text FROM steps t \
                 UNION ALL SELECT row_to_json(t)::text FROM calls t \
                 UNION ALL SELECT row_to_json(t)::text FROM runners t \
                 UNION ALL SELECT row_to_json(t)::text FROM work_items t",
            ),
        }
    }
}

/// `on_each_journal!(name)` makes the tests `name::on_sqlite` and `name::on_postgres`,
/// each calling the body `fn name(journal: Journal)`; `on_each_journal!(name, tls)` runs
/// the PostgreSQL one over TLS.
macro_rules! on_each_journal {
    ($test:ident) => {
        $crate::journal_kind::on_each_journal!($test, $crate::journal_kind::Journal::Postgres);
    };
    ($test:ident, tls) => {
        $crate::journal_kind::on_each_journal!($test, $crate::journal_kind::Journal::PostgresTls);
    };
    ($test:ident, $postgres:expr) => {
        mod $test {
            #[test]
            fn on_sqlite() {
                super::$test($crate::journal_kind::Journal::Sqlite);
            }

            #[test]
            fn on_postgres() {
                super::$test($postgres);
            }
        }
    };
}
pub(crate) use on_each_journal;

//! The journal in an SQLite file: the default, one file beside the playbook. WAL lets
//! another process (a second `cutover run`, `cutover runs`) read and write the same
//! file; every row is synced before the call it describes is sent.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::sql::{Row, Sql, Value};

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens (creating it and its folder if needed) the journal file at `path`.
pub fn open(path: &Path) -> Result<Connection, String> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .map_err(|err| format!("cannot create its folder: {err}"))?;
    }
    let connection = Connection::open(path).map_err(|err| err.to_string())?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .and_then(|()| connection.pragma_update(None, "journal_mode", "WAL"))
        // Every row is on disk before the call it describes is sent.
        .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
        .and_then(|()| connection.pragma_update(None, "foreign_keys", true))
        .map_err(|err| err.to_string())?;
    Ok(connection)
}

fn value(value: &Value) -> rusqlite::types::Value {
    match value {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(value) => rusqlite::types::Value::Integer(*value),
        Value::Text(value) => rusqlite::types::Value::Text(value.clone()),
    }
}

impl Sql for Connection {
    fn for_update(&self) -> &'static str {
        ""
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.execute_batch(sql).map_err(|err| err.to_string())
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, String> {
        let args: Vec<_> = args.iter().map(value).collect();
        Connection::execute(self, sql, rusqlite::params_from_iter(args))
            .map(|changed| changed as u64)
            .map_err(|err| err.to_string())
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, String> {
        let args: Vec<_> = args.iter().map(value).collect();
        let mut statement = self.prepare_cached(sql).map_err(|err| err.to_string())?;
        let columns = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(args))
            .map_err(|err| err.to_string())?;
        let mut answer = Vec::new();
        while let Some(row) = rows.next().map_err(|err| err.to_string())? {
            let mut values = Vec::with_capacity(columns);
            for index in 0..columns {
                values.push(match row.get_ref(index).map_err(|err| err.to_string())? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(value) => Value::Int(value),
                    ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
                    ValueRef::Real(_) | ValueRef::Blob(_) => {
                        return Err(format!("column {index} holds neither a number nor text"));
                    }
                });
            }
            answer.push(Row(values));
        }
        Ok(answer)
    }
}

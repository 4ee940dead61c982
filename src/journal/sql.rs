//! The little SQL the journal speaks, the same on SQLite and PostgreSQL: statements with
//! numbered parameters (`?1`), whose values and results are whole numbers, text or
//! NULL. Each store turns it into its own driver's calls, so every query of the
//! journal is written once.

/// A parameter or a column's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<u16> for Value {
    fn from(value: u16) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Self {
        Self::Text(value.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

impl<T: Clone + Into<Value>> From<&Option<T>> for Value {
    fn from(value: &Option<T>) -> Self {
        value.clone().map_or(Self::Null, Into::into)
    }
}

/// The parameters of a statement, each turned into a [`Value`].
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::journal::sql::Value::from($value)),*]
    };
}
pub(crate) use args;

/// One row of a query's answer.
#[derive(Clone, Debug)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn column(&self, index: usize) -> Result<&Value, String> {
        self.0
            .get(index)
            .ok_or_else(|| format!("a query answered no column {index}"))
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, String> {
        match self.column(index)? {
            Value::Null => Ok(None),
            Value::Int(value) => Ok(Some(*value)),
            Value::Text(_) => Err(format!("column {index} holds text, not a number")),
        }
    }

    pub fn int(&self, index: usize) -> Result<i64, String> {
        self.opt_int(index)?
            .ok_or_else(|| format!("column {index} is empty"))
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, String> {
        match self.column(index)? {
            Value::Null => Ok(None),
            Value::Text(value) => Ok(Some(value.clone())),
            Value::Int(_) => Err(format!("column {index} holds a number, not text")),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, String> {
        self.opt_text(index)?
            .ok_or_else(|| format!("column {index} is empty"))
    }

    /// A column that may hold JSON, read as `T`; `None` when it is empty, and also when
    /// it does not read as `T`: for what a record shows beside its status (a step's
    /// result, a call's answer), so that a run is still shown when one of them does not
    /// read. Not for a column whose value must be there.
    pub fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        index: usize,
    ) -> Result<Option<T>, String> {
        Ok(self
            .opt_text(index)?
            .and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// A column holding JSON, read as `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<T, String> {
        serde_json::from_str(&self.text(index)?)
            .map_err(|err| format!("column {index} holds unreadable JSON: {err}"))
    }
}

/// A connection the journal's statements run on.
pub trait Sql {
    /// What ends a query that locks the rows it reads until the transaction ends:
    /// PostgreSQL's `FOR UPDATE`; nothing on SQLite, whose IMMEDIATE transaction holds
    /// the whole file.
    fn for_update(&self) -> &'static str;

    /// Runs statements with no parameters (a migration, `BEGIN`, `COMMIT`).
    fn batch(&mut self, sql: &str) -> Result<(), String>;

    /// Runs a statement; answers how many rows it changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, String>;

    /// Runs a query; answers its rows.
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, String>;

    /// The first row of a query's answer, if any.
    fn query_opt(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, String> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The one row a query must answer.
    fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Row, String> {
        self.query_opt(sql, args)?
            .ok_or_else(|| "a query that answers one row answered none".to_owned())
    }
}

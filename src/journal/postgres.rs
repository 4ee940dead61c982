//! The journal in a PostgreSQL database (`--journal postgres://user@host:port/db`), so
//! several runners on several machines can share one wave. The password comes from
//! `CUTOVER_JOURNAL_PASSWORD` or the file `CUTOVER_JOURNAL_PASSWORD_FILE` names, never
//! from the URL (which appears in messages); `CUTOVER_JOURNAL_CA` names the PEM file of
//! the CA that signed the server's certificate, and turns TLS on.
//!
//! The blocking client runs its own runtime, which cannot be entered from a thread
//! already inside one (the runtime's workers write the journal too), so the connection
//! lives on a thread of its own and every statement is handed to it.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc::{self, Sender};

use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, Config, NoTls};

use super::sql::{Row, Sql, Value};

/// The environment variable holding the journal database's password.
pub const PASSWORD_ENV: &str = "CUTOVER_JOURNAL_PASSWORD";
/// The environment variable naming a file holding that password.
pub const PASSWORD_FILE_ENV: &str = "CUTOVER_JOURNAL_PASSWORD_FILE";
/// The environment variable naming the CA file for TLS to the database.
pub const CA_ENV: &str = "CUTOVER_JOURNAL_CA";

/// Whether `journal` names a PostgreSQL database rather than a file.
pub fn is_url(journal: &str) -> bool {
    journal.starts_with("postgres://") || journal.starts_with("postgresql://")
}

/// `journal` as messages show it: a URL without its password (which is refused, but
/// must not be repeated in the refusal).
pub fn without_password(journal: &str) -> String {
    if !is_url(journal) {
        return journal.to_owned();
    }
    match reqwest::Url::parse(journal) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(None);
            url.to_string()
        }
        Ok(_) => journal.to_owned(),
        // Not a URL that parses: show its scheme and host part only.
        Err(_) => journal.rsplit_once('@').map_or_else(
            || journal.to_owned(),
            |(_, host)| format!("postgres://…@{host}"),
        ),
    }
}

/// A connection to the journal's database, on its own thread.
pub struct Postgres {
    requests: Sender<Request>,
}

enum Request {
    Batch(String, Sender<Result<(), String>>),
    Execute(String, Vec<Value>, Sender<Result<u64, String>>),
    Query(String, Vec<Value>, Sender<Result<Vec<Row>, String>>),
}

/// What connecting needs besides the URL: the password and the CA file.
pub struct Secrets {
    pub password: Option<String>,
    pub ca: Option<PathBuf>,
}

impl Secrets {
    /// Read from the environment.
    pub fn from_env() -> Result<Self, String> {
        let password = match (
            std::env::var(PASSWORD_ENV),
            std::env::var_os(PASSWORD_FILE_ENV),
        ) {
            (Ok(password), _) => Some(password),
            (Err(_), Some(file)) => {
                #[allow(
                    clippy::disallowed_methods,
                    reason = "the journal is the gate for its own secret"
                )]
                let text = std::fs::read_to_string(&file).map_err(|err| {
                    format!(
                        "cannot read the password file {PASSWORD_FILE_ENV} names (`{}`): {err}",
                        Path::new(&file).display()
                    )
                })?;
                Some(text.trim_end_matches(['\r', '\n']).to_owned())
            }
            (Err(_), None) => None,
        };
        Ok(Self {
            password,
            ca: std::env::var_os(CA_ENV).map(PathBuf::from),
        })
    }
}

impl Postgres {
    /// Connects to the database `url` names.
    pub fn connect(url: &str, secrets: Secrets) -> Result<Self, String> {
        let mut config = Config::from_str(url).map_err(|err| format!("not a valid URL: {err}"))?;
        if config.get_password().is_some() {
            return Err(format!(
                "the URL holds a password; put it in {PASSWORD_ENV} or a file named by {PASSWORD_FILE_ENV} instead"
            ));
        }
        if let Some(password) = &secrets.password {
            config.password(password);
        }
        config.application_name("cutover");
        let tls = match &secrets.ca {
            Some(ca) => Some(tls_config(ca)?),
            None => None,
        };
        let (requests, incoming) = mpsc::channel::<Request>();
        let (ready, connected) = mpsc::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("cutover-journal".into())
            .spawn(move || {
                let client = match tls {
                    Some(tls) => {
                        config.ssl_mode(postgres::config::SslMode::Require);
                        config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
                    }
                    None => config.connect(NoTls),
                };
                let mut client = match client {
                    Ok(client) => client,
                    Err(err) => {
                        let _ = ready.send(Err(describe(&err)));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                serve(&mut client, &incoming);
            })
            .map_err(|err| format!("cannot start its thread: {err}"))?;
        connected
            .recv()
            .map_err(|_| "its connection thread ended".to_owned())??;
        Ok(Self { requests })
    }

    fn ask<T>(
        &self,
        request: impl FnOnce(Sender<Result<T, String>>) -> Request,
    ) -> Result<T, String> {
        let (reply, answer) = mpsc::channel();
        self.requests
            .send(request(reply))
            .map_err(|_| "the connection to the database is closed".to_owned())?;
        answer
            .recv()
            .map_err(|_| "the connection to the database is closed".to_owned())?
    }
}

/// Answers requests until the journal is dropped.
fn serve(client: &mut Client, incoming: &mpsc::Receiver<Request>) {
    for request in incoming {
        match request {
            Request::Batch(sql, reply) => {
                let _ = reply.send(client.batch_execute(&sql).map_err(|err| describe(&err)));
            }
            Request::Execute(sql, args, reply) => {
                let _ = reply.send(
                    client
                        .execute(&numbered(&sql), &parameters(&args))
                        .map_err(|err| describe(&err)),
                );
            }
            Request::Query(sql, args, reply) => {
                let _ = reply.send(
                    client
                        .query(&numbered(&sql), &parameters(&args))
                        .map_err(|err| describe(&err))
                        .and_then(|rows| rows.iter().map(row).collect()),
                );
            }
        }
    }
}

impl Sql for Postgres {
    fn for_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        let sql = sql.to_owned();
        self.ask(|reply| Request::Batch(sql, reply))
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, String> {
        let (sql, args) = (sql.to_owned(), args.to_vec());
        self.ask(|reply| Request::Execute(sql, args, reply))
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, String> {
        let (sql, args) = (sql.to_owned(), args.to_vec());
        self.ask(|reply| Request::Query(sql, args, reply))
    }
}

fn parameters(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// `sql` with SQLite's `?1` parameters written as PostgreSQL's `$1`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn row(row: &postgres::Row) -> Result<Row, String> {
    let mut values = Vec::with_capacity(row.len());
    for (index, column) in row.columns().iter().enumerate() {
        let unreadable = |err: postgres::Error| format!("column `{}`: {err}", column.name());
        let value = match *column.type_() {
            Type::INT8 => row
                .try_get::<_, Option<i64>>(index)
                .map(|v| v.map(Value::Int)),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)
                .map(|v| v.map(|v| Value::Int(i64::from(v)))),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)
                .map(|v| v.map(|v| Value::Int(i64::from(v)))),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(index)
                .map(|v| v.map(|v| Value::Int(i64::from(v)))),
            _ => row
                .try_get::<_, Option<String>>(index)
                .map(|v| v.map(Value::Text)),
        }
        .map_err(unreadable)?;
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Self::Null => Ok(IsNull::Yes),
            Self::Int(value) if *ty == Type::INT4 => i32::try_from(*value)?.to_sql(ty, out),
            Self::Int(value) => value.to_sql(ty, out),
            Self::Text(value) => value.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <i32 as ToSql>::accepts(ty) || <String as ToSql>::accepts(ty)
    }

    postgres::types::to_sql_checked!();
}

/// A TLS client that trusts the CAs in `ca` (PEM), and no other.
fn tls_config(ca: &Path) -> Result<tokio_rustls::rustls::ClientConfig, String> {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let named = format!("{CA_ENV} `{}`", ca.display());
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .and_then(Iterator::collect)
        .map_err(|err| format!("cannot read {named}: {err}"))?;
    if certificates.is_empty() {
        return Err(format!(
            "{named} holds no certificate: expected PEM blocks starting with `-----BEGIN CERTIFICATE-----`"
        ));
    }
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|err| format!("{named}: not a valid CA certificate: {err}"))?;
    }
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    Ok(
        tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A driver error with its cause (the server's message, the I/O error).
fn describe(err: &postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        assert_eq!(
            super::without_password("postgres://cutover:secret@127.0.0.1:1/x"),
            "postgres://cutover@127.0.0.1:1/x"
        );
        assert_eq!(
            super::without_password("postgres://cutover@db/x?sslmode=require"),
            "postgres://cutover@db/x?sslmode=require"
        );
        assert_eq!(super::without_password("j.db"), "j.db");
    }

    #[test]
    fn numbered_parameters_are_written_the_postgresql_way() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?12) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $12) AND d = '?'"
        );
    }
}

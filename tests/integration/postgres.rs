//! A fresh PostgreSQL database per test, on the server `.ci/with-postgres` starts (or one
//! named by `CUTOVER_TEST_POSTGRES`), made and inspected through `psql`.

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// One test's own empty database; `url` names it, the password and the CA are the server's.
#[derive(Debug)]
pub struct Database {
    /// `postgres://cutover@127.0.0.1:PORT/<database>`, without the password.
    pub url: String,
    pub password: String,
    /// The PEM file of the CA that signed the server's certificate.
    pub ca: PathBuf,
}

/// The server the tests use, read from the environment `.ci/with-postgres` sets.
struct Server {
    url: String,
    password: String,
    ca: PathBuf,
}

impl Server {
    fn from_env() -> Self {
        if let Ok(why) = env::var("CUTOVER_TEST_POSTGRES_ERROR") {
            panic!("PostgreSQL could not be started for the tests: {why}");
        }
        let Ok(url) = env::var("CUTOVER_TEST_POSTGRES") else {
            panic!(
                "CUTOVER_TEST_POSTGRES is not set: run the tests with `.ci/with-postgres cargo test` \
                 (it starts a throwaway PostgreSQL cluster), or set CUTOVER_TEST_POSTGRES \
                 (postgres://USER@HOST:PORT/DB) and CUTOVER_TEST_POSTGRES_PASSWORD to a server of \
                 your own, and CUTOVER_TEST_POSTGRES_CA to the PEM file of the CA that signed its \
                 certificate"
            );
        };
        let Ok(password) = env::var("CUTOVER_TEST_POSTGRES_PASSWORD") else {
            panic!(
                "CUTOVER_TEST_POSTGRES is set but CUTOVER_TEST_POSTGRES_PASSWORD is not: set it to the password of the user in `{url}`"
            );
        };
        let Ok(ca) = env::var("CUTOVER_TEST_POSTGRES_CA") else {
            panic!(
                "CUTOVER_TEST_POSTGRES is set but CUTOVER_TEST_POSTGRES_CA is not: set it to the PEM file of the CA that signed the server's certificate"
            );
        };
        Server {
            url,
            password,
            ca: PathBuf::from(ca),
        }
    }
}

/// Makes a new empty database on the test server, named uniquely for this test.
pub fn database() -> Database {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let server = Server::from_env();
    let mut hasher = DefaultHasher::new();
    std::thread::current().name().hash(&mut hasher);
    // Unique across the test processes sharing a server (pid), within one (counter), and
    // readable back to the test that made it (its thread's name).
    let name = format!(
        "cutover_test_{}_{}_{:016x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        hasher.finish()
    );
    psql(
        &server.url,
        &server.password,
        &format!("CREATE DATABASE \"{name}\""),
    );
    Database {
        url: with_database(&server.url, &name),
        password: server.password,
        ca: server.ca,
    }
}

impl Database {
    /// Runs `sql` in this database and returns psql's unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        psql(&self.url, &self.password, sql)
    }

    /// The database's name, the last part of `url`.
    pub fn name(&self) -> &str {
        let path = self.url.rsplit_once('/').unwrap().1;
        path.split_once('?').map_or(path, |(name, _)| name)
    }

    /// The user, host and port of `url`, for conninfo strings (`host=... port=...`).
    pub fn user_host_port(&self) -> (&str, &str, &str) {
        let authority = self.url.split_once("://").unwrap().1;
        let authority = authority.split_once('/').unwrap().0;
        let (user, host_port) = authority.rsplit_once('@').unwrap();
        let (host, port) = host_port.rsplit_once(':').unwrap();
        (user, host, port)
    }
}

/// `url` with its database (the path) replaced by `name`, its query kept.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("CUTOVER_TEST_POSTGRES `{url}` is not a postgres:// URL"));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let query = path.split_once('?').map(|(_, query)| query);
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// Runs `sql` through psql against `target` (a URL or a conninfo string); the password
/// goes to the child alone, through its environment.
fn psql(target: &str, password: &str, sql: &str) -> String {
    let output = Command::new(psql_program())
        .args([
            "-X",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            target,
            "-c",
            sql,
        ])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap_or_else(|error| panic!("could not run psql: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "psql `{sql}` on `{target}` failed ({}): {stderr}",
        output.status
    );
    stdout.trim_end_matches('\n').to_owned()
}

/// psql from PATH (`.ci/with-postgres` puts the server's own first), else Debian's newest.
fn psql_program() -> PathBuf {
    let on_path = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("psql"))
        .find(|candidate| candidate.is_file());
    if let Some(found) = on_path {
        return found;
    }
    let mut debian: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u64>>>()?;
            let psql = entry.path().join("bin/psql");
            psql.is_file().then_some((version, psql))
        })
        .collect();
    debian.sort();
    match debian.pop() {
        Some((_, psql)) => psql,
        None => panic!(
            "psql was not found on PATH nor in /usr/lib/postgresql/*/bin: install PostgreSQL's \
             client (Debian: postgresql-client)"
        ),
    }
}

#[test]
fn the_test_cluster_gives_each_test_its_own_database() {
    let first = database();
    let second = database();
    assert_ne!(first.url, second.url);
    assert_ne!(first.name(), second.name());
    assert_eq!(first.psql("SELECT current_database()"), first.name());
    assert_eq!(second.psql("SELECT current_database()"), second.name());
    assert!(
        first.url.starts_with("postgres://") && !first.url.contains(&first.password),
        "{}",
        first.url
    );

    let user_tables = "SELECT count(*) FROM pg_tables \
                       WHERE schemaname NOT IN ('pg_catalog', 'information_schema')";
    assert_eq!(first.psql(user_tables), "0");
    assert_eq!(second.psql(user_tables), "0");

    first.psql("CREATE TABLE marks (n integer); INSERT INTO marks VALUES (7), (11)");
    assert_eq!(first.psql("SELECT n FROM marks ORDER BY n"), "7\n11");
    assert_eq!(first.psql(user_tables), "1");
    assert_eq!(second.psql(user_tables), "0");
    assert_eq!(second.psql("SELECT to_regclass('marks') IS NULL"), "t");

    // TLS with the CA verifies the server's certificate against 127.0.0.1.
    let (user, host, port) = first.user_host_port();
    let verified = format!(
        "sslmode=verify-full sslrootcert={} host={host} port={port} user={user} dbname={}",
        first.ca.display(),
        first.name()
    );
    assert_eq!(
        psql(
            &verified,
            &first.password,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        "t"
    );
}

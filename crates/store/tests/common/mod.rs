//! Fresh, isolated databases for the store suite: a SQLite file in a temp folder, or a
//! PostgreSQL database created for one test and dropped after it (even when the test panics),
//! so tests run in parallel and leave nothing behind.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The admin URL: `SWITCHYARD_TEST_POSTGRES_URL`, or the local default `scripts/test` sets up.
pub fn postgres_admin_url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

/// A SQLite database file in a folder that does not exist yet (so `open` must create it).
#[derive(Debug)]
pub struct SqliteDb {
    dir: tempfile::TempDir,
}

impl SqliteDb {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("data").join("switchyard.db")
    }
}

/// A PostgreSQL database of its own, dropped when this value is.
#[derive(Debug)]
pub struct PostgresDb {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDb {
    pub async fn new() -> Self {
        let admin_url = postgres_admin_url();
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {}: {e}\n\
                 The store suite runs against a real PostgreSQL: run ./scripts/test, which \
                 starts it, or point SWITCHYARD_TEST_POSTGRES_URL at one.",
                redact(&admin_url)
            )
        });
        let name = unique_name();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        // Drop cannot await, and may run while a test unwinds: drop the database from a
        // thread with its own runtime. FORCE ends the store's still-open pooled connections.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// `switchyard_test_<pid>_<n>_<random>`: unique across parallel tests and test processes,
/// including leftovers of a killed run. The random part comes from std's per-process hash
/// seed, so no clock and no extra crate.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let random = RandomState::new().hash_one(std::process::id()) % 1_000_000_000;
    format!(
        "switchyard_test_{}_{}_{random}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` without a password, for messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let (user, host) = rest.rsplit_once('@').unwrap_or(("", rest));
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        _ => url.to_string(),
    }
}

/// `url` with its database (the path after the host) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("postgres url has a scheme");
    let (authority_and_path, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = authority_and_path
        .split_once('/')
        .map_or(authority_and_path, |(a, _)| a);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

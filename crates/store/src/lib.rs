//! Persistence: usage records (with the request log's filters and the statistics scan),
//! client API keys, credentials added at run time, operator settings, the audit log, the
//! change counter a running gateway polls to hot-reload keys, credentials and settings, and
//! OpenAI Responses API state. One
//! [`Engine`] contract, two engines (SQLite for one machine, PostgreSQL for many), embedded
//! migrations per engine, and one test suite (`tests/suite.rs`) run against both.
//!
//! It is the only crate that names SQL, and it must not speak HTTP or Redis. It stores what
//! it is given and decides nothing: quotas, expiry policy and retention belong to `core`.
//!
//! Codemap:
//! - [`engine`]: the `Engine` trait, the contract both engines and [`Store`] implement.
//! - [`sqlite`], [`postgres`]: the engines; each holds its own SQL and pool settings.
//! - `rows`: row structs and conversions at the edge (u64 ↔ BIGINT, arrays ↔ JSON text), the
//!   usage insert and summary queries the engines share.
//! - `query`: the filtered SELECTs both engines share (request log, statistics scan, audit
//!   log), written once with sqlx's `QueryBuilder`.
//! - [`error`]: the store's error type `StoreError`, one enum for every failure (conflicts are
//!   typed).
//! - `migrations/{sqlite,postgres}/`: the schema per engine, embedded in the binary and run on
//!   open.
//!
//! Stored values: times are unix milliseconds, money is micro-dollars, counts are BIGINT,
//! `models` / `labels` arrays are JSON text.

pub mod engine;
pub mod error;
pub mod postgres;
mod query;
mod rows;
pub mod sqlite;

use switchyard_core::audit::{AuditEntry, AuditFilter};
use switchyard_core::credential::StoredCredential;
use switchyard_core::keys::ApiKey;
use switchyard_core::stats::{StatsQuery, StatsRow};
use switchyard_core::usage::{UsageFilter, UsageGroup, UsagePage, UsageRecord, UsageSummary};

pub use engine::Engine;
pub use error::{Result, StoreError};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The store the gateway runs on, whichever engine its URL named. Cheap to clone: each engine
/// is a connection pool behind an `Arc`.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Opens `sqlite://PATH` (folders and file created; `sqlite::memory:` for tests) or
    /// `postgres://...` / `postgresql://...`, and runs the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Store::Sqlite(SqliteStore::open(url).await?)),
            "postgres" | "postgresql" => Ok(Store::Postgres(PostgresStore::connect(url).await?)),
            _ => Err(StoreError::UnsupportedUrl {
                scheme: scheme.to_string(),
            }),
        }
    }

    /// `sqlite` or `postgres`, for `/health` and logs.
    pub fn engine_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes every pooled connection, waiting for those in use.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(s) => s.close().await,
        }
    }
}

/// Forwards each call to the engine inside: explicit, one arm per engine.
impl Engine for Store {
    async fn insert_usage(&self, batch: &[UsageRecord]) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.insert_usage(batch).await,
            Store::Postgres(s) => s.insert_usage(batch).await,
        }
    }

    async fn usage_count(&self) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.usage_count().await,
            Store::Postgres(s) => s.usage_count().await,
        }
    }

    async fn usage_summary(&self, since_ms: i64, group: UsageGroup) -> Result<Vec<UsageSummary>> {
        match self {
            Store::Sqlite(s) => s.usage_summary(since_ms, group).await,
            Store::Postgres(s) => s.usage_summary(since_ms, group).await,
        }
    }

    async fn recent_usage(&self, limit: u32) -> Result<Vec<UsageRecord>> {
        match self {
            Store::Sqlite(s) => s.recent_usage(limit).await,
            Store::Postgres(s) => s.recent_usage(limit).await,
        }
    }

    async fn query_usage(&self, filter: &UsageFilter) -> Result<UsagePage> {
        match self {
            Store::Sqlite(s) => s.query_usage(filter).await,
            Store::Postgres(s) => s.query_usage(filter).await,
        }
    }

    async fn usage_stats(&self, q: &StatsQuery) -> Result<Vec<StatsRow>> {
        match self {
            Store::Sqlite(s) => s.usage_stats(q).await,
            Store::Postgres(s) => s.usage_stats(q).await,
        }
    }

    async fn insert_key(&self, key: &ApiKey) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.insert_key(key).await,
            Store::Postgres(s) => s.insert_key(key).await,
        }
    }

    async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        match self {
            Store::Sqlite(s) => s.list_keys().await,
            Store::Postgres(s) => s.list_keys().await,
        }
    }

    async fn revoke_key(&self, id: &str, at_ms: i64) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.revoke_key(id, at_ms).await,
            Store::Postgres(s) => s.revoke_key(id, at_ms).await,
        }
    }

    async fn find_key(&self, id: &str) -> Result<Option<ApiKey>> {
        match self {
            Store::Sqlite(s) => s.find_key(id).await,
            Store::Postgres(s) => s.find_key(id).await,
        }
    }

    async fn insert_credential(&self, credential: &StoredCredential) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.insert_credential(credential).await,
            Store::Postgres(s) => s.insert_credential(credential).await,
        }
    }

    async fn list_credentials(&self) -> Result<Vec<StoredCredential>> {
        match self {
            Store::Sqlite(s) => s.list_credentials().await,
            Store::Postgres(s) => s.list_credentials().await,
        }
    }

    async fn remove_credential(&self, provider: &str, name: &str) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.remove_credential(provider, name).await,
            Store::Postgres(s) => s.remove_credential(provider, name).await,
        }
    }

    async fn change_version(&self) -> Result<i64> {
        match self {
            Store::Sqlite(s) => s.change_version().await,
            Store::Postgres(s) => s.change_version().await,
        }
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        match self {
            Store::Sqlite(s) => s.get_setting(key).await,
            Store::Postgres(s) => s.get_setting(key).await,
        }
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.put_setting(key, value).await,
            Store::Postgres(s) => s.put_setting(key, value).await,
        }
    }

    async fn delete_setting(&self, key: &str) -> Result<bool> {
        match self {
            Store::Sqlite(s) => s.delete_setting(key).await,
            Store::Postgres(s) => s.delete_setting(key).await,
        }
    }

    async fn list_settings(&self) -> Result<Vec<(String, String)>> {
        match self {
            Store::Sqlite(s) => s.list_settings().await,
            Store::Postgres(s) => s.list_settings().await,
        }
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<i64> {
        match self {
            Store::Sqlite(s) => s.insert_audit(entry).await,
            Store::Postgres(s) => s.insert_audit(entry).await,
        }
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        match self {
            Store::Sqlite(s) => s.list_audit(filter).await,
            Store::Postgres(s) => s.list_audit(filter).await,
        }
    }

    async fn put_response(
        &self,
        id: &str,
        body: &str,
        created_at_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.put_response(id, body, created_at_ms, expires_at_ms).await,
            Store::Postgres(s) => s.put_response(id, body, created_at_ms, expires_at_ms).await,
        }
    }

    async fn get_response(&self, id: &str, now_ms: i64) -> Result<Option<String>> {
        match self {
            Store::Sqlite(s) => s.get_response(id, now_ms).await,
            Store::Postgres(s) => s.get_response(id, now_ms).await,
        }
    }

    async fn prune_responses(&self, now_ms: i64) -> Result<u64> {
        match self {
            Store::Sqlite(s) => s.prune_responses(now_ms).await,
            Store::Postgres(s) => s.prune_responses(now_ms).await,
        }
    }
}

//! The PostgreSQL engine, for several gateway instances sharing one database. Connects to
//! `postgres://...`; migrations take PostgreSQL's advisory lock, so instances starting
//! together migrate once.
//!
//! It owns PostgreSQL's SQL and pool settings; it must not hold business rules (the
//! behaviour every engine shares is specified by `Engine` and the suite in `tests/`). Text is
//! ordered with `COLLATE "C"` so listings sort bytewise, as SQLite's do.

use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Postgres;
use switchyard_core::audit::{AuditEntry, AuditFilter};
use switchyard_core::credential::StoredCredential;
use switchyard_core::keys::ApiKey;
use switchyard_core::stats::{StatsAccumulator, StatsQuery, StatsRow};
use switchyard_core::usage::{UsageFilter, UsageGroup, UsagePage, UsageRecord, UsageSummary};

use crate::engine::Engine;
use crate::error::{Result, StoreError};
use crate::query;
use crate::rows::{self, AuditRow, CredentialRow, Flavor, KeyRow, LoggedRow, SummaryRow};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Per instance. The gateway's hot path never waits on the database, so this bounds the
/// batching writer plus admin and reload queries, not request concurrency.
const MAX_CONNECTIONS: u32 = 8;

/// How long to wait for a pooled connection before reporting the database as down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

const KEY_SELECT: &str = "SELECT id, name, secret_hash, models, created_at_ms, expires_at_ms, \
    revoked_at_ms FROM api_keys";

const BUMP_VERSION: &str = "UPDATE meta SET value = value + 1 WHERE key = 'change_version'";

/// A PostgreSQL database; clones share one connection pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `postgres://...` (or `postgresql://...`) and migrates.
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(|source| StoreError::Open {
                engine: "postgres",
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Waits for every connection to finish and closes them.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Engine for PostgresStore {
    async fn insert_usage(&self, batch: &[UsageRecord]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for chunk in rows::usage_chunks(batch) {
            let sql = rows::insert_usage_sql(chunk.len(), Flavor::Postgres);
            rows::bind_usage(sqlx::query(&sql), chunk)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn usage_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage")
            .fetch_one(&self.pool)
            .await?;
        u64::try_from(n).map_err(|_| StoreError::OutOfRange {
            column: "count",
            value: n,
        })
    }

    async fn usage_summary(&self, since_ms: i64, group: UsageGroup) -> Result<Vec<UsageSummary>> {
        let sql = rows::summary_sql(group, Flavor::Postgres);
        let found: Vec<SummaryRow> = sqlx::query_as(&sql)
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await?;
        found.into_iter().map(SummaryRow::into_summary).collect()
    }

    async fn recent_usage(&self, limit: u32) -> Result<Vec<UsageRecord>> {
        let all = UsageFilter::default();
        let found: Vec<LoggedRow> = query::usage_log::<Postgres>(&all, i64::from(limit))
            .build_query_as()
            .fetch_all(&self.pool)
            .await?;
        let page = rows::into_page(found, limit as usize)?;
        Ok(page.records)
    }

    async fn query_usage(&self, filter: &UsageFilter) -> Result<UsagePage> {
        let size = filter.page_size();
        // One row more than the page says whether another page follows.
        let found: Vec<LoggedRow> = query::usage_log::<Postgres>(filter, i64::from(size) + 1)
            .build_query_as()
            .fetch_all(&self.pool)
            .await?;
        rows::into_page(found, size as usize)
    }

    async fn usage_stats(&self, q: &StatsQuery) -> Result<Vec<StatsRow>> {
        let mut acc = StatsAccumulator::new(*q);
        let mut scan = query::stats_scan::<Postgres>(q);
        let mut found = scan.build().fetch(&self.pool);
        while let Some(row) = found.try_next().await? {
            rows::add_stats_row(&mut acc, &row)?;
        }
        Ok(acc.finish())
    }

    async fn insert_key(&self, key: &ApiKey) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, name, secret_hash, models, created_at_ms, \
             expires_at_ms, revoked_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(rows::to_json(&key.models))
        .bind(key.created_at_ms)
        .bind(key.expires_at_ms)
        .bind(key.revoked_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_or(e, || format!("key {}", key.id)))?;
        sqlx::query(BUMP_VERSION).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let sql = format!("{KEY_SELECT} ORDER BY created_at_ms, id COLLATE \"C\"");
        let found: Vec<KeyRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        found.into_iter().map(KeyRow::into_key).collect()
    }

    async fn revoke_key(&self, id: &str, at_ms: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(at_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let changed = done.rows_affected() == 1;
        if changed {
            sqlx::query(BUMP_VERSION).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn find_key(&self, id: &str) -> Result<Option<ApiKey>> {
        let sql = format!("{KEY_SELECT} WHERE id = $1");
        let found: Option<KeyRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        found.map(KeyRow::into_key).transpose()
    }

    async fn insert_credential(&self, credential: &StoredCredential) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO credentials (provider, name, secret, weight, labels, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&credential.provider)
        .bind(&credential.name)
        .bind(credential.secret.expose())
        .bind(i64::from(credential.weight))
        .bind(rows::to_json(&credential.labels))
        .bind(credential.created_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::conflict_or(e, || {
                format!("credential {}/{}", credential.provider, credential.name)
            })
        })?;
        sqlx::query(BUMP_VERSION).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_credentials(&self) -> Result<Vec<StoredCredential>> {
        let found: Vec<CredentialRow> = sqlx::query_as(
            "SELECT provider, name, secret, weight, labels, created_at_ms FROM credentials \
             ORDER BY provider COLLATE \"C\", name COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?;
        found
            .into_iter()
            .map(CredentialRow::into_credential)
            .collect()
    }

    async fn remove_credential(&self, provider: &str, name: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM credentials WHERE provider = $1 AND name = $2")
            .bind(provider)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let changed = done.rows_affected() == 1;
        if changed {
            sqlx::query(BUMP_VERSION).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn change_version(&self) -> Result<i64> {
        let v = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'change_version'")
            .fetch_one(&self.pool)
            .await?;
        Ok(v)
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let value = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // The WHERE makes rewriting the stored value a no-op (no row changed, no bump).
        let done = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value \
             WHERE settings.value <> excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            sqlx::query(BUMP_VERSION).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_setting(&self, key: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let changed = done.rows_affected() == 1;
        if changed {
            sqlx::query(BUMP_VERSION).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn list_settings(&self) -> Result<Vec<(String, String)>> {
        let found = sqlx::query_as("SELECT key, value FROM settings ORDER BY key COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await?;
        Ok(found)
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO audit (at_ms, actor, action, target, address, before_json, \
             after_json) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.address)
        .bind(entry.before.as_deref())
        .bind(entry.after.as_deref())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let found: Vec<AuditRow> = query::audit_log::<Postgres>(filter)
            .build_query_as()
            .fetch_all(&self.pool)
            .await?;
        Ok(found.into_iter().map(AuditRow::into_entry).collect())
    }

    async fn put_response(
        &self,
        id: &str,
        body: &str,
        created_at_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO responses (id, body, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, \
             created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms",
        )
        .bind(id)
        .bind(body)
        .bind(created_at_ms)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_response(&self, id: &str, now_ms: i64) -> Result<Option<String>> {
        let body =
            sqlx::query_scalar("SELECT body FROM responses WHERE id = $1 AND expires_at_ms > $2")
                .bind(id)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
        Ok(body)
    }

    async fn prune_responses(&self, now_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM responses WHERE expires_at_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

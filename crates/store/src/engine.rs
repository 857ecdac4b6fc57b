//! The `Engine` trait: everything the gateway asks of its database, implemented once per
//! engine and once by [`crate::Store`], which forwards to whichever engine it opened. The
//! shared test suite is generic over it, so both engines answer to the same behaviours.
//!
//! It must not name an engine or SQL; it is the contract, not an implementation.

use std::future::Future;

use switchyard_core::audit::{AuditEntry, AuditFilter};
use switchyard_core::credential::StoredCredential;
use switchyard_core::keys::ApiKey;
use switchyard_core::stats::{StatsQuery, StatsRow};
use switchyard_core::usage::{UsageFilter, UsageGroup, UsagePage, UsageRecord, UsageSummary};

use crate::error::Result;

/// A storage engine. Methods are declared as `fn -> impl Future + Send` rather than
/// `async fn` so generic callers can spawn them on tokio's multi-threaded runtime; implementors
/// still write plain `async fn`s.
pub trait Engine: Clone + Send + Sync + 'static {
    // ---- usage ----

    /// Writes a batch in one transaction (multi-row inserts in chunks). The batching writer's
    /// sink: an empty batch is a no-op.
    fn insert_usage(&self, batch: &[UsageRecord]) -> impl Future<Output = Result<()>> + Send;

    /// How many usage records are stored.
    fn usage_count(&self) -> impl Future<Output = Result<u64>> + Send;

    /// Totals of records started at or after `since_ms`, grouped by `group`, sorted by cost then
    /// requests (both descending). `All` gives exactly one row named `all`; `Model` groups by
    /// the served model; errors count records with an error class.
    fn usage_summary(
        &self,
        since_ms: i64,
        group: UsageGroup,
    ) -> impl Future<Output = Result<Vec<UsageSummary>>> + Send;

    /// The `limit` most recent records, newest first (by start time, then insertion order).
    /// Not capped: the CLI's tail. The admin API pages with [`Engine::query_usage`].
    fn recent_usage(&self, limit: u32) -> impl Future<Output = Result<Vec<UsageRecord>>> + Send;

    /// One page of the request log: records matching every field `filter` sets, newest first
    /// (by start time, then insertion order), at most `filter.page_size()` of them (capped at
    /// 1,000), with the cursor of the next page when more match.
    fn query_usage(&self, filter: &UsageFilter) -> impl Future<Output = Result<UsagePage>> + Send;

    /// Statistics of the records in `q`'s window (`since_ms <= started_at_ms < until_ms`),
    /// per group value and bucket, sorted as `StatsAccumulator::finish` documents; an empty
    /// window gives no rows. Rows are streamed from the database through the accumulator, so
    /// memory grows with the number of (group, bucket) pairs, not with the records; the time
    /// grows with the records in the window (indexed by start time).
    fn usage_stats(&self, q: &StatsQuery) -> impl Future<Output = Result<Vec<StatsRow>>> + Send;

    // ---- client API keys ----

    /// Stores a new key; an existing id is a [`crate::StoreError::Conflict`].
    fn insert_key(&self, key: &ApiKey) -> impl Future<Output = Result<()>> + Send;

    /// Every key, revoked and expired ones included, oldest first.
    fn list_keys(&self) -> impl Future<Output = Result<Vec<ApiKey>>> + Send;

    /// Marks a key revoked at `at_ms`; false when the id is unknown or already revoked.
    fn revoke_key(&self, id: &str, at_ms: i64) -> impl Future<Output = Result<bool>> + Send;

    fn find_key(&self, id: &str) -> impl Future<Output = Result<Option<ApiKey>>> + Send;

    // ---- upstream credentials added at run time ----

    /// Stores a credential; an existing `(provider, name)` is a
    /// [`crate::StoreError::Conflict`].
    fn insert_credential(
        &self,
        credential: &StoredCredential,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Every stored credential, by provider then name.
    fn list_credentials(&self) -> impl Future<Output = Result<Vec<StoredCredential>>> + Send;

    /// Deletes a credential; false when there was none.
    fn remove_credential(
        &self,
        provider: &str,
        name: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    // ---- change detection ----

    /// A counter bumped in the same transaction as every key, credential or setting write
    /// that changed a row. A running gateway polls it and reloads when it moved; usage writes leave it be.
    fn change_version(&self) -> impl Future<Output = Result<i64>> + Send;

    // ---- settings ----

    /// The value of setting `key` (`admin.token_hash`, `config.overlay`), if set.
    fn get_setting(&self, key: &str) -> impl Future<Output = Result<Option<String>>> + Send;

    /// Sets (or replaces) a setting, bumping the change version in the same transaction when
    /// the value changed; writing the value already stored changes nothing.
    fn put_setting(&self, key: &str, value: &str) -> impl Future<Output = Result<()>> + Send;

    /// Deletes a setting, bumping the change version; false (and no bump) when it was unset.
    fn delete_setting(&self, key: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Every setting as `(key, value)`, by key in byte order. Values are returned as stored:
    /// hashes included, so the admin API must choose what to show.
    fn list_settings(&self) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;

    // ---- audit log ----

    /// Appends an entry (its `id` is ignored) and returns the id the store gave it, which is
    /// greater than every id given before.
    fn insert_audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<i64>> + Send;

    /// Entries matching every field `filter` sets, highest id (newest) first, at most
    /// `filter.page_size()` (capped at 1,000). The next page: `before_id` = the last id.
    fn list_audit(
        &self,
        filter: &AuditFilter,
    ) -> impl Future<Output = Result<Vec<AuditEntry>>> + Send;

    // ---- OpenAI Responses API state ----

    /// Stores (or replaces) a response body, JSON text kept byte for byte.
    fn put_response(
        &self,
        id: &str,
        body: &str,
        created_at_ms: i64,
        expires_at_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The body, unless unknown or expired (`now_ms >= expires_at_ms`).
    fn get_response(
        &self,
        id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<String>>> + Send;

    /// Deletes expired responses; returns how many.
    fn prune_responses(&self, now_ms: i64) -> impl Future<Output = Result<u64>> + Send;
}

//! The `Engine` trait: everything the gateway asks of its database, implemented once per
//! engine and once by [`crate::Store`], which forwards to whichever engine it opened. The
//! shared test suite is generic over it, so both engines answer to the same behaviours.
//!
//! It must not name an engine or SQL; it is the contract, not an implementation.

use std::future::Future;

use switchyard_core::credential::StoredCredential;
use switchyard_core::keys::ApiKey;
use switchyard_core::usage::{UsageGroup, UsageRecord, UsageSummary};

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

    /// The `limit` most recent records, newest first.
    fn recent_usage(&self, limit: u32) -> impl Future<Output = Result<Vec<UsageRecord>>> + Send;

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

    /// A counter bumped in the same transaction as every key or credential write that changed
    /// a row. A running gateway polls it and reloads when it moved; usage writes leave it be.
    fn change_version(&self) -> impl Future<Output = Result<i64>> + Send;

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

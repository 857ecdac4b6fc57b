//! Credentials added at run time (through the CLI or the admin API) rather than written in the
//! config file: the shape `store` persists and the pool loads beside the configured ones.
//!
//! It owns the record only; it must not decide scheduling (the pool does) or how the record is
//! stored (the `store` crate does).

use crate::config::Secret;

/// One upstream credential as stored. Unique by `(provider, name)`.
///
/// The secret is kept as given for now: encryption at rest (chacha20poly1305, see DESIGN.md)
/// is a later issue, so until then the database file is as sensitive as the secrets in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// Name of the provider in the config this credential belongs to.
    pub provider: String,
    /// Name of the credential, unique within its provider.
    pub name: String,
    pub secret: Secret,
    /// Relative share under the weighted strategy.
    pub weight: u32,
    pub labels: Vec<String>,
    /// Unix milliseconds when it was added.
    pub created_at_ms: i64,
}

//! Who is calling: the key a client presents in its dialect's own way, checked against the
//! snapshot's keys. With no keys defined, every caller is accepted (the server refuses to
//! listen beyond loopback in that case).

use axum::http::HeaderMap;
use switchyard_core::keys;
use switchyard_protocol::ir::ErrorKind;

use crate::render::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// Public key id; empty when the gateway runs without keys.
    pub key_id: String,
    /// Model globs the key may use; empty means all.
    pub models: Vec<String>,
}

/// The key as presented: `Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `?key=`.
pub fn presented<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(bearer) = header("authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    }) {
        return Some(bearer.trim());
    }
    if let Some(k) = header("x-api-key").or_else(|| header("x-goog-api-key")) {
        return Some(k.trim());
    }
    query?.split('&').find_map(|pair| pair.strip_prefix("key="))
}

pub fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    now_ms: i64,
) -> Result<Caller, ApiError> {
    let unauthorized = |m: &str| ApiError::new(ErrorKind::Authentication, m);
    let shown = presented(headers, query);
    let snap = state.snapshot.load();
    if snap.keys.is_empty() {
        // Open mode accepts anyone, but never on an admin token: one that leaks into a
        // client's config must fail loudly rather than quietly work.
        if let Some(p) = shown {
            let admin = state.admin_tokens.load();
            if admin.iter().any(|h| keys::matches_hash(p, h)) {
                return Err(ApiError::new(
                    ErrorKind::Authentication,
                    "an admin token cannot be used for inference; use a client key",
                ));
            }
        }
        return Ok(Caller::default());
    }
    let Some(presented) = shown else {
        return Err(unauthorized(
            "missing API key: send it as a bearer token, x-api-key or x-goog-api-key",
        ));
    };
    let Some((id, secret)) = keys::parse_key(presented) else {
        return Err(unauthorized("invalid API key"));
    };
    let Some(key) = snap.keys.get(id) else {
        return Err(unauthorized("invalid API key"));
    };
    if !key.verify(secret) {
        return Err(unauthorized("invalid API key"));
    }
    if key.revoked_at_ms.is_some() {
        return Err(unauthorized("this API key has been revoked"));
    }
    if !key.is_active(now_ms) {
        return Err(unauthorized("this API key has expired"));
    }
    Ok(Caller {
        key_id: key.id.clone(),
        models: key.models.clone(),
    })
}

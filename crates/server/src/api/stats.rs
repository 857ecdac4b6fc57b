//! Usage statistics (requests, errors by class, tokens, cost, latency / TTFB / overhead
//! percentiles, grouped and bucketed over a window) and the audit log, both read from the
//! store.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::audit::AuditFilter;
use switchyard_core::stats::{Bucket, StatsGroup, StatsQuery};
use switchyard_store::Engine;

use super::{store, Failure, Params};
use crate::pipeline::unix_ms;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// A window ending now: `5h`, `7d`, `90m` (default 24h). Ignored when `since` is given.
    window: Option<String>,
    /// Unix milliseconds, inclusive.
    since: Option<i64>,
    /// Unix milliseconds, exclusive (default: now).
    until: Option<i64>,
    /// `none` (default), `key`, `model`, `credential`, `provider`, `route`, `dialect`.
    group: Option<String>,
    /// `hour` or `day`; none: one row per group.
    bucket: Option<String>,
}

/// `GET /api/stats`
pub async fn stats(
    State(state): State<AppState>,
    Params(p): Params<StatsParams>,
) -> Result<Json<Value>, Failure> {
    let store = store(&state)?;
    super::check_times(&[p.since, p.until])?;
    let now = unix_ms();
    let until_ms = p.until.unwrap_or(now + 1);
    // The window is checked even when `since` overrides it: a typo is an error either way.
    let width = crate::cli::keys_lifetime(p.window.as_deref().unwrap_or("24h"))
        .map_err(|e| Failure::bad_request(format!("window: {e}")))?;
    if width <= 0 {
        return Err(Failure::bad_request("window: must be longer than nothing"));
    }
    let since_ms = p.since.unwrap_or_else(|| until_ms.saturating_sub(width));
    let group = match p.group.as_deref() {
        None => StatsGroup::None,
        Some(name) => StatsGroup::parse(name).ok_or_else(|| {
            Failure::bad_request(format!(
                "group: {name:?} is not one of none, key, model, credential, provider, route, dialect"
            ))
        })?,
    };
    let bucket =
        match p.bucket.as_deref() {
            None => None,
            Some(name) => Some(Bucket::parse(name).ok_or_else(|| {
                Failure::bad_request(format!("bucket: {name:?} is not hour or day"))
            })?),
        };
    let query = StatsQuery {
        since_ms,
        until_ms,
        group,
        bucket,
    };
    // An empty or inverted window holds nothing.
    let rows = if since_ms < until_ms {
        store.usage_stats(&query).await.map_err(Failure::store)?
    } else {
        Vec::new()
    };
    Ok(Json(json!({ "query": query, "rows": rows })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Actions starting with this, e.g. `credential.` or `key.create`.
    action: Option<String>,
    target: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<u32>,
    /// The last id of the previous page.
    before: Option<i64>,
}

/// `GET /api/audit`: newest first.
pub async fn audit(
    State(state): State<AppState>,
    Params(p): Params<AuditParams>,
) -> Result<Json<Value>, Failure> {
    let store = store(&state)?;
    super::check_times(&[p.since, p.until])?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Failure::bad_request("limit: must be between 1 and 1000"));
    }
    if p.before.is_some_and(|b| b < 0) {
        return Err(Failure::bad_request("before: an entry id, at least 0"));
    }
    let filter = AuditFilter {
        action_prefix: p.action,
        target: p.target,
        since_ms: p.since,
        until_ms: p.until,
        limit,
        before_id: p.before,
    };
    let entries = store.list_audit(&filter).await.map_err(Failure::store)?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(json!({ "entries": entries, "next": next })))
}

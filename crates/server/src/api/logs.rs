//! The request log: recent usage records (newest first) and a live stream of them over SSE.
//! Records carry no request content and no secrets: key ids, models, credentials by name,
//! statuses, tokens and times.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::usage::{UsageCursor, UsageFilter};
use switchyard_store::Engine;
use tokio::sync::broadcast::error::RecvError;

use super::{store, Failure, Params};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// At most this many records (default 100, at most 1000).
    limit: Option<u32>,
    key: Option<String>,
    /// The requested or the served model.
    model: Option<String>,
    status: Option<u16>,
    credential: Option<String>,
    provider: Option<String>,
    /// Unix milliseconds, inclusive.
    since: Option<i64>,
    /// Unix milliseconds, exclusive.
    until: Option<i64>,
    /// The `next` of the previous page.
    before: Option<String>,
}

/// `GET /api/logs`: newest first, filtered, one page; `next` continues.
pub async fn list(
    State(state): State<AppState>,
    Params(q): Params<LogQuery>,
) -> Result<Json<Value>, Failure> {
    let store = store(&state)?;
    super::check_times(&[q.since, q.until])?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Failure::bad_request("limit: must be between 1 and 1000"));
    }
    if q.status.is_some_and(|s| !(100..=599).contains(&s)) {
        return Err(Failure::bad_request("status: an HTTP status, 100 to 599"));
    }
    let before = match &q.before {
        Some(text) => Some(
            UsageCursor::parse(text)
                .ok_or_else(|| Failure::bad_request("before: not a cursor from `next`"))?,
        ),
        None => None,
    };
    let filter = UsageFilter {
        key_id: q.key,
        model: q.model,
        status: q.status,
        credential: q.credential,
        provider: q.provider,
        since_ms: q.since,
        until_ms: q.until,
        before,
        limit,
    };
    let page = store.query_usage(&filter).await.map_err(Failure::store)?;
    Ok(Json(json!({
        "records": page.records,
        "next": page.next.map(|c| c.to_string()),
    })))
}

/// `GET /api/logs/stream`: every request as it finishes, one `data:` event each; a listener
/// that falls behind gets a `lagged` event saying how many it missed.
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.events.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(record) => Event::default().json_data(&*record).unwrap_or_else(|_| {
                Event::default()
                    .event("error")
                    .data("unserialisable record")
            }),
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

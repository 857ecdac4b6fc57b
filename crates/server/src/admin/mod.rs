//! The admin API under `/api`: the operator's view of the running gateway and its actions on
//! it, as JSON. Every route sits behind one guard ([`auth::require_admin`]) that accepts only
//! the admin token (`Authorization: Bearer …`); a client key never opens `/api`, and the admin
//! token never serves inference (ingress refuses it). Each area of the API is one file with
//! its handlers and its routes function, merged here; handlers read the state's snapshot and
//! call the pool, they hold no business rules.
//!
//! Files: `auth` (the token guard and the token itself), `resilience` (health, circuits, AIMD,
//! queue, quota views), `credentials` (activate, quarantine).

pub mod auth;
mod credentials;
mod resilience;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{middleware, Json, Router};
use serde_json::json;

use crate::state::AppState;

/// Every admin route, to be nested at `/api`; the guard covers them all.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(resilience::routes())
        .merge(credentials::routes())
        .route_layer(middleware::from_fn_with_state(state, auth::require_admin))
}

/// An admin API error: a status and a sentence, as `{"error": {"message": …}}`.
#[derive(Debug)]
pub(crate) struct AdminError {
    status: StatusCode,
    message: String,
}

impl AdminError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

/// A duration from now to `until` in milliseconds (0 when past): instants are monotonic and
/// cannot be shown as dates, so the API speaks in "in N ms" and "N ms ago".
pub(crate) fn ms_until(until: std::time::Instant, now: std::time::Instant) -> u64 {
    u64::try_from(until.saturating_duration_since(now).as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since `at`.
pub(crate) fn ms_since(at: std::time::Instant, now: std::time::Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(at).as_millis()).unwrap_or(u64::MAX)
}

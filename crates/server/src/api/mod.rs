//! The admin API under `/api`: JSON resources for operators and the CLI, described by the
//! OpenAPI document at `/api/openapi.json`. Every route but the document itself needs an admin
//! token as a bearer token; a client key never opens it (and an admin token never serves
//! inference, see `ingress::auth`). Every change is written to the audit log with who, what,
//! from where, and before → after with secrets masked.
//!
//! It owns HTTP shapes and authorization only: what a change means (pools, reloads, keys) is
//! done by the modules that own it. Errors are `{"error": {"status": N, "message": "..."}}`.
//!
//! Files: `auth` (the token check), `credentials` (providers and their credentials),
//! `keys` (client keys), `logs` (request log and its live stream), `stats` (usage statistics
//! and the audit log), `config` (routes, models and prices, settings: the overlay),
//! `resilience` (breakers, AIMD limits, queues, quota), `openapi` (the document).

/// Milliseconds from `now` until `until` (0 when past): the pool's instants are monotonic
/// and cannot be shown as dates, so the API speaks in "in N ms" and "N ms ago".
pub(crate) fn ms_until(until: std::time::Instant, now: std::time::Instant) -> u64 {
    u64::try_from(until.saturating_duration_since(now).as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since `at`.
pub(crate) fn ms_since(at: std::time::Instant, now: std::time::Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(at).as_millis()).unwrap_or(u64::MAX)
}

mod auth;
mod config;
mod credentials;
mod keys;
mod logs;
pub mod openapi;
mod resilience;
mod stats;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize as _;
use serde_json::json;
use switchyard_store::Store;

use crate::state::AppState;

pub use auth::{
    admin_token_from_env, install_admin_hash, install_admin_token, new_admin_token,
    ADMIN_TOKEN_ENV, ADMIN_TOKEN_SETTING,
};

/// The admin routes, to be nested at `/api`.
pub fn routes(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/health", get(crate::app::health))
        .route("/providers", get(credentials::list))
        .route("/providers/{provider}/credentials", post(credentials::add))
        .route(
            "/providers/{provider}/credentials/{name}",
            axum::routing::delete(credentials::remove),
        )
        .route(
            "/providers/{provider}/credentials/{name}/verify",
            post(credentials::verify_one),
        )
        .route(
            "/providers/{provider}/credentials/{name}/activate",
            post(credentials::activate),
        )
        .route(
            "/providers/{provider}/credentials/{name}/quarantine",
            post(credentials::quarantine),
        )
        .route("/credentials/verify", post(credentials::verify_all))
        .route("/credentials/export", get(credentials::export))
        .route("/credentials/import", post(credentials::import))
        .route("/keys", get(keys::list).post(keys::create))
        .route("/keys/{id}", axum::routing::delete(keys::revoke))
        .route("/keys/{id}/rotate", post(keys::rotate))
        .route("/logs", get(logs::list))
        .route("/logs/stream", get(logs::stream))
        .route("/stats", get(stats::stats))
        .route(
            "/routes",
            get(config::routes)
                .put(config::put_route)
                .delete(config::delete_route),
        )
        .route(
            "/models",
            get(config::models)
                .put(config::put_model)
                .delete(config::delete_model),
        )
        .route(
            "/settings",
            get(config::settings).patch(config::patch_settings),
        )
        .route("/audit", get(stats::audit))
        .route("/admin-token/rotate", post(auth::rotate))
        .merge(resilience::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_admin,
        ));
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .merge(guarded)
        .fallback(|| async { Failure::not_found("no such admin resource") })
}

/// An admin API error: a status and a message, rendered as JSON.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    fn no_store() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this gateway runs without a store",
        )
    }

    fn store(e: switchyard_store::StoreError) -> Self {
        match e {
            switchyard_store::StoreError::Conflict { what } => {
                Self::conflict(format!("{what} already exists"))
            }
            other => {
                tracing::error!(error = %other, "admin API store failure");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the store failed; see the log",
                )
            }
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json!({"error": {"status": self.status.as_u16(), "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// A JSON body whose problems (not JSON, wrong fields, wrong content type) are a 400 in the
/// admin API's error shape, like every other refusal here.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Failure> {
        let Json(mut value) = Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(|rejection| Failure::bad_request(rejection.body_text()))?;
        whole_numbers(&mut value);
        serde_json::from_value(value)
            .map(Body)
            .map_err(|e| Failure::bad_request(format!("the body does not fit: {e}")))
    }
}

/// Rewrites numbers like `3.0` as `3`: JSON Schema calls them integers, and so do we.
fn whole_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *value = if f < 0.0 {
                    Value::from(f as i64)
                } else {
                    Value::from(f as u64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Query parameters whose problems are a 400 in the admin API's error shape.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(Failure::bad_request(rejection.body_text())),
        }
    }
}

/// The largest weight a credential may have: far above any useful share, and small enough
/// that sums over a pool never overflow.
pub const MAX_WEIGHT: u32 = 1_000_000;

/// Reads a weight given as a JSON integer, or as a number with no fractional part (`3.0`),
/// which JSON Schema also calls an integer.
fn weight<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    let value = n
        .as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| D::Error::custom(format!("weight: {n} is not a whole number")))?;
    u32::try_from(value)
        .ok()
        .filter(|w| (1..=MAX_WEIGHT).contains(w))
        .ok_or_else(|| D::Error::custom(format!("weight: must be between 1 and {MAX_WEIGHT}")))
}

fn default_weight() -> u32 {
    1
}

/// The latest time a query may name: the year 2100, in Unix milliseconds.
pub const MAX_TIME_MS: i64 = 4_102_444_800_000;

/// Refuses times before 1970 or after 2100: a typo, not a window anyone means.
fn check_times(times: &[Option<i64>]) -> Result<(), Failure> {
    if times
        .iter()
        .flatten()
        .any(|t| !(0..=MAX_TIME_MS).contains(t))
    {
        return Err(Failure::bad_request(format!(
            "times are Unix milliseconds between 0 and {MAX_TIME_MS}"
        )));
    }
    Ok(())
}

/// The store, or a 503 when this gateway has none.
fn store(state: &AppState) -> Result<&Store, Failure> {
    state.store().ok_or_else(Failure::no_store)
}

/// Who made an admin call, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub address: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
        Ok(Actor {
            name: "admin-token".to_string(),
            address,
        })
    }
}

/// Writes one audit entry. A failed audit write is logged, not returned: the change it
/// describes has already happened.
async fn audit(
    state: &AppState,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) {
    use switchyard_core::audit::{masked_json, AuditEntry};
    use switchyard_store::Engine;
    tracing::info!(
        actor = %actor.name,
        address = %actor.address,
        action,
        target,
        "admin action"
    );
    let Some(store) = state.store() else {
        return;
    };
    let entry = AuditEntry {
        id: 0,
        at_ms: crate::pipeline::unix_ms(),
        actor: actor.name.clone(),
        action: action.to_string(),
        target: target.to_string(),
        address: actor.address.clone(),
        before: before.as_ref().map(masked_json),
        after: after.as_ref().map(masked_json),
    };
    if let Err(e) = store.insert_audit(&entry).await {
        tracing::error!(error = %e, action, target, "writing the audit log failed");
    }
}

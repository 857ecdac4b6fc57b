//! Operator actions on one credential: activate (back in service: invalid mark, cooldown and
//! breaker cleared) and quarantine (out until activated, with a reason; health checks leave it
//! alone). Both act on the live pool; a credential keeps its state across reloads.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use super::AdminError;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/credentials/{provider}/{name}/activate", post(activate))
        .route(
            "/credentials/{provider}/{name}/quarantine",
            post(quarantine),
        )
}

async fn activate(
    State(state): State<AppState>,
    Path((provider, name)): Path<(String, String)>,
) -> Result<Json<Value>, AdminError> {
    let (pool, member) = find(&state, &provider, &name)?;
    pool.activate(member);
    tracing::info!(%provider, credential = %name, "credential activated by an operator");
    Ok(Json(
        json!({ "provider": provider, "credential": name, "status": "active" }),
    ))
}

/// The body is optional: `{"reason": "…"}`.
async fn quarantine(
    State(state): State<AppState>,
    Path((provider, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let reason = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("reason").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| "quarantined by an operator".to_string());
    let (pool, member) = find(&state, &provider, &name)?;
    pool.quarantine(member, reason.clone());
    tracing::info!(%provider, credential = %name, %reason, "credential quarantined by an operator");
    Ok(Json(json!({
        "provider": provider,
        "credential": name,
        "status": "quarantined",
        "reason": reason,
    })))
}

fn find(
    state: &AppState,
    provider: &str,
    name: &str,
) -> Result<(std::sync::Arc<switchyard_core::pool::Pool>, usize), AdminError> {
    let snap = state.snapshot.load();
    let index = snap
        .config
        .providers
        .iter()
        .position(|p| p.name == provider)
        .ok_or_else(|| {
            AdminError::new(StatusCode::NOT_FOUND, format!("no provider {provider:?}"))
        })?;
    let pool = std::sync::Arc::clone(&snap.pools[index]);
    let member = pool.index_of(name).ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_FOUND,
            format!("provider {provider:?} has no credential {name:?}"),
        )
    })?;
    Ok((pool, member))
}

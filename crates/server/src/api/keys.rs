//! Client keys: list (never secrets), create (the key is in the answer once), revoke, rotate
//! (a new key with the same name, models and lifetime; the old one revoked). Changes are live
//! when the call returns.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::keys::{self, ApiKey};
use switchyard_store::Engine;

use super::{audit, store, Actor, Body, Failure};
use crate::pipeline::unix_ms;
use crate::reload;
use crate::state::AppState;

fn describe(k: &ApiKey, now_ms: i64) -> Value {
    let status = if k.revoked_at_ms.is_some() {
        "revoked"
    } else if !k.is_active(now_ms) {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": k.id,
        "name": k.name,
        "models": k.models,
        "status": status,
        "created_at_ms": k.created_at_ms,
        "expires_at_ms": k.expires_at_ms,
        "revoked_at_ms": k.revoked_at_ms,
    })
}

/// `GET /api/keys`
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, Failure> {
    let store = store(&state)?;
    let keys = store.list_keys().await.map_err(Failure::store)?;
    let now = unix_ms();
    let keys: Vec<Value> = keys.iter().map(|k| describe(k, now)).collect();
    Ok(Json(json!({ "keys": keys })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    #[serde(default)]
    models: Vec<String>,
    /// A lifetime such as `30d`, `12h`, `90m`; none: no expiry.
    expires: Option<String>,
}

fn random() -> Result<[u8; 33], Failure> {
    let mut random = [0u8; 33];
    getrandom::fill(&mut random).map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no randomness: {e}"),
        )
    })?;
    Ok(random)
}

/// `POST /api/keys`
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    Body(body): Body<NewKey>,
) -> Result<Response, Failure> {
    let store = store(&state)?;
    if body.name.trim().is_empty() {
        return Err(Failure::bad_request("name: must not be empty"));
    }
    let now = unix_ms();
    let expires_at_ms = match &body.expires {
        Some(text) => Some(
            now + crate::cli::keys_lifetime(text)
                .map_err(|e| Failure::bad_request(format!("expires: {e}")))?,
        ),
        None => None,
    };
    let (key, full) = keys::issue(&random()?, body.name, body.models, now, expires_at_ms);
    store.insert_key(&key).await.map_err(Failure::store)?;
    reload::refresh_from_store(&state, store)
        .await
        .map_err(Failure::store)?;
    let mut answer = describe(&key, now);
    audit(
        &state,
        &actor,
        "key.create",
        &key.id,
        None,
        Some(answer.clone()),
    )
    .await;
    answer["key"] = Value::String(full);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `DELETE /api/keys/{id}`: revokes.
pub async fn revoke(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    let store = store(&state)?;
    // Revoking is idempotent: a key revoked already stays revoked and answers the same.
    if store.find_key(&id).await.map_err(Failure::store)?.is_none() {
        return Err(Failure::not_found(format!("no key {id}")));
    }
    store
        .revoke_key(&id, unix_ms())
        .await
        .map_err(Failure::store)?;
    reload::refresh_from_store(&state, store)
        .await
        .map_err(Failure::store)?;
    audit(&state, &actor, "key.revoke", &id, None, None).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/keys/{id}/rotate`
pub async fn rotate(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let store = store(&state)?;
    let old = store
        .find_key(&id)
        .await
        .map_err(Failure::store)?
        .ok_or_else(|| Failure::not_found(format!("no key {id}")))?;
    if old.revoked_at_ms.is_some() {
        return Err(Failure::conflict(format!(
            "key {id} is revoked; create a new one"
        )));
    }
    let now = unix_ms();
    // The new key lives as long as the old one had left.
    let (key, full) = keys::issue(
        &random()?,
        old.name.clone(),
        old.models.clone(),
        now,
        old.expires_at_ms,
    );
    store.insert_key(&key).await.map_err(Failure::store)?;
    store.revoke_key(&id, now).await.map_err(Failure::store)?;
    reload::refresh_from_store(&state, store)
        .await
        .map_err(Failure::store)?;
    let mut answer = describe(&key, now);
    audit(
        &state,
        &actor,
        "key.rotate",
        &id,
        Some(describe(&old, now)),
        Some(answer.clone()),
    )
    .await;
    answer["key"] = Value::String(full);
    answer["replaces"] = Value::String(id);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

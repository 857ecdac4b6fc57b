//! The admin token check: a bearer token whose SHA-256 matches one of the configured hashes,
//! compared in constant time. Where the token comes from (the environment, or one generated
//! on first start and kept hashed in the store) is decided at start by `serve`.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use switchyard_core::keys;

use super::Failure;
use crate::state::AppState;

/// The environment variable that sets the admin token.
pub const ADMIN_TOKEN_ENV: &str = "SWITCHYARD_ADMIN_TOKEN";

/// The store setting holding the hash of the generated (or rotated) admin token.
pub const ADMIN_TOKEN_SETTING: &str = "admin.token_hash";

/// The token from the environment, when set and not empty.
pub fn admin_token_from_env() -> Option<String> {
    std::env::var(ADMIN_TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Makes `token` (in clear) the one admin token.
pub fn install_admin_token(state: &AppState, token: &str) {
    install_admin_hash(state, keys::hash_secret(token));
}

/// Makes the token with this hash the one admin token.
pub fn install_admin_hash(state: &AppState, hash: String) {
    state.admin_tokens.store(std::sync::Arc::new(vec![hash]));
}

pub async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(presented) = presented else {
        return Failure::new(
            StatusCode::UNAUTHORIZED,
            "missing admin token: send it as `Authorization: Bearer <token>`",
        )
        .into_response();
    };
    let hashes = state.admin_tokens.load();
    if !hashes.iter().any(|h| keys::matches_hash(presented, h)) {
        let message = if keys::parse_key(presented).is_some() {
            "a client key does not open the admin API; use the admin token"
        } else {
            "invalid admin token"
        };
        return Failure::new(StatusCode::UNAUTHORIZED, message).into_response();
    }
    next.run(req).await
}

/// A new random admin token.
pub fn new_admin_token() -> Result<String, String> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| format!("no randomness: {e}"))?;
    Ok(keys::generate_admin_token(&random))
}

/// `POST /api/admin-token/rotate`: a new admin token, in this answer only; the old one stops
/// working at once, on every instance sharing the store. A token set by the environment is
/// changed there instead.
pub async fn rotate(
    State(state): State<AppState>,
    actor: super::Actor,
) -> Result<axum::Json<serde_json::Value>, Failure> {
    if admin_token_from_env().is_some() {
        return Err(Failure::conflict(format!(
            "the admin token is set by {ADMIN_TOKEN_ENV}; change it there"
        )));
    }
    let token =
        new_admin_token().map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    if let Some(store) = state.store() {
        use switchyard_store::Engine;
        store
            .put_setting(ADMIN_TOKEN_SETTING, &keys::hash_secret(&token))
            .await
            .map_err(Failure::store)?;
    }
    install_admin_token(&state, &token);
    super::audit(
        &state,
        &actor,
        "admin_token.rotate",
        "admin-token",
        None,
        None,
    )
    .await;
    Ok(axum::Json(serde_json::json!({ "token": token })))
}

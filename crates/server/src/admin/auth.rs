//! The admin token: where it comes from at start (`SWITCHYARD_ADMIN_TOKEN`, else a fresh random
//! one printed once on stderr) and the guard every `/api` route sits behind. Only the token's
//! hash is kept in memory; comparisons are constant time.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use switchyard_core::keys;

use super::AdminError;
use crate::state::AppState;

/// The environment variable that sets the admin token.
pub const TOKEN_ENV: &str = "SWITCHYARD_ADMIN_TOKEN";

/// The admin token from the environment, or a fresh one and whether it was generated.
pub fn token_from_env_or_new() -> anyhow::Result<(String, bool)> {
    match std::env::var(TOKEN_ENV) {
        Ok(token) if !token.trim().is_empty() => Ok((token.trim().to_string(), false)),
        _ => {
            let mut random = [0u8; 33];
            getrandom::fill(&mut random)
                .map_err(|e| anyhow::anyhow!("no randomness for the admin token: {e}"))?;
            Ok((keys::generate_admin_token(&random), true))
        }
    }
}

/// Lets a request through only with `Authorization: Bearer <admin token>`.
pub async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = state.admin_token() else {
        return AdminError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the admin API is not enabled on this gateway",
        )
        .into_response();
    };
    let presented = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match presented {
        Some(p) if token.verify(p) => next.run(request).await,
        Some(_) => AdminError::new(StatusCode::UNAUTHORIZED, "invalid admin token").into_response(),
        None => AdminError::new(
            StatusCode::UNAUTHORIZED,
            "missing admin token: send it as Authorization: Bearer <token>",
        )
        .into_response(),
    }
}

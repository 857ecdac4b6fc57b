//! Count-tokens endpoints (`/v1/messages/count_tokens`, Gemini `:countTokens`): counted by the
//! upstream the model routes to when its API has the endpoint (Anthropic, Gemini), otherwise,
//! or when that upstream fails, estimated by the protocol crate.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_protocol::tokens::estimate_request;
use switchyard_protocol::Dialect;

use super::{auth, read_body};
use crate::pipeline::{count_tokens, unix_ms};
use crate::render::ApiError;
use crate::state::AppState;
use switchyard_core::glob::Glob;
use switchyard_protocol::ir::ErrorKind;

pub async fn anthropic(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match count(
        &state,
        Dialect::Anthropic,
        &headers,
        query.as_deref(),
        body,
        None,
    )
    .await
    {
        Ok(n) => (StatusCode::OK, axum::Json(json!({ "input_tokens": n }))).into_response(),
        Err(e) => e.render(Dialect::Anthropic),
    }
}

pub async fn gemini(
    state: AppState,
    headers: HeaderMap,
    query: Option<String>,
    body: Body,
    model: String,
) -> Response {
    match count(
        &state,
        Dialect::Gemini,
        &headers,
        query.as_deref(),
        body,
        Some(model),
    )
    .await
    {
        Ok(n) => (StatusCode::OK, axum::Json(json!({ "totalTokens": n }))).into_response(),
        Err(e) => e.render(Dialect::Gemini),
    }
}

async fn count(
    state: &AppState,
    dialect: Dialect,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
    model: Option<String>,
) -> Result<u64, ApiError> {
    let caller = auth::authenticate(state, headers, query, unix_ms())?;
    let body = read_body(body, state.limits.max_body_bytes).await?;
    // Gemini wraps the request as `{"generateContentRequest": {...}}` or sends bare contents.
    let body = if dialect == Dialect::Gemini {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Object(mut m)) => match m.remove("generateContentRequest") {
                Some(inner) => bytes::Bytes::from(inner.to_string()),
                None => body,
            },
            _ => body,
        }
    } else {
        body
    };
    let mut req = dialect
        .decode_request(&body)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    if let Some(m) = model {
        req.model = m;
    }
    if !caller.models.is_empty()
        && !caller
            .models
            .iter()
            .any(|g| Glob::new(g.as_str()).matches(&req.model))
    {
        return Err(ApiError::new(
            ErrorKind::PermissionDenied,
            format!("this key may not use model {:?}", req.model),
        ));
    }
    if let Some(n) = count_tokens(state, dialect, &req, &body, headers).await {
        return Ok(n);
    }
    Ok(estimate_request(&req))
}

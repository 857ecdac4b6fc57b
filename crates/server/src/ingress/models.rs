//! `/v1/models` in the caller's dialect (Anthropic when the caller sends Anthropic headers,
//! OpenAI otherwise) and Gemini's `/v1beta/models`: the models a caller's key may use, which
//! are the exact route names and the named target models. Nothing secret is listed.

use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_core::glob::Glob;
use switchyard_protocol::Dialect;

use super::auth;
use crate::pipeline::unix_ms;
use crate::state::AppState;

fn visible(state: &AppState, allowed: &[String]) -> Vec<String> {
    let snap = state.snapshot.load();
    let mut names = BTreeSet::new();
    for route in &snap.config.routes {
        if route.pattern.is_exact() {
            names.insert(route.pattern.as_str().to_string());
        }
        for t in &route.targets {
            if let Some(m) = &t.model {
                if route.pattern.matches(m) {
                    names.insert(m.clone());
                }
            }
        }
    }
    names
        .into_iter()
        .filter(|n| allowed.is_empty() || allowed.iter().any(|g| Glob::new(g.as_str()).matches(n)))
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let anthropic = headers.contains_key("anthropic-version") || headers.contains_key("x-api-key");
    let dialect = if anthropic {
        Dialect::Anthropic
    } else {
        Dialect::OpenAiChat
    };
    let caller = match auth::authenticate(&state, &headers, query.as_deref(), unix_ms()) {
        Ok(c) => c,
        Err(e) => return e.render(dialect),
    };
    let names = visible(&state, &caller.models);
    if anthropic {
        let data: Vec<_> = names
            .iter()
            .map(|n| json!({"type": "model", "id": n, "display_name": n, "created_at": "1970-01-01T00:00:00Z"}))
            .collect();
        axum::Json(json!({
            "data": data,
            "has_more": false,
            "first_id": names.first(),
            "last_id": names.last(),
        }))
        .into_response()
    } else {
        let data: Vec<_> = names
            .iter()
            .map(|n| json!({"id": n, "object": "model", "created": 0, "owned_by": "switchyard"}))
            .collect();
        axum::Json(json!({"object": "list", "data": data})).into_response()
    }
}

pub async fn gemini_list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let caller = match auth::authenticate(&state, &headers, query.as_deref(), unix_ms()) {
        Ok(c) => c,
        Err(e) => return e.render(Dialect::Gemini),
    };
    let models: Vec<_> = visible(&state, &caller.models)
        .iter()
        .map(|n| {
            json!({
                "name": format!("models/{n}"),
                "displayName": n,
                "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
            })
        })
        .collect();
    axum::Json(json!({ "models": models })).into_response()
}

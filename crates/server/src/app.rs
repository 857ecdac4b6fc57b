//! `fn app(state) -> Router`: every route of the gateway, testable without a socket.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::state::AppState;
use crate::{admin, ingress};

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(ingress::root).head(ingress::root))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(ingress::routes())
        .nest("/api", admin::router(state.clone()))
        .route("/{*path}", axum::routing::any(ingress::not_found))
        .with_state(state)
}

/// Liveness and components: the providers' usable credential counts.
async fn health(State(state): State<AppState>) -> Response {
    let snap = state.snapshot.load();
    let components: Vec<_> = snap
        .config
        .providers
        .iter()
        .zip(&snap.pools)
        .map(|(p, pool)| {
            json!({
                "name": format!("provider:{}", p.name),
                "status": "ok",
                "usable_credentials": pool
                    .status(crate::pipeline::now())
                    .iter()
                    .filter(|m| m.invalid.is_none() && m.cooldown_until.is_none())
                    .count(),
            })
        })
        .collect();
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "components": components,
    }))
    .into_response()
}

/// For load balancers: false while draining.
async fn ready(State(state): State<AppState>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        (StatusCode::OK, "ready\n").into_response()
    }
}

//! `fn app(state) -> Router`: every route of the gateway, testable without a socket.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::ingress;
use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(ingress::root).head(ingress::root))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .merge(ingress::routes())
        .nest("/api", crate::api::routes(state.clone()))
        .route("/{*path}", axum::routing::any(ingress::not_found))
        .with_state(state)
}

/// Liveness and components: the providers' usable credential counts.
pub(crate) async fn health(State(state): State<AppState>) -> Response {
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

/// Prometheus / OpenMetrics exposition. Open like `/health`: it carries counts and config
/// names, never keys, secrets or request content.
async fn metrics(State(state): State<AppState>) -> Response {
    let snapshot = state.snapshot.load();
    let body = state.metrics.render(crate::metrics::ScrapeInputs {
        snapshot: &snapshot,
        now: crate::pipeline::now(),
        writer: &state.usage,
        reload: state.reload.status(),
    });
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        body,
    )
        .into_response()
}

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

/// Status and components: the store (required: 503 when it does not answer), shared state,
/// and each provider's usable credential count (a provider with none makes the gateway
/// `degraded`, still 200: other routes may serve).
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let snap = state.snapshot.load();
    let at = crate::pipeline::now();
    let mut components = Vec::new();
    let mut store_down = false;
    if let Some(store) = state.store() {
        use switchyard_store::Engine;
        let answered =
            tokio::time::timeout(std::time::Duration::from_secs(2), store.change_version()).await;
        let ok = matches!(answered, Ok(Ok(_)));
        store_down = !ok;
        components.push(json!({
            "name": "store",
            "engine": store.engine_name(),
            "status": if ok { "ok" } else { "down" },
        }));
    }
    components.push(json!({"name": "shared_state", "engine": "local", "status": "ok"}));
    let mut degraded = false;
    for (p, pool) in snap.config.providers.iter().zip(&snap.pools) {
        let members = pool.status(at);
        let usable = members
            .iter()
            .filter(|m| m.invalid.is_none() && m.cooldown_until.is_none())
            .count();
        let mock = p.kind == switchyard_core::config::ProviderKind::Mock;
        let ok = mock || usable > 0;
        degraded |= !ok;
        components.push(json!({
            "name": format!("provider:{}", p.name),
            "status": if ok { "ok" } else { "degraded" },
            "usable_credentials": usable,
            "credentials": members.len(),
        }));
    }
    let (status, word) = if store_down {
        (StatusCode::SERVICE_UNAVAILABLE, "down")
    } else if degraded {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "ok")
    };
    let body = json!({
        "status": word,
        "version": env!("CARGO_PKG_VERSION"),
        "draining": state.draining.load(Ordering::Relaxed),
        "components": components,
    });
    (status, axum::Json(body)).into_response()
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

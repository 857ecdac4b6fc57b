//! `/v1/embeddings`: passed through to OpenAI-compatible upstreams, the body forwarded as bytes
//! with only the model rewritten, through the same pool and retry rules as generation. Other
//! upstream kinds have no such endpoint in this dialect, so routes to them are refused.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use switchyard_core::config::{ProviderKind, Strategy};
use switchyard_core::pool::{classify, Outcome, Selection};
use switchyard_protocol::ir::{ErrorKind, Usage};
use tokio::time::Instant;

use super::record::Recorder;
use super::{now_std, passthrough, upstream, Call};
use crate::egress;
use crate::render::ApiError;
use crate::state::AppState;

#[derive(serde::Deserialize)]
struct Head {
    model: Option<String>,
}

pub async fn handle(state: AppState, call: Call) -> Response {
    let mut rec = Recorder::new(&call, &state);
    let model = match serde_json::from_slice::<Head>(&call.body) {
        Ok(Head { model: Some(m) }) if !m.is_empty() => m,
        Ok(_) => {
            return rec
                .fail(&state, ApiError::invalid("model: is required"))
                .await
        }
        Err(e) => return rec.fail(&state, ApiError::invalid(e.to_string())).await,
    };
    rec.record.requested_model = model.clone();
    let allowed = call.key_models.is_empty()
        || call
            .key_models
            .iter()
            .any(|g| switchyard_core::glob::Glob::new(g.as_str()).matches(&model));
    if !allowed {
        let err = ApiError::new(
            ErrorKind::PermissionDenied,
            format!("this key may not use model {model:?}"),
        );
        return rec.fail(&state, err).await;
    }
    let snap = state.snapshot.load_full();
    let Some(route) = snap.config.route(&model) else {
        let err = ApiError::new(
            ErrorKind::NotFound,
            format!("model {model:?} is not served here"),
        );
        return rec.fail(&state, err).await;
    };
    rec.route(route.pattern.as_str());
    let mut last = None;
    for target in &route.targets {
        let provider = &snap.config.providers[target.provider];
        if provider.kind != ProviderKind::OpenAi {
            last.get_or_insert(ApiError::invalid(format!(
                "embeddings are served only by OpenAI-compatible providers, not {}",
                provider.name
            )));
            continue;
        }
        let pool = &snap.pools[target.provider];
        let upstream_model = target.model.clone().unwrap_or_else(|| model.clone());
        let body = passthrough::rewrite_model(call.body.clone(), &upstream_model);
        let mut exclude = Vec::new();
        while exclude.len() < pool.len() {
            let mut lease = match pool.select(Strategy::Balance, None, &exclude, now_std()) {
                Selection::Chosen(l) => l,
                Selection::AllCoolingDown { .. } | Selection::AllBusy | Selection::NoneUsable => {
                    break
                }
            };
            let member = lease.index();
            let credential = &provider.credentials[member];
            let price = snap
                .config
                .model(target.provider, &upstream_model)
                .and_then(|m| m.price);
            rec.target(provider, &credential.name, &upstream_model, price);
            rec.attempt();
            let url = format!("{}/embeddings", provider.base_url);
            let Ok(auth) = state.tokens.auth(&state.http, provider, credential).await else {
                exclude.push(member);
                continue;
            };
            let headers = upstream::headers(provider, &auth, &call.headers);
            let sent = Instant::now();
            let send = state.egress.send(Method::POST, &url, headers, body.clone());
            let result = tokio::time::timeout(provider.timeouts.total, async {
                let r = send.await?;
                let status = r.status().as_u16();
                let retry_after = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let bytes = egress::read_all(r.into_body()).await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, retry_after, bytes))
            })
            .await;
            rec.waited(sent.elapsed());
            let (status, retry_after, bytes): (u16, Option<u64>, Bytes) = match result {
                Ok(Ok(v)) => v,
                _ => {
                    pool.report(&mut lease, &Outcome::Timeout, sent.elapsed(), now_std());
                    exclude.push(member);
                    last = Some(ApiError::new(
                        ErrorKind::Overloaded,
                        "the upstream did not answer",
                    ));
                    continue;
                }
            };
            let outcome = classify(status, retry_after.map(std::time::Duration::from_secs));
            pool.report(&mut lease, &outcome, sent.elapsed(), now_std());
            if outcome.retry_elsewhere() {
                exclude.push(member);
                let mut err = switchyard_protocol::Dialect::OpenAiChat.decode_error(status, &bytes);
                err.status = Some(status);
                last = Some(err.into());
                continue;
            }
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let input = v["usage"]["prompt_tokens"].as_u64().unwrap_or_default();
                rec.usage(&Usage {
                    input_tokens: input,
                    ..Usage::default()
                });
            }
            if !(200..300).contains(&status) {
                rec.record.error_class = Some(outcome.class().to_string());
            }
            let mut resp = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                bytes,
            )
                .into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            rec.stamp(&mut resp);
            rec.send(&state).await;
            return resp;
        }
    }
    let err = last.unwrap_or_else(|| {
        ApiError::new(ErrorKind::Overloaded, "no upstream could serve the request")
    });
    rec.fail(&state, err).await
}

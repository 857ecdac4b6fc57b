//! Counting a request's input tokens with the upstream that would serve it, where that API has
//! a counting endpoint (Anthropic `count_tokens`, Gemini `countTokens`): the upstream's own
//! tokenizer beats any estimate. One credential, one try, a short deadline; any failure or a
//! provider kind without the endpoint returns `None` and the caller estimates instead, so
//! counting never fails because an upstream did. Outcomes still reach the pool (a 429 here is
//! as real as anywhere).

use std::time::Duration;

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use serde_json::{Map, Value};
use switchyard_core::config::{ProviderKind, Strategy};
use switchyard_core::pool::{classify, Outcome, Selection};
use switchyard_protocol::{ir, Dialect};

use super::{now_std, passthrough, upstream, UpstreamModel};
use crate::egress;
use crate::state::AppState;

/// Longest wait for a count: clients call it before every turn, and an estimate is a fine
/// answer when the upstream is slow.
const COUNT_DEADLINE: Duration = Duration::from_secs(10);

/// Fields Anthropic's `count_tokens` takes; it refuses the generation-only ones
/// (`max_tokens`, `stream`, sampling).
const ANTHROPIC_COUNT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "mcp_servers",
];

/// The upstream's count for `req` (decoded from `body`, in `dialect`), or `None`: estimate.
pub async fn count_tokens(
    state: &AppState,
    dialect: Dialect,
    req: &ir::Request,
    body: &Bytes,
    client_headers: &HeaderMap,
) -> Option<u64> {
    let snap = state.snapshot.load_full();
    let route = snap.config.route(&req.model)?;
    let target = route.targets.first()?;
    let provider = &snap.config.providers[target.provider];
    let model = target.model.clone().unwrap_or_else(|| req.model.clone());
    let (url, payload) = match provider.kind {
        ProviderKind::Anthropic => {
            let encoded = if dialect == Dialect::Anthropic {
                passthrough::rewrite_model(body.clone(), &model)
            } else {
                encode(Dialect::Anthropic, req, &model)?
            };
            let mut fields: Map<String, Value> = serde_json::from_slice(&encoded).ok()?;
            fields.retain(|k, _| ANTHROPIC_COUNT_FIELDS.contains(&k.as_str()));
            let url = format!("{}/v1/messages/count_tokens", provider.base_url);
            (url, serde_json::to_vec(&fields).ok()?)
        }
        ProviderKind::Gemini => {
            let encoded = encode(Dialect::Gemini, req, &model)?;
            let mut inner: Map<String, Value> = serde_json::from_slice(&encoded).ok()?;
            let bare = model.strip_prefix("models/").unwrap_or(&model);
            inner.insert("model".into(), Value::String(format!("models/{bare}")));
            let wrapped = serde_json::json!({ "generateContentRequest": inner });
            let url = format!("{}/v1beta/models/{bare}:countTokens", provider.base_url);
            (url, serde_json::to_vec(&wrapped).ok()?)
        }
        _ => return None,
    };
    let pool = &snap.pools[target.provider];
    let Selection::Chosen(lease) = pool.select(Strategy::Balance, None, &[], now_std()) else {
        return None;
    };
    let member = lease.index();
    let credential = provider.credentials.get(member)?;
    let auth = state
        .tokens
        .auth(&state.http, provider, credential)
        .await
        .ok()?;
    let headers = upstream::headers(provider, &auth, client_headers);
    let send = state
        .egress
        .send(Method::POST, &url, headers, Bytes::from(payload));
    let deadline = provider.timeouts.first_byte.min(COUNT_DEADLINE);
    let resp = match tokio::time::timeout(deadline, send).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            let outcome = if e.is_connect() {
                Outcome::ConnectFailed
            } else {
                Outcome::Timeout
            };
            pool.record(member, &outcome, now_std());
            return None;
        }
        Err(_) => {
            pool.record(member, &Outcome::Timeout, now_std());
            return None;
        }
    };
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        pool.record(member, &classify(status, None), now_std());
        tracing::debug!(provider = %provider.name, status, "upstream token count failed; estimating");
        return None;
    }
    let bytes = tokio::time::timeout(deadline, egress::read_all(resp.into_body()))
        .await
        .ok()?
        .ok()?;
    let counted = counted(&bytes)?;
    pool.record(member, &Outcome::Success, now_std());
    Some(counted)
}

/// `req` as `up` would be sent it. Neither counting endpoint takes `stream` (Gemini's is in the
/// URL, Anthropic's is dropped with the other generation-only fields), so it is left as it is.
fn encode(up: Dialect, req: &ir::Request, model: &str) -> Option<Bytes> {
    let target = UpstreamModel {
        name: model,
        max_output_tokens: None,
    };
    up.encode_request(req, &target.encode_options())
        .ok()
        .map(Bytes::from)
}

/// The count in an upstream's answer: Anthropic's `input_tokens`, Gemini's `totalTokens` (or
/// `total_tokens`, the proto-JSON spelling Gemini-compatible servers may use).
fn counted(answer: &[u8]) -> Option<u64> {
    let answer: Value = serde_json::from_slice(answer).ok()?;
    ["input_tokens", "totalTokens", "total_tokens"]
        .iter()
        .find_map(|key| answer.get(*key))
        .and_then(Value::as_u64)
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn a_count_is_read_in_every_spelling_an_upstream_answers_with() {
        assert_eq!(counted(br#"{"input_tokens":12}"#), Some(12));
        assert_eq!(
            counted(br#"{"totalTokens":7,"promptTokensDetails":[]}"#),
            Some(7)
        );
        assert_eq!(counted(br#"{"total_tokens":5}"#), Some(5));
        assert_eq!(counted(br#"{"tokens":5}"#), None);
        assert_eq!(counted(b"not json"), None);
    }
}

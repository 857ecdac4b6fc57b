//! Anthropic's Messages wire format, written by hand as the API documents it: the `message`
//! object, the full SSE sequence (`message_start`, `content_block_start`, `ping`, deltas,
//! `content_block_stop`, `message_delta`, `message_stop`) with usage split between
//! `message_start` and `message_delta`, `count_tokens`, the model list, error bodies and
//! `anthropic-ratelimit-*` headers. This module must not use the protocol crate.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::answer::{last_with_role, text_of, Answer};
use crate::body::{named_event, piece_frames};
use crate::script::RateLimit;

/// The model list when the script names none.
pub(crate) const MODELS: &[&str] = &["claude-sonnet-4-20250514", "claude-3-5-haiku-20241022"];

/// The text of the last user message (`content` as a string or `text` blocks; tool results
/// are not user text).
pub(crate) fn user_text(body: &Value) -> Option<String> {
    let message = last_with_role(body.get("messages")?, "user")?;
    text_of(message.get("content")?, &["text"])
}

fn stop_reason(answer: &Answer) -> &'static str {
    if answer.tool.is_some() {
        "tool_use"
    } else {
        "end_turn"
    }
}

fn usage(input_tokens: u64, output_tokens: u64) -> Value {
    json!({
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "service_tier": "standard"
    })
}

/// A `message` object.
pub(crate) fn json(answer: &Answer) -> Value {
    let content = match &answer.tool {
        Some(tool) => json!([{
            "type": "tool_use",
            "id": answer.id("toolu_"),
            "name": tool.name,
            "input": tool.arguments_value()
        }]),
        None => json!([{"type": "text", "text": answer.text}]),
    };
    json!({
        "id": answer.id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": content,
        "stop_reason": stop_reason(answer),
        "stop_sequence": null,
        "usage": usage(answer.input_tokens, answer.output_tokens)
    })
}

/// The event sequence of a streamed message. `message_start` carries the input tokens and a
/// provisional output count of 1; `message_delta` carries the final (cumulative) output count,
/// as the real API splits them.
pub(crate) fn stream(answer: &Answer) -> Vec<Bytes> {
    let mut frames = Vec::with_capacity(answer.pieces.len() + 6);
    frames.push(named_event(
        "message_start",
        &json!({
            "type": "message_start",
            "message": {
                "id": answer.id("msg_"),
                "type": "message",
                "role": "assistant",
                "model": answer.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage(answer.input_tokens, 1)
            }
        }),
    ));
    let block = match &answer.tool {
        Some(tool) => {
            json!({"type": "tool_use", "id": answer.id("toolu_"), "name": tool.name, "input": {}})
        }
        None => json!({"type": "text", "text": ""}),
    };
    frames.push(named_event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0, "content_block": block}),
    ));
    frames.push(named_event("ping", &json!({"type": "ping"})));
    frames.extend(piece_frames(&answer.pieces, |piece| {
        let delta = match answer.tool {
            Some(_) => json!({"type": "input_json_delta", "partial_json": piece}),
            None => json!({"type": "text_delta", "text": piece}),
        };
        named_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        )
    }));
    frames.push(named_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    frames.push(named_event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(answer), "stop_sequence": null},
            "usage": {"output_tokens": answer.output_tokens}
        }),
    ));
    frames.push(named_event(
        "message_stop",
        &json!({"type": "message_stop"}),
    ));
    frames
}

/// `POST /v1/messages/count_tokens`.
pub(crate) fn count_tokens(input_tokens: u64) -> Value {
    json!({"input_tokens": input_tokens})
}

/// `GET /v1/models`, Anthropic's shape.
pub(crate) fn models(ids: &[String]) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"}))
        .collect();
    json!({
        "data": data,
        "has_more": false,
        "first_id": ids.first(),
        "last_id": ids.last()
    })
}

/// An Anthropic error body: `{"type": "error", "error": {type, message}, "request_id"}`.
pub(crate) fn error(status: u16, message: Option<&str>, request_id: &str) -> Value {
    let (kind, default_message) = match status {
        400 => ("invalid_request_error", "Invalid request."),
        401 => ("authentication_error", "invalid x-api-key"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => (
            "not_found_error",
            "The requested resource could not be found.",
        ),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "This request would exceed your organization's rate limit. Please try again later.",
        ),
        529 => ("overloaded_error", "Overloaded"),
        500..=599 => ("api_error", "Internal server error"),
        _ => ("invalid_request_error", "Request failed."),
    };
    json!({
        "type": "error",
        "error": {"type": kind, "message": message.unwrap_or(default_message)},
        "request_id": request_id
    })
}

/// `anthropic-ratelimit-*` headers; resets are RFC 3339 instants `reset_seconds` from now.
pub(crate) fn rate_limit_headers(limit: &RateLimit) -> Vec<(&'static str, String)> {
    let reset = rfc3339_in(limit.reset_seconds);
    vec![
        (
            "anthropic-ratelimit-requests-limit",
            limit.requests_limit.to_string(),
        ),
        (
            "anthropic-ratelimit-requests-remaining",
            limit.requests_remaining.to_string(),
        ),
        ("anthropic-ratelimit-requests-reset", reset.clone()),
        (
            "anthropic-ratelimit-tokens-limit",
            limit.tokens_limit.to_string(),
        ),
        (
            "anthropic-ratelimit-tokens-remaining",
            limit.tokens_remaining.to_string(),
        ),
        ("anthropic-ratelimit-tokens-reset", reset),
    ]
}

/// The UTC instant `seconds` from now, as `2025-01-01T00:00:00Z`.
fn rfc3339_in(seconds: u64) -> String {
    // The header is a wall-clock instant by definition; the fake only formats it, so reading
    // the system clock here makes nothing in the fake depend on time.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    let unix = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + seconds;
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

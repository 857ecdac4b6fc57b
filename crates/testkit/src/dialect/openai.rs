//! OpenAI's wire format, written by hand as the API documents it: Chat Completions (JSON and
//! `chat.completion.chunk` SSE ending in `[DONE]`), embeddings, the model list, error bodies and
//! `x-ratelimit-*` headers. The Responses API has its own file and shares only the errors. This
//! module must not use the protocol crate: it is an independent witness of the format.

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::answer::{last_with_role, text_of, Answer};
use crate::body::{data_event, piece_frames};
use crate::script::RateLimit;

/// `created` in every answer: a fixed time, so answers are deterministic.
pub(crate) const CREATED: u64 = 1_735_689_600;
const FINGERPRINT: &str = "fp_fake0001";
/// Embedding size when the request does not ask for `dimensions`.
const DEFAULT_DIMENSIONS: u64 = 16;
/// The model list when the script names none.
pub(crate) const MODELS: &[&str] = &["gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"];

/// The text of the last user message (`content` as a string or `text` parts).
pub(crate) fn user_text(body: &Value) -> Option<String> {
    let message = last_with_role(body.get("messages")?, "user")?;
    text_of(message.get("content")?, &["text"])
}

fn usage(answer: &Answer) -> Value {
    json!({
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": answer.input_tokens + answer.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

fn finish_reason(answer: &Answer) -> &'static str {
    if answer.tool.is_some() {
        "tool_calls"
    } else {
        "stop"
    }
}

/// A `chat.completion` object.
pub(crate) fn chat_json(answer: &Answer) -> Value {
    let message = match &answer.tool {
        Some(tool) => json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": answer.id("call_"),
                "type": "function",
                "function": {"name": tool.name, "arguments": tool.arguments}
            }],
            "refusal": null,
            "annotations": []
        }),
        None => json!({
            "role": "assistant",
            "content": answer.text,
            "refusal": null,
            "annotations": []
        }),
    };
    json!({
        "id": answer.id("chatcmpl-"),
        "object": "chat.completion",
        "created": CREATED,
        "model": answer.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(answer)
        }],
        "usage": usage(answer),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT
    })
}

/// The `chat.completion.chunk` events: the role, one delta per piece, the finish reason, the
/// usage chunk (empty `choices`) when `stream_options.include_usage` asked for it, `[DONE]`.
pub(crate) fn chat_stream(answer: &Answer, include_usage: bool) -> Vec<Bytes> {
    let chunk = |delta: Value, finish: Value| {
        let mut chunk = json!({
            "id": answer.id("chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": answer.model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        });
        if include_usage {
            // With include_usage every chunk carries `usage: null` until the last one.
            chunk["usage"] = Value::Null;
        }
        data_event(&chunk)
    };
    let mut frames = Vec::with_capacity(answer.pieces.len() + 4);
    frames.push(chunk(
        match &answer.tool {
            Some(tool) => json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "index": 0,
                    "id": answer.id("call_"),
                    "type": "function",
                    "function": {"name": tool.name, "arguments": ""}
                }],
                "refusal": null
            }),
            None => json!({"role": "assistant", "content": "", "refusal": null}),
        },
        Value::Null,
    ));
    frames.extend(piece_frames(&answer.pieces, |piece| {
        let delta = match answer.tool {
            Some(_) => json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            None => json!({"content": piece}),
        };
        chunk(delta, Value::Null)
    }));
    frames.push(chunk(json!({}), json!(finish_reason(answer))));
    if include_usage {
        frames.push(data_event(&json!({
            "id": answer.id("chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": answer.model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": [],
            "usage": usage(answer)
        })));
    }
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    frames
}

/// An embeddings `list`: one deterministic unit vector per input (a string, a list of strings,
/// a token list or a list of token lists), as floats or, when asked, base64 little-endian f32.
pub(crate) fn embeddings(body: &Value, model: &str, input_tokens: u64) -> Result<Value, String> {
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_number) => {
            vec![Value::Array(items.clone()).to_string()]
        }
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        _ => return Err("'input' is required: a string or an array".to_owned()),
    };
    let dimensions = body
        .get("dimensions")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_DIMENSIONS)
        .clamp(1, 4096);
    let base64 = body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let vector = unit_vector(input, dimensions);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": input_tokens, "total_tokens": input_tokens}
    }))
}

/// A vector derived from the text alone (FNV-1a seeded per dimension), scaled to length 1.
fn unit_vector(text: &str, dimensions: u64) -> Vec<f32> {
    let raw: Vec<f32> = (0..dimensions)
        .map(|d| {
            let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ d;
            for byte in text.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
            (hash % 2001) as f32 / 1000.0 - 1.0
        })
        .collect();
    let norm = raw
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    raw.iter().map(|x| x / norm).collect()
}

/// `GET /v1/models`.
pub(crate) fn models(ids: &[String]) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": CREATED, "owned_by": "switchyard-fake"}))
        .collect();
    json!({"object": "list", "data": data})
}

/// An OpenAI error body: `{"error": {message, type, param, code}}`.
pub(crate) fn error(status: u16, message: Option<&str>) -> Value {
    let (kind, code, default_message): (&str, Value, &str) = match status {
        400 => ("invalid_request_error", Value::Null, "Invalid request."),
        401 => (
            "invalid_request_error",
            json!("invalid_api_key"),
            "Incorrect API key provided.",
        ),
        403 => (
            "invalid_request_error",
            json!("unsupported_country_region_territory"),
            "Country, region, or territory not supported.",
        ),
        404 => (
            "invalid_request_error",
            json!("model_not_found"),
            "The model does not exist or you do not have access to it.",
        ),
        429 => (
            "requests",
            json!("rate_limit_exceeded"),
            "Rate limit reached for requests. Please try again later.",
        ),
        503 => (
            "server_error",
            Value::Null,
            "The engine is currently overloaded, please try again later.",
        ),
        500..=599 => (
            "server_error",
            Value::Null,
            "The server had an error while processing your request. Sorry about that!",
        ),
        _ => ("invalid_request_error", Value::Null, "Request failed."),
    };
    json!({
        "error": {
            "message": message.unwrap_or(default_message),
            "type": kind,
            "param": null,
            "code": code
        }
    })
}

/// `x-ratelimit-*` headers; resets are durations such as `6s`.
pub(crate) fn rate_limit_headers(limit: &RateLimit) -> Vec<(&'static str, String)> {
    vec![
        (
            "x-ratelimit-limit-requests",
            limit.requests_limit.to_string(),
        ),
        (
            "x-ratelimit-remaining-requests",
            limit.requests_remaining.to_string(),
        ),
        (
            "x-ratelimit-reset-requests",
            format!("{}s", limit.reset_seconds),
        ),
        ("x-ratelimit-limit-tokens", limit.tokens_limit.to_string()),
        (
            "x-ratelimit-remaining-tokens",
            limit.tokens_remaining.to_string(),
        ),
        (
            "x-ratelimit-reset-tokens",
            format!("{}s", limit.reset_seconds),
        ),
    ]
}

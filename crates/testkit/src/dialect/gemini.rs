//! The Gemini API's wire format, written by hand as the API documents it:
//! `GenerateContentResponse` (JSON, and one per SSE event with CRLF line ends for
//! `streamGenerateContent?alt=sse`, or a streamed JSON array without `alt=sse`), `countTokens`,
//! the model list and `google.rpc.Status` error bodies. Gemini sends no rate-limit headers. This
//! module must not use the protocol crate.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::answer::{last_with_role, text_of, Answer};
use crate::body::data_event_crlf;

/// The model list when the script names none.
pub(crate) const MODELS: &[&str] = &["gemini-2.5-flash", "gemini-2.5-pro"];

/// The text of the last `user` content (Gemini parts carry no `type`).
pub(crate) fn user_text(body: &Value) -> Option<String> {
    let contents = body.get("contents")?;
    // A single-turn request may leave the role out; it is then the user's.
    let content = last_with_role(contents, "user").or_else(|| {
        contents
            .as_array()?
            .iter()
            .rev()
            .find(|c| c.get("role").is_none())
    })?;
    text_of(content.get("parts")?, &[])
}

fn usage(answer: &Answer, candidates: u64) -> Value {
    json!({
        "promptTokenCount": answer.input_tokens,
        "candidatesTokenCount": candidates,
        "totalTokenCount": answer.input_tokens + candidates,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": answer.input_tokens}]
    })
}

fn chunk(answer: &Answer, parts: Value, finished: bool, candidates: u64) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if finished {
        candidate["finishReason"] = json!("STOP");
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage(answer, candidates),
        "modelVersion": answer.model,
        "responseId": answer.id("")
    })
}

fn function_call(answer: &Answer) -> Option<Value> {
    let tool = answer.tool.as_ref()?;
    Some(json!([{"functionCall": {"name": tool.name, "args": tool.arguments_value()}}]))
}

/// A `GenerateContentResponse`. Function calls finish with `STOP`, as Gemini reports them.
pub(crate) fn json(answer: &Answer) -> Value {
    let parts = function_call(answer).unwrap_or_else(|| json!([{"text": answer.text}]));
    chunk(answer, parts, true, answer.output_tokens)
}

/// The streamed responses: one per piece with cumulative usage, `finishReason` on the last;
/// a function call travels whole in one response. Each is an SSE `data:` event when `sse`,
/// else an element of a JSON array streamed as it is written.
pub(crate) fn stream(answer: &Answer, sse: bool) -> Vec<Bytes> {
    let chunks: Vec<Value> = match function_call(answer) {
        Some(parts) => vec![chunk(answer, parts, true, answer.output_tokens)],
        None => {
            let last = answer.pieces.len().saturating_sub(1);
            answer
                .pieces
                .iter()
                .enumerate()
                .map(|(i, piece)| chunk(answer, json!([{"text": piece}]), i == last, i as u64 + 1))
                .collect()
        }
    };
    if sse {
        return chunks.iter().map(data_event_crlf).collect();
    }
    let count = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let open = if i == 0 { "[" } else { "" };
            let close = if i + 1 == count { "]" } else { ",\r\n" };
            Bytes::from(format!("{open}{chunk}{close}"))
        })
        .collect()
}

/// `:countTokens`.
pub(crate) fn count_tokens(input_tokens: u64) -> Value {
    json!({
        "totalTokens": input_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": input_tokens}]
    })
}

/// `GET /v1beta/models`.
pub(crate) fn models(ids: &[String]) -> Value {
    let models: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "name": format!("models/{id}"),
                "version": "001",
                "displayName": id,
                "description": "A model served by the switchyard fake upstream.",
                "inputTokenLimit": 1_048_576,
                "outputTokenLimit": 65_536,
                "supportedGenerationMethods": ["generateContent", "countTokens"]
            })
        })
        .collect();
    json!({"models": models})
}

/// A `google.rpc.Status` error body; a 429 with a retry delay carries it as `RetryInfo`.
pub(crate) fn error(status: u16, message: Option<&str>, retry_after: Option<u64>) -> Value {
    let (code_name, default_message) = match status {
        400 => ("INVALID_ARGUMENT", "Request contains an invalid argument."),
        401 => (
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        ),
        403 => (
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers.",
        ),
        404 => ("NOT_FOUND", "Requested entity was not found."),
        429 => (
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
        ),
        500 => ("INTERNAL", "An internal error has occurred."),
        503 | 529 => (
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        ),
        504 => ("DEADLINE_EXCEEDED", "Deadline exceeded."),
        _ => ("UNKNOWN", "Request failed."),
    };
    let mut error = json!({
        "code": status,
        "message": message.unwrap_or(default_message),
        "status": code_name
    });
    if let Some(seconds) = retry_after {
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{seconds}s")
        }]);
    }
    json!({"error": error})
}

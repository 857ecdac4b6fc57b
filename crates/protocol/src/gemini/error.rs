//! Gemini error bodies ↔ IR error bodies: `{"error":{"code","message","status","details"}}`,
//! with the `google.rpc` status name and, for 429, a `RetryInfo` detail giving the delay.
//!
//! Decoding never fails: a body that is not Gemini's error shape becomes a message with the
//! raw text (truncated). The same shape is used for errors in the middle of a stream.

use serde_json::{json, Value};

use super::parts;
use super::wire::{ErrorDetail, ErrorEnvelope};
use crate::ir::{ErrorBody, ErrorKind};
use crate::Dialect;

/// How much of an unparseable body goes into the message.
const RAW_LIMIT: usize = 512;
const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// The `google.rpc.Code` names, so a code from another dialect is never passed off as one.
const RPC_CODES: &[&str] = &[
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

fn kind_of_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => ErrorKind::Api,
        _ => return None,
    })
}

fn code_of_kind(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => "INVALID_ARGUMENT",
        ErrorKind::Authentication => "UNAUTHENTICATED",
        ErrorKind::PermissionDenied => "PERMISSION_DENIED",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::RateLimited => "RESOURCE_EXHAUSTED",
        ErrorKind::Api => "INTERNAL",
        ErrorKind::Overloaded => "UNAVAILABLE",
        ErrorKind::Timeout => "DEADLINE_EXCEEDED",
    }
}

/// `"37s"` / `"1.5s"` → whole seconds, rounded up.
fn parse_delay(s: &str) -> Option<u64> {
    let secs: f64 = s.strip_suffix('s')?.parse().ok()?;
    (secs >= 0.0).then(|| secs.ceil() as u64)
}

fn retry_after(details: &[Value]) -> Option<u64> {
    details
        .iter()
        .filter(|d| d.get("@type").and_then(Value::as_str) == Some(RETRY_INFO))
        .find_map(|d| {
            d.get("retryDelay")
                .and_then(Value::as_str)
                .and_then(parse_delay)
        })
}

/// An IR error from Gemini's error object; `status` is the HTTP status when known.
pub(crate) fn from_detail(d: ErrorDetail, status: Option<u16>) -> ErrorBody {
    let status = status.or(d.code);
    let kind = match (status, d.status.as_deref().and_then(kind_of_code)) {
        (Some(413), _) => ErrorKind::RequestTooLarge,
        (_, Some(kind)) => kind,
        (Some(s), None) => ErrorKind::from_status(s),
        (None, None) => ErrorKind::Api,
    };
    let mut fields = d.extra;
    let retry = d.details.as_deref().and_then(retry_after);
    if let Some(details) = d.details {
        fields.insert("details".into(), Value::Array(details));
    }
    ErrorBody {
        kind,
        message: d.message,
        status,
        retry_after: retry,
        code: d.status,
        extras: parts::extras(fields),
    }
}

/// The error object inside a parsed JSON value (`{"error":…}` or `[{"error":…}]`, the latter
/// from the non-SSE streaming endpoint).
pub(crate) fn detail_of(value: Value) -> Option<ErrorDetail> {
    let value = match value {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        v => v,
    };
    serde_json::from_value::<ErrorEnvelope>(value)
        .ok()
        .map(|e| e.error)
}

pub fn decode_error(status: u16, body: &[u8]) -> ErrorBody {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(detail_of);
    if let Some(d) = parsed {
        return from_detail(d, Some(status));
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut cut = text.len().min(RAW_LIMIT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let message = if text.is_empty() {
        format!("HTTP {status}")
    } else {
        text[..cut].to_string()
    };
    let mut e = ErrorBody::new(ErrorKind::from_status(status), message);
    e.status = Some(status);
    e
}

/// The error object for `err` (also used for mid-stream errors) and the HTTP status.
pub(crate) fn to_envelope(err: &ErrorBody) -> (u16, Value) {
    let gemini_code = err
        .code
        .as_deref()
        .filter(|c| RPC_CODES.contains(c))
        .map(str::to_string);
    // A Gemini status name means the error came from Gemini: keep its HTTP status too.
    // Otherwise the kind decides both (an Anthropic 529 becomes 503 UNAVAILABLE).
    let (status, code) = match gemini_code {
        Some(code) => (err.status(), code),
        None => (err.kind.status(), code_of_kind(err.kind).to_string()),
    };
    let mut error = json!({"code": status, "message": err.message, "status": code});
    let gemini = err.extras.for_dialect(Dialect::Gemini);
    if let (Some(fields), Value::Object(obj)) = (gemini, &mut error) {
        for (k, v) in fields {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let (Some(secs), Value::Object(obj)) = (err.retry_after, &mut error) {
        let has_retry = obj
            .get("details")
            .and_then(Value::as_array)
            .is_some_and(|d| retry_after(d).is_some());
        if !has_retry {
            let info = json!({"@type": RETRY_INFO, "retryDelay": format!("{secs}s")});
            match obj.get_mut("details").and_then(Value::as_array_mut) {
                Some(details) => details.push(info),
                None => {
                    obj.insert("details".into(), Value::Array(vec![info]));
                }
            }
        }
    }
    (status, json!({ "error": error }))
}

pub fn encode_error(err: &ErrorBody) -> (u16, Vec<u8>) {
    let (status, body) = to_envelope(err);
    (status, crate::json::encode(&body))
}

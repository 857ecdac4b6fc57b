//! OpenAI error bodies: `{"error": {"message", "type", "param", "code"}}`, for whole responses
//! and for mid-stream `data: {"error": ...}` frames.
//!
//! The forms OpenAI itself returns, which the encoder reproduces:
//! - 400 `invalid_request_error`, `code` often null or `invalid_value`, `param` naming the field;
//! - 401 `invalid_request_error` with `code: "invalid_api_key"` (OpenAI has no
//!   `authentication_error` type);
//! - 403 `invalid_request_error` (e.g. `code: "unsupported_country_region_territory"`);
//! - 404 `invalid_request_error` with `code: "model_not_found"`;
//! - 429 `type: "tokens"` or `"requests"` with `code: "rate_limit_exceeded"`, and the wait in
//!   the message ("Please try again in 1.5s."), or `insufficient_quota` for billing;
//! - 500 `server_error`; 503 `server_error` ("The engine is currently overloaded").
//!
//! The status decides the kind; the body's `type` / `code` decide it only for stream frames
//! (no status). Never fails: a body that is not this shape becomes its text, truncated.

use serde_json::{json, Map, Value};

use super::form;
use super::wire::ErrorEnvelope;
use crate::ir::{ErrorBody, ErrorKind};

/// Longest raw body kept as a message.
const RAW_LIMIT: usize = 512;

pub fn decode_error(status: u16, body: &[u8]) -> ErrorBody {
    let status = (status >= 400).then_some(status);
    let kind_of = |t: Option<&str>, code: Option<&str>| match status {
        Some(s) => ErrorKind::from_status(s),
        None => kind_from_body(t, code),
    };
    if let Ok(env) = serde_json::from_slice::<ErrorEnvelope>(body) {
        let e = env.error;
        let code = match &e.code {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let kind = kind_of(e.kind.as_deref(), code.as_deref());
        // Only what the encoder would not write by itself is kept, for the same dialect.
        let mut fields = Map::new();
        if e.kind.as_deref() != Some(wire_type(kind).0) {
            fields.insert(
                "type".into(),
                e.kind.clone().map_or(Value::Null, Value::String),
            );
        }
        if let Some(p) = e.param.clone().filter(|p| !p.is_null()) {
            fields.insert("param".into(), p);
        }
        if let Some(c @ Value::Number(_)) = &e.code {
            fields.insert("code".into(), c.clone());
        }
        if code.is_none() && wire_type(kind).1.is_some() {
            fields.insert("code".into(), Value::Null);
        }
        fields.extend(e.extra);
        return ErrorBody {
            kind,
            retry_after: retry_after(&e.message),
            message: e.message,
            status,
            code,
            extras: form::extras(fields),
        };
    }
    // `{"error": "text"}` and `{"message": "text"}` from some compatible servers.
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = match (&value["error"], &value["message"]) {
        (Value::String(s), _) | (_, Value::String(s)) => s.clone(),
        _ => truncate(&String::from_utf8_lossy(body)),
    };
    ErrorBody {
        kind: kind_of(None, None),
        retry_after: retry_after(&message),
        message,
        status,
        code: None,
        extras: Default::default(),
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= RAW_LIMIT {
        return s.to_string();
    }
    let mut cut = RAW_LIMIT;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &s[..cut])
}

fn kind_from_body(kind: Option<&str>, code: Option<&str>) -> ErrorKind {
    code.and_then(kind_from_code)
        .or_else(|| kind.and_then(kind_from_code))
        .unwrap_or(ErrorKind::Api)
}

/// The kind an OpenAI error `code` (or `type`) names, when it names one more precisely than
/// the status does (mid-stream errors have no status at all).
pub(crate) fn kind_from_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "rate_limit_exceeded" | "insufficient_quota" | "requests" | "tokens" => {
            ErrorKind::RateLimited
        }
        "server_is_overloaded" | "slow_down" | "overloaded" => ErrorKind::Overloaded,
        "invalid_api_key" | "authentication_error" => ErrorKind::Authentication,
        "invalid_request_error" | "invalid_prompt" | "context_length_exceeded" => {
            ErrorKind::InvalidRequest
        }
        "permission_error" => ErrorKind::PermissionDenied,
        "model_not_found" | "not_found" => ErrorKind::NotFound,
        "server_error" => ErrorKind::Api,
        "timeout" => ErrorKind::Timeout,
        _ => return None,
    })
}

/// Seconds from OpenAI's "Please try again in 1.5s." / "in 250ms." / "in 2m30s.", rounded up.
pub(crate) fn retry_after(message: &str) -> Option<u64> {
    let idx = message.find("try again in ")?;
    let rest = &message[idx + "try again in ".len()..];
    let mut total_ms = 0f64;
    let mut number = String::new();
    let mut chars = rest.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                total_ms += value;
            }
            'm' => total_ms += value * 60_000.0,
            'h' => total_ms += value * 3_600_000.0,
            's' => total_ms += value * 1000.0,
            _ => return None,
        }
        any = true;
        if !chars.peek().is_some_and(|c| c.is_ascii_digit()) {
            break;
        }
    }
    if !any {
        return None;
    }
    Some((total_ms / 1000.0).ceil() as u64)
}

/// The `type` and `code` OpenAI uses for each kind.
fn wire_type(kind: ErrorKind) -> (&'static str, Option<&'static str>) {
    match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", None),
        ErrorKind::Authentication => ("invalid_request_error", Some("invalid_api_key")),
        ErrorKind::PermissionDenied => ("invalid_request_error", None),
        ErrorKind::NotFound => ("invalid_request_error", Some("model_not_found")),
        ErrorKind::RequestTooLarge => ("invalid_request_error", None),
        ErrorKind::RateLimited => ("requests", Some("rate_limit_exceeded")),
        ErrorKind::Api | ErrorKind::Overloaded => ("server_error", None),
        ErrorKind::Timeout => ("server_error", Some("timeout")),
    }
}

pub fn encode_error(err: &ErrorBody) -> (u16, Vec<u8>) {
    (err.status(), crate::json::encode(&error_value(err)))
}

/// The `{"error": {...}}` object (also the mid-stream error frame).
pub(crate) fn error_value(err: &ErrorBody) -> Value {
    let (kind, code) = wire_type(err.kind);
    let mut message = err.message.clone();
    if let Some(secs) = err.retry_after {
        if retry_after(&message).is_none() {
            let message_end = message.trim_end();
            if !message_end.is_empty() {
                let stop = if message_end.ends_with(['.', '!', '?']) {
                    ""
                } else {
                    "."
                };
                message = format!("{message_end}{stop} ");
            }
            message.push_str(&format!("Please try again in {secs}s."));
        }
    }
    let mut obj = Map::new();
    obj.insert("message".into(), message.into());
    obj.insert("type".into(), kind.into());
    obj.insert("param".into(), Value::Null);
    obj.insert(
        "code".into(),
        err.code
            .clone()
            .or(code.map(str::to_string))
            .map_or(Value::Null, Value::String),
    );
    // Same-dialect errors come back exactly (their own type, param, numeric code, extras).
    form::merge_over(&err.extras, &mut obj);
    json!({ "error": obj })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_hints() {
        assert_eq!(retry_after("Please try again in 20s."), Some(20));
        assert_eq!(retry_after("Please try again in 1.898s. Visit"), Some(2));
        assert_eq!(retry_after("Please try again in 250ms."), Some(1));
        assert_eq!(retry_after("Please try again in 2m30s."), Some(150));
        assert_eq!(retry_after("Please try again later."), None);
    }
}

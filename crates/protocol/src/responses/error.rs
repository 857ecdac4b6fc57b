//! Responses error bodies: `{"error": {"message", "type", "param", "code"}}` with the same
//! statuses as Chat Completions, to and from [`ErrorBody`]. Decoding never fails: a body that
//! is not this shape becomes a message holding the raw text. Retry hints travel in the message
//! ("Please try again in 20s."), as OpenAI writes them; the `retry-after` header is the
//! server's business.

use serde_json::{json, Map, Value};

use super::items::{self, field};
use super::wire;
use crate::ir::{ErrorBody, ErrorKind};

/// How much of an unparseable body is kept as the message.
const RAW_LIMIT: usize = 512;

pub fn decode_error(status: u16, body: &[u8]) -> ErrorBody {
    let Ok(env) = serde_json::from_slice::<wire::ErrorEnvelope>(body) else {
        let text = String::from_utf8_lossy(body);
        let mut cut = text.len().min(RAW_LIMIT);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut err = ErrorBody::new(ErrorKind::from_status(status), text[..cut].trim());
        err.status = Some(status);
        return err;
    };
    let e = env.error;
    let code = match &e.code {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    // The code is the most specific; then the status; the type only when the status says
    // nothing more than "server error" (a 200 mid-stream, a 500).
    let by_status = ErrorKind::from_status(status);
    let kind = code
        .as_deref()
        .and_then(kind_from_code)
        .or_else(|| (by_status != ErrorKind::Api).then_some(by_status))
        .or_else(|| e.kind.as_deref().and_then(kind_from_code))
        .unwrap_or(by_status);
    let mut fields = e.extra;
    fields.insert("type".into(), e.kind.map_or(Value::Null, Value::String));
    fields.insert("param".into(), e.param.unwrap_or(Value::Null));
    if code.is_none() {
        fields.insert("code".into(), e.code.unwrap_or(Value::Null));
    }
    ErrorBody {
        kind,
        retry_after: retry_after_in(&e.message),
        message: e.message,
        status: Some(status),
        code,
        extras: items::extras(fields),
    }
}

pub fn encode_error(err: &ErrorBody) -> (u16, Vec<u8>) {
    let status = err.status();
    let (kind, default_code) = type_and_code(err.kind);
    let mut message = err.message.clone();
    if let Some(secs) = err.retry_after {
        if retry_after_in(&message).is_none() {
            if !message.is_empty() && !message.ends_with(' ') {
                message.push(' ');
            }
            message.push_str(&format!("Please try again in {secs}s."));
        }
    }
    let mut obj = Map::new();
    obj.insert("message".into(), json!(message));
    obj.insert(
        "type".into(),
        field(&err.extras, "type").cloned().unwrap_or(json!(kind)),
    );
    obj.insert(
        "param".into(),
        field(&err.extras, "param").cloned().unwrap_or(Value::Null),
    );
    let code = match &err.code {
        Some(c) => json!(c),
        None => field(&err.extras, "code")
            .cloned()
            .unwrap_or_else(|| default_code.map_or(Value::Null, |c| json!(c))),
    };
    obj.insert("code".into(), code);
    items::merge_wire_fields(&err.extras, &mut obj, &[]);
    let body = json!({ "error": obj });
    (status, crate::json::encode(&body))
}

/// The `type` and default `code` OpenAI uses for each kind.
fn type_and_code(kind: ErrorKind) -> (&'static str, Option<&'static str>) {
    match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", None),
        ErrorKind::Authentication => ("invalid_request_error", Some("invalid_api_key")),
        ErrorKind::PermissionDenied => ("permission_error", None),
        ErrorKind::NotFound => ("invalid_request_error", Some("not_found")),
        ErrorKind::RequestTooLarge => ("invalid_request_error", Some("request_too_large")),
        ErrorKind::RateLimited => ("requests", Some("rate_limit_exceeded")),
        ErrorKind::Api => ("server_error", None),
        ErrorKind::Overloaded => ("server_error", Some("server_is_overloaded")),
        ErrorKind::Timeout => ("server_error", Some("timeout")),
    }
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
pub(crate) fn retry_after_in(message: &str) -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_hints() {
        assert_eq!(retry_after_in("Please try again in 20s."), Some(20));
        assert_eq!(retry_after_in("Please try again in 1.898s. Visit"), Some(2));
        assert_eq!(retry_after_in("Please try again in 250ms."), Some(1));
        assert_eq!(retry_after_in("Please try again in 2m30s."), Some(150));
        assert_eq!(retry_after_in("Please try again later."), None);
    }
}

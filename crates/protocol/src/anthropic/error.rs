//! Anthropic error bodies (`{"type":"error","error":{"type","message"},"request_id"}`) ↔ IR
//! error bodies, with this dialect's statuses (overloaded is 529). The body has no retry
//! hint (`retry-after` is a header, the server's business), so `retry_after` stays `None`.
//! Decoding never fails.

use serde_json::Map;

use super::content;
use super::wire;
use crate::ir::{ErrorBody, ErrorKind};

/// Longest raw body kept as the message of an error whose body is not Anthropic JSON.
const RAW_MESSAGE_MAX: usize = 512;

pub fn decode_error(status: u16, body: &[u8]) -> ErrorBody {
    match serde_json::from_slice::<wire::ErrorResponse>(body) {
        Ok(w) => {
            let mut err = from_detail(&w.error, Some(status));
            err.extras = content::extras(w.extra);
            err
        }
        Err(_) => {
            let mut err = ErrorBody::new(ErrorKind::from_status(status), raw_message(body));
            err.status = Some(status);
            err
        }
    }
}

/// An error from its wire `error` object (also a stream `error` event's); the type decides
/// the kind, the status only when the type is unknown.
pub(crate) fn from_detail(detail: &wire::ErrorDetail, status: Option<u16>) -> ErrorBody {
    let kind = kind_from_type(&detail.kind)
        .or_else(|| status.map(ErrorKind::from_status))
        .unwrap_or(ErrorKind::Api);
    let mut err = ErrorBody::new(kind, detail.message.clone());
    err.status = status;
    err.code = (!detail.kind.is_empty()).then(|| detail.kind.clone());
    err
}

fn raw_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.len() <= RAW_MESSAGE_MAX {
        return text.to_string();
    }
    let mut cut = RAW_MESSAGE_MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

pub fn encode_error(err: &ErrorBody) -> (u16, Vec<u8>) {
    let status = match err.kind {
        ErrorKind::Overloaded => 529,
        _ => err.status(),
    };
    let body = wire::ErrorResponse {
        extra: content::wire_extra(&err.extras),
        kind: "error".into(),
        error: to_detail(err),
    };
    (status, wire::to_bytes(&body))
}

/// The wire `error` object. The type follows the kind (a known upstream type maps to the
/// kind and back to itself).
pub(crate) fn to_detail(err: &ErrorBody) -> wire::ErrorDetail {
    wire::ErrorDetail {
        extra: Map::new(),
        kind: type_name(err.kind).to_string(),
        message: err.message.clone(),
    }
}

fn kind_from_type(t: &str) -> Option<ErrorKind> {
    Some(match t {
        "invalid_request_error" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "request_too_large" => ErrorKind::RequestTooLarge,
        "rate_limit_error" => ErrorKind::RateLimited,
        "api_error" => ErrorKind::Api,
        "overloaded_error" => ErrorKind::Overloaded,
        "timeout_error" => ErrorKind::Timeout,
        _ => return None,
    })
}

fn type_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::PermissionDenied => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RequestTooLarge => "request_too_large",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Api => "api_error",
        ErrorKind::Overloaded => "overloaded_error",
        ErrorKind::Timeout => "timeout_error",
    }
}

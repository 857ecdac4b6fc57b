//! Error bodies, in dialect-neutral form: what an upstream said went wrong, or what the
//! gateway tells a client, before it is rendered in a dialect.

use super::Extras;

/// The class of an error; each dialect maps it to its own type name and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 400: the request is malformed or asks for something unsupported.
    InvalidRequest,
    /// 401
    Authentication,
    /// 403
    PermissionDenied,
    /// 404
    NotFound,
    /// 413
    RequestTooLarge,
    /// 429
    RateLimited,
    /// 500
    Api,
    /// 503 / Anthropic 529: the provider is overloaded.
    Overloaded,
    /// 504: the upstream did not answer in time.
    Timeout,
}

impl ErrorKind {
    /// The HTTP status most dialects use for this kind (Anthropic renders `Overloaded` as 529
    /// in its own encoder).
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::RequestTooLarge => 413,
            ErrorKind::RateLimited => 429,
            ErrorKind::Api => 500,
            ErrorKind::Overloaded => 503,
            ErrorKind::Timeout => 504,
        }
    }

    /// The kind an HTTP status stands for when the body says nothing clearer.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => ErrorKind::InvalidRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            413 => ErrorKind::RequestTooLarge,
            429 => ErrorKind::RateLimited,
            503 | 529 => ErrorKind::Overloaded,
            504 | 408 => ErrorKind::Timeout,
            _ => ErrorKind::Api,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub message: String,
    /// The HTTP status the upstream used, when decoded from a response.
    pub status: Option<u16>,
    /// Seconds to wait before retrying (`retry-after`, Gemini `RetryInfo`).
    pub retry_after: Option<u64>,
    /// The dialect's own error code (OpenAI `code`, Gemini `status`).
    pub code: Option<String>,
    pub extras: Extras,
}

impl ErrorBody {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
            code: None,
            extras: Extras::default(),
        }
    }

    /// The status to answer with: the upstream's own when known, else the kind's.
    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.kind.status())
    }
}

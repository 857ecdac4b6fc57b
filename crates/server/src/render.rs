//! Gateway errors rendered in the caller's dialect: the status, the dialect's error body and,
//! for rate limits, a `retry-after` header. Every error a client sees passes through here once.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use switchyard_protocol::ir::{ErrorBody, ErrorKind};
use switchyard_protocol::Dialect;

/// An error on its way to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Boxed: errors travel in `Result`s on the request path, which stay small this way.
    pub body: Box<ErrorBody>,
}

impl From<ErrorBody> for ApiError {
    fn from(body: ErrorBody) -> Self {
        Self {
            body: Box::new(body),
        }
    }
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ErrorBody::new(kind, message).into()
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.body.retry_after = Some(secs);
        self
    }

    /// A short class for usage records and logs.
    pub fn class(&self) -> &'static str {
        match self.body.kind {
            ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge | ErrorKind::NotFound => {
                "client_error"
            }
            ErrorKind::Authentication | ErrorKind::PermissionDenied => "unauthorized",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Api => "upstream_error",
        }
    }

    pub fn status(&self) -> u16 {
        self.body.status()
    }

    pub fn render(&self, dialect: Dialect) -> Response {
        let (status, body) = dialect.encode_error(&self.body);
        let mut resp = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )
            .into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.body.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // A stream whose head has left already tells its error as an event (`early`).
        resp.extensions_mut().insert(ErrorBody::clone(&self.body));
        resp
    }
}

//! What an attempt on a credential led to, as far as the pool and the attempt loop care:
//! whether to try elsewhere and what it does to the credential. It classifies upstream HTTP
//! statuses; it does not parse bodies or headers (the caller reads `retry-after` and the
//! upstream's error message and passes them in).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// 429: the member cools down for `retry_after`, or an exponential default.
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// 401 / 403 (and 402, payment required): the credential itself is refused, so it is
    /// marked invalid until activated.
    Unauthorized {
        status: u16,
        message: String,
    },
    /// 5xx, or a status an API should never answer with.
    ServerError {
        status: u16,
    },
    Timeout,
    ConnectFailed,
    /// A 4xx the client caused (bad request, unknown model, too large): another credential
    /// would answer the same, so it goes back to the client as is.
    ClientError {
        status: u16,
    },
}

impl Outcome {
    /// Whether the attempt loop should try another credential or target. A client error is
    /// returned to the client instead: retrying it elsewhere would only repeat it.
    pub fn retry_elsewhere(&self) -> bool {
        match self {
            Outcome::RateLimited { .. }
            | Outcome::Unauthorized { .. }
            | Outcome::ServerError { .. }
            | Outcome::Timeout
            | Outcome::ConnectFailed => true,
            Outcome::Success | Outcome::ClientError { .. } => false,
        }
    }

    /// A short stable name for usage records, logs and metrics labels.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Success => "ok",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::Unauthorized { .. } => "unauthorized",
            Outcome::ServerError { .. } => "upstream_5xx",
            Outcome::Timeout => "timeout",
            Outcome::ConnectFailed => "connect_failed",
            Outcome::ClientError { .. } => "client_error",
        }
    }

    /// A one-line description for status displays.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Success => "ok".to_string(),
            Outcome::RateLimited {
                retry_after: Some(d),
            } => format!("rate limited (retry after {} ms)", d.as_millis()),
            Outcome::RateLimited { retry_after: None } => "rate limited".to_string(),
            Outcome::Unauthorized { status, message } if message.is_empty() => {
                format!("refused with {status}")
            }
            Outcome::Unauthorized { status, message } => {
                format!("refused with {status}: {message}")
            }
            Outcome::ServerError { status } => format!("upstream answered {status}"),
            Outcome::Timeout => "upstream timed out".to_string(),
            Outcome::ConnectFailed => "could not connect to the upstream".to_string(),
            Outcome::ClientError { status } => {
                format!("upstream refused the request with {status}")
            }
        }
    }
}

/// The outcome an upstream HTTP status means. `retry_after` is the parsed `retry-after`
/// header, used only with a 429. The caller may replace an `Unauthorized` message (empty
/// here) with the upstream's own error text.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Success,
        429 => Outcome::RateLimited { retry_after },
        // 402 belongs with 401/403: the account behind this credential cannot pay, another
        // credential may, and only the operator can fix this one.
        401..=403 => Outcome::Unauthorized {
            status,
            message: String::new(),
        },
        // The upstream gave up waiting for the request: transient, like a timeout.
        408 => Outcome::Timeout,
        400..=499 => Outcome::ClientError { status },
        // 5xx, and 1xx / 3xx / out-of-range codes, which an API answering a POST never
        // sends when healthy: treat as the upstream misbehaving, and try elsewhere.
        _ => Outcome::ServerError { status },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_table() {
        let ra = Some(Duration::from_secs(7));
        let table: [(u16, Option<Duration>, Outcome); 16] = [
            (200, None, Outcome::Success),
            (204, None, Outcome::Success),
            (429, ra, Outcome::RateLimited { retry_after: ra }),
            (429, None, Outcome::RateLimited { retry_after: None }),
            (401, None, unauthorized(401)),
            (402, None, unauthorized(402)),
            (403, ra, unauthorized(403)),
            (408, None, Outcome::Timeout),
            (400, ra, Outcome::ClientError { status: 400 }),
            (404, None, Outcome::ClientError { status: 404 }),
            (413, None, Outcome::ClientError { status: 413 }),
            (500, None, Outcome::ServerError { status: 500 }),
            (503, ra, Outcome::ServerError { status: 503 }),
            (529, None, Outcome::ServerError { status: 529 }),
            (302, None, Outcome::ServerError { status: 302 }),
            (100, None, Outcome::ServerError { status: 100 }),
        ];
        for (status, retry_after, want) in table {
            assert_eq!(classify(status, retry_after), want, "status {status}");
        }
    }

    fn unauthorized(status: u16) -> Outcome {
        Outcome::Unauthorized {
            status,
            message: String::new(),
        }
    }

    #[test]
    fn retry_elsewhere_and_class() {
        let cases = [
            (Outcome::Success, false, "ok"),
            (
                Outcome::RateLimited { retry_after: None },
                true,
                "rate_limited",
            ),
            (unauthorized(401), true, "unauthorized"),
            (Outcome::ServerError { status: 502 }, true, "upstream_5xx"),
            (Outcome::Timeout, true, "timeout"),
            (Outcome::ConnectFailed, true, "connect_failed"),
            (Outcome::ClientError { status: 400 }, false, "client_error"),
        ];
        for (outcome, retry, class) in cases {
            assert_eq!(outcome.retry_elsewhere(), retry, "{outcome:?}");
            assert_eq!(outcome.class(), class, "{outcome:?}");
        }
    }

    #[test]
    fn describe_names_status_and_message() {
        let o = Outcome::Unauthorized {
            status: 401,
            message: "invalid x-api-key".into(),
        };
        assert_eq!(o.describe(), "refused with 401: invalid x-api-key");
        assert_eq!(unauthorized(403).describe(), "refused with 403");
        let o = Outcome::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert_eq!(o.describe(), "rate limited (retry after 1500 ms)");
    }
}

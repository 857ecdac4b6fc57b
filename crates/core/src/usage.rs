//! One usage record per request: who asked, what was served by which credential, how long it
//! took, what it cost in tokens and money. Records are built on the request path and handed
//! to a batching writer through a bounded channel; nothing here waits for storage.

/// What one request did. Times are milliseconds; money is in micro-dollars so sums are exact.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct UsageRecord {
    /// The `x-request-id` the client saw.
    pub request_id: String,
    /// Unix milliseconds when the request was accepted.
    pub started_at_ms: i64,
    /// Public id of the client key, empty when the gateway runs without keys.
    pub key_id: String,
    /// The route pattern that matched (`claude-*`).
    pub route: String,
    /// The model the client asked for.
    pub requested_model: String,
    /// The model the upstream served.
    pub served_model: String,
    pub provider: String,
    pub credential: String,
    /// Client dialect name (`anthropic`, `openai`, `responses`, `gemini`).
    pub client_dialect: String,
    /// Upstream dialect name, or `mock`.
    pub upstream_dialect: String,
    pub stream: bool,
    /// HTTP status the client received (200 for a stream that later failed; see `error_class`).
    pub status: u16,
    /// Accept to last byte.
    pub latency_ms: u64,
    /// Accept to first byte sent to the client.
    pub ttfb_ms: Option<u64>,
    /// The gateway's own time: latency minus time waiting on the upstream, in microseconds.
    pub overhead_us: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_micros: i64,
    /// Attempts beyond the first (other credentials or targets tried).
    pub retries: u32,
    /// Why the request failed (`rate_limited`, `upstream_5xx`, `timeout`, `client_error`, ...),
    /// none when it succeeded.
    pub error_class: Option<String>,
    pub session_id: Option<String>,
    pub run_id: Option<String>,
}

/// Totals over a group of records (`switchyard usage --by ...`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UsageSummary {
    /// The group's value (a key id, a model, a credential), or `all`.
    pub group: String,
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub cost_micros: i64,
}

/// How `UsageSummary` rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageGroup {
    All,
    Key,
    Model,
    Credential,
    Provider,
}

/// The most records one page of the request log holds, whatever the filter asks.
pub const MAX_PAGE: u32 = 1_000;

/// The page size of [`UsageFilter::default`].
pub const DEFAULT_PAGE: u32 = 100;

/// Which records the request log lists (`Engine::query_usage`): every field set must match
/// (AND); string fields match exactly, case-sensitively. Newest first, by start time then
/// insertion order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageFilter {
    pub key_id: Option<String>,
    /// Matches the requested model or the served model.
    pub model: Option<String>,
    /// The HTTP status the client received.
    pub status: Option<u16>,
    pub credential: Option<String>,
    pub provider: Option<String>,
    /// Unix milliseconds, inclusive: `started_at_ms >= since_ms`.
    pub since_ms: Option<i64>,
    /// Unix milliseconds, exclusive: `started_at_ms < until_ms`.
    pub until_ms: Option<i64>,
    /// Only records after this position in newest-first order: the previous page's
    /// [`UsagePage::next`].
    pub before: Option<UsageCursor>,
    /// Page size, capped at [`MAX_PAGE`]; 0 gives an empty page.
    pub limit: u32,
}

impl Default for UsageFilter {
    /// Everything, one page of [`DEFAULT_PAGE`].
    fn default() -> Self {
        Self {
            key_id: None,
            model: None,
            status: None,
            credential: None,
            provider: None,
            since_ms: None,
            until_ms: None,
            before: None,
            limit: DEFAULT_PAGE,
        }
    }
}

impl UsageFilter {
    /// The limit actually applied: `limit` capped at [`MAX_PAGE`].
    pub fn page_size(&self) -> u32 {
        self.limit.min(MAX_PAGE)
    }
}

/// A position in the request log, newest first: a record's start time and its row id (which
/// orders records started in the same millisecond). Opaque to clients: it travels as the text
/// `<started_at_ms>.<id>` ([`UsageCursor::parse`] reads it back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageCursor {
    pub started_at_ms: i64,
    pub id: i64,
}

impl UsageCursor {
    /// Reads the text [`std::fmt::Display`] wrote; `None` when it is not a cursor.
    pub fn parse(text: &str) -> Option<UsageCursor> {
        let (at, id) = text.split_once('.')?;
        Some(UsageCursor {
            started_at_ms: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

impl std::fmt::Display for UsageCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.started_at_ms, self.id)
    }
}

/// One page of the request log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UsagePage {
    /// Newest first.
    pub records: Vec<UsageRecord>,
    /// Where the next page starts (pass it as [`UsageFilter::before`]); `None` when this page
    /// holds the last matching record.
    pub next: Option<UsageCursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_text_round_trips() {
        for c in [
            UsageCursor {
                started_at_ms: 1_700_000_000_123,
                id: 42,
            },
            UsageCursor {
                started_at_ms: -5,
                id: 0,
            },
        ] {
            assert_eq!(UsageCursor::parse(&c.to_string()), Some(c));
        }
        for bad in ["", "12", "a.b", "1.2.3", ".5", "5."] {
            assert_eq!(UsageCursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn page_size_is_capped() {
        assert_eq!(UsageFilter::default().page_size(), DEFAULT_PAGE);
        let huge = UsageFilter {
            limit: 50_000,
            ..UsageFilter::default()
        };
        assert_eq!(huge.page_size(), MAX_PAGE);
    }
}

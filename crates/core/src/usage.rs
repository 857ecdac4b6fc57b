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

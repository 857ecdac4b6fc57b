//! The config file as written: serde types with `deny_unknown_fields`, every field optional
//! where a default exists. Nothing here is validated; [`super::validate`] turns a `RawConfig`
//! into a `Config` and reports every problem at once, each with its path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `host:port` to listen on.
    pub listen: Option<String>,
    /// Folder for the database, certificates, artifacts and runs.
    pub data_dir: Option<String>,
    #[serde(default)]
    pub providers: Vec<RawProvider>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    /// What the gateway knows about upstream models: output limits and prices.
    #[serde(default)]
    pub models: Vec<RawModel>,
    /// Breakers, concurrency limits, retry budget, quota protection, the wait queue, health
    /// checks and model fallback; every field optional.
    pub resilience: Option<RawResilience>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawResilience {
    /// Follow every route's `fallback` chain unless the route says `fallback_enabled = false`.
    pub fallback: Option<bool>,
    pub breaker: Option<RawBreaker>,
    pub aimd: Option<RawAimd>,
    pub budget: Option<RawBudget>,
    pub quota: Option<RawQuota>,
    pub queue: Option<RawQueue>,
    pub health: Option<RawHealth>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub enabled: Option<bool>,
    pub consecutive_failures: Option<u32>,
    pub window: Option<RawDuration>,
    pub buckets: Option<u32>,
    pub min_calls: Option<u32>,
    pub failure_ratio: Option<f64>,
    /// Absent: slow calls do not count.
    pub slow_calls: Option<RawSlowCalls>,
    pub base_ejection: Option<RawDuration>,
    pub ejection_multiplier: Option<f64>,
    pub max_ejection: Option<RawDuration>,
    pub forget_after: Option<RawDuration>,
    pub probes: Option<u32>,
    pub probe_timeout: Option<RawDuration>,
    pub max_ejected_share: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlowCalls {
    pub threshold: Option<RawDuration>,
    pub ratio: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAimd {
    pub enabled: Option<bool>,
    pub initial: Option<u32>,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub backoff: Option<f64>,
    pub decrease_interval: Option<RawDuration>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub enabled: Option<bool>,
    pub ratio: Option<f64>,
    pub min_per_sec: Option<f64>,
    pub window: Option<RawDuration>,
    pub buckets: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuota {
    pub protect_below: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    /// `off` (default) | `wait`
    pub mode: Option<String>,
    /// Longest wait; absent: up to the request's own deadline.
    pub max_wait: Option<RawDuration>,
    pub max_depth: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    /// Between two checks of every credential; 0 turns the checks off.
    pub interval: Option<RawDuration>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Glob over upstream model names (what the gateway sends, after routing).
    pub name: String,
    /// Only for this provider; absent: any provider.
    pub provider: Option<String>,
    /// Requests asking for more output tokens are clamped to this.
    pub max_output_tokens: Option<u64>,
    /// US dollars per million tokens.
    pub price: Option<RawPrice>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: f64,
    pub output: f64,
    /// Defaults to `input`.
    pub cache_read: Option<f64>,
    /// Defaults to `input`.
    pub cache_write: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub name: String,
    /// `openai` | `anthropic` | `gemini` | `openai-responses` | `mock`
    pub kind: String,
    /// Defaults to the provider's public API; OpenAI-style kinds include the `/v1`.
    pub base_url: Option<String>,
    /// Extra headers sent with every upstream request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub timeouts: RawTimeouts,
    #[serde(default)]
    pub credentials: Vec<RawCredential>,
    /// What a `mock` provider answers, and how fast.
    pub mock: Option<RawMock>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMock {
    /// `echo` (default) | `fixed` | `lorem`
    pub mode: Option<String>,
    /// The answer in `fixed` mode.
    pub text: Option<String>,
    /// Words in `lorem` mode.
    pub words: Option<usize>,
    /// Pieces a streamed answer is split into.
    pub chunks: Option<usize>,
    pub first_byte: Option<RawDuration>,
    pub chunk_delay: Option<RawDuration>,
}

/// Durations as `"500ms"`, `"30s"`, `"5m"`, `"1h"` or a number of seconds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeouts {
    pub connect: Option<RawDuration>,
    pub first_byte: Option<RawDuration>,
    pub idle: Option<RawDuration>,
    pub total: Option<RawDuration>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawDuration {
    Seconds(u64),
    Text(String),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub name: String,
    /// The secret inline, as `env:NAME`, or as `file:PATH`. Absent for an `oauth` credential.
    #[serde(default)]
    pub secret: String,
    /// An OAuth credential: the gateway trades the refresh token for access tokens.
    pub oauth: Option<RawOAuth>,
    pub weight: Option<u32>,
    #[serde(default)]
    pub labels: Vec<String>,
    /// Most requests in flight at once on this credential; absent: no cap.
    pub max_concurrency: Option<u32>,
    /// Shared quota group (one upstream project or organisation): a 429 on one member cools
    /// every member of the group down.
    pub group: Option<String>,
}

/// An OAuth 2 refresh-token credential (RFC 6749 §6).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth {
    /// The token endpoint, e.g. `https://oauth2.googleapis.com/token`.
    pub token_url: String,
    /// Inline, `env:NAME` or `file:PATH`, like secrets.
    pub refresh_token: String,
    pub client_id: Option<String>,
    /// Inline, `env:NAME` or `file:PATH`.
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// Glob over the client-facing model name.
    pub model: String,
    /// `cache-first` | `balance` | `round-robin` | `weighted` | `fixed`
    pub strategy: Option<String>,
    /// With `strategy = "fixed"`: the credential to pin (by name), else each provider's first.
    pub credential: Option<String>,
    #[serde(default)]
    pub targets: Vec<RawTarget>,
    /// Client-facing model names tried in order when no credential of this route's targets
    /// can serve; each is routed as if the client had asked for it.
    #[serde(default)]
    pub fallback: Vec<String>,
    /// Whether this route follows its `fallback` chain; absent: `resilience.fallback`.
    pub fallback_enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub provider: String,
    /// The upstream model; none forwards the client's model name unchanged.
    pub model: Option<String>,
}

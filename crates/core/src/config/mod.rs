//! Configuration: the file's raw shape ([`raw`]), secrets ([`secret`]), and the validated
//! [`Config`] the gateway runs on.
//!
//! `validate` is the one function that turns a `RawConfig` into a `Config`. It returns every
//! problem at once, each with its config path (`providers[1].credentials[0].secret`), so an
//! operator fixes a file in one pass. A `Config` has no half-filled fields: defaults are
//! applied, secrets read, references between sections resolved to indices. Loading layers
//! (defaults < file < environment < flags) and naming the source of each value belong to the
//! binary; this module never reads files itself except secrets, through a reader passed in.

pub mod overlay;
pub mod raw;
mod resilience;
pub mod secret;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use switchyard_protocol::Dialect;

use crate::glob::Glob;
use crate::mock::MockMode;
use crate::resilience::ResilienceConfig;
use raw::{RawConfig, RawDuration, RawMock, RawModel, RawOAuth, RawProvider, RawRoute, RawTarget};
pub use secret::{Secret, SecretReader, SecretSource, SystemSecrets};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8672";
pub const DEFAULT_DATA_DIR: &str = "./.data";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub providers: Vec<ProviderConfig>,
    /// Sorted from most to least specific pattern; declaration order breaks ties.
    pub routes: Vec<RouteConfig>,
    /// Upstream model facts, most specific first; an entry for one provider comes before an
    /// equally specific one for any provider.
    pub models: Vec<ModelConfig>,
    /// Breaker, AIMD, retry budget, quota protection and wait-queue settings.
    pub resilience: ResilienceConfig,
    /// Follow every route's fallback chain unless the route opts out (`serve --fallback`).
    pub fallback: bool,
    /// Between two health checks of every credential; `None`: no checks.
    pub health_interval: Option<Duration>,
}

/// An OAuth 2 refresh-token credential.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthConfig {
    pub token_url: String,
    pub refresh_token: Secret,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub scope: Option<String>,
}

/// What the gateway knows about an upstream model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub pattern: Glob,
    /// Index into `Config::providers`; `None`: any provider.
    pub provider: Option<usize>,
    pub max_output_tokens: Option<u64>,
    pub price: Option<Price>,
}

/// US dollars per million tokens, which is also micro-dollars per token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

impl Price {
    /// What a request with this usage cost, in micro-dollars (rounded to the nearest).
    pub fn cost_micros(&self, usage: &switchyard_protocol::ir::Usage) -> i64 {
        // Output tokens include reasoning tokens, so those are not counted again.
        let micros = usage.input_tokens as f64 * self.input
            + usage.output_tokens as f64 * self.output
            + usage.cache_read_tokens as f64 * self.cache_read
            + usage.cache_write_tokens as f64 * self.cache_write;
        micros.round() as i64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    OpenAi,
    Anthropic,
    Gemini,
    OpenAiResponses,
    Mock,
}

impl ProviderKind {
    pub const NAMES: &'static str = "openai, anthropic, gemini, openai-responses, mock";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "openai" => ProviderKind::OpenAi,
            "anthropic" => ProviderKind::Anthropic,
            "gemini" => ProviderKind::Gemini,
            "openai-responses" => ProviderKind::OpenAiResponses,
            "mock" => ProviderKind::Mock,
            _ => return None,
        })
    }

    /// The dialect the upstream speaks (the mock answers in the client's own).
    pub fn dialect(self) -> Option<Dialect> {
        match self {
            ProviderKind::OpenAi => Some(Dialect::OpenAiChat),
            ProviderKind::Anthropic => Some(Dialect::Anthropic),
            ProviderKind::Gemini => Some(Dialect::Gemini),
            ProviderKind::OpenAiResponses => Some(Dialect::Responses),
            ProviderKind::Mock => None,
        }
    }

    /// The public API a provider of this kind reaches when no `base_url` is given.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAi | ProviderKind::OpenAiResponses => {
                Some("https://api.openai.com/v1")
            }
            ProviderKind::Anthropic => Some("https://api.anthropic.com"),
            ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com"),
            ProviderKind::Mock => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    /// Without a trailing slash; empty for the mock.
    pub base_url: String,
    pub headers: BTreeMap<String, String>,
    pub timeouts: Timeouts,
    pub credentials: Vec<CredentialConfig>,
    /// Only for `mock` providers.
    pub mock: MockConfig,
}

/// The mock provider's behaviour: what it says, in how many pieces, how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfig {
    pub mode: MockMode,
    pub chunks: usize,
    pub first_byte: Duration,
    pub chunk_delay: Duration,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            mode: MockMode::Echo,
            chunks: 5,
            first_byte: Duration::ZERO,
            chunk_delay: Duration::ZERO,
        }
    }
}

/// Upstream deadlines. Why these defaults: connecting is fast or broken; a model may think for
/// a minute before its first byte; a stream silent for two minutes is dead; ten minutes bounds
/// the longest generation a coding agent asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(60),
            idle: Duration::from_secs(120),
            total: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialConfig {
    pub name: String,
    pub secret: Secret,
    /// Where the secret came from, for display.
    pub source: SecretSource,
    pub weight: u32,
    pub labels: Vec<String>,
    /// Most requests in flight at once on this credential (an upstream's concurrency limit);
    /// `None`: no cap.
    pub max_concurrency: Option<u32>,
    /// Set for a refresh-token credential: requests carry an access token obtained with it
    /// (and `secret` is unused).
    pub oauth: Option<OAuthConfig>,
    /// Shared quota group: a 429 on one member cools the whole group down.
    pub group: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    CacheFirst,
    Balance,
    RoundRobin,
    Weighted,
    Fixed,
}

impl Strategy {
    pub const NAMES: &'static str = "cache-first, balance, round-robin, weighted, fixed";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "cache-first" => Strategy::CacheFirst,
            "balance" => Strategy::Balance,
            "round-robin" => Strategy::RoundRobin,
            "weighted" => Strategy::Weighted,
            "fixed" => Strategy::Fixed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteConfig {
    pub pattern: Glob,
    pub strategy: Strategy,
    /// The credential `Fixed` pins, by name; `None`: each provider's first.
    pub credential: Option<String>,
    pub targets: Vec<TargetConfig>,
    /// Client-facing model names tried in order when this route's credentials are exhausted.
    pub fallback: Vec<String>,
    /// Whether to follow `fallback`; `None`: the config-wide setting.
    pub fallback_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetConfig {
    /// Index into `Config::providers`.
    pub provider: usize,
    pub model: Option<String>,
}

impl Config {
    /// The route for a client-facing model name: the most specific matching pattern.
    pub fn route(&self, model: &str) -> Option<&RouteConfig> {
        self.routes.iter().find(|r| r.pattern.matches(model))
    }

    /// The position in `routes` of the route for `model` (per-route live state is kept by it).
    pub fn route_index(&self, model: &str) -> Option<usize> {
        self.routes.iter().position(|r| r.pattern.matches(model))
    }

    /// The fallback models `route` follows when its own credentials are exhausted: its chain
    /// when enabled on the route, or config-wide and not turned off on the route.
    pub fn fallbacks<'a>(&self, route: &'a RouteConfig) -> &'a [String] {
        if route.fallback_enabled.unwrap_or(self.fallback) {
            &route.fallback
        } else {
            &[]
        }
    }

    /// What is known about `model` as served by provider number `provider`: the most specific
    /// matching entry.
    pub fn model(&self, provider: usize, model: &str) -> Option<&ModelConfig> {
        self.models
            .iter()
            .find(|m| m.provider.is_none_or(|p| p == provider) && m.pattern.matches(model))
    }
}

/// One problem in a config, with the path of the value at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Collects problems while validation goes on.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<ConfigError>);

impl Problems {
    pub(crate) fn add(&mut self, path: impl Into<String>, problem: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.into(),
            problem: problem.into(),
        });
    }
}

/// Turns the raw config into the one the gateway runs on, or lists every problem.
///
/// A config with neither providers nor routes serves every model from a built-in `mock`
/// provider, so a first start works with no upstream and no network.
pub fn validate(raw: &RawConfig, secrets: &dyn SecretReader) -> Result<Config, Vec<ConfigError>> {
    if raw.providers.is_empty() && raw.routes.is_empty() {
        let mut with_mock = raw.clone();
        with_mock.providers.push(RawProvider {
            name: "mock".into(),
            kind: "mock".into(),
            ..RawProvider::default()
        });
        with_mock.routes.push(RawRoute {
            model: "*".into(),
            targets: vec![RawTarget {
                provider: "mock".into(),
                model: None,
            }],
            ..RawRoute::default()
        });
        return validate_layers(&with_mock, secrets);
    }
    validate_layers(raw, secrets)
}

fn validate_layers(
    raw: &RawConfig,
    secrets: &dyn SecretReader,
) -> Result<Config, Vec<ConfigError>> {
    let mut p = Problems::default();
    let listen_text = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen = match listen_text.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            p.add(
                "listen",
                format!("{listen_text:?} is not an address like 127.0.0.1:8672"),
            );
            None
        }
    };
    let data_dir = PathBuf::from(raw.data_dir.as_deref().unwrap_or(DEFAULT_DATA_DIR));

    let mut providers = Vec::new();
    let mut names = HashSet::new();
    for (i, rp) in raw.providers.iter().enumerate() {
        let path = format!("providers[{i}]");
        if !names.insert(rp.name.as_str()) {
            p.add(
                format!("{path}.name"),
                format!("provider {:?} is defined twice", rp.name),
            );
        }
        if let Some(pc) = validate_provider(rp, &path, secrets, &mut p) {
            providers.push(pc);
        }
    }

    let mut routes = Vec::new();
    let mut patterns = HashSet::new();
    for (i, rr) in raw.routes.iter().enumerate() {
        let path = format!("routes[{i}]");
        if !patterns.insert(rr.model.as_str()) {
            p.add(
                format!("{path}.model"),
                format!("route {:?} is defined twice", rr.model),
            );
        }
        if let Some(rc) = validate_route(rr, &path, &raw.providers, &mut p) {
            routes.push(rc);
        }
    }
    // Stable: declaration order breaks ties between equally specific patterns.
    routes.sort_by(|a, b| a.pattern.specificity_cmp(&b.pattern));

    let mut models = Vec::new();
    for (i, rm) in raw.models.iter().enumerate() {
        if let Some(mc) = validate_model(rm, &format!("models[{i}]"), &raw.providers, &mut p) {
            models.push(mc);
        }
    }
    models.sort_by(|a, b| {
        a.pattern
            .specificity_cmp(&b.pattern)
            .then_with(|| b.provider.is_some().cmp(&a.provider.is_some()))
    });

    for (i, rr) in raw.routes.iter().enumerate() {
        for (k, name) in rr.fallback.iter().enumerate() {
            let target = routes.iter().find(|r| r.pattern.matches(name));
            match target {
                None => p.add(
                    format!("routes[{i}].fallback[{k}]"),
                    format!("no route serves {name:?}"),
                ),
                Some(r) if r.pattern.as_str() == rr.model => p.add(
                    format!("routes[{i}].fallback[{k}]"),
                    format!("{name:?} is served by this same route"),
                ),
                Some(_) => {}
            }
        }
    }

    let defaults = raw.resilience.clone().unwrap_or_default();
    let (resilience, health_interval) = resilience::validate(&defaults, &mut p);

    match (p.0.is_empty(), listen) {
        (true, Some(listen)) => Ok(Config {
            listen,
            data_dir,
            providers,
            routes,
            models,
            resilience,
            fallback: defaults.fallback.unwrap_or(false),
            health_interval,
        }),
        _ => Err(p.0),
    }
}

fn validate_provider(
    rp: &RawProvider,
    path: &str,
    secrets: &dyn SecretReader,
    p: &mut Problems,
) -> Option<ProviderConfig> {
    if rp.name.trim().is_empty() {
        p.add(format!("{path}.name"), "must not be empty");
    }
    let Some(kind) = ProviderKind::parse(&rp.kind) else {
        p.add(
            format!("{path}.kind"),
            format!(
                "unknown kind {:?} (expected one of {})",
                rp.kind,
                ProviderKind::NAMES
            ),
        );
        return None;
    };
    let base_url = match (rp.base_url.as_deref(), kind.default_base_url()) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(default)) => default.to_string(),
        (None, None) => String::new(),
    };
    if kind != ProviderKind::Mock
        && !(base_url.starts_with("http://") || base_url.starts_with("https://"))
    {
        p.add(
            format!("{path}.base_url"),
            format!("{base_url:?} is not an http(s) URL"),
        );
    }
    let timeouts = validate_timeouts(rp, path, p);
    let mock = match (&rp.mock, kind) {
        (None, _) => MockConfig::default(),
        (Some(m), ProviderKind::Mock) => validate_mock(m, path, p),
        (Some(_), _) => {
            p.add(
                format!("{path}.mock"),
                "only a provider of kind mock takes mock settings",
            );
            MockConfig::default()
        }
    };
    // No credentials in the file is allowed: they can all be added at run time
    // (`switchyard accounts add`); until then the provider has nothing usable and says so.
    let mut credentials = Vec::new();
    let mut names = HashSet::new();
    for (j, rc) in rp.credentials.iter().enumerate() {
        let cpath = format!("{path}.credentials[{j}]");
        if rc.name.trim().is_empty() {
            p.add(format!("{cpath}.name"), "must not be empty");
        } else if !names.insert(rc.name.as_str()) {
            p.add(
                format!("{cpath}.name"),
                format!("credential {:?} is defined twice", rc.name),
            );
        }
        let weight = rc.weight.unwrap_or(1);
        if weight == 0 {
            p.add(format!("{cpath}.weight"), "must be at least 1");
        }
        if rc.max_concurrency == Some(0) {
            p.add(
                format!("{cpath}.max_concurrency"),
                "must be at least 1 (leave it out for no cap)",
            );
        }
        let oauth = rc
            .oauth
            .as_ref()
            .and_then(|o| validate_oauth(o, &format!("{cpath}.oauth"), secrets, p));
        match (&rc.oauth, rc.secret.is_empty()) {
            (Some(_), false) => p.add(
                format!("{cpath}.secret"),
                "an oauth credential takes no secret (its access tokens come from the refresh token)",
            ),
            (None, true) => p.add(
                format!("{cpath}.secret"),
                "is required (or `oauth` for a refresh-token credential; `none` for no auth)",
            ),
            _ => {}
        }
        let source = if rc.oauth.is_some() {
            SecretSource::Inline(Secret::new("none"))
        } else {
            SecretSource::parse(&rc.secret)
        };
        match source.resolve(secrets) {
            Ok(secret) => credentials.push(CredentialConfig {
                name: rc.name.clone(),
                secret,
                source,
                weight,
                labels: rc.labels.clone(),
                max_concurrency: rc.max_concurrency,
                group: rc.group.clone(),
                oauth,
            }),
            Err(problem) => p.add(format!("{cpath}.secret"), problem),
        }
    }
    Some(ProviderConfig {
        name: rp.name.clone(),
        kind,
        base_url,
        headers: rp.headers.clone(),
        timeouts,
        credentials,
        mock,
    })
}

fn validate_mock(m: &RawMock, path: &str, p: &mut Problems) -> MockConfig {
    let d = MockConfig::default();
    let mode = match m.mode.as_deref() {
        None | Some("echo") => MockMode::Echo,
        Some("fixed") => MockMode::Fixed(m.text.clone().unwrap_or_else(|| "ok".into())),
        Some("lorem") => MockMode::Lorem {
            words: m.words.unwrap_or(50),
        },
        Some(other) => {
            p.add(
                format!("{path}.mock.mode"),
                format!("unknown mode {other:?} (expected echo, fixed or lorem)"),
            );
            MockMode::Echo
        }
    };
    let mut duration = |name: &str, raw: &Option<RawDuration>| match raw {
        None => Duration::ZERO,
        Some(r) => parse_duration(r).unwrap_or_else(|| {
            p.add(
                format!("{path}.mock.{name}"),
                "expected a duration such as \"200ms\"",
            );
            Duration::ZERO
        }),
    };
    MockConfig {
        mode,
        chunks: m.chunks.unwrap_or(d.chunks).max(1),
        first_byte: duration("first_byte", &m.first_byte),
        chunk_delay: duration("chunk_delay", &m.chunk_delay),
    }
}

fn validate_timeouts(rp: &RawProvider, path: &str, p: &mut Problems) -> Timeouts {
    let d = Timeouts::default();
    let mut one = |name: &str, raw: &Option<RawDuration>, default: Duration| match raw {
        None => default,
        Some(r) => match parse_duration(r) {
            Some(v) if !v.is_zero() => v,
            _ => {
                p.add(
                    format!("{path}.timeouts.{name}"),
                    "expected a positive duration such as \"500ms\", \"30s\", \"5m\" or a number of seconds",
                );
                default
            }
        },
    };
    Timeouts {
        connect: one("connect", &rp.timeouts.connect, d.connect),
        first_byte: one("first_byte", &rp.timeouts.first_byte, d.first_byte),
        idle: one("idle", &rp.timeouts.idle, d.idle),
        total: one("total", &rp.timeouts.total, d.total),
    }
}

/// `"500ms"`, `"30s"`, `"5m"`, `"1h"`, or a bare number of seconds.
pub fn parse_duration(raw: &RawDuration) -> Option<Duration> {
    let text = match raw {
        RawDuration::Seconds(s) => return Some(Duration::from_secs(*s)),
        RawDuration::Text(t) => t.trim(),
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().ok()?;
    Some(match unit.trim() {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    })
}

fn validate_route(
    rr: &RawRoute,
    path: &str,
    providers: &[RawProvider],
    p: &mut Problems,
) -> Option<RouteConfig> {
    if rr.model.is_empty() {
        p.add(
            format!("{path}.model"),
            "must not be empty (use \"*\" to match every model)",
        );
    }
    let strategy = match rr.strategy.as_deref() {
        None => Strategy::default(),
        Some(s) => Strategy::parse(s).unwrap_or_else(|| {
            p.add(
                format!("{path}.strategy"),
                format!(
                    "unknown strategy {s:?} (expected one of {})",
                    Strategy::NAMES
                ),
            );
            Strategy::default()
        }),
    };
    if rr.targets.is_empty() {
        p.add(format!("{path}.targets"), "needs at least one target");
    }
    if rr.credential.is_some() && strategy != Strategy::Fixed {
        p.add(
            format!("{path}.credential"),
            "pins a credential only with strategy = \"fixed\"",
        );
    }
    let mut targets = Vec::new();
    for (k, t) in rr.targets.iter().enumerate() {
        match providers.iter().position(|pr| pr.name == t.provider) {
            Some(provider) => targets.push(TargetConfig {
                provider,
                model: t.model.clone(),
            }),
            None => p.add(
                format!("{path}.targets[{k}].provider"),
                format!("no provider named {:?}", t.provider),
            ),
        }
    }
    Some(RouteConfig {
        pattern: Glob::new(rr.model.clone()),
        strategy,
        credential: rr.credential.clone(),
        targets,
        fallback: rr.fallback.clone(),
        fallback_enabled: rr.fallback_enabled,
    })
}

fn validate_oauth(
    o: &RawOAuth,
    path: &str,
    secrets: &dyn SecretReader,
    p: &mut Problems,
) -> Option<OAuthConfig> {
    if !(o.token_url.starts_with("https://") || o.token_url.starts_with("http://")) {
        p.add(
            format!("{path}.token_url"),
            format!("{:?} is not an http(s) URL", o.token_url),
        );
    }
    let refresh_token = match SecretSource::parse(&o.refresh_token).resolve(secrets) {
        Ok(s) if !s.expose().is_empty() => Some(s),
        Ok(_) => {
            p.add(format!("{path}.refresh_token"), "must not be empty");
            None
        }
        Err(problem) => {
            p.add(format!("{path}.refresh_token"), problem);
            None
        }
    };
    let client_secret = match o
        .client_secret
        .as_deref()
        .map(|c| SecretSource::parse(c).resolve(secrets))
    {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(problem)) => {
            p.add(format!("{path}.client_secret"), problem);
            None
        }
    };
    Some(OAuthConfig {
        token_url: o.token_url.trim_end_matches('/').to_string(),
        refresh_token: refresh_token?,
        client_id: o.client_id.clone(),
        client_secret,
        scope: o.scope.clone(),
    })
}

fn validate_model(
    rm: &RawModel,
    path: &str,
    providers: &[RawProvider],
    p: &mut Problems,
) -> Option<ModelConfig> {
    if rm.name.is_empty() {
        p.add(
            format!("{path}.name"),
            "must not be empty (use \"*\" to match every model)",
        );
    }
    let provider = match &rm.provider {
        None => None,
        Some(name) => match providers.iter().position(|pr| &pr.name == name) {
            Some(i) => Some(i),
            None => {
                p.add(
                    format!("{path}.provider"),
                    format!("no provider named {name:?}"),
                );
                return None;
            }
        },
    };
    // No model writes a hundred million tokens in one answer: a larger limit is a typo.
    if rm
        .max_output_tokens
        .is_some_and(|m| !(1..=100_000_000).contains(&m))
    {
        p.add(
            format!("{path}.max_output_tokens"),
            "must be between 1 and 100000000 (leave it out for no limit)",
        );
    }
    let price = rm.price.as_ref().map(|raw| {
        let price = Price {
            input: raw.input,
            output: raw.output,
            cache_read: raw.cache_read.unwrap_or(raw.input),
            cache_write: raw.cache_write.unwrap_or(raw.input),
        };
        for (field, value) in [
            ("input", price.input),
            ("output", price.output),
            ("cache_read", price.cache_read),
            ("cache_write", price.cache_write),
        ] {
            // A million dollars per million tokens is far beyond any real price: a typo.
            if !value.is_finite() || !(0.0..=1_000_000.0).contains(&value) {
                p.add(
                    format!("{path}.price.{field}"),
                    format!("{value} is not a price (dollars per million tokens, 0 to 1000000)"),
                );
            }
        }
        price
    });
    Some(ModelConfig {
        pattern: Glob::new(rm.name.clone()),
        provider,
        max_output_tokens: rm.max_output_tokens,
        price,
    })
}

#[cfg(test)]
mod tests;

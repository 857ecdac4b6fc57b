//! Prometheus metrics: what every finished request adds (counted from its usage record, so
//! metrics and stored usage can never disagree), and what is read at scrape time (credential
//! states, requests in flight, the usage writer's queue, the process). Rendered in the
//! OpenMetrics text format at `GET /metrics`.
//!
//! Labels are bounded: dialects, statuses and classes are small fixed sets; routes, providers
//! and credentials come from the config (or the store's credentials, which operators add); model names can come from clients (a `*` route
//! forwards whatever they ask for), so only the first [`MAX_MODELS`] distinct names get their
//! own label and the rest count as `_other`. No key id, user id or secret is ever a label.

use std::collections::HashSet;
use std::sync::Mutex;

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use switchyard_core::usage::UsageRecord;

use crate::state::Snapshot;

/// Distinct model names given their own label value.
pub const MAX_MODELS: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    dialect: String,
    route: String,
    model: String,
    provider: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    dialect: String,
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    provider: String,
    model: String,
    r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    provider: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DialectLabels {
    dialect: String,
    stream: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CredentialLabels {
    provider: String,
    credential: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CredentialStateLabels {
    provider: String,
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The gateway's metrics; one per process, in the shared state.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<ModelLabels, Counter>,
    retries: Family<ProviderLabels, Counter>,
    latency: Histograms<DialectLabels>,
    ttfb: Histograms<DialectLabels>,
    upstream: Histograms<ProviderLabels>,
    overhead: Histogram,
    models: Mutex<HashSet<String>>,
}

fn latency_histogram() -> Histogram {
    // 5 ms to ~10 min: a cached short answer to the longest generation.
    Histogram::new(exponential_buckets(0.005, 2.0, 18))
}

fn overhead_histogram() -> Histogram {
    // 10 µs to ~160 ms: the gateway's own time is small, and its tail is what matters.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("switchyard");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by client dialect, route, served model, provider and status",
            requests.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "request_errors",
            "Requests that failed, by client dialect and error class",
            errors.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "tokens",
            "Tokens by provider, served model and type (input, output, cache_read, cache_write, reasoning)",
            tokens.clone(),
        );
        let cost = Family::<ModelLabels, Counter>::default();
        registry.register(
            "cost_microdollars",
            "Cost in millionths of a US dollar, from the configured model prices",
            cost.clone(),
        );
        let retries = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "retries",
            "Upstream attempts beyond each request's first, by the provider that finally served",
            retries.clone(),
        );
        let latency: Histograms<DialectLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "request_duration_seconds",
            "Accept to last byte",
            latency.clone(),
        );
        let ttfb: Histograms<DialectLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "time_to_first_byte_seconds",
            "Accept to the first byte sent to the client",
            ttfb.clone(),
        );
        let upstream: Histograms<ProviderLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "upstream_duration_seconds",
            "Time spent waiting on upstreams per request",
            upstream.clone(),
        );
        let overhead = overhead_histogram();
        registry.register(
            "overhead_seconds",
            "The gateway's own time per request: latency minus upstream wait",
            overhead.clone(),
        );
        Self {
            registry,
            requests,
            errors,
            tokens,
            cost,
            retries,
            latency,
            ttfb,
            upstream,
            overhead,
            models: Mutex::new(HashSet::new()),
        }
    }

    /// Counts one finished request.
    pub fn observe(&self, r: &UsageRecord) {
        let model = self.model_label(&r.served_model);
        let dialect = r.client_dialect.clone();
        self.requests
            .get_or_create(&RequestLabels {
                dialect: dialect.clone(),
                route: r.route.clone(),
                model: model.clone(),
                provider: r.provider.clone(),
                status: r.status,
            })
            .inc();
        if let Some(class) = &r.error_class {
            self.errors
                .get_or_create(&ErrorLabels {
                    dialect: dialect.clone(),
                    class: class.clone(),
                })
                .inc();
        }
        for (kind, n) in [
            ("input", r.input_tokens),
            ("output", r.output_tokens),
            ("cache_read", r.cache_read_tokens),
            ("cache_write", r.cache_write_tokens),
            ("reasoning", r.reasoning_tokens),
        ] {
            if n > 0 {
                self.tokens
                    .get_or_create(&TokenLabels {
                        provider: r.provider.clone(),
                        model: model.clone(),
                        r#type: kind,
                    })
                    .inc_by(n);
            }
        }
        if r.cost_micros > 0 {
            self.cost
                .get_or_create(&ModelLabels {
                    provider: r.provider.clone(),
                    model,
                })
                .inc_by(r.cost_micros as u64);
        }
        if r.retries > 0 {
            self.retries
                .get_or_create(&ProviderLabels {
                    provider: r.provider.clone(),
                })
                .inc_by(u64::from(r.retries));
        }
        let stream = if r.stream { "true" } else { "false" };
        let by_dialect = DialectLabels { dialect, stream };
        let latency = r.latency_ms as f64 / 1000.0;
        self.latency.get_or_create(&by_dialect).observe(latency);
        if let Some(ttfb) = r.ttfb_ms {
            self.ttfb
                .get_or_create(&by_dialect)
                .observe(ttfb as f64 / 1000.0);
        }
        let overhead = r.overhead_us as f64 / 1_000_000.0;
        self.overhead.observe(overhead);
        if !r.provider.is_empty() {
            self.upstream
                .get_or_create(&ProviderLabels {
                    provider: r.provider.clone(),
                })
                .observe((latency - overhead).max(0.0));
        }
    }

    fn model_label(&self, model: &str) -> String {
        let mut seen = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(model) {
            return model.to_string();
        }
        if seen.len() < MAX_MODELS {
            seen.insert(model.to_string());
            return model.to_string();
        }
        "_other".to_string()
    }

    /// The exposition: request metrics, then the values read now.
    pub fn render(&self, now: ScrapeInputs<'_>) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode_registry(&mut out, &self.registry);
        let _ = encode_registry(&mut out, &scrape_time(now));
        let _ = encode_eof(&mut out);
        out
    }
}

/// What a scrape reads from the running gateway.
#[derive(Debug)]
pub struct ScrapeInputs<'a> {
    pub snapshot: &'a Snapshot,
    pub now: std::time::Instant,
    pub writer: &'a switchyard_core::writer::UsageHandle,
    pub reload: crate::reload::ReloadStatus,
}

fn scrape_time(inputs: ScrapeInputs<'_>) -> Registry {
    let mut registry = Registry::with_prefix("switchyard");
    let credentials = Family::<CredentialStateLabels, Gauge>::default();
    let in_flight = Family::<ProviderLabels, Gauge>::default();
    let breakers = Family::<CredentialLabels, Gauge>::default();
    let limits = Family::<CredentialLabels, Gauge>::default();
    let queue_depth = Family::<ProviderLabels, Gauge>::default();
    let queue_wait = Family::<ProviderLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    let queue_served = Family::<ProviderLabels, Counter>::default();
    let queue_refused = Family::<ProviderLabels, Counter>::default();
    let snapshot = inputs.snapshot;
    for (provider, pool) in snapshot.config.providers.iter().zip(&snapshot.pools) {
        let by_provider = ProviderLabels {
            provider: provider.name.clone(),
        };
        let waiting = pool.waiters().view(inputs.now);
        queue_depth
            .get_or_create(&by_provider)
            .set(waiting.queue.depth as i64);
        queue_wait
            .get_or_create(&by_provider)
            .set(waiting.queue.oldest_wait.map_or(0.0, |d| d.as_secs_f64()));
        queue_served
            .get_or_create(&by_provider)
            .inc_by(waiting.served);
        queue_refused
            .get_or_create(&by_provider)
            .inc_by(waiting.refused);
        for member in pool.status(inputs.now) {
            let who = CredentialLabels {
                provider: provider.name.clone(),
                credential: member.name.clone(),
            };
            // Closed 0, half-open 1, open (ejected) 2.
            let breaker = match member.breaker.state {
                switchyard_core::resilience::BreakerState::Closed => 0,
                switchyard_core::resilience::BreakerState::HalfOpen { .. } => 1,
                switchyard_core::resilience::BreakerState::Open { .. } => 2,
            };
            breakers.get_or_create(&who).set(breaker);
            limits.get_or_create(&who).set(i64::from(member.aimd.limit));
            let state = if member.invalid.is_some() {
                "invalid"
            } else if member.cooldown_until.is_some() {
                "cooling_down"
            } else {
                "usable"
            };
            credentials
                .get_or_create(&CredentialStateLabels {
                    provider: provider.name.clone(),
                    state,
                })
                .inc();
            in_flight
                .get_or_create(&ProviderLabels {
                    provider: provider.name.clone(),
                })
                .inc_by(member.in_flight as i64);
        }
    }
    registry.register(
        "credentials",
        "Credentials by provider and state",
        credentials,
    );
    registry.register(
        "upstream_in_flight",
        "Upstream requests in flight, by provider",
        in_flight,
    );
    registry.register(
        "breaker_state",
        "Circuit breaker per credential: 0 closed, 1 half-open (probing), 2 open (ejected)",
        breakers,
    );
    registry.register(
        "aimd_limit",
        "Concurrency limit learned per credential (AIMD)",
        limits,
    );
    registry.register(
        "queue_depth",
        "Requests waiting for a credential, by provider",
        queue_depth,
    );
    registry.register(
        "queue_oldest_wait_seconds",
        "How long the oldest waiting request has waited",
        queue_wait,
    );
    registry.register(
        "queue_served",
        "Requests that waited in the queue and were then served",
        queue_served,
    );
    registry.register(
        "queue_refused",
        "Requests the queue refused (full, timed out or off)",
        queue_refused,
    );

    let stats = inputs.writer.stats();
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let queued = Gauge::<i64>::default();
    queued.set(inputs.writer.queued() as i64);
    registry.register(
        "usage_writer_queued",
        "Usage records waiting to be written (the writer's lag)",
        queued,
    );
    for (name, help, value) in [
        (
            "usage_writer_written",
            "Usage records written",
            load(&stats.written),
        ),
        (
            "usage_writer_batches",
            "Batches written (written / batches = batch size)",
            load(&stats.batches),
        ),
        (
            "usage_writer_failed_writes",
            "Batch writes that failed and were retried",
            load(&stats.failed_writes),
        ),
        (
            "usage_writer_lost",
            "Usage records given up on at shutdown",
            load(&stats.lost),
        ),
    ] {
        let c = Counter::<u64>::default();
        c.inc_by(value);
        registry.register(name, help, c);
    }

    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    struct ResultLabels {
        result: &'static str,
    }
    let reloads = Family::<ResultLabels, Counter>::default();
    reloads
        .get_or_create(&ResultLabels { result: "applied" })
        .inc_by(inputs.reload.applied);
    reloads
        .get_or_create(&ResultLabels { result: "refused" })
        .inc_by(inputs.reload.refused);
    registry.register(
        "config_reloads",
        "Config changes applied live, and refused ones (the last good config kept serving)",
        reloads,
    );

    let process = read_process();
    for (name, help, value) in [
        (
            "process_resident_memory_bytes",
            "Resident set size",
            process.rss_bytes,
        ),
        (
            "process_open_fds",
            "Open file descriptors",
            process.open_fds,
        ),
        ("process_threads", "Threads", process.threads),
    ] {
        let g = Gauge::<i64>::default();
        g.set(value);
        registry.register(name, help, g);
    }
    let cpu = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    cpu.set(process.cpu_seconds);
    registry.register("process_cpu_seconds", "User and system CPU time spent", cpu);
    registry
}

#[derive(Debug, Default)]
struct Process {
    rss_bytes: i64,
    open_fds: i64,
    threads: i64,
    cpu_seconds: f64,
}

/// Reads this process's figures from `/proc` (zeros where it is not available).
fn read_process() -> Process {
    let mut p = Process::default();
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines() {
            let value = |l: &str| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("VmRSS:") {
                p.rss_bytes = value(line) * 1024;
            } else if line.starts_with("Threads:") {
                p.threads = value(line);
            }
        }
    }
    p.open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as i64);
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name (which may contain spaces) close with ')'.
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
            let ticks = |i: usize| {
                fields
                    .get(i)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            // The kernel's USER_HZ is 100 on every Linux this runs on.
            p.cpu_seconds = (ticks(11) + ticks(12)) / 100.0;
        }
    }
    p
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_labels_are_bounded() {
        let m = Metrics::new();
        for i in 0..MAX_MODELS {
            assert_eq!(m.model_label(&format!("m{i}")), format!("m{i}"));
        }
        assert_eq!(m.model_label("one-too-many"), "_other");
        assert_eq!(m.model_label("m0"), "m0", "known names keep their label");
    }

    #[test]
    fn a_record_is_counted_once_with_its_tokens_and_cost() {
        let m = Metrics::new();
        let r = UsageRecord {
            client_dialect: "anthropic".into(),
            route: "claude-*".into(),
            served_model: "claude-x".into(),
            provider: "up".into(),
            status: 200,
            input_tokens: 10,
            output_tokens: 5,
            cost_micros: 42,
            retries: 2,
            latency_ms: 120,
            overhead_us: 300,
            ..UsageRecord::default()
        };
        m.observe(&r);
        let mut out = String::new();
        let _ = encode_registry(&mut out, &m.registry);
        for line in [
            r#"switchyard_requests_total{dialect="anthropic",route="claude-*",model="claude-x",provider="up",status="200"} 1"#,
            r#"switchyard_tokens_total{provider="up",model="claude-x",type="input"} 10"#,
            r#"switchyard_tokens_total{provider="up",model="claude-x",type="output"} 5"#,
            r#"switchyard_cost_microdollars_total{provider="up",model="claude-x"} 42"#,
            r#"switchyard_retries_total{provider="up"} 2"#,
            "switchyard_overhead_seconds_count 1",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line} in\n{out}");
        }
    }
}

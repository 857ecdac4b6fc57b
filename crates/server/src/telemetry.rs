//! OpenTelemetry traces (cargo feature `otel`, `serve --otlp-endpoint URL`): one span per
//! finished request, following the GenAI semantic conventions (`gen_ai.operation.name`,
//! `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.response.model`,
//! `gen_ai.usage.input_tokens` / `output_tokens`, `error.type`), with the gateway's own
//! fields under `switchyard.*`. Spans are built from the usage record, so traces, metrics and
//! stored usage tell the same story, and exported in batches off the request path (the batch
//! processor has its own thread). No key secret, prompt or answer is ever an attribute.

use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{Span, SpanKind, Status, Tracer, TracerProvider};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use switchyard_core::usage::UsageRecord;

/// The exporter and the tracer spans come from.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Telemetry {
    /// Exports to an OTLP/HTTP collector at `endpoint` (e.g. `http://127.0.0.1:4318`).
    ///
    /// The exporter's blocking HTTP client may not be built (or dropped) on an async runtime's
    /// thread, so it is built on a thread of its own.
    pub fn start(endpoint: &str) -> anyhow::Result<Telemetry> {
        let endpoint = endpoint.to_string();
        std::thread::spawn(move || Self::build(&endpoint))
            .join()
            .map_err(|_| anyhow::anyhow!("building the trace exporter panicked"))?
    }

    fn build(endpoint: &str) -> anyhow::Result<Telemetry> {
        let endpoint = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(endpoint)
            .build()?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("switchyard")
                    .build(),
            )
            .build();
        let tracer = provider.tracer("switchyard");
        Ok(Telemetry { provider, tracer })
    }

    /// One client span for a finished request, timed as it was.
    pub fn record(&self, r: &UsageRecord) {
        let start = UNIX_EPOCH + Duration::from_millis(u64::try_from(r.started_at_ms).unwrap_or(0));
        let end = start + Duration::from_millis(r.latency_ms);
        let provider = match r.upstream_dialect.as_str() {
            "anthropic" => "anthropic",
            "gemini" => "gcp.gemini",
            "openai" | "responses" => "openai",
            _ => "switchyard.mock",
        };
        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", provider),
            KeyValue::new("gen_ai.request.model", r.requested_model.clone()),
            KeyValue::new("gen_ai.response.model", r.served_model.clone()),
            KeyValue::new(
                "gen_ai.usage.input_tokens",
                (r.input_tokens + r.cache_read_tokens + r.cache_write_tokens) as i64,
            ),
            KeyValue::new("gen_ai.usage.output_tokens", r.output_tokens as i64),
            KeyValue::new("switchyard.request_id", r.request_id.clone()),
            KeyValue::new("switchyard.route", r.route.clone()),
            KeyValue::new("switchyard.provider", r.provider.clone()),
            KeyValue::new("switchyard.credential", r.credential.clone()),
            KeyValue::new("switchyard.client_dialect", r.client_dialect.clone()),
            KeyValue::new("switchyard.stream", r.stream),
            KeyValue::new("switchyard.retries", i64::from(r.retries)),
            KeyValue::new("switchyard.overhead_us", r.overhead_us as i64),
            KeyValue::new("http.response.status_code", i64::from(r.status)),
        ];
        if let Some(class) = &r.error_class {
            attributes.push(KeyValue::new("error.type", class.clone()));
        }
        let name = format!("chat {}", r.requested_model);
        let mut span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_start_time(start)
            .with_attributes(attributes)
            .start(&self.tracer);
        if let Some(class) = &r.error_class {
            span.set_status(Status::error(class.clone()));
        }
        span.end_with_timestamp(end);
    }

    /// Exports what is pending and stops; called once at shutdown.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "exporting the last traces failed");
        }
    }
}

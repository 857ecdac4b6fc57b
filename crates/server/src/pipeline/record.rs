//! Building the usage record of one request as the pipeline goes, and sending it to the
//! batching writer when the client has its answer. Also stamps every response with its
//! request id and the gateway's own overhead (time since accept minus time waiting on
//! upstreams).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use axum::response::Response;
use switchyard_core::config::{Price, ProviderConfig};
use switchyard_core::usage::UsageRecord;
use switchyard_protocol::ir::Usage;
use tokio::time::Instant;

use super::Call;
use crate::render::ApiError;
use crate::state::AppState;

/// Unix milliseconds now: the wall clock is only read at the edge, for records.
pub fn unix_ms() -> i64 {
    #[allow(clippy::disallowed_methods)] // reason: usage records need wall-clock time
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    pub record: UsageRecord,
    accepted: Instant,
    dialect: switchyard_protocol::Dialect,
    /// Time spent waiting on upstreams (send to first byte, and reading whole bodies).
    upstream_wait: Duration,
    attempts: u32,
    /// The served model's price, when the config names one.
    price: Option<Price>,
    /// Shared by every clone of one request's recorder: whether one of them was sent.
    ledger: Arc<Ledger>,
}

/// The one-record-per-request promise across a recorder's clones: when the last of them is
/// dropped and none was sent, the request ended without an answer reaching its client (the
/// client went away while the gateway waited on an upstream or the queue), and that is
/// recorded too.
#[derive(Debug)]
struct Ledger {
    state: AppState,
    sent: AtomicBool,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.ledger.sent.load(Ordering::Acquire) || Arc::strong_count(&self.ledger) > 1 {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut record = std::mem::take(&mut self.record);
        // A stream committed early has its 200 already; otherwise nothing left the gateway.
        if record.status == 0 {
            record.status = CLIENT_CLOSED;
        }
        record.error_class = Some("client_closed".into());
        record.latency_ms = self.accepted.elapsed().as_millis() as u64;
        let state = self.ledger.state.clone();
        let _guard = runtime.enter();
        state.tasks.clone().spawn(async move {
            state.metrics.observe(&record);
            state.usage.record(record).await;
        });
    }
}

/// The status recorded for a request whose client left before its answer (nginx's 499).
const CLIENT_CLOSED: u16 = 499;

impl Recorder {
    pub fn new(call: &Call, state: &AppState) -> Self {
        Self {
            record: UsageRecord {
                request_id: call.request_id.clone(),
                started_at_ms: call.started_at_ms,
                key_id: call.key_id.clone(),
                client_dialect: call.dialect.name().to_string(),
                ..UsageRecord::default()
            },
            accepted: call.accepted,
            dialect: call.dialect,
            upstream_wait: Duration::ZERO,
            attempts: 0,
            price: None,
            ledger: Arc::new(Ledger {
                state: state.clone(),
                sent: AtomicBool::new(false),
            }),
        }
    }

    pub fn requested(&mut self, req: &super::Request) {
        self.record.requested_model = req.model.clone();
        self.record.stream = req.stream;
    }

    pub fn route(&mut self, pattern: &str) {
        self.record.route = pattern.to_string();
    }

    pub fn session(&mut self, key: Option<String>) {
        self.record.session_id = key;
    }

    pub fn target(
        &mut self,
        provider: &ProviderConfig,
        credential: &str,
        model: &str,
        price: Option<Price>,
    ) {
        self.price = price;
        self.record.provider = provider.name.clone();
        self.record.credential = credential.to_string();
        self.record.served_model = model.to_string();
        self.record.upstream_dialect = provider
            .kind
            .dialect()
            .map_or("mock", |d| d.name())
            .to_string();
    }

    pub fn attempt(&mut self) {
        self.attempts += 1;
        self.record.retries = self.attempts.saturating_sub(1);
    }

    pub fn waited(&mut self, d: Duration) {
        self.upstream_wait += d;
    }

    pub fn served_model(&mut self, model: &str) {
        if !model.is_empty() {
            self.record.served_model = model.to_string();
        }
    }

    pub fn usage(&mut self, u: &Usage) {
        let r = &mut self.record;
        r.input_tokens = u.input_tokens;
        r.output_tokens = u.output_tokens;
        r.cache_read_tokens = u.cache_read_tokens;
        r.cache_write_tokens = u.cache_write_tokens;
        r.reasoning_tokens = u.reasoning_tokens;
        r.cost_micros = self.price.map_or(0, |p| p.cost_micros(u));
    }

    /// The gateway's own time so far.
    pub fn overhead(&self) -> Duration {
        self.accepted.elapsed().saturating_sub(self.upstream_wait)
    }

    /// Stamps the response headers every answer carries; called when the response head leaves.
    pub fn stamp(&mut self, resp: &mut Response) {
        let overhead = self.overhead();
        self.record.overhead_us = overhead.as_micros() as u64;
        self.record.ttfb_ms = Some(self.accepted.elapsed().as_millis() as u64);
        self.record.status = resp.status().as_u16();
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.record.request_id) {
            h.insert("x-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&millis(self.record.overhead_us)) {
            h.insert("x-switchyard-overhead-ms", v);
        }
    }

    /// Sends the record; the latency is measured now (the last byte went out). The record is
    /// queued before this returns (the returned future waits only while the usage queue is
    /// full), so awaiting it adds next to nothing to the caller's future.
    pub fn send(mut self, state: &AppState) -> impl Future<Output = ()> + '_ {
        self.ledger.sent.store(true, Ordering::Release);
        self.record.latency_ms = self.accepted.elapsed().as_millis() as u64;
        state.metrics.observe(&self.record);
        #[cfg(feature = "otel")]
        if let Some(t) = state.telemetry.get() {
            t.record(&self.record);
        }
        let r = &self.record;
        tracing::debug!(
            request_id = %r.request_id,
            status = r.status,
            model = %r.served_model,
            provider = %r.provider,
            credential = %r.credential,
            key = %r.key_id,
            latency_ms = r.latency_ms,
            overhead_us = r.overhead_us,
            input_tokens = r.input_tokens,
            output_tokens = r.output_tokens,
            "request finished"
        );
        if state.events.receiver_count() > 0 {
            let _ = state.events.send(std::sync::Arc::new(self.record.clone()));
        }
        state.usage.record(std::mem::take(&mut self.record))
    }

    /// Answers with `err` in the client's dialect and records it.
    pub fn fail(mut self, state: &AppState, err: ApiError) -> impl Future<Output = Response> + '_ {
        let mut resp = err.render(self.dialect);
        self.stamp(&mut resp);
        self.record.error_class = Some(err.class().to_string());
        tracing::info!(
            request_id = %self.record.request_id,
            status = resp.status().as_u16(),
            class = err.class(),
            message = %err.body.message,
            "request failed"
        );
        let sent = self.send(state);
        async move {
            sent.await;
            resp
        }
    }
}

/// Microseconds as milliseconds with three decimals: the header says what the usage record
/// keeps. Integers, since `{:.3}` of a float cost ~500 instructions more on every request.
fn millis(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

#[cfg(test)]
mod tests {
    use super::millis;

    #[test]
    fn microseconds_read_as_milliseconds_with_three_decimals() {
        assert_eq!(millis(0), "0.000");
        assert_eq!(millis(7), "0.007");
        assert_eq!(millis(1_230), "1.230");
        assert_eq!(millis(61_234_567), "61234.567");
    }
}

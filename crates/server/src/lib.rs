//! The `switchyard` gateway: command line, HTTP app, ingress per dialect and the request
//! pipeline. Business rules live in `switchyard-core`, translation in `switchyard-protocol`;
//! this crate is the edge: it is the only one that names axum, and it renders every error in
//! the caller's dialect, once.
//!
//! Codemap:
//! - [`cli`]: clap definitions and one module per subcommand.
//! - [`settings`]: config layers (defaults < file < env < flags) and validation messages.
//! - [`state`]: what handlers share: the config snapshot, pools, HTTP client, usage writer.
//! - [`api`]: the admin API under `/api` (admin token, audit, OpenAPI document).
//! - [`app`]: `fn app(state) -> Router`, testable without a socket.
//! - [`ingress`]: one module per client dialect: paths, auth, model and stream extraction.
//! - [`pipeline`]: routing, the attempt loop, upstream requests, passthrough and translation,
//!   streaming to the client, the mock provider, usage records.
//! - [`render`]: gateway errors as responses in the caller's dialect.
//! - [`reload`]: applying a changed config live (file watch, the admin API's overlay).
//! - [`metrics`]: Prometheus counters from usage records and scrape-time gauges.
//! - `telemetry` (feature `otel`): OpenTelemetry spans of requests, GenAI conventions.
//! - [`oauth`]: access tokens of refresh-token credentials, refreshed single-flight.
//! - [`egress`]: the HTTP client upstream requests leave through (pool, TLS, proxies).
//! - [`checks`]: the health loop verifying credentials with each provider's cheapest call.

pub mod api;
pub mod app;
pub mod checks;
pub mod cli;
pub mod egress;
pub mod ingress;
pub mod metrics;
pub mod oauth;
pub mod pipeline;
pub mod reload;
pub mod render;
pub mod settings;
pub mod state;
#[cfg(feature = "otel")]
pub mod telemetry;

//! The gateway's integration tests as one test binary, a module per file (one binary per file
//! meant linking the whole server once per file). `tests/otel.rs` is a binary of its own, built
//! with the `otel` feature.

mod support;

mod admin;
mod admin_api;
mod bad_input;
mod cli_accounts;
mod cli_admin;
mod cli_ops;
mod cli_translate;
mod faults;
mod hot_reload;
mod log_secrecy;
mod metrics;
mod mock_provider;
mod no_buffering;
mod oauth;
mod passthrough_sniff;
mod responses_state;
mod shutdown;
mod stream_silence;
mod upstreams;

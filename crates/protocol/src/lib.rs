//! The four LLM API dialects switchyard speaks, one internal representation (IR) between them,
//! and everything needed to translate requests, responses, stream events and errors from any
//! dialect to any other without losing what a client relies on.
//!
//! Codemap:
//! - [`ir`]: the canonical representation: requests, responses, content blocks, stream events,
//!   usage, error bodies, and the escape hatch for provider extras.
//! - [`anthropic`], [`openai`] (Chat Completions), [`responses`] (OpenAI Responses),
//!   [`gemini`]: one folder per dialect with the same files (`wire`, `request`, `response`,
//!   `stream`, `error`) and the same verbs.
//! - [`Dialect`]: the enum that dispatches to them; [`translate`] composes decode and encode.
//! - [`sse`]: incremental SSE framing; [`tokens`]: token estimation and its calibrator;
//!   [`ids`] and [`signature`]: tool-call ids and thinking signatures across dialects;
//!   [`schema`]: JSON Schema rewriting for targets with a narrower schema dialect;
//!   [`sniff`]: model and usage from a forwarded answer without a full decode.
//!
//! This crate does no I/O and knows nothing of servers, credentials, storage or time.

pub mod anthropic;
mod dialect;
mod error;
pub mod gemini;
pub mod head;
pub mod ids;
pub mod ir;
pub mod json;
pub mod openai;
pub mod responses;
mod scan;
pub mod schema;
pub mod signature;
pub mod sniff;
pub mod sse;
pub mod tokens;
pub mod translate;

pub use dialect::{Dialect, EncodeOptions, StreamDecoder, StreamEncoder};
pub use error::Error;

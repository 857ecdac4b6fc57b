//! The protocol crate's integration tests as one test binary, a module per file.

mod support;

mod anthropic;
mod cross_dialect;
mod encode_options;
mod fuzz_regressions;
mod gemini;
mod golden;
mod openai;
mod rechunk;
mod responses;

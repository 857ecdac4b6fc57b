//! Anthropic Messages streams (SSE with `event:` names: `message_start`,
//! `content_block_start` / `_delta` / `_stop`, `message_delta`, `message_stop`, `ping`,
//! `error`) ↔ IR stream events. The decoder turns whatever the upstream sends into a
//! well-formed IR stream; the encoder turns any well-formed IR stream into a sequence the
//! official SDKs accept. Neither does I/O or SSE framing (that is `crate::sse`).

mod decode;
mod encode;

pub use decode::StreamDecoder;
pub use encode::StreamEncoder;

//! The OpenAI Responses dialect (`POST /v1/responses`): requests, responses, stream events and
//! errors to and from the IR.
//!
//! `input` items merge into IR messages (consecutive assistant-side items into one assistant
//! message, tool outputs into one user message), and the grouping is recorded in extras so a
//! same-dialect round trip gives back the same items. Reasoning items are thinking blocks whose
//! signature is `encrypted_content`. What cannot cross: stop sequences and `n > 1` are refused;
//! `top_k`, `seed` and penalties are dropped (no such fields); thinking without an OpenAI
//! signature, redacted thinking and cache markers are dropped from requests; tool-result error
//! flags have no field and are dropped. This module owns no I/O.

mod error;
mod items;
mod request;
pub(crate) mod response;
mod stream;
mod tools;
pub mod wire;

pub use error::{decode_error, encode_error};
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use stream::{StreamDecoder, StreamEncoder};

//! The OpenAI Chat Completions dialect (`POST /v1/chat/completions`), as OpenAI and the
//! OpenAI-compatible servers (vLLM, Ollama, llama.cpp, OpenRouter, Groq, DeepSeek) speak it.
//!
//! Codemap: `wire` (serde types), `request` (top level and tools) with `params` (scalar
//! parameters), `messages` (the message list), `assistant` (assistant messages, shared with
//! responses) and `parts` (content parts); `response` (non-streamed responses, stop reasons,
//! usage); `stream` (chunks); `error` (error bodies); `form` (how the original wire spelling
//! is remembered in extras for exact same-dialect round trips). Nothing here does I/O.

mod assistant;
mod error;
mod form;
mod messages;
mod params;
mod parts;
mod request;
pub(crate) mod response;
mod stream;
pub mod wire;

pub use error::{decode_error, encode_error};
pub(crate) use error::{kind_from_code, retry_after};
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use stream::{StreamDecoder, StreamEncoder};

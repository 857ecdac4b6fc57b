//! The Gemini `generateContent` dialect (`POST /v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`).
//!
//! It owns the Gemini wire types and their translation to and from the IR: requests
//! (`contents`, `systemInstruction`, `tools`, `toolConfig`, `generationConfig`), responses
//! (`candidates`, `usageMetadata`), SSE chunks and error bodies. The model and the stream flag
//! live in the URL, not the body, so this module neither reads nor writes them: the caller
//! does. It must not know about other dialects' wire formats; what Gemini cannot carry is
//! refused with `Error::Unsupported` rather than dropped, except the harmless hints listed in
//! the crate README's loss table.

mod config;
mod error;
mod parts;
mod request;
pub(crate) mod response;
mod stream;
pub mod wire;

pub use error::{decode_error, encode_error};
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use stream::{StreamDecoder, StreamEncoder};

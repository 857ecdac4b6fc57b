//! The Anthropic Messages dialect (`POST /v1/messages`): serde wire types (`wire`), content
//! blocks (`content`), requests, responses, the SSE stream codec and error bodies, each
//! to and from the IR. Nothing here knows about other dialects: what Anthropic cannot carry
//! is refused with `Error::Unsupported` or, for harmless hints, dropped (the crate README's
//! loss table lists which), and Anthropic-only fields ride in IR extras tagged with this
//! dialect.

mod content;
mod error;
mod request;
pub(crate) mod response;
mod stream;
pub mod wire;

pub use error::{decode_error, encode_error};
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use stream::{StreamDecoder, StreamEncoder};

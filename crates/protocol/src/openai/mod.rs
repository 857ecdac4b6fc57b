//! (stub) The openai dialect. Replaced by its real implementation.

mod error;
mod request;
mod response;
mod stream;
pub mod wire;

pub use error::{decode_error, encode_error};
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use stream::{StreamDecoder, StreamEncoder};

//! Chat Completions streams: `data: {chat.completion.chunk}` frames ended by `data: [DONE]`,
//! to and from IR stream events. Decoding and encoding are separate state machines.

mod decode;
mod encode;
mod frame;

pub use decode::StreamDecoder;
pub use encode::StreamEncoder;

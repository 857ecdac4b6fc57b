//! `streamGenerateContent?alt=sse` ↔ IR stream events. Each SSE frame is `data:` plus one
//! whole `GenerateContentResponse` carrying the parts to append; there are no event names and
//! no end marker: the chunk with a `finishReason` is the last. `decode` owns chunk → events,
//! `encode` owns events → chunks; the mapping of parts, usage and stop reasons is shared with
//! the non-streamed codec and lives there.

mod decode;
mod encode;

pub use decode::StreamDecoder;
pub use encode::StreamEncoder;

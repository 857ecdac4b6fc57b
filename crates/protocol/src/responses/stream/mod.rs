//! Responses streaming (`event: <type>` + `data: {"type": <type>, "sequence_number": n, ...}`)
//! to and from IR stream events: [`StreamDecoder`] reads an upstream's typed events,
//! [`StreamEncoder`] writes the sequence the official SDKs' `responses.stream()` accumulator
//! accepts. Event order rules live here; item and part shapes come from `items`.

mod decode;
mod encode;

pub use decode::StreamDecoder;
pub use encode::StreamEncoder;

//! Whole-message translation between two dialects: the composition of one dialect's decoder
//! with another's encoder. Used by the `translate` command, the golden fixtures and the
//! benchmarks; the server composes the same pieces itself so it can stream.

use crate::ir::StreamEvent;
use crate::{sse, Dialect, EncodeOptions, Error};

pub fn request(from: Dialect, to: Dialect, body: &[u8], opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let req = from.decode_request(body)?;
    to.encode_request(&req, opts)
}

pub fn response(from: Dialect, to: Dialect, body: &[u8], opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let resp = from.decode_response(body)?;
    to.encode_response(&resp, opts)
}

/// Decodes a whole SSE body in `from` into IR events.
pub fn stream_events(from: Dialect, body: &[u8]) -> Result<Vec<StreamEvent>, Error> {
    let mut decoder = from.stream_decoder();
    let mut events = Vec::new();
    for item in sse::parse_all(body) {
        if let sse::Item::Frame(frame) = item {
            decoder.decode(&frame, &mut events)?;
        }
    }
    decoder.finish(&mut events);
    Ok(events)
}

/// Re-encodes a whole SSE body from one dialect to another.
pub fn stream(from: Dialect, to: Dialect, body: &[u8], opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let events = stream_events(from, body)?;
    let mut encoder = to.stream_encoder(opts);
    let mut out = Vec::new();
    for ev in &events {
        encoder.encode(ev, &mut out);
    }
    encoder.finish(&mut out);
    Ok(out)
}

//! The properties the fuzz targets check, one function per kind of target; each file in
//! `fuzz_targets/` is a one-line call into here with its dialect.
//!
//! Only the public API of `switchyard-protocol` is used. The same checks are repeated in
//! `crates/protocol/tests/it/fuzz_regressions.rs`, which replays saved crashes on stable without
//! this crate; a change to a check here must be made there too. A check fails by panicking,
//! which libFuzzer reports as a crash and saves the input under `artifacts/`.

use switchyard_protocol::ir::{self, StreamEvent};
use switchyard_protocol::{head, json, sse, tokens, Dialect, EncodeOptions};

/// The SSE parser yields the same items however the bytes are split (an empty read included),
/// and what the writer makes of those items parses back to them. The first two bytes choose
/// the split point.
pub fn sse_parser(data: &[u8]) {
    let (split, body) = match data {
        [a, b, body @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), body),
        _ => return,
    };
    let whole = sse::parse_all(body);

    let at = split % (body.len() + 1);
    let mut parser = sse::Parser::new();
    let mut two = Vec::new();
    parser.feed(&body[..at], &mut two);
    // An empty read between the pieces (an empty HTTP/2 data frame) must change nothing.
    parser.feed(&[], &mut two);
    parser.feed(&body[at..], &mut two);
    parser.finish(&mut two);
    assert_eq!(two, whole, "split at {at}");

    // Byte by byte, each batch handed back for its strings to be reused.
    let mut parser = sse::Parser::new();
    let (mut bytewise, mut items) = (Vec::new(), Vec::new());
    for byte in body {
        parser.feed(std::slice::from_ref(byte), &mut items);
        bytewise.extend(items.iter().cloned());
        parser.recycle(&mut items);
    }
    parser.finish(&mut items);
    bytewise.append(&mut items);
    assert_eq!(bytewise, whole, "byte by byte");

    // The writer does not emit `id:` or `retry:`, so they are left out of the comparison.
    let mut written = Vec::new();
    let mut expected = Vec::new();
    for item in &whole {
        match item {
            sse::Item::Frame(frame) => {
                sse::write_frame(&mut written, frame.event.as_deref(), &frame.data);
                expected.push(sse::Item::Frame(sse::Frame::new(
                    frame.event.as_deref(),
                    frame.data.clone(),
                )));
            }
            sse::Item::Comment(text) => {
                sse::write_comment(&mut written, text);
                expected.push(item.clone());
            }
        }
    }
    assert_eq!(
        sse::parse_all(&written),
        expected,
        "written back: {:?}",
        String::from_utf8_lossy(&written)
    );
}

/// Decoding a request never panics; a decoded request estimates and encodes to every dialect
/// without panicking, and whatever an encoder produces its own decoder reads without panicking.
pub fn decode_request(dialect: Dialect, data: &[u8]) {
    // The door's head reader (by hand first) reads what its serde derive reads, or refuses
    // with the same error.
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            head::read(text).map_err(|e| e.to_string()),
            json::decode::<head::Head>(data).map_err(|e| e.to_string()),
            "{text}"
        );
    }
    let Ok(req) = dialect.decode_request(data) else {
        return;
    };
    let _ = tokens::estimate_request(&req);
    let opts = EncodeOptions::default();
    for target in Dialect::ALL {
        if let Ok(body) = target.encode_request(&req, &opts) {
            let _ = target.decode_request(&body);
        }
    }
}

/// Decoding a response (or an error body) never panics, and a decoded one encodes to every
/// dialect without panicking.
pub fn decode_response(dialect: Dialect, data: &[u8]) {
    let opts = EncodeOptions::default();
    if let Ok(resp) = dialect.decode_response(data) {
        for target in Dialect::ALL {
            if let Ok(body) = target.encode_response(&resp, &opts) {
                let _ = target.decode_response(&body);
            }
        }
    }
    let err = dialect.decode_error(500, data);
    for target in Dialect::ALL {
        let _ = target.encode_error(&err);
    }
}

/// Any bytes fed as SSE to a stream decoder give a well-formed IR stream, which every
/// dialect's encoder accepts without panicking and whose output that dialect's decoder turns
/// back into a well-formed stream.
pub fn stream(dialect: Dialect, data: &[u8]) {
    let events = decode_stream(dialect, data);
    if let Err(e) = ir::check_well_formed(&events) {
        panic!("{dialect:?} decoder output is not well formed: {e}\n{events:#?}");
    }
    let opts = EncodeOptions::default();
    for target in Dialect::ALL {
        let mut encoder = target.stream_encoder(&opts);
        let mut out = Vec::new();
        for ev in &events {
            encoder.encode(ev, &mut out);
        }
        encoder.finish(&mut out);
        let again = decode_stream(target, &out);
        if let Err(e) = ir::check_well_formed(&again) {
            panic!("{target:?} re-decoding its own output is not well formed: {e}\n{again:#?}");
        }
    }
}

/// Decodes a whole SSE body as the server does. A decoder error ends the stream the way the
/// server reports it to the client, as an `Error` event after what was decoded so far; so the
/// events before the error must still be a well-formed beginning of a stream.
fn decode_stream(dialect: Dialect, data: &[u8]) -> Vec<StreamEvent> {
    let mut decoder = dialect.stream_decoder();
    let mut events = Vec::new();
    for item in sse::parse_all(data) {
        let sse::Item::Frame(frame) = item else {
            continue;
        };
        if let Err(e) = decoder.decode(&frame, &mut events) {
            events.push(StreamEvent::Error(ir::ErrorBody::new(
                ir::ErrorKind::Api,
                e.to_string(),
            )));
            return events;
        }
    }
    decoder.finish(&mut events);
    events
}

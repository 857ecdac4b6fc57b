//! Replays every input saved under `tests/fuzz_regressions/<target>/` through the checks of the
//! fuzz target of that name, so a crash found once by `cargo fuzz` stays fixed on stable Rust.
//!
//! The checks are a copy of `fuzz/src/lib.rs`: that crate needs nightly and libFuzzer, so it
//! cannot be a dependency here, and this crate exposes no fuzzing module to share. Keep the two
//! copies in step. A folder named after no fuzz target fails the test, so a typo cannot hide
//! an input.

use std::fs;
use std::path::{Path, PathBuf};

use switchyard_protocol::ir::{self, StreamEvent};
use switchyard_protocol::{head, json, sse, tokens, Dialect, EncodeOptions};

#[test]
fn replay_fuzz_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut replayed = 0;
    for dir in sorted_entries(&root) {
        if !dir.is_dir() {
            continue; // the folder's README
        }
        let target = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        for input in sorted_entries(&dir) {
            let data = fs::read(&input).expect("read a regression input");
            // Printed before the check, so a failure names its input.
            println!("replaying {}", input.display());
            check(&target, &data);
            replayed += 1;
        }
    }
    println!("replayed {replayed} inputs");
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
}

fn check(target: &str, data: &[u8]) {
    let dialect = |name: &str| -> Dialect {
        name.parse()
            .unwrap_or_else(|e| panic!("no fuzz target {target}: {e}"))
    };
    if target == "sse_parser" {
        sse_parser(data);
    } else if let Some(name) = target.strip_prefix("decode_request_") {
        decode_request(dialect(name), data);
    } else if let Some(name) = target.strip_prefix("decode_response_") {
        decode_response(dialect(name), data);
    } else if let Some(name) = target.strip_prefix("stream_") {
        stream(dialect(name), data);
    } else {
        panic!("no fuzz target named {target}");
    }
}

// ---- copied from fuzz/src/lib.rs ----

fn sse_parser(data: &[u8]) {
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

    let mut parser = sse::Parser::new();
    let mut bytewise = Vec::new();
    for byte in body {
        parser.feed(std::slice::from_ref(byte), &mut bytewise);
    }
    parser.finish(&mut bytewise);
    assert_eq!(bytewise, whole, "byte by byte");

    let mut written = Vec::new();
    let mut expected = Vec::new();
    for item in &whole {
        match item {
            sse::Item::Frame(frame) => {
                sse::write_frame(&mut written, frame.event.as_deref(), &frame.data);
                let bare = sse::Frame::new(frame.event.as_deref(), frame.data.clone());
                expected.push(sse::Item::Frame(bare));
            }
            sse::Item::Comment(text) => {
                sse::write_comment(&mut written, text);
                expected.push(item.clone());
            }
        }
    }
    assert_eq!(sse::parse_all(&written), expected, "written back");
}

fn decode_request(dialect: Dialect, data: &[u8]) {
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

fn decode_response(dialect: Dialect, data: &[u8]) {
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

fn stream(dialect: Dialect, data: &[u8]) {
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

fn decode_stream(dialect: Dialect, data: &[u8]) -> Vec<StreamEvent> {
    let mut decoder = dialect.stream_decoder();
    let mut events = Vec::new();
    for item in sse::parse_all(data) {
        let sse::Item::Frame(frame) = item else {
            continue;
        };
        if let Err(e) = decoder.decode(&frame, &mut events) {
            let body = ir::ErrorBody::new(ir::ErrorKind::Api, e.to_string());
            events.push(StreamEvent::Error(body));
            return events;
        }
    }
    decoder.finish(&mut events);
    events
}

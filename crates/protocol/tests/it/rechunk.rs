//! A stream re-chunked at random byte boundaries decodes to exactly the events of the stream
//! read whole, for every stream fixture of every dialect: upstreams split frames anywhere, and
//! nothing may depend on where.

use crate::support;

use proptest::prelude::*;
use support::fixtures;
use switchyard_protocol::ir::StreamEvent;
use switchyard_protocol::{sse, Dialect};

fn decode_in_pieces(dialect: Dialect, body: &[u8], cuts: &[usize]) -> Vec<StreamEvent> {
    let mut parser = sse::Parser::new();
    let mut decoder = dialect.stream_decoder();
    let mut items = Vec::new();
    let mut events = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    points.sort_unstable();
    points.push(body.len());
    for end in points {
        parser.feed(&body[start..end], &mut items);
        start = end;
    }
    parser.finish(&mut items);
    for item in items {
        if let sse::Item::Frame(f) = item {
            decoder.decode(&f, &mut events).expect("fixture decodes");
        }
    }
    decoder.finish(&mut events);
    events
}

fn all_streams() -> Vec<(Dialect, String, Vec<u8>)> {
    let mut out = Vec::new();
    for d in Dialect::ALL {
        for (name, path) in fixtures(d, "streams") {
            out.push((d, name, std::fs::read(path).expect("read fixture")));
        }
    }
    assert!(!out.is_empty(), "no stream fixtures found");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rechunked_streams_decode_identically(cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        for (dialect, name, body) in all_streams() {
            let whole = decode_in_pieces(dialect, &body, &[]);
            let pieces = decode_in_pieces(dialect, &body, &cuts);
            prop_assert_eq!(&whole, &pieces, "{}/{}", dialect.name(), name);
        }
    }
}

#[test]
fn byte_by_byte_equals_whole() {
    for (dialect, name, body) in all_streams() {
        let every: Vec<usize> = (0..body.len()).collect();
        assert_eq!(
            decode_in_pieces(dialect, &body, &[]),
            decode_in_pieces(dialect, &body, &every),
            "{}/{name}",
            dialect.name()
        );
    }
}

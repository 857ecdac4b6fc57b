//! Anthropic Messages dialect: fixture round trips, stream invariants, the hard cases real
//! clients send, every refusal, error bodies, and property tests of IR → wire → IR.

// clippy.toml allows unwrap in `#[test]` fns only; the helpers here are test code too, and a
// panic is how they report a failure.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Value};
use switchyard_protocol::anthropic;
use switchyard_protocol::ir::{
    self, Block, BlockStart, CacheControl, Delta, ErrorBody, ErrorKind, Family, MediaSource,
    ReasoningMode, Role, Signature, StopReason, StreamEvent, ToolCallKind, ToolChoice, ToolKind,
    Usage,
};
use switchyard_protocol::{sse, Dialect, EncodeOptions, Error};

// ---------------------------------------------------------------------------------------
// Helpers

fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anthropic")
        .join(kind)
}

fn fixtures(kind: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(fixture_dir(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no {kind} fixtures");
    out
}

fn fixture(kind: &str, name: &str) -> Vec<u8> {
    fs::read(fixture_dir(kind).join(name)).unwrap()
}

fn value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn opts() -> EncodeOptions {
    EncodeOptions::default()
}

fn decode_req(name: &str) -> ir::Request {
    anthropic::decode_request(&fixture("requests", name)).unwrap()
}

fn encode_req(req: &ir::Request) -> Value {
    value(&anthropic::encode_request(req, &opts()).unwrap())
}

/// Decodes a whole SSE body, feeding the parser in pieces that end at `cuts`.
fn decode_stream_chunked(body: &[u8], cuts: &[usize]) -> Vec<StreamEvent> {
    let mut parser = sse::Parser::new();
    let mut items = Vec::new();
    let mut last = 0;
    for &cut in cuts {
        let cut = cut.clamp(last, body.len());
        parser.feed(&body[last..cut], &mut items);
        last = cut;
    }
    parser.feed(&body[last..], &mut items);
    parser.finish(&mut items);
    let mut decoder = anthropic::StreamDecoder::new();
    let mut events = Vec::new();
    for item in items {
        if let sse::Item::Frame(f) = item {
            decoder.decode(&f, &mut events).unwrap();
        }
    }
    decoder.finish(&mut events);
    events
}

fn decode_stream(body: &[u8]) -> Vec<StreamEvent> {
    decode_stream_chunked(body, &[])
}

fn encode_stream(events: &[StreamEvent]) -> Vec<u8> {
    let mut enc = anthropic::StreamEncoder::new(&opts());
    let mut out = Vec::new();
    for ev in events {
        enc.encode(ev, &mut out);
    }
    enc.finish(&mut out);
    out
}

/// Error events compared by what the wire carries (kind and message).
fn comparable(events: &[StreamEvent]) -> Vec<StreamEvent> {
    events
        .iter()
        .map(|e| match e {
            StreamEvent::Error(err) => {
                StreamEvent::Error(ErrorBody::new(err.kind, err.message.clone()))
            }
            other => other.clone(),
        })
        .collect()
}

fn unsupported(result: Result<Vec<u8>, Error>) -> String {
    match result {
        Err(Error::Unsupported { feature, target }) => {
            assert_eq!(target, Dialect::Anthropic);
            feature
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

fn anthropic_sig(v: &str) -> Signature {
    Signature {
        family: Family::Anthropic,
        value: v.into(),
    }
}

fn user(blocks: Vec<Block>) -> ir::Message {
    ir::Message::new(Role::User, blocks)
}

fn assistant(blocks: Vec<Block>) -> ir::Message {
    ir::Message::new(Role::Assistant, blocks)
}

fn tool_use(id: &str, input: Value) -> Block {
    Block::ToolUse(ir::ToolUse {
        id: id.into(),
        name: "get_weather".into(),
        input,
        kind: ToolCallKind::Function,
        signature: None,
        cache_control: None,
        extras: Default::default(),
    })
}

fn tool_result(id: &str, text: &str) -> Block {
    Block::ToolResult(ir::ToolResult {
        tool_use_id: id.into(),
        name: None,
        content: vec![Block::text(text)],
        is_error: false,
        cache_control: None,
        extras: Default::default(),
    })
}

fn base_request(messages: Vec<ir::Message>) -> ir::Request {
    ir::Request {
        model: "claude-sonnet-4-5-20250929".into(),
        messages,
        sampling: ir::Sampling {
            max_tokens: Some(1024),
            ..Default::default()
        },
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------
// 1. Fixtures decode, and a same-dialect round trip is exact

/// Fixtures whose re-encoding differs on purpose (tested on their own below).
const NORMALISED: [&str; 1] = ["system_in_messages"];

#[test]
fn every_request_fixture_round_trips() {
    for (name, body) in fixtures("requests", "json") {
        let req = anthropic::decode_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        if NORMALISED.contains(&name.as_str()) {
            continue;
        }
        let out =
            anthropic::encode_request(&req, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(value(&out), value(&body), "{name}");
    }
}

#[test]
fn every_response_fixture_round_trips() {
    for (name, body) in fixtures("responses", "json") {
        let resp = anthropic::decode_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = anthropic::encode_response(&resp, &opts()).unwrap();
        assert_eq!(value(&out), value(&body), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// 2. Streams

#[test]
fn every_stream_fixture_is_well_formed_and_chunking_invariant() {
    for (name, body) in fixtures("streams", "sse") {
        let whole = decode_stream(&body);
        ir::check_well_formed(&whole).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Re-chunk at pseudo-random boundaries, several times.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..20 {
            let mut cuts = Vec::new();
            let mut at = 0usize;
            while at < body.len() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                at += 1 + (seed >> 33) as usize % (1 + round * 7);
                cuts.push(at);
            }
            assert_eq!(
                decode_stream_chunked(&body, &cuts),
                whole,
                "{name} round {round}"
            );
        }
    }
}

#[test]
fn every_stream_fixture_survives_encode_then_decode() {
    for (name, body) in fixtures("streams", "sse") {
        let events = decode_stream(&body);
        let again = decode_stream(&encode_stream(&events));
        ir::check_well_formed(&again).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(comparable(&again), comparable(&events), "{name}");
    }
}

/// The parts of a response both forms carry: blocks without extras, stop reason, usage.
fn semantics(resp: &ir::Response) -> (Vec<Value>, Option<StopReason>, Usage) {
    let blocks = resp
        .content
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(json!({"text": t.text, "citations": t.citations.len()})),
            Block::Thinking(t) => Some(json!({
                "thinking": t.text,
                "signature": t.signature.as_ref().map(|s| s.value.clone()),
            })),
            Block::RedactedThinking(r) => Some(json!({"redacted": r.data})),
            Block::ToolUse(t) => Some(json!({"id": t.id, "name": t.name, "input": t.input})),
            // Server tool blocks are not in the IR stream (see the decoder's doc).
            Block::Other(_) => None,
            other => panic!("unexpected block {other:?}"),
        })
        .collect();
    (blocks, resp.stop_reason.clone(), resp.usage)
}

#[test]
fn collected_streams_match_their_buffered_responses() {
    for (stream, response) in [
        ("text", "text"),
        ("tools", "tool_use"),
        ("thinking_tools", "thinking"),
        ("usage_cache", "usage_cache"),
        ("server_tools", "web_search"),
    ] {
        let events = decode_stream(&fixture("streams", &format!("{stream}.sse")));
        let mut c = ir::Collector::new();
        for ev in &events {
            c.push(ev);
        }
        let collected = c.finish();
        let buffered =
            anthropic::decode_response(&fixture("responses", &format!("{response}.json"))).unwrap();
        assert_eq!(collected.id, buffered.id, "{stream}");
        assert_eq!(semantics(&collected), semantics(&buffered), "{stream}");
    }
}

#[test]
fn stream_server_tool_blocks_are_skipped_and_indices_renumbered() {
    let events = decode_stream(&fixture("streams", "server_tools.sse"));
    let starts: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::BlockStart { index, block } => Some((*index, block.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        starts,
        vec![(0, BlockStart::Text), (1, BlockStart::Text)],
        "upstream blocks 1 and 2 (server_tool_use, web_search_tool_result) left out"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        StreamEvent::BlockDelta { index: 1, delta: Delta::Citation(c) }
            if c.url.as_deref() == Some("https://www.nasa.gov/mission/artemis-ii/")
    )));
}

#[test]
fn stream_indices_not_starting_at_zero_are_renumbered() {
    let body = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5-20251001\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n",
        "event: content_block_stop\n",
        "data: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    let events = decode_stream(body.as_bytes());
    ir::check_well_formed(&events).unwrap();
    assert_eq!(
        events[1],
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Text
        }
    );
    // message_stop without message_delta still yields one (the IR requires it).
    assert!(matches!(
        events[events.len() - 2],
        StreamEvent::MessageDelta { .. }
    ));
}

#[test]
fn stream_usage_split_across_start_and_delta_is_merged() {
    let events = decode_stream(&fixture("streams", "text.sse"));
    let start = events.iter().find_map(|e| match e {
        StreamEvent::MessageStart { usage, .. } => Some(*usage),
        _ => None,
    });
    assert_eq!(start.unwrap().input_tokens, 21);
    let delta = events.iter().find_map(|e| match e {
        StreamEvent::MessageDelta { usage, .. } => Some(*usage),
        _ => None,
    });
    let delta = delta.unwrap();
    assert_eq!((delta.input_tokens, delta.output_tokens), (21, 11));

    let events = decode_stream(&fixture("streams", "usage_cache.sse"));
    let StreamEvent::MessageDelta { usage, .. } = events[events.len() - 2] else {
        panic!("no message delta");
    };
    assert_eq!(
        usage,
        Usage {
            input_tokens: 14,
            output_tokens: 20,
            cache_read_tokens: 187354,
            cache_write_tokens: 1024,
            reasoning_tokens: 0
        }
    );
}

#[test]
fn stream_tool_use_start_input_is_ignored_and_args_come_from_deltas() {
    let events = decode_stream(&fixture("streams", "tools.sse"));
    let fragments: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::BlockDelta {
                index: 2,
                delta: Delta::ToolInput(s),
            } => Some(s.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        value(fragments.as_bytes()),
        json!({"location": "Tokyo, Japan", "unit": "celsius"})
    );
}

#[test]
fn stream_error_midstream_ends_the_stream() {
    let events = decode_stream(&fixture("streams", "error_midstream.sse"));
    let Some(StreamEvent::Error(err)) = events.last() else {
        panic!("no error: {events:?}");
    };
    assert_eq!(err.kind, ErrorKind::Overloaded);
    assert_eq!(err.message, "Overloaded");
    ir::check_well_formed(&events).unwrap();
}

#[test]
fn stream_truncated_upstream_closes_block_and_reports_error() {
    let body = fixture("streams", "text.sse");
    let text = String::from_utf8(body).unwrap();
    let cut = text.find("event: content_block_stop").unwrap();
    let events = decode_stream(&text.as_bytes()[..cut]);
    ir::check_well_formed(&events).unwrap();
    let n = events.len();
    assert_eq!(events[n - 2], StreamEvent::BlockStop { index: 0 });
    match &events[n - 1] {
        StreamEvent::Error(e) => {
            assert_eq!(e.kind, ErrorKind::Api);
            assert_eq!(e.message, "upstream stream ended before completion");
        }
        other => panic!("{other:?}"),
    }
    // A stream that ended properly gets nothing more from finish.
    let mut d = anthropic::StreamDecoder::new();
    let mut events = Vec::new();
    for item in sse::parse_all(&fixture("streams", "text.sse")) {
        if let sse::Item::Frame(f) = item {
            d.decode(&f, &mut events).unwrap();
        }
    }
    let n = events.len();
    d.finish(&mut events);
    assert_eq!(events.len(), n);
}

#[test]
fn stream_encoder_merges_message_deltas_and_wraps_foreign_signatures() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG".into(),
            model: "gpt-4o".into(),
            usage: Usage::default(),
        },
        StreamEvent::Ping,
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Thinking,
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::Thinking("hmm".into()),
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::Signature(Signature {
                family: Family::OpenAi,
                value: "gAAAAABo".into(),
            }),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStart {
            index: 1,
            block: BlockStart::ToolUse {
                id: "call:abc.1".into(),
                name: "get_weather".into(),
                kind: ToolCallKind::Function,
                signature: None,
            },
        },
        StreamEvent::BlockDelta {
            index: 1,
            delta: Delta::ToolInput("{\"location\":\"Paris\"}".into()),
        },
        StreamEvent::BlockStop { index: 1 },
        // OpenAI-style: the finish reason and the usage come in separate chunks.
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage::default(),
        },
        StreamEvent::MessageDelta {
            stop_reason: None,
            stop_sequence: None,
            usage: Usage {
                input_tokens: 30,
                output_tokens: 12,
                ..Default::default()
            },
        },
        StreamEvent::MessageStop,
    ];
    ir::check_well_formed(&events).unwrap();
    let bytes = encode_stream(&events);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(text.matches("event: message_start").count(), 1);
    assert_eq!(text.matches("event: message_delta").count(), 1);
    assert!(text.contains("event: ping\ndata: {\"type\":\"ping\"}"));
    assert!(text.contains("\"signature\":\"sy1.openai.gAAAAABo\""));
    assert!(text.contains(r#"{"type":"thinking","thinking":"","signature":""}"#));
    assert!(text.contains(r#""input":{}"#));
    let decoded = decode_stream(&bytes);
    let delta = decoded.iter().find_map(|e| match e {
        StreamEvent::MessageDelta {
            stop_reason, usage, ..
        } => Some((stop_reason.clone(), *usage)),
        _ => None,
    });
    let (reason, usage) = delta.unwrap();
    assert_eq!(reason, Some(StopReason::ToolUse));
    assert_eq!((usage.input_tokens, usage.output_tokens), (30, 12));
    // The signature comes back with its family; the id is valid for Anthropic.
    assert!(decoded.contains(&StreamEvent::BlockDelta {
        index: 0,
        delta: Delta::Signature(Signature {
            family: Family::OpenAi,
            value: "gAAAAABo".into()
        })
    }));
    let id = decoded.iter().find_map(|e| match e {
        StreamEvent::BlockStart {
            block: BlockStart::ToolUse { id, .. },
            ..
        } => Some(id.clone()),
        _ => None,
    });
    assert!(id
        .unwrap()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
}

#[test]
fn stream_encoder_wraps_custom_tool_text_as_an_object() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "resp_1".into(),
            model: "gpt-5".into(),
            usage: Usage::default(),
        },
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::ToolUse {
                id: "call_1".into(),
                name: "apply_patch".into(),
                kind: ToolCallKind::Custom,
                signature: None,
            },
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::ToolInput("*** Begin ".into()),
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::ToolInput("Patch".into()),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage::default(),
        },
        StreamEvent::MessageStop,
    ];
    let mut c = ir::Collector::new();
    for ev in decode_stream(&encode_stream(&events)) {
        c.push(&ev);
    }
    let Block::ToolUse(t) = &c.finish().content[0] else {
        panic!()
    };
    assert_eq!(t.input, json!({"input": "*** Begin Patch"}));
}

#[test]
fn stream_encoder_writes_error_event() {
    let mut out = Vec::new();
    let mut enc = anthropic::StreamEncoder::new(&opts());
    enc.encode(
        &StreamEvent::Error(ErrorBody::new(ErrorKind::RateLimited, "slow down")),
        &mut out,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}\n\n"
    );
}

// ---------------------------------------------------------------------------------------
// 4. Hard cases real clients send

#[test]
fn system_role_messages_are_decoded_in_place_and_hoisted_on_encode() {
    let req = decode_req("system_in_messages.json");
    assert_eq!(req.messages[1].role, Role::System);
    assert!(req.messages[1].text().starts_with("Plan mode is active"));
    let out = encode_req(&req);
    // Hoisted after the top-level system; the two user turns around it merged.
    let expected = json!({
      "model": "claude-opus-4-5-20251101",
      "max_tokens": 32000,
      "stream": true,
      "system": [
        {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Plan mode is active. Do not edit files until the user approves the plan."}
      ],
      "messages": [
        {"role": "user", "content": [
          {"type": "text", "text": "<system-reminder>\nThe working directory is /home/dev/project.\n</system-reminder>"},
          {"type": "text", "text": "The test in tests/parser.rs fails, can you fix it?"},
          {"type": "text", "text": "Start by reading the test."}
        ]}
      ]
    });
    assert_eq!(out, expected);
}

#[test]
fn system_string_with_hoisted_messages_becomes_blocks() {
    let mut req = decode_req("multi_turn.json");
    req.messages.insert(
        1,
        ir::Message::new(Role::System, vec![Block::text("Be brief.")]),
    );
    let out = encode_req(&req);
    assert_eq!(
        out["system"],
        json!([
            {"type": "text", "text": "You are a concise assistant for a gardening shop."},
            {"type": "text", "text": "Be brief."}
        ])
    );
}

#[test]
fn adaptive_thinking() {
    let req = decode_req("thinking_adaptive.json");
    let r = req.reasoning.unwrap();
    assert_eq!(r.mode, ReasoningMode::Adaptive);
    assert_eq!(r.budget_tokens, None);
}

#[test]
fn output_config_effort_and_json_schema() {
    let req = decode_req("output_config.json");
    let r = req.reasoning.clone().unwrap();
    assert_eq!(r.effort, Some(ir::Effort::Medium));
    match &req.response_format {
        Some(ir::ResponseFormat::JsonSchema { schema, .. }) => {
            assert_eq!(schema.parse().unwrap()["required"][3], "demo_requested")
        }
        other => panic!("{other:?}"),
    }
    // No thinking was asked for: none goes back.
    assert!(encode_req(&req).get("thinking").is_none());
}

#[test]
fn context_management_and_service_tier_ride_in_extras() {
    let req = decode_req("context_management.json");
    let fields = req.extras.for_dialect(Dialect::Anthropic).unwrap();
    assert!(fields.contains_key("context_management"));
    assert_eq!(fields["service_tier"], "auto");
    assert!(matches!(
        &req.tools[0].kind,
        ToolKind::Provider { kind } if kind == "memory_20250818"
    ));
}

#[test]
fn metadata_user_id_json_string_kept_verbatim() {
    let body = fixture("requests", "metadata_user_id.json");
    let req = anthropic::decode_request(&body).unwrap();
    assert_eq!(
        req.metadata.user_id.as_deref(),
        value(&body)["metadata"]["user_id"].as_str()
    );
    assert!(req.metadata.user_id.unwrap().starts_with("{\"device_id\""));
}

#[test]
fn empty_tools_list_round_trips_as_empty_list() {
    let req = decode_req("empty_tools.json");
    assert!(req.tools.is_empty());
    assert_eq!(encode_req(&req)["tools"], json!([]));
    // ...and tools given in the IR replace it.
    let mut with = req.clone();
    with.tools.push(ir::Tool {
        name: "t".into(),
        description: None,
        kind: ToolKind::Function {
            parameters: json!({"type": "object"}).into(),
            strict: None,
        },
        cache_control: None,
        extras: Default::default(),
    });
    assert_eq!(encode_req(&with)["tools"][0]["name"], "t");
}

#[test]
fn images_inside_tool_result_content() {
    let req = decode_req("tool_result_images.json");
    let Block::ToolResult(r) = &req.messages[2].content[0] else {
        panic!()
    };
    assert!(!r.is_error);
    assert!(matches!(
        &r.content[1],
        Block::Image(i) if matches!(&i.source, MediaSource::Base64 { media_type, .. } if media_type == "image/png")
    ));
}

#[test]
fn tool_input_schemas_kept_verbatim() {
    let body = fixture("requests", "tool_schemas.json");
    let req = anthropic::decode_request(&body).unwrap();
    let ToolKind::Function { parameters, .. } = &req.tools[1].kind else {
        panic!()
    };
    assert_eq!(
        parameters.parse().unwrap(),
        value(&body)["tools"][1]["input_schema"]
    );
    assert_eq!(
        parameters.parse().unwrap()["properties"]["timeout_seconds"]["exclusiveMinimum"],
        0
    );
    assert_eq!(encode_req(&req)["tools"], value(&body)["tools"]);
}

#[test]
fn cache_control_with_one_hour_ttl() {
    let req = decode_req("cache_ttl.json");
    let hour = Some(CacheControl {
        kind: "ephemeral".into(),
        ttl: Some("1h".into()),
    });
    assert_eq!(req.system[0].cache_control, hour);
    assert_eq!(req.tools[0].cache_control, hour);
    let Block::Text(t) = &req.messages[0].content[0] else {
        panic!()
    };
    assert_eq!(t.cache_control.as_ref().unwrap().ttl.as_deref(), Some("5m"));
}

#[test]
fn string_and_block_content_forms_are_kept() {
    let out = encode_req(&decode_req("multi_turn.json"));
    assert!(out["system"].is_string());
    assert!(out["messages"][0]["content"].is_string());
    assert!(out["messages"][1]["content"].is_array());
    let out = encode_req(&decode_req("parallel_tools.json"));
    let results = &out["messages"][2]["content"];
    assert!(results[0]["content"].is_string());
    assert!(results[1]["content"].is_array());
}

#[test]
fn consecutive_same_role_messages_are_merged() {
    let req = base_request(vec![
        user(vec![Block::text("first")]),
        user(vec![Block::text("second")]),
        assistant(vec![tool_use("toolu_01", json!({"location": "Paris"}))]),
        user(vec![tool_result("toolu_01", "18C")]),
        user(vec![Block::text("thanks")]),
        assistant(vec![Block::text("a")]),
        assistant(vec![Block::text("b")]),
    ]);
    let out = encode_req(&req);
    let msgs = out["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 4);
    assert_eq!(msgs[0]["content"].as_array().unwrap().len(), 2);
    assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
    assert_eq!(msgs[2]["content"][1]["text"], "thanks");
    assert_eq!(msgs[3]["content"][1]["text"], "b");
}

#[test]
fn empty_text_blocks_are_dropped() {
    let req = base_request(vec![
        user(vec![Block::text(""), Block::text("hi")]),
        // Left empty by the rule: dropped, and its neighbours merged.
        assistant(vec![Block::text("")]),
        user(vec![Block::text("again")]),
    ]);
    let out = encode_req(&req);
    assert_eq!(
        out["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "text", "text": "again"}
        ]}])
    );
}

#[test]
fn tool_ids_are_made_valid_on_both_ends() {
    let req = base_request(vec![
        user(vec![Block::text("weather?")]),
        assistant(vec![tool_use("call:abc.123", json!({}))]),
        user(vec![tool_result("call:abc.123", "sunny")]),
    ]);
    let out = encode_req(&req);
    let use_id = out["messages"][1]["content"][0]["id"].as_str().unwrap();
    let result_id = out["messages"][2]["content"][0]["tool_use_id"]
        .as_str()
        .unwrap();
    assert_eq!(use_id, result_id);
    assert!(use_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
}

#[test]
fn thinking_without_anthropic_signature_is_dropped_redacted_kept() {
    let thinking = |sig: Option<Signature>| {
        Block::Thinking(ir::Thinking {
            text: "reasoning".into(),
            signature: sig,
            extras: Default::default(),
        })
    };
    let req = base_request(vec![
        user(vec![Block::text("q")]),
        assistant(vec![
            thinking(Some(anthropic_sig("EqQBCkgIARAB"))),
            thinking(Some(Signature {
                family: Family::Gemini,
                value: "CiQB0e2Kb".into(),
            })),
            thinking(None),
            Block::RedactedThinking(ir::RedactedThinking {
                data: "EmwKAhgB".into(),
            }),
            Block::text("answer"),
        ]),
    ]);
    let out = encode_req(&req);
    let content = out["messages"][1]["content"].as_array().unwrap();
    let types: Vec<_> = content
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["thinking", "redacted_thinking", "text"]);
    assert_eq!(content[0]["signature"], "EqQBCkgIARAB");
}

#[test]
fn wrapped_foreign_signature_from_client_is_not_sent_upstream() {
    let body = json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "t", "signature": "sy1.gemini.CiQB0e2Kb"},
                {"type": "text", "text": "a"}
            ]}
        ]
    });
    let req = anthropic::decode_request(body.to_string().as_bytes()).unwrap();
    let Block::Thinking(t) = &req.messages[1].content[0] else {
        panic!()
    };
    assert_eq!(t.signature.as_ref().unwrap().family, Family::Gemini);
    let out = encode_req(&req);
    assert_eq!(out["messages"][1]["content"].as_array().unwrap().len(), 1);
}

#[test]
fn response_encoder_wraps_foreign_signatures() {
    let resp = ir::Response {
        id: "resp_1".into(),
        model: "gemini-2.5-pro".into(),
        content: vec![Block::Thinking(ir::Thinking {
            text: "t".into(),
            signature: Some(Signature {
                family: Family::Gemini,
                value: "CiQB".into(),
            }),
            extras: Default::default(),
        })],
        stop_reason: Some(StopReason::ContentFilter),
        ..Default::default()
    };
    let out = value(&anthropic::encode_response(&resp, &opts()).unwrap());
    assert_eq!(out["content"][0]["signature"], "sy1.gemini.CiQB");
    assert_eq!(out["stop_reason"], "refusal");
    assert_eq!(out["stop_sequence"], Value::Null);
    let back = anthropic::decode_response(out.to_string().as_bytes()).unwrap();
    let Block::Thinking(t) = &back.content[0] else {
        panic!()
    };
    assert_eq!(t.signature.as_ref().unwrap().family, Family::Gemini);
}

#[test]
fn non_object_tool_input_is_wrapped() {
    let req = base_request(vec![
        user(vec![Block::text("q")]),
        assistant(vec![tool_use("toolu_1", json!("not json {"))]),
        user(vec![tool_result("toolu_1", "r")]),
    ]);
    let out = encode_req(&req);
    assert_eq!(
        out["messages"][1]["content"][0]["input"],
        json!({"input": "not json {"})
    );
}

#[test]
fn default_max_tokens_when_ir_has_none() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.sampling.max_tokens = None;
    let o = EncodeOptions {
        default_max_tokens: 4321,
        ..Default::default()
    };
    let out = value(&anthropic::encode_request(&req, &o).unwrap());
    assert_eq!(out["max_tokens"], 4321);
}

#[test]
fn disable_parallel_tool_use_maps_to_parallel_tool_calls() {
    let req = decode_req("tools.json");
    assert_eq!(req.parallel_tool_calls, Some(false));
    assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
    // Without a tool_choice, forbidding parallel calls still needs one.
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.parallel_tool_calls = Some(false);
    assert_eq!(
        encode_req(&req)["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
}

#[test]
fn server_tools_are_provider_tools_and_server_blocks_verbatim() {
    let req = decode_req("server_tools.json");
    assert!(
        matches!(&req.tools[0].kind, ToolKind::Provider { kind } if kind == "web_search_20250305")
    );
    let kinds: Vec<_> = req.messages[1]
        .content
        .iter()
        .map(|b| match b {
            Block::Other(o) => o.kind.clone(),
            Block::Text(_) => "text".into(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["text", "server_tool_use", "web_search_tool_result", "text"]
    );
    let Block::Text(t) = &req.messages[1].content[3] else {
        panic!()
    };
    assert_eq!(t.citations[0].title.as_deref(), Some("Artemis II - NASA"));
}

#[test]
fn documents_map_to_ir_sources() {
    let req = decode_req("documents.json");
    let docs: Vec<_> = req.messages[0]
        .content
        .iter()
        .filter_map(|b| match b {
            Block::Document(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(docs.len(), 4);
    assert!(matches!(docs[0].source, MediaSource::Base64 { .. }));
    assert_eq!(docs[0].citations_enabled, Some(true));
    assert!(matches!(docs[1].source, MediaSource::Text { .. }));
    assert!(matches!(docs[2].source, MediaSource::Url { .. }));
    assert!(matches!(docs[3].source, MediaSource::File { .. }));
}

#[test]
fn effort_from_other_dialects_becomes_a_budget() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.sampling.max_tokens = Some(32000);
    req.reasoning = Some(ir::Reasoning {
        mode: ReasoningMode::Enabled,
        effort: Some(ir::Effort::High),
        ..Default::default()
    });
    let out = encode_req(&req);
    assert_eq!(
        out["thinking"],
        json!({"type": "enabled", "budget_tokens": 16384})
    );
    assert!(out.get("output_config").is_none());
    // The budget stays under max_tokens.
    req.sampling.max_tokens = Some(4000);
    assert_eq!(encode_req(&req)["thinking"]["budget_tokens"], 3999);
}

#[test]
fn thinking_budgets_from_other_dialects_fit_under_max_tokens() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.reasoning = Some(ir::Reasoning {
        mode: ReasoningMode::Enabled,
        budget_tokens: Some(8192),
        ..Default::default()
    });
    // No client limit (a Gemini request): the default answer room is added to the budget.
    req.sampling.max_tokens = None;
    let out = encode_req(&req);
    assert_eq!(out["max_tokens"], 8192 + 8192);
    assert_eq!(out["thinking"]["budget_tokens"], 8192);
    // A client limit is kept; the budget goes under it, and up to the API's minimum.
    req.sampling.max_tokens = Some(4000);
    assert_eq!(encode_req(&req)["thinking"]["budget_tokens"], 3999);
    req.reasoning.as_mut().unwrap().budget_tokens = Some(512);
    assert_eq!(encode_req(&req)["thinking"]["budget_tokens"], 1024);
    // No room for the minimum budget: the limit is kept and thinking is not asked for.
    req.sampling.max_tokens = Some(200);
    let out = encode_req(&req);
    assert_eq!(out["max_tokens"], 200);
    assert!(out.get("thinking").is_none(), "{out}");
    req.reasoning = Some(ir::Reasoning {
        mode: ReasoningMode::Enabled,
        effort: Some(ir::Effort::Low),
        ..Default::default()
    });
    assert!(encode_req(&req).get("thinking").is_none());
}

#[test]
fn thinking_gives_way_where_the_api_would_refuse_it() {
    let thinking = |budget| {
        Some(ir::Reasoning {
            mode: ReasoningMode::Enabled,
            budget_tokens: Some(budget),
            ..Default::default()
        })
    };
    // A tool loop whose assistant turn came from another dialect, without Anthropic thinking.
    let mut req = base_request(vec![
        user(vec![Block::text("weather?")]),
        assistant(vec![tool_use("toolu_1", json!({"location": "Paris"}))]),
        user(vec![tool_result("toolu_1", "15 degrees")]),
    ]);
    req.sampling.max_tokens = Some(4096);
    req.reasoning = thinking(2048);
    assert!(encode_req(&req).get("thinking").is_none());
    // With the turn's own thinking block first, thinking stays on.
    req.messages[1].content.insert(
        0,
        Block::Thinking(ir::Thinking {
            text: "call the tool".into(),
            signature: Some(anthropic_sig("EqQBCkgI")),
            extras: Default::default(),
        }),
    );
    assert_eq!(encode_req(&req)["thinking"]["budget_tokens"], 2048);
    // A forced tool choice cannot be combined with thinking.
    for choice in [ToolChoice::Any, ToolChoice::Tool("get_weather".into())] {
        req.tool_choice = Some(choice);
        let out = encode_req(&req);
        assert!(out.get("thinking").is_none(), "{out}");
        assert!(out["tool_choice"].is_object());
    }
    req.tool_choice = Some(ToolChoice::Auto);
    assert_eq!(encode_req(&req)["thinking"]["type"], "enabled");
    // Disabling thinking is always allowed.
    req.tool_choice = Some(ToolChoice::Any);
    req.reasoning = Some(ir::Reasoning {
        mode: ReasoningMode::Disabled,
        ..Default::default()
    });
    assert_eq!(encode_req(&req)["thinking"]["type"], "disabled");
}

#[test]
fn harmless_hints_without_a_field_are_dropped() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.sampling.seed = Some(7);
    req.sampling.presence_penalty = Some(0.5);
    req.sampling.frequency_penalty = Some(0.5);
    req.sampling.n = Some(1);
    req.store = Some(true);
    req.metadata.session_id = Some("s1".into());
    req.response_format = Some(ir::ResponseFormat::Text);
    let out = encode_req(&req);
    assert_eq!(
        out,
        json!({"model": "claude-sonnet-4-5-20250929", "max_tokens": 1024,
               "messages": [{"role": "user", "content": [{"type": "text", "text": "q"}]}]})
    );
}

#[test]
fn minor_fields_without_an_anthropic_form_are_dropped_or_mapped() {
    let citation = ir::Citation {
        url: Some("https://example.com/a".into()),
        title: Some("A".into()),
        cited_text: Some("quoted".into()),
        ..Default::default()
    };
    let text = Block::Text(ir::Text {
        text: "cited".into(),
        citations: vec![citation],
        signature: Some(Signature {
            family: Family::Gemini,
            value: "CiQB".into(),
        }),
        ..Default::default()
    });
    let image = Block::Image(ir::Image {
        source: MediaSource::Url {
            url: "https://example.com/a.png".into(),
            media_type: Some("image/png".into()),
        },
        detail: Some("high".into()),
        cache_control: None,
        extras: Default::default(),
    });
    let doc = Block::Document(ir::Document {
        source: MediaSource::File {
            file_id: "file-abc".into(),
            media_type: None,
        },
        title: None,
        context: None,
        filename: Some("report.pdf".into()),
        citations_enabled: None,
        cache_control: None,
        extras: Default::default(),
    });
    let mut result = tool_result("toolu_1", "r");
    if let Block::ToolResult(r) = &mut result {
        r.name = Some("get_weather".into());
    }
    let mut req = base_request(vec![
        user(vec![image, doc]),
        assistant(vec![text.clone(), tool_use("toolu_1", json!({}))]),
        user(vec![result]),
        assistant(vec![Block::text("done")]),
        user(vec![Block::text("thanks")]),
    ]);
    req.tools.push(ir::Tool {
        name: "ping".into(),
        description: None,
        kind: ToolKind::Function {
            parameters: Value::Null.into(),
            strict: None,
        },
        cache_control: None,
        extras: Default::default(),
    });
    req.response_format = Some(ir::ResponseFormat::JsonSchema {
        name: Some("answer".into()),
        schema: json!({"type": "object"}).into(),
        strict: Some(true),
    });
    req.reasoning = Some(ir::Reasoning {
        mode: ReasoningMode::Adaptive,
        effort: Some(ir::Effort::Minimal),
        ..Default::default()
    });
    let out = encode_req(&req);
    assert_eq!(
        out["messages"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            {"type": "document", "source": {"type": "file", "file_id": "file-abc"}}
        ])
    );
    // Foreign citations are not sent upstream; the Gemini text signature has no field.
    assert_eq!(
        out["messages"][1]["content"][0],
        json!({"type": "text", "text": "cited"})
    );
    assert!(out["messages"][2]["content"][0].get("name").is_none());
    assert_eq!(
        out["tools"][0]["input_schema"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(
        out["output_config"],
        json!({"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}})
    );
    assert_eq!(out["thinking"], json!({"type": "adaptive"}));
    // To a client, a foreign citation is shown in the nearest Anthropic form.
    let resp = ir::Response {
        content: vec![text],
        stop_reason: Some(StopReason::Error),
        ..Default::default()
    };
    let out = value(&anthropic::encode_response(&resp, &opts()).unwrap());
    assert_eq!(
        out["content"][0]["citations"][0],
        json!({"type": "web_search_result_location", "url": "https://example.com/a",
               "title": "A", "cited_text": "quoted"})
    );
    assert_eq!(out["stop_reason"], "end_turn");
}

#[test]
fn decode_errors_name_the_field() {
    let cases = [
        (json!({"model": "m", "max_tokens": 1}), ""),
        (
            json!({"model": "m", "messages": [{"content": "x"}]}),
            "messages[0]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "content": [{"type": "tool_use", "name": "f", "input": {}}]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]}),
            "messages[0].content[0]",
        ),
    ];
    for (body, path) in cases {
        match anthropic::decode_request(body.to_string().as_bytes()) {
            Err(Error::Decode { path: p, message }) => {
                assert!(
                    p.starts_with(path) || (path.is_empty() && p == "."),
                    "{p} vs {path}: {message}"
                )
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    match anthropic::decode_request(
        br#"{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}"#,
    ) {
        Err(e) => assert!(e.to_string().contains("id"), "{e}"),
        Ok(_) => panic!(),
    }
}

// ---------------------------------------------------------------------------------------
// Refusals

#[test]
fn refuses_n_greater_than_one() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.sampling.n = Some(2);
    assert!(unsupported(anthropic::encode_request(&req, &opts())).contains("n > 1"));
}

#[test]
fn refuses_json_object_response_format() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.response_format = Some(ir::ResponseFormat::JsonObject);
    assert!(unsupported(anthropic::encode_request(&req, &opts())).contains("json_object"));
}

#[test]
fn refuses_custom_tools() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.tools.push(ir::Tool {
        name: "apply_patch".into(),
        description: None,
        kind: ToolKind::Custom { format: None },
        cache_control: None,
        extras: Default::default(),
    });
    assert!(unsupported(anthropic::encode_request(&req, &opts())).contains("custom"));
}

#[test]
fn refuses_foreign_provider_tools() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.tools.push(ir::Tool {
        name: "web_search_preview".into(),
        description: None,
        kind: ToolKind::Provider {
            kind: "web_search_preview".into(),
        },
        cache_control: None,
        extras: ir::Extras::new(
            Dialect::Responses,
            json!({"type": "web_search_preview"})
                .as_object()
                .unwrap()
                .clone(),
        ),
    });
    assert_eq!(
        unsupported(anthropic::encode_request(&req, &opts())),
        "web_search_preview provider tool"
    );
}

#[test]
fn refuses_foreign_other_blocks() {
    let other = Block::Other(ir::Other {
        kind: "input_audio".into(),
        extras: ir::Extras::new(
            Dialect::OpenAiChat,
            json!({"type": "input_audio"}).as_object().unwrap().clone(),
        ),
    });
    let req = base_request(vec![user(vec![other.clone()])]);
    assert_eq!(
        unsupported(anthropic::encode_request(&req, &opts())),
        "input_audio content"
    );
    let resp = ir::Response {
        content: vec![other],
        ..Default::default()
    };
    assert_eq!(
        unsupported(anthropic::encode_response(&resp, &opts())),
        "input_audio content"
    );
}

#[test]
fn refuses_server_tool_calls_in_requests() {
    let mut call = tool_use("ws_1", json!({"query": "x"}));
    if let Block::ToolUse(t) = &mut call {
        t.kind = ToolCallKind::Server;
    }
    let req = base_request(vec![
        user(vec![Block::text("q")]),
        assistant(vec![call.clone()]),
    ]);
    assert_eq!(
        unsupported(anthropic::encode_request(&req, &opts())),
        "server tool call"
    );
    // A client may be shown one.
    let resp = ir::Response {
        content: vec![call],
        ..Default::default()
    };
    let out = value(&anthropic::encode_response(&resp, &opts()).unwrap());
    assert_eq!(out["content"][0]["type"], "server_tool_use");
}

#[test]
fn refuses_text_image_sources() {
    let img = Block::Image(ir::Image {
        source: MediaSource::Text {
            media_type: "text/plain".into(),
            data: "x".into(),
        },
        detail: None,
        cache_control: None,
        extras: Default::default(),
    });
    let req = base_request(vec![user(vec![img])]);
    assert_eq!(
        unsupported(anthropic::encode_request(&req, &opts())),
        "text image source"
    );
}

#[test]
fn refuses_previous_response_id() {
    let mut req = base_request(vec![user(vec![Block::text("q")])]);
    req.previous_response_id = Some("resp_123".into());
    assert_eq!(
        unsupported(anthropic::encode_request(&req, &opts())),
        "previous_response_id"
    );
}

#[test]
fn refuses_non_text_system_messages() {
    let img = Block::Image(ir::Image {
        source: MediaSource::Url {
            url: "https://example.com/a.png".into(),
            media_type: None,
        },
        detail: None,
        cache_control: None,
        extras: Default::default(),
    });
    let req = base_request(vec![
        ir::Message::new(Role::System, vec![img]),
        user(vec![Block::text("q")]),
    ]);
    assert_eq!(
        unsupported(anthropic::encode_request(&req, &opts())),
        "image content in a system message"
    );
}

// ---------------------------------------------------------------------------------------
// 5. Errors

#[test]
fn error_fixtures_decode() {
    let cases = [
        ("rate_limit.json", 429, ErrorKind::RateLimited),
        ("overloaded.json", 529, ErrorKind::Overloaded),
        ("invalid.json", 400, ErrorKind::InvalidRequest),
        ("authentication.json", 401, ErrorKind::Authentication),
        ("not_found.json", 404, ErrorKind::NotFound),
    ];
    for (name, status, kind) in cases {
        let body = fixture("errors", name);
        let err = anthropic::decode_error(status, &body);
        assert_eq!(err.kind, kind, "{name}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.retry_after, None);
        assert_eq!(err.message, value(&body)["error"]["message"]);
        // Same-dialect round trip: same status, same body (request_id included).
        let (s, out) = anthropic::encode_error(&err);
        assert_eq!(s, status, "{name}");
        assert_eq!(value(&out), value(&body), "{name}");
    }
}

#[test]
fn error_type_decides_over_status() {
    let err = anthropic::decode_error(
        500,
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    assert_eq!(err.kind, ErrorKind::Overloaded);
    let err = anthropic::decode_error(
        402,
        br#"{"type":"error","error":{"type":"billing_error","message":"credit balance too low"}}"#,
    );
    assert_eq!(err.kind, ErrorKind::Api);
    assert_eq!(err.code.as_deref(), Some("billing_error"));
}

#[test]
fn unparseable_error_bodies_become_truncated_messages() {
    let err = anthropic::decode_error(502, b"<html>Bad Gateway</html>");
    assert_eq!(err.kind, ErrorKind::Api);
    assert_eq!(err.message, "<html>Bad Gateway</html>");
    let long = "é".repeat(2000);
    let err = anthropic::decode_error(503, long.as_bytes());
    assert_eq!(err.kind, ErrorKind::Overloaded);
    assert!(err.message.len() < 600);
}

#[test]
fn every_error_kind_encodes_with_its_status_and_type() {
    let cases = [
        (ErrorKind::InvalidRequest, 400, "invalid_request_error"),
        (ErrorKind::Authentication, 401, "authentication_error"),
        (ErrorKind::PermissionDenied, 403, "permission_error"),
        (ErrorKind::NotFound, 404, "not_found_error"),
        (ErrorKind::RequestTooLarge, 413, "request_too_large"),
        (ErrorKind::RateLimited, 429, "rate_limit_error"),
        (ErrorKind::Api, 500, "api_error"),
        (ErrorKind::Overloaded, 529, "overloaded_error"),
        (ErrorKind::Timeout, 504, "timeout_error"),
    ];
    for (kind, status, ty) in cases {
        let (s, body) = anthropic::encode_error(&ErrorBody::new(kind, "boom"));
        assert_eq!(s, status, "{kind:?}");
        assert_eq!(
            value(&body),
            json!({"type": "error", "error": {"type": ty, "message": "boom"}})
        );
        assert_eq!(anthropic::decode_error(s, &body).kind, kind);
    }
    // An upstream 503 from another dialect is still 529 here.
    let mut err = ErrorBody::new(ErrorKind::Overloaded, "busy");
    err.status = Some(503);
    assert_eq!(anthropic::encode_error(&err).0, 529);
}

// ---------------------------------------------------------------------------------------
// 3. Property tests: IR → Anthropic → IR is the identity on what Anthropic carries

fn text_s() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,!?é]{1,24}"
}

fn cache_s() -> impl Strategy<Value = Option<CacheControl>> {
    prop_oneof![
        Just(None),
        Just(Some(CacheControl::ephemeral())),
        Just(Some(CacheControl {
            kind: "ephemeral".into(),
            ttl: Some("1h".into())
        })),
    ]
}

fn id_s() -> impl Strategy<Value = String> {
    "toolu_[A-Za-z0-9]{8,20}"
}

fn sig_s(any_family: bool) -> impl Strategy<Value = Signature> {
    let families = if any_family {
        vec![Family::Anthropic, Family::OpenAi, Family::Gemini]
    } else {
        vec![Family::Anthropic]
    };
    (prop::sample::select(families), "[A-Za-z0-9+/]{8,40}")
        .prop_map(|(family, value)| Signature { family, value })
}

fn input_s() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        "[a-z_]{1,8}",
        prop_oneof![
            any::<i32>().prop_map(Value::from),
            text_s().prop_map(Value::from),
            any::<bool>().prop_map(Value::from)
        ],
        0..4,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn text_block_s() -> impl Strategy<Value = Block> {
    (text_s(), cache_s()).prop_map(|(text, cache_control)| {
        Block::Text(ir::Text {
            text,
            cache_control,
            ..Default::default()
        })
    })
}

fn image_s() -> BoxedStrategy<Block> {
    let source = prop_oneof![
        "[A-Za-z0-9+/]{4,24}".prop_map(|data| MediaSource::Base64 {
            media_type: "image/png".into(),
            data
        }),
        "[a-z0-9]{1,10}".prop_map(|p| MediaSource::Url {
            url: format!("https://example.com/{p}.jpg"),
            media_type: None
        }),
        "file_[A-Za-z0-9]{10}".prop_map(|file_id| MediaSource::File {
            file_id,
            media_type: None
        }),
    ];
    (source, cache_s())
        .prop_map(|(source, cache_control)| {
            Block::Image(ir::Image {
                source,
                detail: None,
                cache_control,
                extras: Default::default(),
            })
        })
        .boxed()
}

fn tool_use_s() -> impl Strategy<Value = Block> {
    (id_s(), "[a-z_]{1,12}", input_s()).prop_map(|(id, name, input)| {
        Block::ToolUse(ir::ToolUse {
            id,
            name,
            input,
            kind: ToolCallKind::Function,
            signature: None,
            cache_control: None,
            extras: Default::default(),
        })
    })
}

fn tool_result_s() -> impl Strategy<Value = Block> {
    (
        id_s(),
        prop::collection::vec(prop_oneof![text_block_s().boxed(), image_s()], 0..3),
        any::<bool>(),
        cache_s(),
    )
        .prop_map(|(tool_use_id, content, is_error, cache_control)| {
            Block::ToolResult(ir::ToolResult {
                tool_use_id,
                name: None,
                content,
                is_error,
                cache_control,
                extras: Default::default(),
            })
        })
}

fn thinking_s(any_family: bool) -> impl Strategy<Value = Block> {
    ("[a-zA-Z .]{0,30}", sig_s(any_family)).prop_map(|(text, sig)| {
        Block::Thinking(ir::Thinking {
            text,
            signature: Some(sig),
            extras: Default::default(),
        })
    })
}

fn redacted_s() -> impl Strategy<Value = Block> {
    "[A-Za-z0-9+/]{8,30}".prop_map(|data| Block::RedactedThinking(ir::RedactedThinking { data }))
}

fn request_s() -> impl Strategy<Value = ir::Request> {
    let user_blocks = prop::collection::vec(
        prop_oneof![text_block_s().boxed(), image_s(), tool_result_s().boxed()],
        1..4,
    );
    let assistant_blocks = prop::collection::vec(
        prop_oneof![
            text_block_s().boxed(),
            tool_use_s().boxed(),
            thinking_s(false).boxed(),
            redacted_s().boxed()
        ],
        1..4,
    );
    let turns = prop::collection::vec((user_blocks, prop::option::of(assistant_blocks)), 1..4);
    let system = prop::collection::vec(
        (text_s(), cache_s()).prop_map(|(text, cache_control)| ir::SystemBlock {
            text,
            cache_control,
            extras: Default::default(),
        }),
        0..3,
    );
    let tools = prop::collection::vec(
        (
            "[a-z_]{1,12}",
            prop::option::of(text_s()),
            prop::option::of(any::<bool>()),
            cache_s(),
        )
            .prop_map(|(name, description, strict, cache_control)| ir::Tool {
                name,
                description,
                kind: ToolKind::Function {
                    parameters: json!({"type": "object", "properties": {"q": {"type": "string"}}})
                        .into(),
                    strict,
                },
                cache_control,
                extras: Default::default(),
            }),
        0..3,
    );
    let choice = prop_oneof![
        Just((None, None)),
        (
            prop_oneof![
                Just(ToolChoice::Auto),
                Just(ToolChoice::Any),
                Just(ToolChoice::None),
                "[a-z_]{1,8}".prop_map(ToolChoice::Tool)
            ],
            prop::option::of(any::<bool>())
        )
            .prop_map(|(c, p)| (Some(c), p)),
    ];
    let effort = prop::sample::select(vec![
        ir::Effort::Low,
        ir::Effort::Medium,
        ir::Effort::High,
        ir::Effort::Max,
    ]);
    let reasoning = prop_oneof![
        Just(None),
        (1024u64..20000).prop_map(|b| Some(ir::Reasoning {
            mode: ReasoningMode::Enabled,
            budget_tokens: Some(b),
            ..Default::default()
        })),
        Just(Some(ir::Reasoning {
            mode: ReasoningMode::Disabled,
            ..Default::default()
        })),
        prop::option::of(effort).prop_map(|effort| Some(ir::Reasoning {
            mode: ReasoningMode::Adaptive,
            effort,
            ..Default::default()
        })),
    ];
    let sampling = (
        1u64..100_000,
        prop::option::of((0u32..8).prop_map(|k| f64::from(k) / 4.0)),
        prop::option::of((0u32..4).prop_map(|k| f64::from(k) / 4.0)),
        prop::option::of(1u64..500),
        prop::collection::vec(text_s(), 0..3),
    )
        .prop_map(|(max, temperature, top_p, top_k, stop)| ir::Sampling {
            max_tokens: Some(max),
            temperature,
            top_p,
            top_k,
            stop,
            ..Default::default()
        });
    let format = prop::option::of(Just(ir::ResponseFormat::JsonSchema {
        name: None,
        schema: json!({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false}).into(),
        strict: None,
    }));
    (
        (turns, system, tools, choice),
        (sampling, reasoning, format),
        (
            prop::option::of(text_s()),
            any::<bool>(),
            "claude-[a-z0-9-]{3,20}",
        ),
    )
        .prop_map(
            |(
                (turns, system, tools, (tool_choice, parallel)),
                (sampling, reasoning, format),
                (user_id, stream, model),
            )| {
                // The API wants an enabled thinking budget below max_tokens.
                let mut sampling = sampling;
                if let Some(b) = reasoning.as_ref().and_then(|r| r.budget_tokens) {
                    if sampling.max_tokens.is_some_and(|m| m <= b) {
                        sampling.max_tokens = Some(b + 1);
                    }
                }
                // Roles alternate (consecutive same-role messages are merged on encode); only
                // the last turn may lack an assistant reply.
                let mut messages = Vec::new();
                let last = turns.len() - 1;
                for (i, (u, a)) in turns.into_iter().enumerate() {
                    messages.push(user(u));
                    match a {
                        Some(a) => messages.push(assistant(a)),
                        None if i != last => messages.push(assistant(vec![Block::text("ok")])),
                        None => {}
                    }
                }
                // Thinking the API would refuse (with a forced tool, or answering tool calls
                // of a turn that does not start with thinking) is not sent; leave it out.
                let forced = matches!(tool_choice, Some(ToolChoice::Any | ToolChoice::Tool(_)));
                let loop_without_thinking = match messages.as_slice() {
                    [.., previous, last] => {
                        last.content
                            .iter()
                            .any(|b| matches!(b, Block::ToolResult(_)))
                            && !matches!(
                                previous.content.first(),
                                Some(Block::Thinking(_) | Block::RedactedThinking(_))
                            )
                    }
                    _ => false,
                };
                let thinking_on = reasoning
                    .as_ref()
                    .is_some_and(|r| r.mode != ReasoningMode::Disabled);
                let reasoning = if thinking_on && (forced || loop_without_thinking) {
                    None
                } else {
                    reasoning
                };
                ir::Request {
                    model,
                    system,
                    messages,
                    tools,
                    tool_choice,
                    parallel_tool_calls: parallel,
                    sampling,
                    response_format: format,
                    reasoning,
                    metadata: ir::Metadata {
                        user_id,
                        session_id: None,
                    },
                    stream,
                    include_usage: true,
                    ..Default::default()
                }
            },
        )
}

fn stop_reason_s() -> impl Strategy<Value = Option<StopReason>> {
    prop::option::of(prop::sample::select(vec![
        StopReason::EndTurn,
        StopReason::MaxTokens,
        StopReason::StopSequence,
        StopReason::ToolUse,
        StopReason::PauseTurn,
        StopReason::Refusal,
        StopReason::ContextWindowExceeded,
    ]))
}

fn usage_s() -> impl Strategy<Value = Usage> {
    (0u64..100_000, 0u64..10_000, 0u64..50_000, 0u64..50_000).prop_map(|(i, o, r, w)| Usage {
        input_tokens: i,
        output_tokens: o,
        cache_read_tokens: r,
        cache_write_tokens: w,
        reasoning_tokens: 0,
    })
}

fn response_s() -> impl Strategy<Value = ir::Response> {
    let block = prop_oneof![
        "[a-zA-Z0-9 .]{0,24}".prop_map(Block::text).boxed(),
        tool_use_s().boxed(),
        thinking_s(true).boxed(),
        redacted_s().boxed(),
    ];
    (
        "msg_[A-Za-z0-9]{12,24}",
        "claude-[a-z0-9-]{3,20}",
        prop::collection::vec(block, 0..5),
        stop_reason_s(),
        prop::option::of(text_s()),
        usage_s(),
    )
        .prop_map(
            |(id, model, content, stop_reason, stop_sequence, usage)| ir::Response {
                id,
                model,
                content,
                stop_reason,
                stop_sequence,
                usage,
                created: None,
                extras: Default::default(),
            },
        )
}

#[derive(Debug, Clone)]
enum GenBlock {
    Text(Vec<String>),
    Thinking(Vec<String>, Option<Signature>),
    Redacted(String),
    Tool(String, String, Vec<String>),
}

fn stream_s() -> impl Strategy<Value = Vec<StreamEvent>> {
    let frag = "[a-zA-Z0-9 {}\":,é]{0,12}";
    let block = prop_oneof![
        prop::collection::vec(frag, 0..4).prop_map(GenBlock::Text),
        (
            prop::collection::vec(frag, 0..4),
            prop::option::of(sig_s(true))
        )
            .prop_map(|(d, s)| GenBlock::Thinking(d, s)),
        "[A-Za-z0-9+/]{8,20}".prop_map(GenBlock::Redacted),
        (id_s(), "[a-z_]{1,10}", prop::collection::vec(frag, 0..4))
            .prop_map(|(id, name, d)| GenBlock::Tool(id, name, d)),
    ];
    let error = prop::option::of((
        prop::sample::select(vec![
            ErrorKind::Overloaded,
            ErrorKind::Api,
            ErrorKind::RateLimited,
            ErrorKind::InvalidRequest,
        ]),
        text_s(),
    ));
    (
        "msg_[A-Za-z0-9]{12}",
        usage_s(),
        usage_s(),
        prop::collection::vec(block, 0..5),
        stop_reason_s(),
        prop::option::of(text_s()),
        error,
        any::<u8>(),
    )
        .prop_map(
            |(id, start_usage, more, blocks, stop_reason, stop_sequence, error, pings)| {
                let mut ev = vec![StreamEvent::MessageStart {
                    id,
                    model: "claude-sonnet-4-5-20250929".into(),
                    usage: start_usage,
                }];
                for (index, b) in blocks.into_iter().enumerate() {
                    if pings & (1 << (index % 8)) != 0 {
                        ev.push(StreamEvent::Ping);
                    }
                    let (start, deltas) = match b {
                        GenBlock::Text(d) => {
                            (BlockStart::Text, d.into_iter().map(Delta::Text).collect())
                        }
                        GenBlock::Thinking(d, s) => {
                            let mut v: Vec<_> = d.into_iter().map(Delta::Thinking).collect();
                            v.extend(s.map(Delta::Signature));
                            (BlockStart::Thinking, v)
                        }
                        GenBlock::Redacted(data) => (BlockStart::RedactedThinking { data }, vec![]),
                        GenBlock::Tool(id, name, d) => (
                            BlockStart::ToolUse {
                                id,
                                name,
                                kind: ToolCallKind::Function,
                                signature: None,
                            },
                            d.into_iter().map(Delta::ToolInput).collect(),
                        ),
                    };
                    ev.push(StreamEvent::BlockStart {
                        index,
                        block: start,
                    });
                    for delta in deltas {
                        ev.push(StreamEvent::BlockDelta { index, delta });
                    }
                    ev.push(StreamEvent::BlockStop { index });
                }
                if let Some((kind, message)) = error {
                    ev.push(StreamEvent::Error(ErrorBody::new(kind, message)));
                    return ev;
                }
                let mut usage = start_usage;
                usage.merge(&more);
                ev.push(StreamEvent::MessageDelta {
                    stop_reason,
                    stop_sequence,
                    usage,
                });
                ev.push(StreamEvent::MessageStop);
                ev
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn prop_request_ir_round_trips(req in request_s()) {
        let body = anthropic::encode_request(&req, &opts()).unwrap();
        let back = anthropic::decode_request(&body).unwrap();
        prop_assert_eq!(back, req);
    }

    #[test]
    fn prop_response_ir_round_trips(resp in response_s()) {
        let body = anthropic::encode_response(&resp, &opts()).unwrap();
        let back = anthropic::decode_response(&body).unwrap();
        prop_assert_eq!(back, resp);
    }

    #[test]
    fn prop_stream_encode_decode_is_identity(events in stream_s(), cut in 1usize..64) {
        ir::check_well_formed(&events).unwrap();
        let bytes = encode_stream(&events);
        let cuts: Vec<usize> = (1..bytes.len() / cut + 1).map(|i| i * cut).collect();
        let back = decode_stream_chunked(&bytes, &cuts);
        ir::check_well_formed(&back).unwrap();
        prop_assert_eq!(comparable(&back), comparable(&events));
    }
}

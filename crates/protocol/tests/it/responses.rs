//! Fixture-driven and property tests of the OpenAI Responses dialect.

// Helpers here are test code that should panic on a bad fixture; clippy's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not the helpers they share.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Value};
use switchyard_protocol::ir::{
    self, Block, BlockStart, Citation, Delta, ErrorBody, ErrorKind, Family, Image, MediaSource,
    Message, Role, Signature, StopReason, StreamEvent, Text, Thinking, ToolCallKind, ToolResult,
    ToolUse, Usage,
};
use switchyard_protocol::{responses, sse, Dialect, EncodeOptions, Error};

fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/responses")
        .join(kind)
}

fn fixtures(kind: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(fixture_dir(kind))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no {kind} fixtures");
    out
}

fn fixture(kind: &str, name: &str) -> Vec<u8> {
    fs::read(fixture_dir(kind).join(name)).unwrap()
}

fn opts() -> EncodeOptions {
    EncodeOptions::default()
}

fn as_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn request(name: &str) -> ir::Request {
    responses::decode_request(&fixture("requests", name)).unwrap()
}

fn encode_req(req: &ir::Request) -> Value {
    as_value(&responses::encode_request(req, &opts()).unwrap())
}

/// Decodes a whole SSE body, feeding the parser in pieces cut at `cuts`.
fn decode_stream_chunked(body: &[u8], cuts: &[usize]) -> Vec<StreamEvent> {
    let mut parser = sse::Parser::new();
    let mut decoder = responses::StreamDecoder::new();
    let mut items = Vec::new();
    let mut events = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        let cut = cut.clamp(last, body.len());
        parser.feed(&body[last..cut], &mut items);
        last = cut;
    }
    parser.finish(&mut items);
    for item in items {
        if let sse::Item::Frame(frame) = item {
            decoder.decode(&frame, &mut events).unwrap();
        }
    }
    decoder.finish(&mut events);
    events
}

fn decode_stream(body: &[u8]) -> Vec<StreamEvent> {
    decode_stream_chunked(body, &[])
}

fn encode_stream(events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = responses::StreamEncoder::new(&opts());
    let mut out = Vec::new();
    for ev in events {
        encoder.encode(ev, &mut out);
    }
    encoder.finish(&mut out);
    out
}

fn without_pings(events: &[StreamEvent]) -> Vec<StreamEvent> {
    events
        .iter()
        .filter(|e| !matches!(e, StreamEvent::Ping))
        .cloned()
        .collect()
}

fn collect(events: &[StreamEvent]) -> ir::Response {
    let mut c = ir::Collector::new();
    for ev in events {
        c.push(ev);
    }
    c.finish()
}

// ------------------------------------------------------------------ 1. fixtures round trip

#[test]
fn every_request_fixture_round_trips() {
    for (name, body) in fixtures("requests") {
        let req = responses::decode_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = encode_req(&req);
        assert_eq!(back, as_value(&body), "{name}");
        // And the IR is stable through a second pass.
        let again = responses::decode_request(&serde_json::to_vec(&back).unwrap()).unwrap();
        assert_eq!(again, req, "{name}");
    }
}

#[test]
fn every_response_fixture_round_trips() {
    for (name, body) in fixtures("responses") {
        let resp = responses::decode_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = responses::encode_response(&resp, &opts()).unwrap();
        assert_eq!(as_value(&back), as_value(&body), "{name}");
    }
}

// ------------------------------------------------------------------ 2. streams

#[test]
fn every_stream_fixture_is_well_formed_and_chunking_invariant() {
    for (name, body) in fixtures("streams") {
        let events = decode_stream(&body);
        ir::check_well_formed(&events).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Deterministic pseudo-random cut points.
        let mut state = 0x9e37_79b9_u64 ^ body.len() as u64;
        for _ in 0..20 {
            let mut cuts = Vec::new();
            for _ in 0..12 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                cuts.push((state >> 33) as usize % (body.len() + 1));
            }
            cuts.sort();
            assert_eq!(
                decode_stream_chunked(&body, &cuts),
                events,
                "{name} cut at {cuts:?}"
            );
        }
        // Every byte boundary for the first few hundred bytes.
        for cut in 0..body.len().min(400) {
            assert_eq!(
                decode_stream_chunked(&body, &[cut]),
                events,
                "{name} cut at {cut}"
            );
        }
    }
}

#[test]
fn every_stream_fixture_re_encodes_to_the_same_events() {
    for (name, body) in fixtures("streams") {
        let events = decode_stream(&body);
        let encoded = encode_stream(&events);
        let again = decode_stream(&encoded);
        assert_eq!(without_pings(&again), without_pings(&events), "{name}");
        assert_sequence_numbers(&encoded);
    }
}

/// What a client relies on: text, thinking, tool calls, stop reason, usage.
fn semantics(r: &ir::Response) -> Value {
    let blocks: Vec<Value> = r
        .content
        .iter()
        .map(|b| match b {
            Block::Text(t) => json!({"text": t.text, "citations": t.citations.len()}),
            Block::Thinking(t) => {
                json!({"thinking": t.text, "sig": t.signature.as_ref().map(|s| &s.value)})
            }
            Block::ToolUse(t) => json!({"id": t.id, "name": t.name, "input": t.input}),
            other => json!({"other": format!("{other:?}")}),
        })
        .collect();
    json!({
        "blocks": blocks,
        "stop": format!("{:?}", r.stop_reason),
        "usage": format!("{:?}", r.usage),
    })
}

#[test]
fn streams_agree_with_their_buffered_responses() {
    for (stream, response) in [
        ("text.sse", "text.json"),
        ("tools.sse", "tool_use.json"),
        ("thinking_tools.sse", "thinking.json"),
        ("usage_cache.sse", "usage_cache.json"),
    ] {
        let streamed = collect(&decode_stream(&fixture("streams", stream)));
        let buffered = responses::decode_response(&fixture("responses", response)).unwrap();
        assert_eq!(semantics(&streamed), semantics(&buffered), "{stream}");
        assert_eq!(streamed.id, buffered.id);
        assert_eq!(streamed.model, buffered.model);
    }
}

#[test]
fn reasoning_summary_parts_join_and_signature_precedes_block_stop() {
    let events = decode_stream(&fixture("streams", "thinking_tools.sse"));
    let stop = events
        .iter()
        .position(|e| matches!(e, StreamEvent::BlockStop { index: 0 }))
        .unwrap();
    assert!(matches!(
        &events[stop - 1],
        StreamEvent::BlockDelta { index: 0, delta: Delta::Signature(s) } if s.family == Family::OpenAi
    ));
    let r = collect(&events);
    let Block::Thinking(t) = &r.content[0] else {
        panic!()
    };
    assert!(t.text.contains("version number.\n\n**Calling the tool**"));
    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(r.usage.reasoning_tokens, 128);
}

#[test]
fn usage_cache_normalised() {
    let r = responses::decode_response(&fixture("responses", "usage_cache.json")).unwrap();
    assert_eq!(r.usage.input_tokens, 2306 - 2048);
    assert_eq!(r.usage.cache_read_tokens, 2048);
    assert_eq!(r.usage.output_tokens, 41);
    let events = decode_stream(&fixture("streams", "usage_cache.sse"));
    assert_eq!(collect(&events).usage, r.usage);
}

#[test]
fn error_midstream_becomes_error_event() {
    let events = decode_stream(&fixture("streams", "error_midstream.sse"));
    ir::check_well_formed(&events).unwrap();
    let Some(StreamEvent::Error(e)) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(e.kind, ErrorKind::Api);
    assert_eq!(e.code.as_deref(), Some("server_error"));
    // The text so far was delivered.
    assert_eq!(collect(&events).content.len(), 1);
}

#[test]
fn truncated_stream_reports_error_after_closing_block() {
    let body = fixture("streams", "text.sse");
    let text = String::from_utf8(body).unwrap();
    let cut = text.find("event: response.output_text.done").unwrap();
    let events = decode_stream(&text.as_bytes()[..cut]);
    ir::check_well_formed(&events).unwrap();
    let n = events.len();
    assert!(matches!(events[n - 2], StreamEvent::BlockStop { index: 0 }));
    let StreamEvent::Error(e) = &events[n - 1] else {
        panic!()
    };
    assert_eq!(e.message, "upstream stream ended before completion");
}

#[test]
fn response_failed_event_becomes_error() {
    let frame = sse::Frame::new(
        Some("response.failed"),
        r#"{"type":"response.failed","sequence_number":3,"response":{"id":"resp_1","status":"failed","error":{"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 3s."},"output":[]}}"#,
    );
    let mut d = responses::StreamDecoder::new();
    let mut out = Vec::new();
    d.decode(&frame, &mut out).unwrap();
    d.finish(&mut out);
    ir::check_well_formed(&out).unwrap();
    let Some(StreamEvent::Error(e)) = out.last() else {
        panic!()
    };
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(3));
    assert_eq!(
        out.iter()
            .filter(|e| matches!(e, StreamEvent::Error(_)))
            .count(),
        1
    );
}

fn sse_payloads(body: &[u8]) -> Vec<(String, Value)> {
    sse::parse_all(body)
        .into_iter()
        .filter_map(|i| match i {
            sse::Item::Frame(f) => Some((
                f.event.unwrap_or_default(),
                serde_json::from_str(&f.data).unwrap(),
            )),
            sse::Item::Comment(_) => None,
        })
        .collect()
}

fn assert_sequence_numbers(body: &[u8]) {
    for (i, (event, data)) in sse_payloads(body).iter().enumerate() {
        assert_eq!(data["sequence_number"], json!(i), "{event}");
        assert_eq!(data["type"], json!(event));
    }
}

#[test]
fn stream_encoder_emits_the_sdk_sequence() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "msg_01XFDUDYJgAACzvnptvVoYEL".into(),
            model: "claude-sonnet-4-5".into(),
            usage: Usage {
                input_tokens: 25,
                ..Usage::default()
            },
        },
        StreamEvent::Ping,
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Thinking,
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::Thinking("Let me check.".into()),
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::Signature(Signature {
                family: Family::Anthropic,
                value: "EqQBCkYIAR".into(),
            }),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStart {
            index: 1,
            block: BlockStart::RedactedThinking {
                data: "EmwKAhgB".into(),
            },
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::BlockStart {
            index: 2,
            block: BlockStart::Text,
        },
        StreamEvent::BlockDelta {
            index: 2,
            delta: Delta::Text("Hi".into()),
        },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::BlockStart {
            index: 3,
            block: BlockStart::ToolUse {
                id: "toolu_01A09q90qw90lq917835lq9".into(),
                name: "get_weather".into(),
                kind: ToolCallKind::Function,
                signature: None,
            },
        },
        StreamEvent::BlockDelta {
            index: 3,
            delta: Delta::ToolInput("{\"city\":".into()),
        },
        StreamEvent::BlockDelta {
            index: 3,
            delta: Delta::ToolInput("\"Paris\"}".into()),
        },
        StreamEvent::BlockStop { index: 3 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage {
                output_tokens: 40,
                ..Usage::default()
            },
        },
        StreamEvent::MessageStop,
    ];
    let body = encode_stream(&events);
    assert!(String::from_utf8_lossy(&body).contains(": ping\n\n"));
    assert_sequence_numbers(&body);
    let types: Vec<String> = sse_payloads(&body).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        types,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let payloads = sse_payloads(&body);
    let (_, done) = payloads.last().unwrap();
    let resp = &done["response"];
    assert_eq!(resp["status"], "completed");
    assert_eq!(resp["output"].as_array().unwrap().len(), 3);
    assert_eq!(
        resp["output"][0]["encrypted_content"],
        "sy1.anthropic.EqQBCkYIAR"
    );
    assert_eq!(
        resp["output"][1]["id"],
        "msg_msg_01XFDUDYJgAACzvnptvVoYEL_1"
    );
    assert_eq!(resp["usage"]["input_tokens"], 25);
    assert_eq!(resp["usage"]["total_tokens"], 65);
    // The foreign signature comes back home through a Responses client.
    let back = collect(&decode_stream(&body));
    let Block::Thinking(t) = &back.content[0] else {
        panic!()
    };
    assert_eq!(t.signature.as_ref().unwrap().family, Family::Anthropic);
}

#[test]
fn stream_encoder_renders_errors_and_incomplete() {
    let start = StreamEvent::MessageStart {
        id: "resp_x".into(),
        model: "m".into(),
        usage: Usage::default(),
    };
    let body = encode_stream(&[
        start.clone(),
        StreamEvent::Error(ErrorBody::new(ErrorKind::Overloaded, "busy")),
    ]);
    let payloads = sse_payloads(&body);
    let (ty, data) = payloads.last().unwrap();
    assert_eq!(ty, "error");
    assert_eq!(data["code"], "server_is_overloaded");
    assert_eq!(data["param"], Value::Null);
    let events = decode_stream(&body);
    let Some(StreamEvent::Error(e)) = events.last() else {
        panic!()
    };
    assert_eq!(e.kind, ErrorKind::Overloaded);

    let body = encode_stream(&[
        start,
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::MaxTokens),
            stop_sequence: None,
            usage: Usage::default(),
        },
        StreamEvent::MessageStop,
    ]);
    let payloads = sse_payloads(&body);
    let (ty, data) = payloads.last().unwrap();
    assert_eq!(ty, "response.incomplete");
    assert_eq!(
        data["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
}

// ------------------------------------------------------------------ 4. hard cases

#[test]
fn input_plain_string() {
    let req = request("plain.json");
    assert_eq!(req.messages.len(), 1);
    assert_eq!(req.messages[0].role, Role::User);
    assert_eq!(
        req.messages[0].text(),
        "Tell me a three sentence bedtime story about a unicorn."
    );
    assert!(req.include_usage);
    assert_eq!(
        encode_req(&req)["input"],
        json!("Tell me a three sentence bedtime story about a unicorn.")
    );
}

#[test]
fn developer_messages() {
    let req = request("developer_messages.json");
    assert_eq!(req.messages[0].role, Role::System);
    assert_eq!(
        req.messages[0].text(),
        "Answer like a pirate. Keep answers under 40 words."
    );
    assert_eq!(
        req.reasoning.as_ref().unwrap().effort,
        Some(ir::Effort::Minimal)
    );
    // system_blocks: developer and system messages keep their place and their names.
    let req = request("system_blocks.json");
    let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::System, Role::User, Role::System, Role::User]);
    assert_eq!(req.system.len(), 1);
    let wire = encode_req(&req);
    assert_eq!(wire["input"][0]["role"], "developer");
    assert_eq!(wire["input"][2]["role"], "system");
    // A system message from another dialect goes out as developer.
    let mut req = req;
    req.messages[2].extras = ir::Extras::default();
    assert_eq!(encode_req(&req)["input"][2]["role"], "developer");
}

#[test]
fn input_items_with_ids_and_store_false() {
    let req = request("store_false_ids.json");
    assert_eq!(req.store, Some(false));
    let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );
    let assistant = &req.messages[1].content;
    assert!(
        matches!(&assistant[0], Block::Thinking(t) if t.extras.fields["id"] == "rs_68af6002b3c48195d5e6f7a8b9c0d1e2")
    );
    assert!(
        matches!(&assistant[2], Block::ToolUse(t) if t.extras.fields["id"] == "fc_68af6004d5e68195f7a8b9c0d1e2f3a4")
    );
    let Block::ToolResult(r) = &req.messages[2].content[0] else {
        panic!()
    };
    assert!(r.content.is_empty());
    assert_eq!(
        r.extras.fields["id"],
        "fco_68af6005e6f78195a8b9c0d1e2f3a4b5"
    );
    assert!(matches!(&req.messages[3].content[0], Block::Other(o) if o.kind == "item_reference"));
}

#[test]
fn reasoning_items_with_encrypted_content_in_input() {
    let req = request("thinking_signatures.json");
    let Block::Thinking(t) = &req.messages[1].content[0] else {
        panic!()
    };
    let sig = t.signature.as_ref().unwrap();
    assert_eq!(sig.family, Family::OpenAi);
    assert!(sig.value.starts_with("gAAAAAB"));
    assert_eq!(
        t.text,
        "**Deciding on a lookup**\n\nThe user wants the newest serde release; I should not guess a version number.\n\n**Calling the tool**\n\nI'll ask latest_version for serde."
    );
    assert_eq!(t.extras.fields["id"], "rs_68af42918ac88196a5b4c3d2e1f0a9b8");
    assert_eq!(t.extras.fields["summary"].as_array().unwrap().len(), 2);
    // Thinking, then the call, in one assistant message; the result in the next user message.
    assert!(matches!(req.messages[1].content[1], Block::ToolUse(_)));
    assert!(matches!(req.messages[2].content[0], Block::ToolResult(_)));
    // Codex sends reasoning items without ids; they decode with signature and no id.
    let req = request("codex_cli.json");
    let Block::Thinking(t) = &req.messages[3].content[0] else {
        panic!()
    };
    assert!(t.signature.is_some());
    assert!(!t.extras.fields.contains_key("id"));
}

#[test]
fn codex_cli_tool_kinds() {
    let req = request("codex_cli.json");
    let kinds: Vec<String> = req
        .tools
        .iter()
        .map(|t| match &t.kind {
            ir::ToolKind::Function { .. } => "function".to_string(),
            ir::ToolKind::Custom { format } => format!(
                "custom:{}",
                format.as_ref().unwrap()["syntax"].as_str().unwrap()
            ),
            ir::ToolKind::Provider { kind } => format!("provider:{kind}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "function",
            "custom:lark",
            "provider:namespace",
            "provider:web_search"
        ]
    );
    assert_eq!(req.tools[2].name, "mcp__github");
    assert_eq!(
        req.metadata.session_id.as_deref(),
        Some("0198f2a4-6c1e-7d3b-9a5f-2e8c4b7d1a60")
    );
    assert_eq!(
        req.reasoning.as_ref().unwrap().summary.as_deref(),
        Some("auto")
    );
    // The assistant turn: reasoning, shell call | output | reasoning, apply_patch | output, search.
    let assistant = &req.messages[3].content;
    assert!(
        matches!(&assistant[1], Block::ToolUse(t) if t.kind == ToolCallKind::Function && t.input["workdir"] == "/home/dev/switchyard")
    );
    let Block::ToolUse(patch) = &req.messages[5].content[1] else {
        panic!()
    };
    assert_eq!(patch.kind, ToolCallKind::Custom);
    assert!(patch.input.as_str().unwrap().starts_with("*** Begin Patch"));
    let Block::ToolResult(out) = &req.messages[6].content[0] else {
        panic!()
    };
    assert_eq!(out.tool_use_id, "call_Pd5Rg8Ts2Yu6Io1Ka3Sl7Dz4");
    // Its call is in the input, so no note is needed to send it back as a custom output.
    assert!(out.extras.is_empty());
    assert!(matches!(&req.messages[7].content[0], Block::Other(o) if o.kind == "web_search_call"));
}

#[test]
fn function_call_output_with_image_parts() {
    let req = request("tool_result_images.json");
    let Block::ToolResult(r) = &req.messages[2].content[0] else {
        panic!()
    };
    assert_eq!(r.tool_use_id, "call_Zr5Tq8Wn1Lx4Vb7Mc2Ks9Pd3");
    assert!(matches!(&r.content[0], Block::Text(t) if t.text == "Screenshot captured (1 of 1)."));
    let Block::Image(img) = &r.content[1] else {
        panic!()
    };
    assert!(
        matches!(&img.source, MediaSource::Base64 { media_type, .. } if media_type == "image/png")
    );
    assert_eq!(img.detail.as_deref(), Some("high"));
    // From another dialect (no extras), images still force the list form.
    let mut r2 = r.clone();
    r2.extras = ir::Extras::default();
    let mut req2 = req.clone();
    req2.messages[2].content[0] = Block::ToolResult(r2);
    assert!(encode_req(&req2)["input"][2]["output"].is_array());
}

#[test]
fn previous_response_id_request() {
    let req = request("previous_response_id.json");
    assert_eq!(
        req.previous_response_id.as_deref(),
        Some("resp_68af41b7c3d88190a0d5b3e2f3c1d88c0c5e2e7d3a8b9f10")
    );
    assert_eq!(req.store, Some(true));
    assert!(!req.stream);
    assert_eq!(req.messages.len(), 1);
    assert_eq!(req.messages[0].content.len(), 2);
    let wire = encode_req(&req);
    assert_eq!(
        wire["previous_response_id"],
        "resp_68af41b7c3d88190a0d5b3e2f3c1d88c0c5e2e7d3a8b9f10"
    );
}

#[test]
fn long_call_id_from_other_dialect_is_shortened() {
    let long = format!("toolu_{}", "A1b2C3d4".repeat(10));
    let req = ir::Request {
        model: "gpt-4.1".into(),
        messages: vec![
            Message::new(Role::User, vec![Block::text("weather?")]),
            Message::new(
                Role::Assistant,
                vec![Block::ToolUse(tool_use(
                    &long,
                    "get_weather",
                    json!({"city": "Oslo"}),
                ))],
            ),
            Message::new(
                Role::User,
                vec![Block::ToolResult(tool_result(&long, "3°C"))],
            ),
        ],
        ..ir::Request::default()
    };
    let wire = encode_req(&req);
    let call = wire["input"][1]["call_id"].as_str().unwrap();
    assert!(call.len() <= 64, "{call}");
    assert_eq!(wire["input"][2]["call_id"], json!(call));
    assert_eq!(
        encode_req(&req)["input"][1]["call_id"],
        json!(call),
        "deterministic"
    );
    assert!(call.starts_with("toolu_A1b2"));
}

#[test]
fn parallel_calls_merge_into_one_assistant_and_one_user_message() {
    let req = request("parallel_tools.json");
    assert_eq!(req.messages.len(), 3);
    assert_eq!(req.messages[1].content.len(), 2);
    let kinds: Vec<&str> = req.messages[2]
        .content
        .iter()
        .map(|b| match b {
            Block::ToolResult(_) => "result",
            Block::Text(_) => "text",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["result", "result", "text"]);
    // Argument text with spaces comes back byte for byte.
    assert_eq!(
        encode_req(&req)["input"][2]["arguments"],
        "{\"city\": \"Tokyo\", \"unit\": \"celsius\"}"
    );
}

#[test]
fn images_and_files_decode() {
    let req = request("images.json");
    let c = &req.messages[0].content;
    assert!(matches!(
        &c[1],
        Block::Image(Image {
            source: MediaSource::Base64 { .. },
            ..
        })
    ));
    assert!(
        matches!(&c[2], Block::Image(Image { source: MediaSource::Url { .. }, detail: Some(d), .. }) if d == "low")
    );
    assert!(matches!(
        &c[3],
        Block::Image(Image {
            source: MediaSource::File { .. },
            ..
        })
    ));
    assert!(
        matches!(&c[4], Block::Document(d) if d.filename.as_deref() == Some("bridge-inspection.pdf")
        && matches!(&d.source, MediaSource::Base64 { media_type, .. } if media_type == "application/pdf"))
    );
    assert!(matches!(&c[5], Block::Document(d) if matches!(d.source, MediaSource::Url { .. })));
}

#[test]
fn structured_output_and_identifiers() {
    let req = request("structured_output.json");
    let Some(ir::ResponseFormat::JsonSchema { name, strict, .. }) = &req.response_format else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("calendar_event"));
    assert_eq!(*strict, Some(true));
    assert_eq!(
        req.metadata.session_id.as_deref(),
        Some("extract-events-v2")
    );
    assert_eq!(req.messages[0].role, Role::System);
    let wire = encode_req(&req);
    assert_eq!(wire["input"][0]["role"], "system");
    assert_eq!(wire["safety_identifier"], "hashed-user-5b1c2f");
    let req = request("multi_turn.json");
    assert_eq!(req.metadata.user_id.as_deref(), Some("user_2f9c81d4"));
}

#[test]
fn decode_errors_name_the_field() {
    let err = responses::decode_request(br#"{"model":"gpt-4.1","input":"hi","temperature":"hot"}"#)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "temperature"),
        "{err:?}"
    );
    let err = responses::decode_request(
        br#"{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, message } if path == "input[0]" && message.contains("call_id")),
        "{err:?}"
    );
    let err = responses::decode_request(
        br#"{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":5}]}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "input[0].content[0].text"),
        "{err:?}"
    );
    let err =
        responses::decode_request(br#"{"model":"m","tools":[{"type":"function"}]}"#).unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "tools[0]"),
        "{err:?}"
    );
    let err = responses::decode_response(
        br#"{"id":"resp_1","output":[{"type":"reasoning","summary":[{"type":"summary_text"}]}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path.starts_with("output[0].summary[0]")),
        "{err:?}"
    );
}

#[test]
fn web_search_response_keeps_citations_and_hosted_call() {
    let r = responses::decode_response(&fixture("responses", "web_search.json")).unwrap();
    assert!(matches!(&r.content[0], Block::Other(o) if o.kind == "web_search_call"));
    let Block::Text(t) = &r.content[1] else {
        panic!()
    };
    assert_eq!(t.citations.len(), 1);
    assert_eq!(
        t.citations[0].url.as_deref(),
        Some("https://rustfoundation.org/media/2025-fellows/")
    );
    assert!(t.citations[0].start.is_some());
    assert_eq!(r.stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn stop_reasons_both_directions() {
    let incomplete = responses::decode_response(&fixture("responses", "incomplete.json")).unwrap();
    assert_eq!(incomplete.stop_reason, Some(StopReason::MaxTokens));
    let tool = responses::decode_response(&fixture("responses", "tool_use.json")).unwrap();
    assert_eq!(tool.stop_reason, Some(StopReason::ToolUse));
    for (reason, status, detail) in [
        (StopReason::EndTurn, "completed", None),
        (StopReason::ToolUse, "completed", None),
        (StopReason::StopSequence, "completed", None),
        (StopReason::PauseTurn, "completed", None),
        (
            StopReason::MaxTokens,
            "incomplete",
            Some("max_output_tokens"),
        ),
        (
            StopReason::ContextWindowExceeded,
            "incomplete",
            Some("max_output_tokens"),
        ),
        (
            StopReason::ContentFilter,
            "incomplete",
            Some("content_filter"),
        ),
        (StopReason::Refusal, "incomplete", Some("content_filter")),
        (StopReason::Error, "failed", None),
    ] {
        let resp = ir::Response {
            id: "resp_a".into(),
            model: "m".into(),
            stop_reason: Some(reason.clone()),
            ..ir::Response::default()
        };
        let wire = as_value(&responses::encode_response(&resp, &opts()).unwrap());
        assert_eq!(wire["status"], status, "{reason:?}");
        assert_eq!(
            wire["incomplete_details"]["reason"].as_str(),
            detail,
            "{reason:?}"
        );
        if status == "failed" {
            assert!(wire["error"]["message"].is_string());
        }
    }
}

#[test]
fn response_from_another_dialect_has_sdk_fields_and_minted_ids() {
    let resp = ir::Response {
        id: "msg_01XFDUDYJgAACzvnptvVoYEL".into(),
        model: "claude-sonnet-4-5".into(),
        content: vec![
            Block::Thinking(Thinking {
                text: "Checking.".into(),
                signature: Some(Signature {
                    family: Family::Anthropic,
                    value: "EqQB".into(),
                }),
                extras: ir::Extras::default(),
            }),
            Block::text("Let me look that up."),
            Block::ToolUse(tool_use(
                "toolu_01A09q90qw90lq917835lq9",
                "get_weather",
                json!({"city": "Paris"}),
            )),
        ],
        stop_reason: Some(StopReason::ToolUse),
        usage: Usage {
            input_tokens: 10,
            cache_read_tokens: 5,
            cache_write_tokens: 3,
            output_tokens: 7,
            reasoning_tokens: 0,
        },
        ..ir::Response::default()
    };
    let wire = as_value(&responses::encode_response(&resp, &opts()).unwrap());
    for key in [
        "id",
        "object",
        "created_at",
        "status",
        "error",
        "incomplete_details",
        "instructions",
        "metadata",
        "model",
        "output",
        "parallel_tool_calls",
        "temperature",
        "tool_choice",
        "tools",
        "top_p",
        "usage",
    ] {
        assert!(wire.get(key).is_some(), "missing {key}");
    }
    assert_eq!(wire["output"][0]["id"], "rs_msg_01XFDUDYJgAACzvnptvVoYEL_0");
    assert_eq!(wire["output"][0]["encrypted_content"], "sy1.anthropic.EqQB");
    assert_eq!(
        wire["output"][1]["id"],
        "msg_msg_01XFDUDYJgAACzvnptvVoYEL_1"
    );
    assert_eq!(wire["output"][1]["status"], "completed");
    assert_eq!(wire["output"][2]["id"], "fc_msg_01XFDUDYJgAACzvnptvVoYEL_2");
    assert_eq!(wire["output"][2]["arguments"], "{\"city\":\"Paris\"}");
    // Cache writes count as input (no field for them).
    assert_eq!(wire["usage"]["input_tokens"], 18);
    assert_eq!(wire["usage"]["input_tokens_details"]["cached_tokens"], 5);
    assert_eq!(wire["usage"]["total_tokens"], 25);
    // Deterministic.
    assert_eq!(
        as_value(&responses::encode_response(&resp, &opts()).unwrap()),
        wire
    );
}

#[test]
fn reasoning_config_mapping() {
    let mut req = request("developer_messages.json");
    let cases = [
        (ir::ReasoningMode::Disabled, None, None, Some("none")),
        (
            ir::ReasoningMode::Enabled,
            Some(ir::Effort::Max),
            None,
            Some("xhigh"),
        ),
        (
            ir::ReasoningMode::Enabled,
            None,
            Some(10_000),
            Some("medium"),
        ),
        (ir::ReasoningMode::Adaptive, None, None, None),
    ];
    for (mode, effort, budget, expected) in cases {
        req.reasoning = Some(ir::Reasoning {
            mode,
            effort,
            budget_tokens: budget,
            include_thoughts: Some(true),
            summary: None,
        });
        let wire = encode_req(&req);
        assert_eq!(wire["reasoning"]["effort"].as_str(), expected, "{mode:?}");
        assert_eq!(wire["reasoning"]["summary"], "auto");
    }
    let req =
        responses::decode_request(br#"{"model":"o3","input":"x","reasoning":{"effort":"none"}}"#)
            .unwrap();
    assert_eq!(req.reasoning.unwrap().mode, ir::ReasoningMode::Disabled);
    // The legacy spelling round-trips as given.
    let body =
        br#"{"model":"o3","input":"x","reasoning":{"effort":"high","generate_summary":"concise"}}"#;
    let req = responses::decode_request(body).unwrap();
    assert_eq!(
        req.reasoning.as_ref().unwrap().summary.as_deref(),
        Some("concise")
    );
    assert_eq!(encode_req(&req), as_value(body));
}

#[test]
fn hosted_tool_choice_and_allowed_tools_round_trip() {
    for choice in [
        json!({"type": "web_search_preview"}),
        json!({"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"}]}),
        json!({"type": "custom", "name": "apply_patch"}),
    ] {
        let body = json!({"model": "gpt-4.1", "input": "x", "tool_choice": choice});
        let req = responses::decode_request(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(encode_req(&req), body);
    }
}

// ------------------------------------------------------------------ refusals and drops

fn tool_use(id: &str, name: &str, input: Value) -> ToolUse {
    ToolUse {
        id: id.into(),
        name: name.into(),
        input,
        kind: ToolCallKind::Function,
        signature: None,
        cache_control: None,
        extras: ir::Extras::default(),
    }
}

fn tool_result(id: &str, text: &str) -> ToolResult {
    ToolResult {
        tool_use_id: id.into(),
        name: None,
        content: vec![Block::text(text)],
        is_error: false,
        cache_control: None,
        extras: ir::Extras::default(),
    }
}

fn simple_request(messages: Vec<Message>) -> ir::Request {
    ir::Request {
        model: "gpt-4.1".into(),
        messages,
        ..ir::Request::default()
    }
}

fn unsupported(req: &ir::Request) -> String {
    match responses::encode_request(req, &opts()) {
        Err(Error::Unsupported {
            feature,
            target: Dialect::Responses,
        }) => feature,
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn refuses_stop_sequences() {
    let mut req = simple_request(vec![Message::new(Role::User, vec![Block::text("count")])]);
    req.sampling.stop = vec!["\n\n".into()];
    assert_eq!(unsupported(&req), "stop sequences");
}

#[test]
fn refuses_n_greater_than_one() {
    let mut req = simple_request(vec![Message::new(Role::User, vec![Block::text("hi")])]);
    req.sampling.n = Some(2);
    assert!(unsupported(&req).starts_with("n > 1"));
    req.sampling.n = Some(1);
    assert!(responses::encode_request(&req, &opts()).is_ok());
}

#[test]
fn refuses_other_dialects_blocks_and_tools() {
    let other = Block::Other(ir::Other {
        kind: "web_search_tool_result".into(),
        extras: ir::Extras::new(
            Dialect::Anthropic,
            serde_json::Map::from_iter([("type".to_string(), json!("web_search_tool_result"))]),
        ),
    });
    let req = simple_request(vec![Message::new(Role::Assistant, vec![other])]);
    assert_eq!(unsupported(&req), "web_search_tool_result content");

    let mut req = simple_request(vec![Message::new(Role::User, vec![Block::text("hi")])]);
    req.tools = vec![ir::Tool {
        name: "code_execution".into(),
        description: None,
        kind: ir::ToolKind::Provider {
            kind: "code_execution_20250522".into(),
        },
        cache_control: None,
        extras: ir::Extras::new(
            Dialect::Anthropic,
            serde_json::Map::from_iter([("type".to_string(), json!("code_execution_20250522"))]),
        ),
    }];
    assert_eq!(unsupported(&req), "code_execution_20250522 tool");
}

#[test]
fn refuses_server_tool_calls() {
    let mut call = tool_use("srvtoolu_01", "web_search", json!({"query": "rust"}));
    call.kind = ToolCallKind::Server;
    let req = simple_request(vec![Message::new(
        Role::Assistant,
        vec![Block::ToolUse(call)],
    )]);
    assert_eq!(unsupported(&req), "server tool call");
}

#[test]
fn refuses_images_in_assistant_messages_and_text_documents() {
    let img = Block::Image(Image {
        source: MediaSource::Url {
            url: "https://example.com/a.png".into(),
            media_type: None,
        },
        detail: None,
        cache_control: None,
        extras: ir::Extras::default(),
    });
    let req = simple_request(vec![Message::new(Role::Assistant, vec![img])]);
    assert_eq!(unsupported(&req), "image in an assistant message");
    let doc = Block::Document(ir::Document {
        source: MediaSource::Text {
            media_type: "text/plain".into(),
            data: "notes".into(),
        },
        title: Some("notes".into()),
        context: None,
        filename: None,
        citations_enabled: None,
        cache_control: None,
        extras: ir::Extras::default(),
    });
    let req = simple_request(vec![Message::new(Role::User, vec![doc])]);
    assert_eq!(unsupported(&req), "plain-text document");
}

#[test]
fn drops_foreign_and_unsigned_thinking_redacted_thinking_and_hints() {
    let foreign = Block::Thinking(Thinking {
        text: "hmm".into(),
        signature: Some(Signature {
            family: Family::Anthropic,
            value: "EqQB".into(),
        }),
        extras: ir::Extras::default(),
    });
    let unsigned = Block::Thinking(Thinking {
        text: "hmm".into(),
        signature: None,
        extras: ir::Extras::default(),
    });
    let redacted = Block::RedactedThinking(ir::RedactedThinking {
        data: "EmwK".into(),
    });
    let own = Block::Thinking(Thinking {
        text: "ok".into(),
        signature: Some(Signature {
            family: Family::OpenAi,
            value: "gAAAA".into(),
        }),
        extras: ir::Extras::default(),
    });
    let mut req = simple_request(vec![
        Message::new(
            Role::User,
            vec![Block::Text(Text {
                text: "hi".into(),
                cache_control: Some(ir::CacheControl::ephemeral()),
                ..Text::default()
            })],
        ),
        Message::new(
            Role::Assistant,
            vec![foreign, unsigned, redacted, own, Block::text("hello")],
        ),
    ]);
    req.sampling.top_k = Some(40);
    req.sampling.seed = Some(7);
    req.sampling.presence_penalty = Some(0.5);
    req.sampling.frequency_penalty = Some(0.5);
    req.system = vec![
        ir::SystemBlock {
            text: "a".into(),
            cache_control: Some(ir::CacheControl::ephemeral()),
            extras: ir::Extras::default(),
        },
        ir::SystemBlock::new("b"),
    ];
    let wire = encode_req(&req);
    assert_eq!(wire["instructions"], "a\n\nb");
    let items = wire["input"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[1]["type"], "reasoning");
    assert_eq!(items[1]["encrypted_content"], "gAAAA");
    assert_eq!(
        items[0]["content"][0],
        json!({"type": "input_text", "text": "hi"})
    );
    for key in [
        "top_k",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "stop",
    ] {
        assert!(wire.get(key).is_none(), "{key}");
    }
}

#[test]
fn drops_tool_result_error_flag() {
    let mut result = tool_result("call_1", "boom");
    result.is_error = true;
    let req = simple_request(vec![
        Message::new(
            Role::Assistant,
            vec![Block::ToolUse(tool_use("call_1", "f", json!({})))],
        ),
        Message::new(Role::User, vec![Block::ToolResult(result)]),
    ]);
    let wire = encode_req(&req);
    assert_eq!(
        wire["input"][1],
        json!({"type": "function_call_output", "call_id": "call_1", "output": "boom"})
    );
}

// ------------------------------------------------------------------ 5. errors

#[test]
fn error_fixtures_decode() {
    let e = responses::decode_error(429, &fixture("errors", "rate_limit.json"));
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.retry_after, Some(3));
    assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));
    let e = responses::decode_error(503, &fixture("errors", "overloaded.json"));
    assert_eq!(e.kind, ErrorKind::Overloaded);
    let e = responses::decode_error(400, &fixture("errors", "invalid.json"));
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.starts_with("Invalid value: 'input_txt'"));
    let raw = responses::decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(raw.kind, ErrorKind::Api);
    assert_eq!(raw.message, "<html>Bad gateway</html>");
}

#[test]
fn error_fixtures_round_trip() {
    for (name, body) in fixtures("errors") {
        let status = match name.as_str() {
            "rate_limit.json" => 429,
            "overloaded.json" => 503,
            _ => 400,
        };
        let e = responses::decode_error(status, &body);
        let (s, out) = responses::encode_error(&e);
        assert_eq!(s, status, "{name}");
        assert_eq!(as_value(&out), as_value(&body), "{name}");
    }
}

#[test]
fn every_error_kind_encodes() {
    for (kind, status) in [
        (ErrorKind::InvalidRequest, 400),
        (ErrorKind::Authentication, 401),
        (ErrorKind::PermissionDenied, 403),
        (ErrorKind::NotFound, 404),
        (ErrorKind::RequestTooLarge, 413),
        (ErrorKind::RateLimited, 429),
        (ErrorKind::Api, 500),
        (ErrorKind::Overloaded, 503),
        (ErrorKind::Timeout, 504),
    ] {
        let mut err = ErrorBody::new(kind, "something happened.");
        err.retry_after = Some(7);
        let (s, body) = responses::encode_error(&err);
        assert_eq!(s, status);
        let v = as_value(&body);
        let obj = v["error"].as_object().unwrap();
        for key in ["message", "type", "param", "code"] {
            assert!(obj.contains_key(key), "{kind:?} {key}");
        }
        let back = responses::decode_error(s, &body);
        assert_eq!(back.kind, kind);
        assert_eq!(back.retry_after, Some(7));
    }
}

// ------------------------------------------------------------------ 3. properties

fn text_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,!?\n]{0,24}"
}

fn citation_strategy() -> impl Strategy<Value = Citation> {
    ("[a-z]{1,8}", "[A-Za-z ]{0,10}", 0u64..100, 0u64..100).prop_map(|(host, title, a, b)| {
        Citation {
            url: Some(format!("https://{host}.example.com/")),
            title: Some(title),
            cited_text: None,
            start: Some(a.min(b)),
            end: Some(a.max(b)),
            extras: ir::Extras::default(),
        }
    })
}

fn args_strategy() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        "[a-z]{1,6}",
        prop_oneof![
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z ]{0,8}".prop_map(|s| json!(s)),
            any::<bool>().prop_map(|b| json!(b))
        ],
        0..4,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn call_id() -> impl Strategy<Value = String> {
    "call_[A-Za-z0-9]{4,24}"
}

fn tool_use_strategy() -> impl Strategy<Value = Block> {
    prop_oneof![
        (call_id(), "f_[a-z]{1,6}", args_strategy())
            .prop_map(|(id, name, input)| Block::ToolUse(tool_use(&id, &name, input))),
        (call_id(), "c_[a-z]{1,6}", text_strategy()).prop_map(|(id, name, s)| {
            let mut t = tool_use(&id, &name, Value::String(s));
            t.kind = ToolCallKind::Custom;
            Block::ToolUse(t)
        }),
    ]
}

fn thinking_strategy() -> impl Strategy<Value = Block> {
    (
        text_strategy(),
        prop::option::of("[A-Za-z0-9+/=]{4,20}"),
        any::<bool>(),
    )
        .prop_map(|(text, sig, foreign)| {
            Block::Thinking(Thinking {
                text,
                signature: sig.map(|value| Signature {
                    family: if foreign {
                        Family::Gemini
                    } else {
                        Family::OpenAi
                    },
                    value,
                }),
                extras: ir::Extras::default(),
            })
        })
}

fn assistant_text() -> impl Strategy<Value = Block> {
    (
        text_strategy(),
        prop::collection::vec(citation_strategy(), 0..2),
    )
        .prop_map(|(text, citations)| {
            Block::Text(Text {
                text,
                citations,
                ..Text::default()
            })
        })
}

fn image_strategy() -> impl Strategy<Value = Block> {
    let source = prop_oneof![
        "[A-Za-z0-9+/]{4,16}".prop_map(|data| MediaSource::Base64 {
            media_type: "image/png".into(),
            data
        }),
        "[a-z]{1,8}".prop_map(|p| MediaSource::Url {
            url: format!("https://img.example.com/{p}.jpg"),
            media_type: None
        }),
        "file-[A-Za-z0-9]{6}".prop_map(|file_id| MediaSource::File {
            file_id,
            media_type: None
        }),
    ];
    (
        source,
        prop::option::of(prop_oneof![
            Just("low".to_string()),
            Just("high".to_string()),
            Just("auto".to_string())
        ]),
    )
        .prop_map(|(source, detail)| {
            Block::Image(Image {
                source,
                detail,
                cache_control: None,
                extras: ir::Extras::default(),
            })
        })
}

fn user_part() -> impl Strategy<Value = Block> {
    prop_oneof![3 => text_strategy().prop_map(Block::text), 1 => image_strategy()]
}

fn tool_result_strategy() -> impl Strategy<Value = Block> {
    (
        call_id(),
        "[a-z0-9 ]{1,20}",
        prop::option::of(image_strategy()),
    )
        .prop_map(|(id, text, image)| {
            let mut r = tool_result(&id, &text);
            if let Some(img) = image {
                r.content.push(img);
            }
            Block::ToolResult(r)
        })
}

#[derive(Debug, Clone)]
enum Turn {
    System(String),
    User(Vec<Block>, Vec<Block>),
    Assistant(Vec<Block>),
}

fn turn_strategy() -> impl Strategy<Value = Turn> {
    prop_oneof![
        1 => text_strategy().prop_map(Turn::System),
        3 => (prop::collection::vec(tool_result_strategy(), 0..3), prop::collection::vec(user_part(), 0..3)).prop_map(|(r, p)| Turn::User(r, p)),
        3 => prop::collection::vec(prop_oneof![assistant_text(), tool_use_strategy(), thinking_strategy()], 1..5).prop_map(Turn::Assistant),
    ]
}

/// Builds messages in the canonical shape the decoder produces: adjacent assistant turns and
/// a user turn after tool results merge; unsendable thinking is left out.
fn canonical_messages(turns: Vec<Turn>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    for turn in turns {
        let (role, blocks) = match turn {
            Turn::System(s) => (Role::System, vec![Block::text(s)]),
            Turn::User(results, parts) => (Role::User, results.into_iter().chain(parts).collect()),
            Turn::Assistant(blocks) => (
                Role::Assistant,
                blocks
                    .into_iter()
                    .filter(|b| !matches!(b, Block::Thinking(t) if t.signature.as_ref().is_none_or(|s| s.family != Family::OpenAi)))
                    .collect(),
            ),
        };
        if blocks.is_empty() {
            continue;
        }
        let merge = match (out.last(), role) {
            (Some(prev), Role::Assistant) => prev.role == Role::Assistant,
            (Some(prev), Role::User) => {
                prev.role == Role::User
                    && matches!(prev.content.last(), Some(Block::ToolResult(_)))
                    && !blocks[..]
                        .iter()
                        .skip_while(|b| matches!(b, Block::ToolResult(_)))
                        .any(|b| matches!(b, Block::ToolResult(_)))
            }
            _ => false,
        };
        match out.last_mut() {
            Some(prev) if merge => prev.content.extend(blocks),
            _ => out.push(Message::new(role, blocks)),
        }
    }
    out
}

fn request_strategy() -> impl Strategy<Value = ir::Request> {
    let sampling = (
        prop::option::of(1u64..100_000),
        prop::option::of(prop_oneof![Just(0.0), Just(0.5), Just(1.0), Just(1.3)]),
        prop::option::of(prop_oneof![Just(0.9), Just(1.0)]),
    );
    let format = prop::option::of(prop_oneof![
        Just(ir::ResponseFormat::Text),
        Just(ir::ResponseFormat::JsonObject),
        ("[a-z_]{1,10}", any::<Option<bool>>()).prop_map(|(name, strict)| {
            ir::ResponseFormat::JsonSchema {
                name: Some(name),
                schema: json!({"type": "object"}).into(),
                strict,
            }
        }),
    ]);
    let reasoning = prop::option::of(
        (
            prop::option::of(prop_oneof![
                Just(ir::Effort::Minimal),
                Just(ir::Effort::Low),
                Just(ir::Effort::Medium),
                Just(ir::Effort::High),
                Just(ir::Effort::Max)
            ]),
            any::<bool>(),
            prop::option::of(prop_oneof![
                Just("auto".to_string()),
                Just("concise".to_string()),
                Just("detailed".to_string())
            ]),
        )
            .prop_map(|(effort, disabled, summary)| ir::Reasoning {
                mode: if disabled {
                    ir::ReasoningMode::Disabled
                } else {
                    ir::ReasoningMode::Enabled
                },
                effort: if disabled { None } else { effort },
                budget_tokens: None,
                include_thoughts: summary.is_some().then_some(true),
                summary,
            }),
    );
    let tools = prop::collection::vec(
        prop_oneof![
            ("f_[a-z]{1,6}", prop::option::of("[a-z ]{1,10}"), any::<Option<bool>>()).prop_map(|(name, description, strict)| ir::Tool { name, description, kind: ir::ToolKind::Function { parameters: json!({"type": "object", "properties": {}}).into(), strict }, cache_control: None, extras: ir::Extras::default() }),
            ("c_[a-z]{1,6}", any::<bool>()).prop_map(|(name, grammar)| ir::Tool { name, description: None, kind: ir::ToolKind::Custom { format: grammar.then(|| json!({"type": "grammar", "syntax": "lark", "definition": "start: \"x\""})) }, cache_control: None, extras: ir::Extras::default() }),
        ],
        0..3,
    );
    let choice = prop::option::of(prop_oneof![
        Just(ir::ToolChoice::Auto),
        Just(ir::ToolChoice::None),
        Just(ir::ToolChoice::Any),
        "f_[a-z]{1,4}".prop_map(ir::ToolChoice::Tool)
    ]);
    (
        (
            "[a-z0-9.-]{1,12}",
            prop::option::of(text_strategy()),
            prop::collection::vec(turn_strategy(), 0..6),
        ),
        (
            tools,
            choice,
            any::<Option<bool>>(),
            sampling,
            format,
            reasoning,
        ),
        (
            prop::option::of("[a-z0-9]{1,8}"),
            prop::option::of("[a-z0-9-]{1,8}"),
            any::<bool>(),
            any::<Option<bool>>(),
            prop::option::of("resp_[a-z0-9]{8}"),
        ),
    )
        .prop_map(
            |(
                (model, system, turns),
                (
                    tools,
                    tool_choice,
                    parallel,
                    (max_tokens, temperature, top_p),
                    response_format,
                    reasoning,
                ),
                (user, session, stream, store, prev),
            )| ir::Request {
                model,
                system: system
                    .map(|s| vec![ir::SystemBlock::new(s)])
                    .unwrap_or_default(),
                messages: canonical_messages(turns),
                tools,
                tool_choice,
                parallel_tool_calls: parallel,
                sampling: ir::Sampling {
                    max_tokens,
                    temperature,
                    top_p,
                    ..ir::Sampling::default()
                },
                response_format,
                reasoning,
                metadata: ir::Metadata {
                    user_id: user,
                    session_id: session,
                },
                stream,
                include_usage: true,
                store,
                previous_response_id: prev,
                extras: ir::Extras::default(),
            },
        )
}

/// Removes Responses extras everywhere (minted item ids and statuses the encoder adds).
fn strip_extras(resp: &mut ir::Response) {
    resp.extras = ir::Extras::default();
    for b in &mut resp.content {
        match b {
            Block::Text(t) => t.extras = ir::Extras::default(),
            Block::ToolUse(t) => t.extras = ir::Extras::default(),
            Block::Thinking(t) => t.extras = ir::Extras::default(),
            _ => {}
        }
    }
}

fn response_strategy() -> impl Strategy<Value = ir::Response> {
    (
        "resp_[a-z0-9]{8}",
        "[a-z0-9.-]{1,12}",
        prop::collection::vec(
            prop_oneof![assistant_text(), tool_use_strategy(), thinking_strategy()],
            0..5,
        ),
        prop_oneof![
            Just(None),
            Just(Some(StopReason::MaxTokens)),
            Just(Some(StopReason::ContentFilter))
        ],
        (0u64..10_000, 0u64..10_000, 0u64..10_000, 0u64..1000),
        // A response without a creation time is written with 0 (the IR has no clock).
        (1_600_000_000u64..1_800_000_000).prop_map(Some),
    )
        .prop_map(
            |(id, model, content, forced, (input, cached, output, reasoning), created)| {
                let has_tool = content.iter().any(|b| matches!(b, Block::ToolUse(_)));
                let stop_reason = forced.or(Some(if has_tool {
                    StopReason::ToolUse
                } else {
                    StopReason::EndTurn
                }));
                ir::Response {
                    id,
                    model,
                    content,
                    stop_reason,
                    stop_sequence: None,
                    usage: Usage {
                        input_tokens: input,
                        output_tokens: output + reasoning,
                        cache_read_tokens: cached,
                        cache_write_tokens: 0,
                        reasoning_tokens: reasoning,
                    },
                    created,
                    extras: ir::Extras::default(),
                }
            },
        )
}

fn stream_strategy() -> impl Strategy<Value = Vec<StreamEvent>> {
    #[derive(Debug, Clone)]
    enum B {
        Text(Vec<String>, Vec<Citation>),
        Thinking(Vec<String>, Option<String>, bool),
        Tool(String, String, bool, Vec<String>),
    }
    let block = prop_oneof![
        (
            prop::collection::vec(text_strategy(), 0..4),
            prop::collection::vec(citation_strategy(), 0..2)
        )
            .prop_map(|(d, c)| B::Text(d, c)),
        (
            prop::collection::vec(text_strategy(), 0..4),
            prop::option::of("[A-Za-z0-9]{4,12}"),
            any::<bool>()
        )
            .prop_map(|(d, s, f)| B::Thinking(d, s, f)),
        (
            call_id(),
            "[a-z_]{1,8}",
            any::<bool>(),
            prop::collection::vec("[a-z{}\":,0-9 ]{0,6}", 0..4)
        )
            .prop_map(|(i, n, c, d)| B::Tool(i, n, c, d)),
    ];
    (
        "resp_[a-z0-9]{8}",
        prop::collection::vec(block, 0..5),
        prop_oneof![
            Just(None),
            Just(Some(StopReason::MaxTokens)),
            Just(Some(StopReason::ContentFilter))
        ],
        (0u64..5000, 0u64..5000, 0u64..5000, 0u64..500),
        prop::collection::vec(any::<bool>(), 0..30),
    )
        .prop_map(
            |(id, blocks, forced, (input, cached, output, reasoning), pings)| {
                let mut ev = vec![StreamEvent::MessageStart {
                    id,
                    model: "gpt-5".into(),
                    usage: Usage::default(),
                }];
                let mut has_tool = false;
                for (index, b) in blocks.into_iter().enumerate() {
                    match b {
                        B::Text(deltas, citations) => {
                            ev.push(StreamEvent::BlockStart {
                                index,
                                block: BlockStart::Text,
                            });
                            ev.extend(deltas.into_iter().map(|d| StreamEvent::BlockDelta {
                                index,
                                delta: Delta::Text(d),
                            }));
                            ev.extend(citations.into_iter().map(|c| StreamEvent::BlockDelta {
                                index,
                                delta: Delta::Citation(c),
                            }));
                        }
                        B::Thinking(deltas, sig, foreign) => {
                            ev.push(StreamEvent::BlockStart {
                                index,
                                block: BlockStart::Thinking,
                            });
                            ev.extend(deltas.into_iter().map(|d| StreamEvent::BlockDelta {
                                index,
                                delta: Delta::Thinking(d),
                            }));
                            if let Some(value) = sig {
                                let family = if foreign {
                                    Family::Anthropic
                                } else {
                                    Family::OpenAi
                                };
                                ev.push(StreamEvent::BlockDelta {
                                    index,
                                    delta: Delta::Signature(Signature { family, value }),
                                });
                            }
                        }
                        B::Tool(id, name, custom, deltas) => {
                            has_tool = true;
                            let kind = if custom {
                                ToolCallKind::Custom
                            } else {
                                ToolCallKind::Function
                            };
                            ev.push(StreamEvent::BlockStart {
                                index,
                                block: BlockStart::ToolUse {
                                    id,
                                    name,
                                    kind,
                                    signature: None,
                                },
                            });
                            ev.extend(deltas.into_iter().map(|d| StreamEvent::BlockDelta {
                                index,
                                delta: Delta::ToolInput(d),
                            }));
                        }
                    }
                    ev.push(StreamEvent::BlockStop { index });
                }
                let stop = forced.unwrap_or(if has_tool {
                    StopReason::ToolUse
                } else {
                    StopReason::EndTurn
                });
                let usage = Usage {
                    input_tokens: input,
                    output_tokens: output + reasoning,
                    cache_read_tokens: cached,
                    cache_write_tokens: 0,
                    reasoning_tokens: reasoning,
                };
                ev.push(StreamEvent::MessageDelta {
                    stop_reason: Some(stop),
                    stop_sequence: None,
                    usage,
                });
                ev.push(StreamEvent::MessageStop);
                // Sprinkle pings.
                let mut with_pings = Vec::new();
                for (i, e) in ev.into_iter().enumerate() {
                    if pings.get(i).copied().unwrap_or(false) {
                        with_pings.push(StreamEvent::Ping);
                    }
                    with_pings.push(e);
                }
                with_pings
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn ir_request_round_trips_through_responses(req in request_strategy()) {
        let wire = responses::encode_request(&req, &opts()).unwrap();
        let back = responses::decode_request(&wire).unwrap();
        prop_assert_eq!(back, req);
    }

    #[test]
    fn ir_response_round_trips_through_responses(resp in response_strategy()) {
        let wire = responses::encode_response(&resp, &opts()).unwrap();
        let mut back = responses::decode_response(&wire).unwrap();
        strip_extras(&mut back);
        prop_assert_eq!(back, resp);
    }

    #[test]
    fn ir_stream_round_trips_through_responses(events in stream_strategy()) {
        ir::check_well_formed(&events).unwrap();
        let body = encode_stream(&events);
        let back = decode_stream(&body);
        prop_assert_eq!(without_pings(&back), without_pings(&events));
    }
}

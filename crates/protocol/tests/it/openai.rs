//! OpenAI Chat Completions dialect: fixtures, round trips, hard cases, refusals and errors.

// Helpers outside `#[test]` fns are not covered by `allow-unwrap-in-tests`; in a test a panic
// is the failure report.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use switchyard_protocol::ir::{
    self, Block, BlockStart, Delta, ErrorKind, MediaSource, ReasoningMode, Role, StopReason,
    StreamEvent, ToolCallKind, Usage,
};
use switchyard_protocol::{openai, sse, Dialect, EncodeOptions, Error};

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openai")
        .join(kind)
}

fn fixtures(kind: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {kind}");
    out
}

fn fixture(kind: &str, name: &str) -> Vec<u8> {
    let ext = if kind == "streams" { "sse" } else { "json" };
    fs::read(dir(kind).join(format!("{name}.{ext}"))).unwrap()
}

fn opts() -> EncodeOptions {
    EncodeOptions::default()
}

fn value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn request(name: &str) -> ir::Request {
    openai::decode_request(&fixture("requests", name)).unwrap()
}

fn encode_req(req: &ir::Request) -> Value {
    value(&openai::encode_request(req, &opts()).unwrap())
}

/// Decodes SSE bytes fed in the given pieces.
fn decode_stream_pieces(pieces: &[&[u8]]) -> Vec<StreamEvent> {
    let mut parser = sse::Parser::new();
    let mut items = Vec::new();
    for p in pieces {
        parser.feed(p, &mut items);
    }
    parser.finish(&mut items);
    let mut dec = openai::StreamDecoder::new();
    let mut events = Vec::new();
    for item in items {
        if let sse::Item::Frame(f) = item {
            dec.decode(&f, &mut events).unwrap();
        }
    }
    dec.finish(&mut events);
    events
}

fn decode_stream(body: &[u8]) -> Vec<StreamEvent> {
    decode_stream_pieces(&[body])
}

fn encode_stream(events: &[StreamEvent], opts: &EncodeOptions) -> Vec<u8> {
    let mut enc = openai::StreamEncoder::new(opts);
    let mut out = Vec::new();
    for ev in events {
        enc.encode(ev, &mut out);
    }
    enc.finish(&mut out);
    out
}

fn collect(events: &[StreamEvent]) -> ir::Response {
    let mut c = ir::Collector::new();
    for ev in events {
        c.push(ev);
    }
    c.finish()
}

/// Joins consecutive deltas of one block (the decoder emits buffered tool calls whole).
fn coalesce(events: &[StreamEvent]) -> Vec<StreamEvent> {
    let mut out: Vec<StreamEvent> = Vec::new();
    for ev in events {
        if let (
            Some(StreamEvent::BlockDelta {
                index: i,
                delta: prev,
            }),
            StreamEvent::BlockDelta { index, delta },
        ) = (out.last_mut(), ev)
        {
            if i == index {
                match (prev, delta) {
                    (Delta::Text(a), Delta::Text(b))
                    | (Delta::Thinking(a), Delta::Thinking(b))
                    | (Delta::ToolInput(a), Delta::ToolInput(b)) => {
                        a.push_str(b);
                        continue;
                    }
                    _ => {}
                }
            }
        }
        if !matches!(ev, StreamEvent::Ping) {
            out.push(ev.clone());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// 1. Fixtures decode and round-trip exactly.

#[test]
fn every_request_fixture_round_trips_exactly() {
    for (name, body) in fixtures("requests", "json") {
        let req = openai::decode_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = openai::encode_request(&req, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(value(&back), value(&body), "{name}");
        // Re-decoding the output gives the same IR.
        assert_eq!(openai::decode_request(&back).unwrap(), req, "{name}");
    }
}

#[test]
fn every_response_fixture_round_trips_exactly() {
    for (name, body) in fixtures("responses", "json") {
        let resp = openai::decode_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back =
            openai::encode_response(&resp, &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(value(&back), value(&body), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// 2. Streams.

#[test]
fn every_stream_fixture_is_well_formed_and_survives_rechunking() {
    for (name, body) in fixtures("streams", "sse") {
        let events = decode_stream(&body);
        ir::check_well_formed(&events).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Deterministic pseudo-random split points.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ body.len() as u64;
        for _ in 0..20 {
            let mut pieces: Vec<&[u8]> = Vec::new();
            let mut rest: &[u8] = &body;
            while !rest.is_empty() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let n = 1 + (seed >> 33) as usize % 40;
                let n = n.min(rest.len());
                pieces.push(&rest[..n]);
                rest = &rest[n..];
            }
            assert_eq!(decode_stream_pieces(&pieces), events, "{name}");
        }
    }
}

#[test]
fn every_stream_fixture_encodes_and_decodes_back() {
    for (name, body) in fixtures("streams", "sse") {
        let events = decode_stream(&body);
        for include_usage in [true, false] {
            let o = EncodeOptions {
                include_usage,
                ..opts()
            };
            let bytes = encode_stream(&events, &o);
            let mut again = decode_stream(&bytes);
            let mut expected = events.clone();
            if !include_usage {
                for ev in expected.iter_mut().chain(again.iter_mut()) {
                    if let StreamEvent::MessageDelta { usage, .. } = ev {
                        *usage = Usage::default();
                    }
                }
            }
            assert_eq!(again, expected, "{name} include_usage={include_usage}");
        }
    }
}

#[test]
fn streamed_and_buffered_responses_agree() {
    for (stream, response) in [("tools", "tool_use"), ("usage_cache", "usage_cache")] {
        let streamed = collect(&decode_stream(&fixture("streams", stream)));
        let buffered = openai::decode_response(&fixture("responses", response)).unwrap();
        assert_eq!(streamed.id, buffered.id, "{stream}");
        assert_eq!(streamed.model, buffered.model, "{stream}");
        assert_eq!(streamed.stop_reason, buffered.stop_reason, "{stream}");
        let strip = |blocks: &[Block]| -> Vec<Value> {
            blocks
                .iter()
                .map(|b| match b {
                    Block::Text(t) => json!({"text": t.text}),
                    Block::ToolUse(u) => json!({"id": u.id, "name": u.name, "input": u.input}),
                    other => json!(format!("{other:?}")),
                })
                .collect()
        };
        assert_eq!(
            strip(&streamed.content),
            strip(&buffered.content),
            "{stream}"
        );
        if stream == "usage_cache" {
            assert_eq!(streamed.usage, buffered.usage);
        }
    }
}

#[test]
fn stream_text_with_usage() {
    let events = decode_stream(&fixture("streams", "text"));
    let resp = collect(&events);
    assert_eq!(resp.id, "chatcmpl-BLa3xR7uZmT9qWcE2vYn5Kp1Hs8Df");
    assert_eq!(
        ir::Message::new(Role::Assistant, resp.content.clone()).text(),
        "Frost on the railing,\nthe lamp turns its patient eye."
    );
    assert_eq!(resp.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(resp.usage.input_tokens, 19);
    assert_eq!(resp.usage.output_tokens, 12);
}

#[test]
fn stream_without_include_usage_reports_zero_usage() {
    let events = decode_stream(&fixture("streams", "tools"));
    let resp = collect(&events);
    assert!(resp.usage.is_zero());
    assert_eq!(resp.stop_reason, Some(StopReason::ToolUse));
}

#[test]
fn stream_usage_on_a_chunk_with_choices_and_thinking() {
    let events = decode_stream(&fixture("streams", "thinking_tools"));
    let resp = collect(&events);
    assert!(matches!(&resp.content[0], Block::Thinking(t)
        if t.text == "The user wants the weather in Hangzhou; I should call get_weather."));
    assert!(matches!(&resp.content[1], Block::Text(t) if t.text == "Let me check."));
    assert!(
        matches!(&resp.content[2], Block::ToolUse(u) if u.input == json!({"location": "Hangzhou"}))
    );
    assert_eq!(resp.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 56,
            output_tokens: 58,
            cache_read_tokens: 256,
            cache_write_tokens: 0,
            reasoning_tokens: 31
        }
    );
}

#[test]
fn stream_interleaved_tool_calls_are_buffered_in_index_order() {
    let events = decode_stream(&fixture("streams", "interleaved_tools"));
    ir::check_well_formed(&events).unwrap();
    let resp = collect(&events);
    let calls: Vec<(String, Value)> = resp
        .content
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse(u) => Some((u.id.clone(), u.input.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            ("call_a1".to_string(), json!({"tz": "America/Lima"})),
            ("call_b2".to_string(), json!({"city": "Lima"})),
        ]
    );
}

#[test]
fn stream_error_midstream_becomes_error_event() {
    let events = decode_stream(&fixture("streams", "error_midstream"));
    match events.last().unwrap() {
        StreamEvent::Error(e) => {
            assert_eq!(e.kind, ErrorKind::Api);
            assert!(e.message.starts_with("The server had an error"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stream_without_done_after_finish_completes_at_finish() {
    let events = decode_stream(&fixture("streams", "no_done"));
    assert_eq!(events.last(), Some(&StreamEvent::MessageStop));
    assert_eq!(collect(&events).stop_reason, Some(StopReason::MaxTokens));
}

#[test]
fn stream_truncated_ends_with_error() {
    let events = decode_stream(&fixture("streams", "truncated"));
    ir::check_well_formed(&events).unwrap();
    match events.last().unwrap() {
        StreamEvent::Error(e) => assert_eq!(e.message, "upstream stream ended before completion"),
        other => panic!("{other:?}"),
    }
    assert!(events.contains(&StreamEvent::BlockStop { index: 0 }));
}

#[test]
fn stream_refusal_deltas_are_text() {
    let resp = collect(&decode_stream(&fixture("streams", "refusal")));
    assert!(
        matches!(&resp.content[..], [Block::Text(t)] if t.text == "I'm sorry, I can't help with that.")
    );
}

#[test]
fn stream_empty_choices_without_usage_are_ignored() {
    let body = b"data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[]}\n\n\
data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n\
data: [DONE]\n\n";
    let events = decode_stream(body);
    ir::check_well_formed(&events).unwrap();
    assert_eq!(collect(&events).content.len(), 1);
}

#[test]
fn stream_encoder_shapes() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "msg_01XFDUDYJgAACzvnptvVoYEL".into(),
            model: "claude-sonnet-4-5".into(),
            usage: Usage {
                input_tokens: 10,
                ..Usage::default()
            },
        },
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
            delta: Delta::Signature(ir::Signature {
                family: ir::Family::Anthropic,
                value: "sig".into(),
            }),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::Ping,
        StreamEvent::BlockStart {
            index: 1,
            block: BlockStart::ToolUse {
                id: "toolu_1".into(),
                name: "f".into(),
                kind: ToolCallKind::Function,
                signature: None,
            },
        },
        StreamEvent::BlockDelta {
            index: 1,
            delta: Delta::ToolInput("{}".into()),
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage {
                output_tokens: 5,
                ..Usage::default()
            },
        },
        StreamEvent::MessageStop,
    ];
    let bytes = encode_stream(&events, &opts());
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"));
    assert_eq!(text.matches("[DONE]").count(), 1);
    assert!(text.contains(": ping\n\n"));
    let chunks: Vec<Value> = sse::parse_all(&bytes)
        .into_iter()
        .filter_map(|i| match i {
            sse::Item::Frame(f) if f.data != "[DONE]" => Some(value(f.data.as_bytes())),
            _ => None,
        })
        .collect();
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(chunks[1]["choices"][0]["delta"]["reasoning_content"], "hmm");
    // Tool-call index counts tool calls, not IR blocks.
    assert_eq!(
        chunks[2]["choices"][0]["delta"]["tool_calls"][0]["index"],
        0
    );
    assert_eq!(
        chunks[2]["choices"][0]["delta"]["tool_calls"][0]["id"],
        "toolu_1"
    );
    let fin = &chunks[chunks.len() - 2];
    assert_eq!(fin["choices"][0]["finish_reason"], "tool_calls");
    let last = &chunks[chunks.len() - 1];
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 10);
    assert_eq!(last["usage"]["completion_tokens"], 5);
    for c in &chunks {
        assert_eq!(c["id"], "msg_01XFDUDYJgAACzvnptvVoYEL");
    }
    // Without include_usage there is no usage chunk.
    let o = EncodeOptions {
        include_usage: false,
        ..opts()
    };
    let text = String::from_utf8(encode_stream(&events, &o)).unwrap();
    assert!(!text.contains("\"usage\""));
}

#[test]
fn stream_encoder_writes_done_after_error() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "a".into(),
            model: "m".into(),
            usage: Usage::default(),
        },
        StreamEvent::Error(ir::ErrorBody::new(ErrorKind::Overloaded, "busy")),
    ];
    let text = String::from_utf8(encode_stream(&events, &opts())).unwrap();
    assert!(text.contains("data: {\"error\":{\"message\":\"busy\",\"type\":\"server_error\""));
    assert!(text.ends_with("data: [DONE]\n\n"));
}

// ---------------------------------------------------------------------------------------
// 4. Hard cases from real clients.

#[test]
fn trailing_system_message_stays_in_place() {
    let req = request("trailing_system");
    assert_eq!(req.system.len(), 1);
    assert_eq!(req.system[0].text, "You are a helpful coding assistant.");
    let last = req.messages.last().unwrap();
    assert_eq!(last.role, Role::System);
    assert_eq!(last.text(), "Reply in at most two sentences.");
    let out = encode_req(&req);
    assert_eq!(out["messages"][4]["role"], "system");
    assert_eq!(out["messages"][0]["role"], "system");
}

#[test]
fn content_string_vs_parts_keeps_its_form() {
    let body = fixture("requests", "content_forms");
    let req = openai::decode_request(&body).unwrap();
    assert_eq!(req.messages[1].content.len(), 1);
    let out = encode_req(&req);
    assert_eq!(out["messages"][0]["content"][0]["type"], "text");
    assert_eq!(out["messages"][1]["content"], "Translate: good morning");
    assert_eq!(
        out["messages"][2]["content"],
        json!([{"type": "text", "text": "Bonjour"}])
    );
    // Built by hand (no form notes): a lone text is a string.
    let mut fresh = req.clone();
    for m in &mut fresh.messages {
        m.extras = Default::default();
        for b in &mut m.content {
            if let Block::Text(t) = b {
                t.extras = Default::default();
            }
        }
    }
    let out = encode_req(&fresh);
    assert_eq!(out["messages"][2]["content"], "Bonjour");
}

#[test]
fn assistant_with_null_content_and_tool_calls() {
    let req = request("tools");
    let a = &req.messages[1];
    assert_eq!(a.role, Role::Assistant);
    assert!(matches!(&a.content[..], [Block::ToolUse(u)]
        if u.input == json!({"location": "Paris, France", "unit": "celsius"})));
    let out = encode_req(&req);
    assert_eq!(out["messages"][1]["content"], Value::Null);
    assert!(out["messages"][1]
        .as_object()
        .unwrap()
        .contains_key("content"));
}

#[test]
fn parallel_tool_calls_and_their_tool_messages() {
    let req = request("parallel_tools");
    assert_eq!(req.messages.len(), 3);
    let results = &req.messages[2];
    assert_eq!(results.role, Role::User);
    match &results.content[..] {
        [Block::ToolResult(a), Block::ToolResult(b), Block::Text(t)] => {
            assert_eq!(a.tool_use_id, "call_Vq3kF0sJ9m2XzQeL7tYbNw1R");
            assert_eq!(a.name.as_deref(), Some("get_weather"));
            assert_eq!(b.text(), "21°C, humid, scattered clouds");
            assert_eq!(t.text, "Which one is better for a walk this evening?");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        req.tool_choice,
        Some(ir::ToolChoice::Tool("get_weather".into()))
    );
    assert_eq!(req.parallel_tool_calls, Some(true));
}

#[test]
fn data_url_and_http_images() {
    let req = request("images");
    let c = &req.messages[0].content;
    assert!(matches!(&c[1], Block::Image(i)
        if matches!(&i.source, MediaSource::Url { url, .. } if url.starts_with("https://"))
        && i.detail.as_deref() == Some("high")));
    assert!(matches!(&c[2], Block::Image(i)
        if matches!(&i.source, MediaSource::Base64 { media_type, data }
            if media_type == "image/jpeg" && data.starts_with("/9j/"))));
    assert!(matches!(&c[3], Block::Document(d)
        if d.filename.as_deref() == Some("report.pdf")
        && matches!(&d.source, MediaSource::Base64 { media_type, .. } if media_type == "application/pdf")));
    assert!(matches!(&c[4], Block::Other(o) if o.kind == "input_audio"));
}

#[test]
fn reasoning_content_history_deepseek() {
    let req = request("reasoning_content");
    match &req.messages[1].content[..] {
        [Block::Thinking(t), Block::Text(x)] => {
            assert!(t.text.starts_with("Compare the decimals"));
            assert!(t.signature.is_none());
            assert_eq!(x.text, "9.8 is greater than 9.11.");
        }
        other => panic!("{other:?}"),
    }
    // Thinking from another dialect is not sent to chat.
    let mut foreign = req.clone();
    for m in &mut foreign.messages {
        for b in &mut m.content {
            if let Block::Thinking(t) = b {
                t.extras = Default::default();
            }
        }
    }
    let out = encode_req(&foreign);
    assert!(out["messages"][1].get("reasoning_content").is_none());
}

#[test]
fn openrouter_reasoning_and_details() {
    let req = request("thinking_signatures");
    let a = &req.messages[1];
    assert!(matches!(&a.content[0], Block::Thinking(t) if t.text.starts_with("The user wants")));
    assert!(a.extras.fields.contains_key("reasoning_details"));
}

#[test]
fn stream_options_include_usage_absent_vs_true() {
    assert!(!request("stream_no_usage").include_usage);
    let with = request("stream_usage");
    assert!(with.include_usage && with.stream);
    let mut fresh = ir::Request {
        model: "gpt-4o".into(),
        stream: true,
        include_usage: true,
        ..Default::default()
    };
    fresh
        .messages
        .push(ir::Message::new(Role::User, vec![Block::text("hi")]));
    assert_eq!(
        encode_req(&fresh)["stream_options"],
        json!({"include_usage": true})
    );
    fresh.include_usage = false;
    assert!(encode_req(&fresh).get("stream_options").is_none());
}

#[test]
fn max_completion_tokens_and_model_rule() {
    let req = request("max_completion_tokens");
    assert_eq!(req.sampling.max_tokens, Some(4000));
    assert_eq!(
        req.reasoning.as_ref().unwrap().effort,
        Some(ir::Effort::High)
    );
    let mut fresh = ir::Request {
        model: "o3-mini".into(),
        ..Default::default()
    };
    fresh.sampling.max_tokens = Some(100);
    assert_eq!(encode_req(&fresh)["max_completion_tokens"], 100);
    fresh.model = "gpt-4o".into();
    assert_eq!(encode_req(&fresh)["max_tokens"], 100);
    assert!(encode_req(&fresh).get("max_completion_tokens").is_none());
    // The client's own spelling survives a same-dialect round trip.
    let kept = request("max_tokens_reasoning_model");
    assert_eq!(encode_req(&kept)["max_tokens"], 200);
}

#[test]
fn reasoning_effort_none_disables() {
    let body = br#"{"model":"gpt-5.1","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"none"}"#;
    let req = openai::decode_request(body).unwrap();
    assert_eq!(
        req.reasoning.as_ref().unwrap().mode,
        ReasoningMode::Disabled
    );
    assert_eq!(encode_req(&req)["reasoning_effort"], "none");
}

#[test]
fn legacy_function_call_and_function_message() {
    let req = request("legacy_functions");
    match (&req.messages[1].content[..], &req.messages[2].content[..]) {
        ([Block::ToolUse(u)], [Block::ToolResult(r)]) => {
            assert_eq!(u.id, r.tool_use_id);
            assert_eq!(u.input, json!({"location": "Boston, MA"}));
            assert_eq!(r.name.as_deref(), Some("get_current_weather"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tool_result_images_are_emulated_with_a_user_message() {
    let mut req = ir::Request {
        model: "gpt-4o".into(),
        ..Default::default()
    };
    req.messages.push(ir::Message::new(
        Role::Assistant,
        vec![Block::ToolUse(ir::ToolUse {
            id: "toolu_01".into(),
            name: "screenshot".into(),
            input: json!({}),
            kind: ToolCallKind::Function,
            signature: None,
            cache_control: None,
            extras: Default::default(),
        })],
    ));
    let image = Block::Image(ir::Image {
        source: MediaSource::Base64 {
            media_type: "image/png".into(),
            data: "iVBORw0KGgo=".into(),
        },
        detail: None,
        cache_control: None,
        extras: Default::default(),
    });
    req.messages.push(ir::Message::new(
        Role::User,
        vec![
            Block::ToolResult(ir::ToolResult {
                tool_use_id: "toolu_01".into(),
                name: None,
                content: vec![image],
                is_error: false,
                cache_control: None,
                extras: Default::default(),
            }),
            Block::text("What do you see?"),
        ],
    ));
    let out = encode_req(&req);
    assert_eq!(
        out["messages"][1],
        json!({"role": "tool", "tool_call_id": "toolu_01", "content": "(see image below)"})
    );
    assert_eq!(out["messages"][2]["role"], "user");
    assert_eq!(
        out["messages"][2]["content"][0]["image_url"]["url"],
        "data:image/png;base64,iVBORw0KGgo="
    );
    assert_eq!(out["messages"][2]["content"][1]["text"], "What do you see?");
    // The fixture in this form decodes into results + images in one user turn.
    let fx = request("tool_result_images");
    assert!(matches!(
        &fx.messages[2].content[..],
        [Block::ToolResult(_), Block::Image(_)]
    ));
}

#[test]
fn finish_reason_stop_with_tool_calls_is_tool_use() {
    let resp = openai::decode_response(&fixture("responses", "vllm_stop_tools")).unwrap();
    assert_eq!(resp.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(resp.usage.input_tokens, 210);
}

#[test]
fn response_usage_normalisation() {
    let resp = openai::decode_response(&fixture("responses", "usage_cache")).unwrap();
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 402,
            output_tokens: 310,
            cache_read_tokens: 2048,
            cache_write_tokens: 0,
            reasoning_tokens: 256
        }
    );
    let ds = openai::decode_response(&fixture("responses", "deepseek_cache")).unwrap();
    assert_eq!(ds.usage.cache_read_tokens, 1024);
    assert_eq!(ds.usage.input_tokens, 16);
    // Cache writes (Anthropic) count as prompt tokens.
    let mut r = ds.clone();
    r.extras = Default::default();
    r.usage.cache_write_tokens = 100;
    let out = value(&openai::encode_response(&r, &opts()).unwrap());
    assert_eq!(out["usage"]["prompt_tokens"], 1140);
    assert_eq!(out["usage"]["total_tokens"], 1150);
}

#[test]
fn response_thinking_refusal_and_more_choices() {
    let t = openai::decode_response(&fixture("responses", "thinking")).unwrap();
    assert!(matches!(&t.content[0], Block::Thinking(_)));
    let r = openai::decode_response(&fixture("responses", "refusal")).unwrap();
    assert!(matches!(&r.content[..], [Block::Text(x)] if x.text.starts_with("I'm sorry")));
    let n = openai::decode_response(&fixture("responses", "n2_choices")).unwrap();
    assert!(matches!(&n.content[..], [Block::Text(x)] if x.text == "Aurora"));
}

#[test]
fn response_from_another_dialect_shows_thinking_and_drops_signature() {
    let resp = ir::Response {
        id: "msg_01".into(),
        model: "claude-sonnet-4-5".into(),
        content: vec![
            Block::Thinking(ir::Thinking {
                text: "Let me think.".into(),
                signature: Some(ir::Signature {
                    family: ir::Family::Anthropic,
                    value: "EqQBCkYIARgC".into(),
                }),
                extras: Default::default(),
            }),
            Block::text("Done."),
        ],
        stop_reason: Some(StopReason::EndTurn),
        ..Default::default()
    };
    let out = value(&openai::encode_response(&resp, &opts()).unwrap());
    let msg = &out["choices"][0]["message"];
    assert_eq!(msg["reasoning_content"], "Let me think.");
    assert_eq!(msg["content"], "Done.");
    assert!(!out.to_string().contains("EqQBCkYIARgC"));
    assert_eq!(out["object"], "chat.completion");
    assert_eq!(out["created"], 0);
}

#[test]
fn stop_reason_table() {
    let cases = [
        (StopReason::EndTurn, "stop"),
        (StopReason::StopSequence, "stop"),
        (StopReason::PauseTurn, "stop"),
        (StopReason::MaxTokens, "length"),
        (StopReason::ContextWindowExceeded, "length"),
        (StopReason::ToolUse, "tool_calls"),
        (StopReason::ContentFilter, "content_filter"),
        (StopReason::Refusal, "content_filter"),
        (StopReason::Error, "stop"),
        (StopReason::Other("weird".into()), "weird"),
    ];
    for (reason, wire) in cases {
        let resp = ir::Response {
            id: "x".into(),
            model: "m".into(),
            stop_reason: Some(reason.clone()),
            ..Default::default()
        };
        let out = value(&openai::encode_response(&resp, &opts()).unwrap());
        assert_eq!(out["choices"][0]["finish_reason"], wire, "{reason:?}");
    }
    for (wire, reason) in [
        ("stop", StopReason::EndTurn),
        ("length", StopReason::MaxTokens),
        ("tool_calls", StopReason::ToolUse),
        ("function_call", StopReason::ToolUse),
        ("content_filter", StopReason::ContentFilter),
    ] {
        let body = json!({"id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": wire}]});
        let resp = openai::decode_response(body.to_string().as_bytes()).unwrap();
        assert_eq!(resp.stop_reason, Some(reason), "{wire}");
    }
}

#[test]
fn decode_errors_name_the_field() {
    let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"content":"x"}]}"#;
    match openai::decode_request(body) {
        Err(Error::Decode { path, .. }) => assert!(path.contains("messages[1]"), "{path}"),
        other => panic!("{other:?}"),
    }
    let body = br#"{"model":"gpt-4o","messages":[{"role":"tool","content":"x"}]}"#;
    match openai::decode_request(body) {
        Err(Error::Decode { path, .. }) => assert_eq!(path, "messages[0].tool_call_id"),
        other => panic!("{other:?}"),
    }
    let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text"}]}]}"#;
    match openai::decode_request(body) {
        Err(Error::Decode { path, .. }) => assert_eq!(path, "messages[0].content[0].text"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        openai::decode_request(b"{\"messages\":[]}"),
        Err(Error::Decode { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Refusals (Unsupported) and drops.

fn unsupported(req: &ir::Request) -> String {
    match openai::encode_request(req, &opts()) {
        Err(Error::Unsupported { feature, target }) => {
            assert_eq!(target, Dialect::OpenAiChat);
            feature
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

fn user(blocks: Vec<Block>) -> ir::Request {
    let mut req = ir::Request {
        model: "gpt-4o".into(),
        ..Default::default()
    };
    req.messages.push(ir::Message::new(Role::User, blocks));
    req
}

fn foreign_other(kind: &str) -> Block {
    Block::Other(ir::Other {
        kind: kind.into(),
        extras: ir::Extras::new(
            Dialect::Anthropic,
            serde_json::Map::from_iter([("type".to_string(), json!(kind))]),
        ),
    })
}

#[test]
fn refuses_other_dialects_blocks() {
    assert!(unsupported(&user(vec![foreign_other("search_result")])).contains("search_result"));
}

#[test]
fn refuses_document_url() {
    let doc = Block::Document(ir::Document {
        source: MediaSource::Url {
            url: "https://example.com/a.pdf".into(),
            media_type: None,
        },
        title: None,
        context: None,
        filename: None,
        citations_enabled: None,
        cache_control: None,
        extras: Default::default(),
    });
    assert!(unsupported(&user(vec![doc])).contains("document"));
}

#[test]
fn refuses_image_file_id() {
    let img = Block::Image(ir::Image {
        source: MediaSource::File {
            file_id: "file_011CNha8iCJcU1wXNR6q4V8w".into(),
            media_type: None,
        },
        detail: None,
        cache_control: None,
        extras: Default::default(),
    });
    assert!(unsupported(&user(vec![img])).contains("image"));
}

#[test]
fn refuses_provider_tool_of_another_dialect() {
    let mut req = user(vec![Block::text("search")]);
    req.tools.push(ir::Tool {
        name: "web_search".into(),
        description: None,
        kind: ir::ToolKind::Provider {
            kind: "web_search_20250305".into(),
        },
        cache_control: None,
        extras: ir::Extras::new(Dialect::Anthropic, serde_json::Map::new()),
    });
    assert!(unsupported(&req).contains("web_search_20250305"));
}

#[test]
fn refuses_server_tool_calls_in_history() {
    let mut req = user(vec![Block::text("q")]);
    req.messages.push(ir::Message::new(
        Role::Assistant,
        vec![Block::ToolUse(ir::ToolUse {
            id: "srvtoolu_01".into(),
            name: "web_search".into(),
            input: json!({"query": "x"}),
            kind: ToolCallKind::Server,
            signature: None,
            cache_control: None,
            extras: Default::default(),
        })],
    ));
    assert!(unsupported(&req).contains("server tool call"));
}

#[test]
fn refuses_images_in_assistant_messages() {
    let mut req = user(vec![Block::text("q")]);
    req.messages.push(ir::Message::new(
        Role::Assistant,
        vec![Block::Image(ir::Image {
            source: MediaSource::Url {
                url: "https://example.com/a.png".into(),
                media_type: None,
            },
            detail: None,
            cache_control: None,
            extras: Default::default(),
        })],
    ));
    assert!(unsupported(&req).contains("assistant"));
}

#[test]
fn refuses_non_text_in_system_messages_and_foreign_blocks_in_tool_results() {
    let mut req = user(vec![Block::text("q")]);
    req.messages
        .push(ir::Message::new(Role::System, vec![foreign_other("image")]));
    assert!(unsupported(&req).contains("system message"));
    let req = user(vec![Block::ToolResult(ir::ToolResult {
        tool_use_id: "toolu_1".into(),
        name: None,
        content: vec![foreign_other("search_result")],
        is_error: false,
        cache_control: None,
        extras: Default::default(),
    })]);
    assert!(unsupported(&req).contains("tool result"));
}

#[test]
fn refuses_previous_response_id() {
    let mut req = user(vec![Block::text("q")]);
    req.previous_response_id = Some("resp_123".into());
    assert_eq!(unsupported(&req), "previous_response_id");
}

#[test]
fn drops_cache_control_redacted_thinking_signatures_session_and_is_error() {
    let mut req = user(vec![Block::Text(ir::Text {
        text: "hi".into(),
        cache_control: Some(ir::CacheControl::ephemeral()),
        ..Default::default()
    })]);
    req.system.push(ir::SystemBlock {
        text: "sys".into(),
        cache_control: Some(ir::CacheControl::ephemeral()),
        extras: Default::default(),
    });
    req.metadata.session_id = Some("sess-1".into());
    req.sampling.top_k = Some(40);
    req.messages.push(ir::Message::new(
        Role::Assistant,
        vec![
            Block::Thinking(ir::Thinking {
                text: "secret".into(),
                signature: Some(ir::Signature {
                    family: ir::Family::Anthropic,
                    value: "sig".into(),
                }),
                extras: Default::default(),
            }),
            Block::RedactedThinking(ir::RedactedThinking {
                data: "opaque".into(),
            }),
            Block::ToolUse(ir::ToolUse {
                id: "toolu_9".into(),
                name: "f".into(),
                input: json!({"a": 1}),
                kind: ToolCallKind::Function,
                signature: None,
                cache_control: None,
                extras: Default::default(),
            }),
        ],
    ));
    req.messages.push(ir::Message::new(
        Role::User,
        vec![Block::ToolResult(ir::ToolResult {
            tool_use_id: "toolu_9".into(),
            name: Some("f".into()),
            content: vec![Block::text("boom")],
            is_error: true,
            cache_control: None,
            extras: Default::default(),
        })],
    ));
    let out = encode_req(&req);
    let s = out.to_string();
    for gone in [
        "cache_control",
        "secret",
        "opaque",
        "sig",
        "sess-1",
        "is_error",
    ] {
        assert!(!s.contains(gone), "{gone} leaked: {s}");
    }
    // System with cache control is sent as parts; top_k passes as a hint.
    assert_eq!(
        out["messages"][0]["content"],
        json!([{"type": "text", "text": "sys"}])
    );
    assert_eq!(out["top_k"], 40);
    assert_eq!(out["messages"][2]["content"], Value::Null);
    assert_eq!(
        out["messages"][3],
        json!({"role": "tool", "tool_call_id": "toolu_9", "content": "boom"})
    );
}

// ---------------------------------------------------------------------------------------
// 5. Errors.

#[test]
fn error_fixtures_decode() {
    let cases = [
        (
            "rate_limit",
            429,
            ErrorKind::RateLimited,
            Some(3),
            Some("rate_limit_exceeded"),
        ),
        ("overloaded", 503, ErrorKind::Overloaded, None, None),
        (
            "invalid",
            400,
            ErrorKind::InvalidRequest,
            None,
            Some("invalid_value"),
        ),
        (
            "auth",
            401,
            ErrorKind::Authentication,
            None,
            Some("invalid_api_key"),
        ),
        (
            "not_found",
            404,
            ErrorKind::NotFound,
            None,
            Some("model_not_found"),
        ),
        (
            "insufficient_quota",
            429,
            ErrorKind::RateLimited,
            None,
            Some("insufficient_quota"),
        ),
    ];
    for (name, status, kind, retry, code) in cases {
        let body = fixture("errors", name);
        let e = openai::decode_error(status, &body);
        assert_eq!(e.kind, kind, "{name}");
        assert_eq!(e.status, Some(status), "{name}");
        assert_eq!(e.retry_after, retry, "{name}");
        assert_eq!(e.code.as_deref(), code, "{name}");
        // Same-dialect round trip is exact.
        let (s, back) = openai::encode_error(&e);
        assert_eq!(s, status, "{name}");
        assert_eq!(value(&back), value(&body), "{name}");
    }
}

#[test]
fn error_decode_never_fails() {
    let e = openai::decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(e.kind, ErrorKind::Api);
    assert_eq!(e.message, "<html>Bad gateway</html>");
    let long = "x".repeat(5000);
    assert!(openai::decode_error(500, long.as_bytes()).message.len() < 600);
    assert_eq!(
        openai::decode_error(400, br#"{"error":"bad model"}"#).message,
        "bad model"
    );
    assert_eq!(
        openai::decode_error(404, br#"{"message":"no"}"#).kind,
        ErrorKind::NotFound
    );
}

#[test]
fn error_encode_every_kind() {
    let cases = [
        (
            ErrorKind::InvalidRequest,
            400,
            "invalid_request_error",
            Value::Null,
        ),
        (
            ErrorKind::Authentication,
            401,
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
        (
            ErrorKind::PermissionDenied,
            403,
            "invalid_request_error",
            Value::Null,
        ),
        (
            ErrorKind::NotFound,
            404,
            "invalid_request_error",
            json!("model_not_found"),
        ),
        (
            ErrorKind::RequestTooLarge,
            413,
            "invalid_request_error",
            Value::Null,
        ),
        (
            ErrorKind::RateLimited,
            429,
            "requests",
            json!("rate_limit_exceeded"),
        ),
        (ErrorKind::Api, 500, "server_error", Value::Null),
        (ErrorKind::Overloaded, 503, "server_error", Value::Null),
        (ErrorKind::Timeout, 504, "server_error", json!("timeout")),
    ];
    for (kind, status, ty, code) in cases {
        let mut e = ir::ErrorBody::new(kind, "something went wrong");
        if kind == ErrorKind::RateLimited {
            e.retry_after = Some(7);
        }
        let (s, body) = openai::encode_error(&e);
        let v = value(&body);
        assert_eq!(s, status, "{kind:?}");
        assert_eq!(v["error"]["type"], ty, "{kind:?}");
        assert_eq!(v["error"]["code"], code, "{kind:?}");
        assert_eq!(v["error"]["param"], Value::Null);
        let back = openai::decode_error(s, &body);
        assert_eq!(back.kind, kind);
        if kind == ErrorKind::RateLimited {
            assert!(v["error"]["message"]
                .as_str()
                .unwrap()
                .ends_with("Please try again in 7s."));
            assert_eq!(back.retry_after, Some(7));
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3. Property tests: IR → chat → IR is the identity on what chat carries.

mod props {
    use super::*;
    use proptest::collection::vec;
    use proptest::option;
    use proptest::prelude::*;

    fn word() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 ,.!?é\n]{1,20}"
    }

    fn ident() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9_]{0,10}"
    }

    fn tool_input() -> impl Strategy<Value = Value> {
        vec(
            (
                ident(),
                prop_oneof![
                    word().prop_map(Value::from),
                    any::<i32>().prop_map(Value::from),
                    any::<bool>().prop_map(Value::from)
                ],
            ),
            0..3,
        )
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
    }

    fn image() -> impl Strategy<Value = Block> {
        (
            any::<bool>(),
            option::of(prop_oneof![
                Just("low".to_string()),
                Just("high".to_string())
            ]),
        )
            .prop_map(|(b64, detail)| {
                let source = if b64 {
                    MediaSource::Base64 {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgo=".into(),
                    }
                } else {
                    MediaSource::Url {
                        url: "https://example.com/cat.jpg".into(),
                        media_type: None,
                    }
                };
                Block::Image(ir::Image {
                    source,
                    detail,
                    cache_control: None,
                    extras: Default::default(),
                })
            })
    }

    fn tool_use(id: String, name: String, input: Value) -> Block {
        Block::ToolUse(ir::ToolUse {
            id,
            name,
            input,
            kind: ToolCallKind::Function,
            signature: None,
            cache_control: None,
            extras: Default::default(),
        })
    }

    /// One exchange: a user turn, an assistant turn with text and/or tool calls, and the
    /// results of those calls (with optional follow-up text) as the next user turn.
    fn exchange() -> impl Strategy<Value = Vec<ir::Message>> {
        (
            vec(
                prop_oneof![3 => word().prop_map(Block::text), 1 => image()],
                1..3,
            ),
            option::of(word()),
            vec((ident(), tool_input()), 0..3),
            option::of(word()),
            any::<bool>(),
        )
            .prop_map(|(user, reply, calls, follow, system)| {
                let mut out = vec![ir::Message::new(Role::User, user)];
                if system {
                    out.push(ir::Message::new(
                        Role::System,
                        vec![Block::text("Be brief.")],
                    ));
                }
                let mut a = Vec::new();
                if let Some(r) = reply {
                    a.push(Block::text(r));
                }
                let mut results = Vec::new();
                for (i, (name, input)) in calls.into_iter().enumerate() {
                    let id = format!("call_{i}_{name}");
                    a.push(tool_use(id.clone(), name.clone(), input));
                    results.push(Block::ToolResult(ir::ToolResult {
                        tool_use_id: id,
                        name: Some(name),
                        content: vec![Block::text("ok")],
                        is_error: false,
                        cache_control: None,
                        extras: Default::default(),
                    }));
                }
                out.push(ir::Message::new(Role::Assistant, a));
                if !results.is_empty() {
                    if let Some(f) = follow {
                        results.push(Block::text(f));
                    }
                    out.push(ir::Message::new(Role::User, results));
                }
                out
            })
    }

    fn request() -> impl Strategy<Value = ir::Request> {
        (
            prop_oneof![Just("gpt-4o"), Just("o3-mini"), Just("gpt-5")],
            vec(word(), 0..3),
            vec(exchange(), 1..3),
            vec((ident(), option::of(word()), option::of(any::<bool>())), 0..3),
            (option::of(1u64..10000), option::of(prop_oneof![Just(0.0), Just(0.5), Just(1.3)]), option::of(1u64..100), vec(word(), 0..3), option::of(any::<i32>())),
            (any::<bool>(), any::<bool>(), option::of(any::<bool>()), option::of(ident()), 0usize..4, 0usize..5),
        )
            .prop_map(|(model, system, exchanges, tools, (max, temp, top_k, stop, seed), (stream, usage, store, user, choice, effort))| {
                let mut req = ir::Request { model: model.to_string(), ..Default::default() };
                req.system = system.into_iter().map(ir::SystemBlock::new).collect();
                // A user turn right after tool results joins the results' turn (as decoded).
                for m in exchanges.into_iter().flatten() {
                    match req.messages.last_mut() {
                        Some(last) if m.role == Role::User && last.role == Role::User
                            && last.content.iter().all(|b| matches!(b, Block::ToolResult(_))) =>
                        {
                            last.content.extend(m.content)
                        }
                        _ => req.messages.push(m),
                    }
                }
                let mut seen = std::collections::HashSet::new();
                for (name, description, strict) in tools {
                    if seen.insert(name.clone()) {
                        req.tools.push(ir::Tool {
                            name, description,
                            kind: ir::ToolKind::Function {
                                parameters: json!({"type": "object", "properties": {"q": {"type": "string"}}})
                                    .into(),
                                strict,
                            },
                            cache_control: None, extras: Default::default(),
                        });
                    }
                }
                req.tool_choice = match (choice, req.tools.first()) {
                    (1, _) => Some(ir::ToolChoice::Auto),
                    (2, _) => Some(ir::ToolChoice::None),
                    (3, Some(t)) => Some(ir::ToolChoice::Tool(t.name.clone())),
                    _ => None,
                };
                if !req.tools.is_empty() { req.parallel_tool_calls = store; }
                req.sampling.max_tokens = max;
                req.sampling.temperature = temp;
                req.sampling.top_k = top_k;
                req.sampling.stop = stop;
                req.sampling.seed = seed.map(i64::from);
                req.stream = stream;
                req.include_usage = stream && usage;
                req.store = store;
                req.metadata.user_id = user;
                req.reasoning = match effort {
                    1 => Some(ir::Reasoning { effort: Some(ir::Effort::Low), ..Default::default() }),
                    2 => Some(ir::Reasoning { effort: Some(ir::Effort::Max), ..Default::default() }),
                    3 if model == "gpt-5" => Some(ir::Reasoning { mode: ReasoningMode::Disabled, ..Default::default() }),
                    4 => Some(ir::Reasoning { effort: Some(ir::Effort::Minimal), ..Default::default() }),
                    _ => None,
                };
                req.response_format = match effort {
                    1 => Some(ir::ResponseFormat::JsonObject),
                    2 => Some(ir::ResponseFormat::JsonSchema { name: Some("answer".into()), schema: json!({"type": "object"}).into(), strict: Some(true) }),
                    _ => None,
                };
                req
            })
    }

    fn response() -> impl Strategy<Value = ir::Response> {
        (
            option::of(word()),
            option::of(word()),
            vec((ident(), tool_input()), 0..3),
            (0u64..5000, 0u64..5000, 0u64..5000, 0u64..100),
            0usize..3,
        )
            .prop_map(
                |(thinking, text, calls, (input, cached, output, reasoning), stop)| {
                    let mut content = Vec::new();
                    if let Some(t) = thinking {
                        content.push(Block::Thinking(ir::Thinking {
                            text: t,
                            signature: None,
                            extras: Default::default(),
                        }));
                    }
                    if let Some(t) = text {
                        content.push(Block::text(t));
                    }
                    let has_calls = !calls.is_empty();
                    for (i, (name, input)) in calls.into_iter().enumerate() {
                        content.push(tool_use(format!("call_{i}"), name, input));
                    }
                    let stop_reason = match (stop, has_calls) {
                        (0, _) => StopReason::MaxTokens,
                        (_, true) => StopReason::ToolUse,
                        (1, false) => StopReason::EndTurn,
                        _ => StopReason::ContentFilter,
                    };
                    ir::Response {
                        id: "chatcmpl-abc".into(),
                        model: "gpt-4o".into(),
                        content,
                        stop_reason: Some(stop_reason),
                        stop_sequence: None,
                        usage: Usage {
                            input_tokens: input,
                            output_tokens: output + reasoning,
                            cache_read_tokens: cached,
                            cache_write_tokens: 0,
                            reasoning_tokens: reasoning,
                        },
                        created: Some(1741569952),
                        extras: Default::default(),
                    }
                },
            )
    }

    fn stream() -> impl Strategy<Value = Vec<StreamEvent>> {
        (
            vec(word(), 0..3),
            vec(word(), 0..3),
            vec((ident(), vec("[a-z{}\":,0-9 ]{1,8}", 0..4)), 0..3),
            (0u64..5000, 0u64..5000, 0u64..5000),
            any::<bool>(),
        )
            .prop_map(|(thinking, text, calls, (input, cached, output), ping)| {
                let mut ev = vec![StreamEvent::MessageStart {
                    id: "chatcmpl-s".into(),
                    model: "gpt-4o".into(),
                    usage: Usage::default(),
                }];
                let mut index = 0;
                for (kind, deltas) in [(BlockStart::Thinking, &thinking), (BlockStart::Text, &text)]
                {
                    if deltas.is_empty() {
                        continue;
                    }
                    let thinking = kind == BlockStart::Thinking;
                    ev.push(StreamEvent::BlockStart { index, block: kind });
                    for d in deltas {
                        let delta = if thinking {
                            Delta::Thinking(d.clone())
                        } else {
                            Delta::Text(d.clone())
                        };
                        ev.push(StreamEvent::BlockDelta { index, delta });
                    }
                    ev.push(StreamEvent::BlockStop { index });
                    index += 1;
                }
                if ping {
                    ev.push(StreamEvent::Ping);
                }
                let has_calls = !calls.is_empty();
                for (i, (name, deltas)) in calls.into_iter().enumerate() {
                    ev.push(StreamEvent::BlockStart {
                        index,
                        block: BlockStart::ToolUse {
                            id: format!("call_{i}"),
                            name,
                            kind: ToolCallKind::Function,
                            signature: None,
                        },
                    });
                    for d in deltas {
                        ev.push(StreamEvent::BlockDelta {
                            index,
                            delta: Delta::ToolInput(d),
                        });
                    }
                    ev.push(StreamEvent::BlockStop { index });
                    index += 1;
                }
                ev.push(StreamEvent::MessageDelta {
                    stop_reason: Some(if has_calls {
                        StopReason::ToolUse
                    } else {
                        StopReason::EndTurn
                    }),
                    stop_sequence: None,
                    usage: Usage {
                        input_tokens: input,
                        output_tokens: output,
                        cache_read_tokens: cached,
                        cache_write_tokens: 0,
                        reasoning_tokens: 0,
                    },
                });
                ev.push(StreamEvent::MessageStop);
                ev
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn request_ir_round_trips(req in request()) {
            let bytes = openai::encode_request(&req, &opts()).unwrap();
            let back = openai::decode_request(&bytes).unwrap();
            prop_assert_eq!(back, req);
        }

        #[test]
        fn response_ir_round_trips(resp in response()) {
            let bytes = openai::encode_response(&resp, &opts()).unwrap();
            let back = openai::decode_response(&bytes).unwrap();
            prop_assert_eq!(back, resp);
        }

        #[test]
        fn stream_events_round_trip(events in stream()) {
            ir::check_well_formed(&events).unwrap();
            let back = decode_stream(&encode_stream(&events, &opts()));
            ir::check_well_formed(&back).unwrap();
            prop_assert_eq!(coalesce(&back), coalesce(&events));
        }
    }
}

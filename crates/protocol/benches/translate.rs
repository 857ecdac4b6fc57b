//! Translation benchmarks: a realistic agent request (20 messages, 8 tools) between every pair
//! of dialects, a 500-event stream between every pair, and the SSE parser alone.
//!
//! Source bodies are made by encoding one IR value in each dialect, so every `from` sees the
//! same conversation. Same-dialect pairs are included: they measure the IR round trip, which
//! the server skips (it forwards same-dialect bytes untouched). A pair whose setup fails (a
//! dialect still stubbed, a feature a dialect refuses) is skipped with a note rather than
//! failing the run. Times are kept short so the whole run takes a few minutes:
//! `cargo bench -p switchyard-protocol`, or add a filter (`-- sse`, `-- request/anthropic`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use switchyard_protocol::ir::{self, BlockStart, Delta, StopReason, StreamEvent, Usage};
use switchyard_protocol::{sse, translate, Dialect, EncodeOptions};

const TOOL_NAMES: [&str; 8] = [
    "read_file",
    "write_file",
    "edit_file",
    "list_directory",
    "search_code",
    "run_command",
    "web_search",
    "create_task",
];

/// One tool definition with a schema of the size real agents send.
fn tool(name: &str) -> Value {
    json!({
        "name": name,
        "description": format!(
            "Use {name} to work with the user's repository. Paths are relative to the \
             project root; never touch files outside it. Returns a short status line followed \
             by the result, or an error message explaining what went wrong."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "File or directory path, relative to the root"},
                "pattern": {"type": "string", "description": "A regular expression (Rust syntax)"},
                "content": {"type": "string", "description": "Full new content of the file"},
                "max_results": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                "mode": {"type": "string", "enum": ["fast", "thorough", "exhaustive"]},
                "options": {
                    "type": "object",
                    "properties": {
                        "case_sensitive": {"type": "boolean"},
                        "include": {"type": "array", "items": {"type": "string"}}
                    }
                }
            },
            "required": ["path"],
            "additionalProperties": false
        }
    })
}

const CODE: &str = "pub fn parse(input: &str) -> Result<Config, Error> {\n    let raw: RawConfig = \
    toml::from_str(input)?;\n    raw.validate()\n}\n\nimpl RawConfig {\n    fn validate(self) -> \
    Result<Config, Error> {\n        if self.routes.is_empty() {\n            return Err(Error::new(\"no routes\"));\n        }\n        Ok(Config { routes: self.routes })\n    }\n}\n";

/// The 20-message agent conversation, as an Anthropic Messages request body.
fn request_body() -> Vec<u8> {
    let mut messages = vec![
        json!({"role": "user", "content": [{"type": "text", "text": format!(
            "Here is the file I am working on:\n\n{CODE}\nIt compiles, but the error messages \
             are unhelpful when the config is wrong.")}]}),
        json!({"role": "user", "content": "Can you find every place that builds an Error \
            without a path and fix them so each names the config key that was wrong?"}),
    ];
    // Nine rounds of: the assistant thinks aloud and calls a tool, the user returns its result.
    for round in 0..9 {
        let name = TOOL_NAMES[round % TOOL_NAMES.len()];
        let id = format!("toolu_bench_{round:02}");
        messages.push(json!({"role": "assistant", "content": [
            {"type": "text", "text": format!(
                "Step {round}: I will use {name} to look at the next place where errors are \
                 created, then check whether the key path is available there.")},
            {"type": "tool_use", "id": id, "name": name, "input": {
                "path": format!("src/config/part_{round}.rs"),
                "pattern": "Error::new\\(",
                "max_results": 20,
                "options": {"case_sensitive": true, "include": ["*.rs"]}
            }}
        ]}));
        messages.push(json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": [
                {"type": "text", "text": format!("ok: 3 matches in part_{round}.rs\n{CODE}")}
            ]}
        ]}));
    }
    let body = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": [
            {"type": "text", "text": "You are a careful coding agent. Make the smallest change \
                that fixes the problem, explain it briefly, and run the tests before finishing."},
            {"type": "text", "text": "The repository is a Rust workspace. Prefer explicit code \
                over macros; never use unwrap outside tests.",
             "cache_control": {"type": "ephemeral"}}
        ],
        "tools": TOOL_NAMES.iter().map(|n| tool(n)).collect::<Vec<_>>(),
        "tool_choice": {"type": "auto"},
        "temperature": 0.2,
        "messages": messages,
    });
    serde_json::to_vec(&body).expect("a JSON value serialises")
}

fn bench_requests(c: &mut Criterion) {
    let opts = EncodeOptions::default();
    let ir = match Dialect::Anthropic.decode_request(&request_body()) {
        Ok(ir) => ir,
        Err(e) => {
            println!("note: skipping request benches, the Anthropic decoder failed: {e}");
            return;
        }
    };
    // A decoder may merge the two leading user turns, as Anthropic's API does; say so rather
    // than fail.
    if ir.messages.len() != 20 || ir.tools.len() != 8 {
        println!(
            "note: the request decoded to {} messages and {} tools",
            ir.messages.len(),
            ir.tools.len()
        );
    }
    let mut group = c.benchmark_group("request");
    for from in Dialect::ALL {
        let body = match from.encode_request(&ir, &opts) {
            Ok(body) => body,
            Err(e) => {
                println!(
                    "note: skipping request/{}->*: encoding the source failed: {e}",
                    from.name()
                );
                continue;
            }
        };
        group.throughput(Throughput::Bytes(body.len() as u64));
        for to in Dialect::ALL {
            let id = format!("{}->{}", from.name(), to.name());
            if let Err(e) = translate::request(from, to, &body, &opts) {
                println!("note: skipping request/{id}: {e}");
                continue;
            }
            group.bench_function(&id, |b| {
                b.iter(|| translate::request(from, to, black_box(&body), &opts))
            });
        }
    }
    group.finish();
}

/// The 500-event stream: a text block of 403 small deltas, then a tool call whose arguments
/// arrive in 90 fragments.
fn stream_events() -> Vec<StreamEvent> {
    const PHRASES: [&str; 6] = [
        "The error ",
        "now names ",
        "the config key, ",
        "so a typo in ",
        "routes.toml ",
        "is easy to find. ",
    ];
    let mut events = vec![StreamEvent::MessageStart {
        id: "msg_bench".into(),
        model: "claude-sonnet-4-5".into(),
        usage: Usage {
            input_tokens: 5200,
            ..Usage::default()
        },
    }];
    events.push(StreamEvent::BlockStart {
        index: 0,
        block: BlockStart::Text,
    });
    for i in 0..403 {
        let delta = Delta::Text(PHRASES[i % PHRASES.len()].to_string());
        events.push(StreamEvent::BlockDelta { index: 0, delta });
    }
    events.push(StreamEvent::BlockStop { index: 0 });
    events.push(StreamEvent::BlockStart {
        index: 1,
        block: BlockStart::ToolUse {
            id: "toolu_bench_stream".into(),
            name: "edit_file".into(),
            kind: ir::ToolCallKind::Function,
            signature: None,
        },
    });
    let args = json!({
        "path": "src/config/parse.rs",
        "content": CODE.replace("no routes", "routes: at least one route is required"),
    })
    .to_string();
    let chars: Vec<char> = args.chars().collect();
    for i in 0..90 {
        let piece = &chars[i * chars.len() / 90..(i + 1) * chars.len() / 90];
        let delta = Delta::ToolInput(piece.iter().collect());
        events.push(StreamEvent::BlockDelta { index: 1, delta });
    }
    events.push(StreamEvent::BlockStop { index: 1 });
    events.push(StreamEvent::MessageDelta {
        stop_reason: Some(StopReason::ToolUse),
        stop_sequence: None,
        usage: Usage {
            input_tokens: 5200,
            output_tokens: 640,
            ..Usage::default()
        },
    });
    events.push(StreamEvent::MessageStop);
    ir::check_well_formed(&events).expect("the bench stream is well formed");
    events
}

/// `events` as one dialect's SSE body, or `None` when its encoder writes nothing (a stub).
fn encode_stream(
    dialect: Dialect,
    events: &[StreamEvent],
    opts: &EncodeOptions,
) -> Option<Vec<u8>> {
    let mut encoder = dialect.stream_encoder(opts);
    let mut out = Vec::new();
    for ev in events {
        encoder.encode(ev, &mut out);
    }
    encoder.finish(&mut out);
    (!out.is_empty()).then_some(out)
}

fn bench_streams(c: &mut Criterion) {
    let opts = EncodeOptions::default();
    let events = stream_events();
    assert_eq!(events.len(), 500);
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Elements(events.len() as u64));
    for from in Dialect::ALL {
        let Some(body) = encode_stream(from, &events, &opts) else {
            println!(
                "note: skipping stream/{}->*: its encoder wrote nothing",
                from.name()
            );
            continue;
        };
        match translate::stream_events(from, &body) {
            Ok(decoded) if !decoded.is_empty() => {}
            Ok(_) => {
                println!(
                    "note: skipping stream/{}->*: its decoder read nothing",
                    from.name()
                );
                continue;
            }
            Err(e) => {
                println!("note: skipping stream/{}->*: {e}", from.name());
                continue;
            }
        }
        for to in Dialect::ALL {
            let id = format!("{}->{}", from.name(), to.name());
            match translate::stream(from, to, &body, &opts) {
                Ok(out) if !out.is_empty() => {}
                Ok(_) => {
                    println!("note: skipping stream/{id}: the target encoder wrote nothing");
                    continue;
                }
                Err(e) => {
                    println!("note: skipping stream/{id}: {e}");
                    continue;
                }
            }
            group.bench_function(&id, |b| {
                b.iter(|| translate::stream(from, to, black_box(&body), &opts))
            });
        }
    }
    group.finish();
}

/// The same stream in Anthropic's SSE shape, written by hand so the parser bench runs even
/// before any dialect's encoder exists.
fn handwritten_sse(events: &[StreamEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    for ev in events {
        let (name, data) = match ev {
            StreamEvent::MessageStart { id, model, .. } => (
                "message_start",
                json!({
                "type": "message_start",
                "message": {"id": id, "type": "message", "role": "assistant", "model": model,
                            "content": [], "usage": {"input_tokens": 5200, "output_tokens": 1}}}),
            ),
            StreamEvent::BlockStart { index, block } => {
                let content_block = match block {
                    BlockStart::ToolUse { id, name, .. } => {
                        json!({"type": "tool_use", "id": id, "name": name, "input": {}})
                    }
                    _ => json!({"type": "text", "text": ""}),
                };
                let data = json!({"type": "content_block_start", "index": index,
                                  "content_block": content_block});
                ("content_block_start", data)
            }
            StreamEvent::BlockDelta {
                index,
                delta: Delta::Text(text),
            } => (
                "content_block_delta",
                json!({
                "type": "content_block_delta", "index": index,
                "delta": {"type": "text_delta", "text": text}}),
            ),
            StreamEvent::BlockDelta {
                index,
                delta: Delta::ToolInput(json),
            } => (
                "content_block_delta",
                json!({
                "type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": json}}),
            ),
            StreamEvent::BlockStop { index } => (
                "content_block_stop",
                json!({
                "type": "content_block_stop", "index": index}),
            ),
            StreamEvent::MessageDelta { .. } => (
                "message_delta",
                json!({
                "type": "message_delta", "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 640}}),
            ),
            _ => ("message_stop", json!({"type": "message_stop"})),
        };
        sse::write_frame(&mut out, Some(name), &data.to_string());
    }
    out
}

fn bench_sse(c: &mut Criterion) {
    let opts = EncodeOptions::default();
    let events = stream_events();
    let mut bodies = vec![(
        "handwritten-anthropic".to_string(),
        handwritten_sse(&events),
    )];
    for dialect in Dialect::ALL {
        match encode_stream(dialect, &events, &opts) {
            Some(body) => bodies.push((dialect.name().to_string(), body)),
            None => println!(
                "note: skipping sse/*/{}: its encoder wrote nothing",
                dialect.name()
            ),
        }
    }
    let mut group = c.benchmark_group("sse");
    for (name, body) in &bodies {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("parse_all/{name}"), |b| {
            b.iter(|| sse::parse_all(black_box(body)))
        });
        // As bytes arrive from a socket: in reads of a typical TLS record's worth.
        group.bench_function(format!("chunked_1400/{name}"), |b| {
            b.iter(|| {
                let mut parser = sse::Parser::new();
                let mut items = Vec::new();
                for chunk in black_box(body).chunks(1400) {
                    parser.feed(chunk, &mut items);
                }
                parser.finish(&mut items);
                items
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_requests, bench_streams, bench_sse
}
criterion_main!(benches);

//! A fixed, load-independent driver for the protocol crate's hot paths, to run under
//! `valgrind --tool=callgrind` (instruction counts do not depend on what else the machine is
//! doing, unlike criterion's times on a shared 2-core box), and a dump of every translation's
//! exact output, to prove that an optimisation changed no byte.
//!
//! ```text
//! cargo build --release -p switchyard-protocol --example hotpath
//! valgrind --tool=callgrind target/release/examples/hotpath stream 200
//! valgrind --tool=callgrind target/release/examples/hotpath anthropic-stream 200
//! valgrind --tool=callgrind target/release/examples/hotpath responses-stream 200
//! valgrind --tool=callgrind target/release/examples/hotpath gemini-stream 200
//! valgrind --tool=callgrind target/release/examples/hotpath request 50
//! valgrind --tool=callgrind target/release/examples/hotpath translate-request 50
//! valgrind --tool=callgrind target/release/examples/hotpath responses-request 50
//! valgrind --tool=callgrind target/release/examples/hotpath sniff 200
//! valgrind --tool=callgrind target/release/examples/hotpath head 200
//! valgrind --tool=callgrind target/release/examples/hotpath anthropic-sniff 200
//! target/release/examples/hotpath dump /tmp/before   # ... change ..., dump /tmp/after, diff -r
//! target/release/examples/hotpath agent-request > /tmp/agent.json
//! BODY=/tmp/agent.json bench/profile cross-json 300   # the whole gateway, that request
//! ```
//!
//! - `stream N`: N times, the 50-chunk OpenAI Chat stream that `switchyard-mock --chunks 50`
//!   sends (same shape: `usage: null` on every chunk, a usage chunk, `[DONE]`), fed to the SSE
//!   parser one upstream chunk at a time, decoded and re-encoded as an Anthropic stream: the
//!   cross-dialect stream path of `bench/PROFILE.md`.
//! - `anthropic-stream N`: the same answer as an Anthropic upstream streams it, decoded and
//!   re-encoded as an OpenAI Chat stream: the cross-dialect path the other way round.
//! - `responses-stream N`: the same answer as the Responses API streams it, decoded and
//!   re-encoded as an Anthropic stream (a Responses-only model behind an Anthropic client).
//! - `gemini-stream N`: the same from a Gemini upstream to an Anthropic client.
//! - `sniff N`: N times, the same 50-chunk stream fed to the SSE parser one upstream chunk at
//!   a time and each frame to a `StreamSniffer`: the same-dialect (forwarded) stream path,
//!   where the gateway only reads usage, failure and the proper end.
//! - `anthropic-sniff N`: the same for the answer as an Anthropic upstream streams it (an
//!   Anthropic client's forwarded stream).
//! - `head N`: N times, the head of that request in OpenAI Chat form with a long tool result
//!   added (~33 KB), as every forwarded request is read at the door.
//! - `request N`: N times, the 20-message, 8-tool agent request of `benches/translate.rs`
//!   decoded from Anthropic and from OpenAI Chat.
//! - `translate-request N`: N times, the same request translated from Anthropic to OpenAI
//!   Chat and back (decode and encode), as a cross-dialect request is before it is sent.
//! - `responses-request N`: N times, the same request decoded from the Responses API (as a
//!   Codex-like client sends it).
//! - `agent-request`: prints that request's Anthropic body, for `bench/profile`'s `BODY`.
//! - `dump DIR`: every fixture under `tests/fixtures` and `tests/fuzz_regressions`, plus
//!   truncated and corrupted variants of each (to reach the error paths), translated to every
//!   dialect; raw output bytes or error text, one file per case.

use std::hint::black_box;
use std::path::Path;

use serde_json::{json, Value};
use switchyard_protocol::sniff::StreamSniffer;
use switchyard_protocol::{sse, translate, Dialect, EncodeOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = |i: usize| -> usize {
        args.get(i).and_then(|s| s.parse().ok()).expect(
            "usage: hotpath stream|anthropic-stream|responses-stream|gemini-stream|sniff|anthropic-sniff|head|request|translate-request|responses-request N | agent-request | dump DIR",
        )
    };
    match args.first().map(String::as_str) {
        Some("stream") => stream(
            count(1),
            &openai_stream_chunks(),
            Dialect::OpenAiChat,
            Dialect::Anthropic,
        ),
        Some("anthropic-stream") => stream(
            count(1),
            &stream_chunks_in(Dialect::Anthropic),
            Dialect::Anthropic,
            Dialect::OpenAiChat,
        ),
        Some("responses-stream") => stream(
            count(1),
            &stream_chunks_in(Dialect::Responses),
            Dialect::Responses,
            Dialect::Anthropic,
        ),
        Some("gemini-stream") => stream(
            count(1),
            &stream_chunks_in(Dialect::Gemini),
            Dialect::Gemini,
            Dialect::Anthropic,
        ),
        Some("sniff") => sniff(count(1), &openai_stream_chunks(), Dialect::OpenAiChat),
        Some("anthropic-sniff") => sniff(
            count(1),
            &stream_chunks_in(Dialect::Anthropic),
            Dialect::Anthropic,
        ),
        Some("request") => request(count(1)),
        Some("head") => head(count(1)),
        Some("translate-request") => translate_request(count(1)),
        Some("responses-request") => responses_request(count(1)),
        Some("agent-request") => {
            std::io::Write::write_all(&mut std::io::stdout(), &anthropic_request())
                .expect("stdout");
        }
        Some("dump") => dump(Path::new(args.get(1).expect("usage: hotpath dump DIR"))),
        _ => panic!(
            "usage: hotpath stream|anthropic-stream|responses-stream|gemini-stream|sniff|anthropic-sniff|head|request|translate-request|responses-request N | agent-request | dump DIR"
        ),
    }
}

const ANSWER: &str = "The gateway forwards each chunk as soon as it arrives, reads usage on the \
    way, and records what the request cost without making the client wait for the database to \
    answer it.";

/// The mock's `chat_stream` for a 50-piece text answer, one `Vec<u8>` per upstream write.
fn openai_stream_chunks() -> Vec<Vec<u8>> {
    let chars: Vec<char> = ANSWER.chars().collect();
    let (base, extra) = (chars.len() / 50, chars.len() % 50);
    let mut pieces = Vec::new();
    let mut start = 0;
    for i in 0..50 {
        let len = base + usize::from(i < extra);
        pieces.push(chars[start..start + len].iter().collect::<String>());
        start += len;
    }
    let chunk = |delta: Value, finish: Value| {
        let chunk = json!({
            "id": "chatcmpl-bench0123456789",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini",
            "service_tier": "default",
            "system_fingerprint": "fp_switchyard",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
            "usage": null
        });
        format!("data: {chunk}\n\n").into_bytes()
    };
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    for piece in &pieces {
        frames.push(chunk(json!({ "content": piece }), Value::Null));
    }
    frames.push(chunk(json!({}), json!("stop")));
    let usage = json!({
        "id": "chatcmpl-bench0123456789",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "service_tier": "default",
        "system_fingerprint": "fp_switchyard",
        "choices": [],
        "usage": {"prompt_tokens": 31, "completion_tokens": 50, "total_tokens": 81,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}
    });
    frames.push(format!("data: {usage}\n\n").into_bytes());
    frames.push(b"data: [DONE]\n\n".to_vec());
    frames
}

/// The same answer as `dialect` streams it (as its encoder writes the OpenAI stream's
/// events), one `Vec<u8>` per upstream chunk.
fn stream_chunks_in(dialect: Dialect) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let rest = translate(
        &openai_stream_chunks(),
        Dialect::OpenAiChat,
        dialect,
        |out| chunks.push(std::mem::take(out)),
    );
    chunks.push(rest);
    chunks
}

/// One stream from `chunks` in dialect `from`, fed to the SSE parser one upstream chunk at a
/// time, decoded and re-encoded in `to`; `emit` sees the output after each chunk (and may take
/// it), and what is left at the end is returned.
fn translate(
    chunks: &[Vec<u8>],
    from: Dialect,
    to: Dialect,
    mut emit: impl FnMut(&mut Vec<u8>),
) -> Vec<u8> {
    let opts = EncodeOptions::default();
    let mut parser = sse::Parser::new();
    let mut decoder = from.stream_decoder();
    let mut encoder = to.stream_encoder(&opts);
    let (mut items, mut events, mut out) = (Vec::new(), Vec::new(), Vec::new());
    for chunk in chunks {
        parser.feed(black_box(chunk), &mut items);
        for item in &items {
            if let sse::Item::Frame(frame) = item {
                decoder
                    .decode(frame, &mut events)
                    .expect("the stream decodes");
            }
        }
        parser.recycle(&mut items);
        for ev in events.drain(..) {
            encoder.encode(&ev, &mut out);
        }
        emit(&mut out);
    }
    parser.finish(&mut items);
    decoder.finish(&mut events);
    for ev in events.drain(..) {
        encoder.encode(&ev, &mut out);
    }
    encoder.finish(&mut out);
    out
}

fn stream(n: usize, chunks: &[Vec<u8>], from: Dialect, to: Dialect) {
    let mut total = 0;
    for _ in 0..n {
        total += black_box(translate(chunks, from, to, |_| {})).len();
    }
    println!("{n} streams, {total} bytes out");
}

fn sniff(n: usize, chunks: &[Vec<u8>], dialect: Dialect) {
    let mut output_tokens = 0;
    for _ in 0..n {
        let mut parser = sse::Parser::new();
        let mut sniffer = StreamSniffer::new(dialect);
        let mut items = Vec::new();
        for chunk in chunks {
            // As the gateway's `Forward::process`: parse the chunk, show each frame to the
            // sniffer, forward the bytes unchanged.
            parser.recycle(&mut items);
            parser.feed(black_box(chunk), &mut items);
            for item in &items {
                if let sse::Item::Frame(frame) = item {
                    sniffer.frame(frame);
                }
            }
        }
        parser.recycle(&mut items);
        parser.finish(&mut items);
        for item in &items {
            if let sse::Item::Frame(frame) = item {
                sniffer.frame(frame);
            }
        }
        assert!(
            sniffer.ended() && sniffer.error().is_none(),
            "the stream ends properly"
        );
        output_tokens += black_box(sniffer.usage()).output_tokens;
    }
    println!("{n} streams sniffed, {output_tokens} output tokens");
}

const CODE: &str =
    "pub fn parse(input: &str) -> Result<Config, Error> {\n    let raw: RawConfig = \
    toml::from_str(input)?;\n    raw.validate()\n}\n";

/// The 20-message agent conversation of `benches/translate.rs` (shortened tool schemas), as
/// an Anthropic Messages request body.
fn anthropic_request() -> Vec<u8> {
    let names = [
        "read_file",
        "write_file",
        "edit_file",
        "list_directory",
        "search_code",
        "run_command",
        "web_search",
        "create_task",
    ];
    let tools: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "name": name,
                "description": format!("Use {name} to work with the user's repository."),
                "input_schema": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "File or directory path"},
                        "max_results": {"type": "integer", "minimum": 1, "maximum": 500},
                        "mode": {"type": "string", "enum": ["fast", "thorough"]}
                    },
                    "required": ["path"]
                }
            })
        })
        .collect();
    let mut messages = vec![
        json!({"role": "user", "content": [{"type": "text", "text": format!("Here:\n{CODE}")}]}),
        json!({"role": "user", "content": "Fix every error without a path."}),
    ];
    for round in 0..9 {
        let name = names[round % names.len()];
        let id = format!("toolu_bench_{round:02}");
        messages.push(json!({"role": "assistant", "content": [
            {"type": "text", "text": format!("Step {round}: I will use {name}.")},
            {"type": "tool_use", "id": id, "name": name, "input": {
                "path": format!("src/config/part_{round}.rs"), "max_results": 20}}
        ]}));
        messages.push(json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": [
                {"type": "text", "text": format!("ok: 3 matches\n{CODE}")}]}
        ]}));
    }
    let body = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "You are a careful coding agent."}],
        "tools": tools,
        "tool_choice": {"type": "auto"},
        "temperature": 0.2,
        "messages": messages,
    });
    serde_json::to_vec(&body).expect("a JSON value serialises")
}

/// The agent request in OpenAI Chat form with a long tool result (this crate's Anthropic wire
/// types, ~25 KB of code, as a `read_file` tool would return it), then its head read N times:
/// what a forwarded request costs at the door.
fn head(n: usize) {
    let mut body: Value = serde_json::from_slice(&translate_body(
        &anthropic_request(),
        Dialect::Anthropic,
        Dialect::OpenAiChat,
    ))
    .expect("json");
    body["messages"]
        .as_array_mut()
        .expect("messages")
        .push(json!({"role": "user", "content": include_str!("../src/anthropic/wire.rs")}));
    let body = serde_json::to_string(&body).expect("json");
    let mut read = 0;
    for _ in 0..n {
        let head = switchyard_protocol::head::read(black_box(&body)).expect("a head");
        read += usize::from(head.model.is_some());
    }
    println!(
        "{n} heads of {} bytes read ({read} with a model)",
        body.len()
    );
}

fn request(n: usize) {
    let anthropic = anthropic_request();
    let ir = Dialect::Anthropic
        .decode_request(&anthropic)
        .expect("the request decodes");
    let openai = Dialect::OpenAiChat
        .encode_request(&ir, &EncodeOptions::default())
        .expect("the request encodes");
    let mut messages = 0;
    for _ in 0..n {
        let a = Dialect::Anthropic.decode_request(black_box(&anthropic));
        let o = Dialect::OpenAiChat.decode_request(black_box(&openai));
        messages += a.expect("decodes").messages.len() + o.expect("decodes").messages.len();
    }
    println!("{n} × 2 requests, {messages} messages");
}

fn translate_request(n: usize) {
    let anthropic = anthropic_request();
    let openai = translate_body(&anthropic, Dialect::Anthropic, Dialect::OpenAiChat);
    let mut bytes = 0;
    for _ in 0..n {
        bytes += translate_body(
            black_box(&anthropic),
            Dialect::Anthropic,
            Dialect::OpenAiChat,
        )
        .len();
        bytes += translate_body(black_box(&openai), Dialect::OpenAiChat, Dialect::Anthropic).len();
    }
    println!("{n} × 2 requests translated, {bytes} bytes");
}

fn responses_request(n: usize) {
    let responses = translate_body(&anthropic_request(), Dialect::Anthropic, Dialect::Responses);
    let mut messages = 0;
    for _ in 0..n {
        let ir = Dialect::Responses.decode_request(black_box(&responses));
        messages += ir.expect("decodes").messages.len();
    }
    println!("{n} requests, {messages} messages");
}

/// One request body decoded from `from` and encoded for `to`, as the pipeline does it: under
/// the upstream's model name, asking for usage.
fn translate_body(body: &[u8], from: Dialect, to: Dialect) -> Vec<u8> {
    let ir = from.decode_request(body).expect("the request decodes");
    let opts = EncodeOptions {
        model: Some("upstream-model".into()),
        ask_usage: true,
        ..EncodeOptions::default()
    };
    to.encode_request(&ir, &opts).expect("the request encodes")
}

/// Writes one file per case under `dir`: the exact bytes each translation produced, or
/// `ERR <text>`. Two dumps taken before and after a change must be identical (`diff -r`).
fn dump(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let opts = EncodeOptions::default();
    let mut cases = 0;
    let mut write = |name: String, result: Result<Vec<u8>, String>| {
        let bytes = result.unwrap_or_else(|e| format!("ERR {e}").into_bytes());
        std::fs::write(dir.join(name.replace('/', "+")), bytes).expect("write a dump file");
        cases += 1;
    };
    std::fs::create_dir_all(dir).expect("create the dump directory");
    for from in Dialect::ALL {
        let mut inputs: Vec<(String, String, Vec<u8>)> = Vec::new();
        for kind in ["requests", "responses", "streams", "errors"] {
            for (name, body) in files(&root.join("fixtures").join(from.name()).join(kind)) {
                inputs.push((kind.to_string(), name, body));
            }
        }
        for (fuzz, kind) in [
            ("decode_request_", "requests"),
            ("decode_response_", "responses"),
            ("stream_", "streams"),
        ] {
            let dir = root
                .join("fuzz_regressions")
                .join(format!("{fuzz}{}", from.name()));
            for (name, body) in files(&dir) {
                inputs.push((kind.to_string(), format!("fuzz-{name}"), body));
            }
        }
        for (kind, name, body) in inputs {
            for (variant, body) in variants(&body) {
                for to in Dialect::ALL {
                    let case = format!("{}.{kind}.{name}.{variant}.{}", from.name(), to.name());
                    let result = match kind.as_str() {
                        "requests" => translate::request(from, to, &body, &opts),
                        "responses" => translate::response(from, to, &body, &opts),
                        "streams" => translate::stream(from, to, &body, &opts),
                        _ => Ok(to.encode_error(&from.decode_error(400, &body)).1),
                    };
                    write(case, result.map_err(|e| e.to_string()));
                }
            }
        }
    }
    for (name, body) in files(&root.join("fuzz_regressions/sse_parser")) {
        for (variant, body) in variants(&body) {
            let items = format!("{:?}", sse::parse_all(&body)).into_bytes();
            write(format!("sse.{name}.{variant}"), Ok(items));
        }
    }
    println!("{cases} cases written to {}", dir.display());
}

/// `(name, bytes)` of the files in `dir`, sorted by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            Some((name, std::fs::read(&p).ok()?))
        })
        .collect();
    out.sort();
    out
}

/// The body itself, then variants that reach decode errors at many depths: cut at eight
/// points, and single bytes replaced (a quote, a digit, a brace, an invalid UTF-8 byte) at
/// sixteen points.
fn variants(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("orig".to_string(), body.to_vec())];
    let len = body.len();
    if len == 0 {
        return out;
    }
    for k in 1..8 {
        let at = k * len / 8;
        out.push((format!("cut{k}"), body[..at].to_vec()));
    }
    for k in 0..16 {
        let at = k * len / 16;
        let with = [b'"', b'7', b'{', 0xff][k % 4];
        let mut b = body.to_vec();
        b[at] = with;
        out.push((format!("set{k}"), b));
    }
    out
}

//! Gemini dialect: fixtures decode, same-dialect round trips are exact, streams are well formed
//! and survive re-chunking and re-encoding, the real-client cases and every refusal and drop.

// In a test a panic is the failure report: unwrapping is the point.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use switchyard_protocol::gemini;
use switchyard_protocol::ir::{
    self, Block, BlockStart, Delta, ErrorBody, ErrorKind, Extras, Family, MediaSource, Message,
    ReasoningMode, ResponseFormat, Role, Signature, StopReason, StreamEvent, ToolCallKind,
    ToolChoice, ToolKind, Usage,
};
use switchyard_protocol::{sse, Dialect, EncodeOptions, Error};

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gemini")
        .join(kind)
}

fn fixtures(kind: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .map(|p| {
            let name = p.file_stem().unwrap().to_str().unwrap().to_string();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {kind}");
    out
}

fn fixture(kind: &str, name: &str) -> Vec<u8> {
    fs::read(dir(kind).join(name)).unwrap()
}

fn value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn opts() -> EncodeOptions {
    EncodeOptions::default()
}

fn decode_req(name: &str) -> ir::Request {
    gemini::decode_request(&fixture("requests", &format!("{name}.json"))).unwrap()
}

fn encode_req(req: &ir::Request) -> Value {
    value(&gemini::encode_request(req, &opts()).unwrap())
}

// ---------------------------------------------------------------- requests

/// Decode then encode gives the client's body back. Two legitimate normalisations, each with
/// its expected body in `requests/normalised/`: snake_case field names come back camelCase
/// (the API takes both spellings; unknown fields such as `safety_settings` keep theirs), and
/// consecutive turns of the same role are merged into one (Gemini's preferred shape).
#[test]
fn request_fixtures_round_trip() {
    for (name, body) in fixtures("requests", "json") {
        let req = gemini::decode_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            req.model.is_empty() && !req.stream,
            "{name}: model/stream are in the URL"
        );
        let out = value(&gemini::encode_request(&req, &opts()).unwrap());
        let normalised = dir("requests/normalised").join(format!("{name}.json"));
        let expected = match fs::read(&normalised) {
            Ok(b) => value(&b),
            Err(_) => value(&body),
        };
        assert_eq!(out, expected, "{name}");
    }
}

#[test]
fn request_missing_contents_is_a_decode_error_with_path() {
    let err = gemini::decode_request(br#"{"generationConfig":{}}"#).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let err = gemini::decode_request(
        br#"{"contents":[{"role":"user","parts":[{"inlineData":{"data":"x"}}]}]}"#,
    )
    .unwrap_err();
    match err {
        Error::Decode { path, .. } => assert!(path.contains("contents[0].parts[0]"), "{path}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn snake_case_body_decodes_like_camel_case() {
    let snake = decode_req("snake_case");
    let camel = gemini::decode_request(&fixture("requests/normalised", "snake_case.json")).unwrap();
    assert_eq!(snake.system[0].text, "You are a unit-conversion bot.");
    assert_eq!(snake.system, camel.system);
    assert_eq!(snake.messages, camel.messages);
    assert_eq!(snake.tools, camel.tools);
    assert_eq!(snake.sampling.max_tokens, Some(1024));
    let r = snake.reasoning.as_ref().unwrap();
    assert_eq!(r.mode, ReasoningMode::Adaptive);
    assert_eq!(r.include_thoughts, Some(true));
    assert_eq!(snake.reasoning, camel.reasoning);
    assert_eq!(
        snake.tool_choice,
        Some(ToolChoice::Tool("convert_units".into()))
    );
    // parameters_json_schema is full JSON Schema: kept as is.
    let ToolKind::Function { parameters, .. } = &snake.tools[0].kind else {
        panic!()
    };
    assert_eq!(
        parameters.parse().unwrap()["additionalProperties"],
        json!(false)
    );
    assert!(matches!(&snake.messages[0].content[1], Block::Image(_)));
}

#[test]
fn upper_case_schema_types_are_lowered_in_ir_and_kept_for_gemini() {
    let req = decode_req("upper_case_schema");
    let ToolKind::Function { parameters, .. } = &req.tools[0].kind else {
        panic!()
    };
    let parameters = parameters.parse().unwrap();
    assert_eq!(parameters["type"], "object");
    assert_eq!(parameters["properties"]["items"]["items"]["type"], "object");
    assert_eq!(
        parameters["properties"]["list"]["enum"],
        json!(["groceries", "hardware"])
    );
    // To another dialect the schema is standard; back to Gemini the client's casing returns
    // (checked by the round trip), and a changed schema is rewritten lower-case.
    let mut changed = req.clone();
    if let ToolKind::Function { parameters, .. } = &mut changed.tools[0].kind {
        let mut edited = parameters.parse().unwrap();
        edited["description"] = json!("edited");
        *parameters = edited.into();
    }
    let out = encode_req(&changed);
    assert_eq!(
        out["tools"][0]["functionDeclarations"][0]["parameters"]["type"],
        "object"
    );
}

#[test]
fn two_consecutive_user_turns_decode_and_merge_on_encode() {
    let req = decode_req("consecutive_user_turns");
    assert_eq!(req.messages.len(), 4);
    assert_eq!(req.messages[0].role, Role::User);
    assert_eq!(req.messages[1].role, Role::User);
    assert_eq!(req.messages[3].role, Role::User, "absent role means user");
    let out = encode_req(&req);
    assert_eq!(out["contents"].as_array().unwrap().len(), 3);
    assert_eq!(out["contents"][0]["parts"].as_array().unwrap().len(), 2);
}

#[test]
fn client_minted_call_ids_are_kept() {
    let req = decode_req("client_call_ids");
    let id = "adk-7f3c2a91-5d4e-4b8a-9c1f-0e2d3b4a5c6d";
    let Block::ToolUse(call) = &req.messages[1].content[0] else {
        panic!()
    };
    assert_eq!(call.id, id);
    let Block::ToolResult(result) = &req.messages[2].content[0] else {
        panic!()
    };
    assert_eq!(result.tool_use_id, id);
    let out = encode_req(&req);
    assert_eq!(out["contents"][1]["parts"][0]["functionCall"]["id"], id);
    assert_eq!(out["contents"][2]["parts"][0]["functionResponse"]["id"], id);
}

#[test]
fn calls_without_ids_get_minted_ids_and_responses_pair_by_name_and_order() {
    let req = decode_req("parallel_tools");
    let calls: Vec<&ir::ToolUse> = req.messages[1]
        .content
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls[0].id,
        switchyard_protocol::ids::mint_gemini_call_id(1, 0, "get_weather")
    );
    assert_eq!(
        calls[1].id,
        switchyard_protocol::ids::mint_gemini_call_id(1, 1, "get_weather")
    );
    let results: Vec<&ir::ToolResult> = req.messages[2]
        .content
        .iter()
        .filter_map(|b| match b {
            Block::ToolResult(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(results[0].tool_use_id, calls[0].id);
    assert_eq!(results[1].tool_use_id, calls[1].id);
    assert_eq!(
        results[0].text(),
        r#"{"temperature_c":14,"condition":"light rain"}"#
    );
    // Minted ids never go to Gemini.
    let out = encode_req(&req);
    assert!(out["contents"][1]["parts"][0]["functionCall"]
        .get("id")
        .is_none());
    assert!(out["contents"][2]["parts"][0]["functionResponse"]
        .get("id")
        .is_none());
}

#[test]
fn responses_in_separate_user_turns_merge_into_one_message() {
    let body = json!({"contents": [
        {"role": "user", "parts": [{"text": "weather in Paris and Rome"}]},
        {"role": "model", "parts": [
            {"functionCall": {"name": "w", "args": {"c": "Paris"}}},
            {"functionCall": {"name": "w", "args": {"c": "Rome"}}}]},
        {"role": "function", "parts": [{"functionResponse": {"name": "w", "response": {"result": "rain"}}}]},
        {"role": "function", "parts": [{"functionResponse": {"name": "w", "response": {"result": "sun"}}}]}
    ]});
    let req = gemini::decode_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(req.messages.len(), 3);
    let ids: Vec<String> = req.messages[2]
        .content
        .iter()
        .map(|b| match b {
            Block::ToolResult(r) => r.tool_use_id.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            switchyard_protocol::ids::mint_gemini_call_id(1, 0, "w"),
            switchyard_protocol::ids::mint_gemini_call_id(1, 1, "w")
        ]
    );
}

#[test]
fn thought_signature_beside_function_call() {
    let req = decode_req("thinking_signatures");
    let m = &req.messages[1];
    let Block::Thinking(t) = &m.content[0] else {
        panic!()
    };
    assert!(t.signature.is_none());
    let Block::ToolUse(call) = &m.content[1] else {
        panic!()
    };
    let sig = call.signature.as_ref().unwrap();
    assert_eq!(sig.family, Family::Gemini);
    assert!(sig.value.starts_with("CiQB"));
    let r = req.reasoning.as_ref().unwrap();
    assert_eq!(
        (r.mode, r.budget_tokens),
        (ReasoningMode::Enabled, Some(8192))
    );
}

#[test]
fn inline_image_and_file_data() {
    let req = decode_req("images");
    let c = &req.messages[0].content;
    assert!(
        matches!(&c[1], Block::Image(i) if matches!(&i.source, MediaSource::Base64 { media_type, .. } if media_type == "image/png"))
    );
    assert!(
        matches!(&c[2], Block::Image(i) if matches!(&i.source, MediaSource::Url { url, .. } if url.ends_with("/files/8x2k4n0q7d1m")))
    );
    // A client's own fileData goes back as fileData even with image fetching off (checked by
    // the round trip); a gs:// URI is a provider file.
    let body = json!({"contents": [{"role": "user", "parts": [
        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/report.pdf"}}]}]});
    let req = gemini::decode_request(body.to_string().as_bytes()).unwrap();
    assert!(
        matches!(&req.messages[0].content[0], Block::Document(d) if matches!(&d.source, MediaSource::File { file_id, .. } if file_id == "gs://bucket/report.pdf"))
    );
}

#[test]
fn code_execution_parts_are_other_blocks() {
    let req = decode_req("code_execution");
    let kinds: Vec<&str> = req.messages[1]
        .content
        .iter()
        .map(|b| match b {
            Block::Other(o) => o.kind.as_str(),
            Block::Text(_) => "text",
            _ => "?",
        })
        .collect();
    assert_eq!(kinds, vec!["executableCode", "codeExecutionResult", "text"]);
    assert!(matches!(&req.tools[0].kind, ToolKind::Provider { kind } if kind == "codeExecution"));
}

#[test]
fn structured_output_schema_is_normalised() {
    let req = decode_req("structured_output");
    let Some(ResponseFormat::JsonSchema { schema, .. }) = &req.response_format else {
        panic!()
    };
    let schema = schema.parse().unwrap();
    assert_eq!(schema["type"], "array");
    assert_eq!(
        schema["items"]["properties"]["ingredients"]["items"]["type"],
        "string"
    );
}

// ------------------------------------------------------- requests from the IR

fn user(text: &str) -> Message {
    Message::new(Role::User, vec![Block::text(text)])
}

fn tool_use(id: &str, name: &str, sig: Option<Signature>) -> Block {
    Block::ToolUse(ir::ToolUse {
        id: id.into(),
        name: name.into(),
        input: json!({"q": 1}),
        kind: ToolCallKind::Function,
        signature: sig,
        cache_control: None,
        extras: Extras::default(),
    })
}

fn tool_result(id: &str, name: Option<&str>, content: Vec<Block>, is_error: bool) -> Block {
    Block::ToolResult(ir::ToolResult {
        tool_use_id: id.into(),
        name: name.map(str::to_string),
        content,
        is_error,
        cache_control: None,
        extras: Extras::default(),
    })
}

fn function_tool(name: &str, parameters: Value) -> ir::Tool {
    ir::Tool {
        name: name.into(),
        description: Some("d".into()),
        kind: ToolKind::Function {
            parameters: parameters.into(),
            strict: Some(true),
        },
        cache_control: None,
        extras: Extras::default(),
    }
}

fn base64_image() -> Block {
    Block::Image(ir::Image {
        source: MediaSource::Base64 {
            media_type: "image/png".into(),
            data: "iVBORw0KGgo=".into(),
        },
        detail: None,
        cache_control: None,
        extras: Extras::default(),
    })
}

fn url_image(url: &str) -> Block {
    Block::Image(ir::Image {
        source: MediaSource::Url {
            url: url.into(),
            media_type: None,
        },
        detail: Some("high".into()),
        cache_control: None,
        extras: Extras::default(),
    })
}

fn gemini_sig(v: &str) -> Signature {
    Signature {
        family: Family::Gemini,
        value: v.into(),
    }
}

#[test]
fn system_prompt_and_system_messages_are_hoisted_in_order() {
    let req = ir::Request {
        system: vec![ir::SystemBlock::new("Be brief.")],
        messages: vec![
            user("hi"),
            Message::new(Role::System, vec![Block::text("Now answer in French.")]),
            Message::new(Role::Assistant, vec![Block::text("Bonjour")]),
        ],
        ..Default::default()
    };
    let out = encode_req(&req);
    assert_eq!(
        out["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}, {"text": "Now answer in French."}]})
    );
    assert_eq!(out["contents"].as_array().unwrap().len(), 2);
    assert!(out.get("model").is_none());
}

#[test]
fn conversation_starting_with_a_model_tool_call_gets_a_continued_user_turn() {
    let req = ir::Request {
        messages: vec![
            Message::new(Role::Assistant, vec![tool_use("t1", "lookup", None)]),
            Message::new(
                Role::User,
                vec![tool_result("t1", None, vec![Block::text("42")], false)],
            ),
        ],
        ..Default::default()
    };
    let out = encode_req(&req);
    assert_eq!(
        out["contents"][0],
        json!({"role": "user", "parts": [{"text": "(continued)"}]})
    );
    assert_eq!(out["contents"][1]["role"], "model");
    // The result's name comes from the call; the response object wraps the text.
    assert_eq!(
        out["contents"][2]["parts"][0]["functionResponse"],
        json!({"name": "lookup", "response": {"result": "42"}})
    );
}

#[test]
fn tool_result_error_and_name_lookup() {
    let req = ir::Request {
        messages: vec![
            user("go"),
            Message::new(Role::Assistant, vec![tool_use("toolu_01", "fetch", None)]),
            Message::new(
                Role::User,
                vec![tool_result(
                    "toolu_01",
                    None,
                    vec![Block::text("timeout")],
                    true,
                )],
            ),
        ],
        ..Default::default()
    };
    let out = encode_req(&req);
    assert_eq!(
        out["contents"][2]["parts"][0]["functionResponse"],
        json!({"name": "fetch", "response": {"error": "timeout"}})
    );
    // Foreign ids are not sent: Gemini pairs by order and name.
    assert!(out["contents"][1]["parts"][0]["functionCall"]
        .get("id")
        .is_none());
}

#[test]
fn refuses_tool_result_for_unknown_call() {
    let req = ir::Request {
        messages: vec![Message::new(
            Role::User,
            vec![tool_result("nope", None, vec![], false)],
        )],
        ..Default::default()
    };
    let err = gemini::encode_request(&req, &opts()).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
}

#[test]
fn tool_result_images_are_emulated_as_following_inline_data() {
    let req = ir::Request {
        messages: vec![
            user("screenshot"),
            Message::new(Role::Assistant, vec![tool_use("c1", "shot", None)]),
            Message::new(
                Role::User,
                vec![tool_result(
                    "c1",
                    Some("shot"),
                    vec![Block::text("done"), base64_image()],
                    false,
                )],
            ),
        ],
        ..Default::default()
    };
    let out = encode_req(&req);
    assert_eq!(
        out["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "shot", "response": {"result": "done"}}},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
        ])
    );
}

#[test]
fn refuses_remote_image_url_unless_enabled() {
    let req = ir::Request {
        messages: vec![Message::new(
            Role::User,
            vec![
                Block::text("what is this"),
                url_image("https://example.com/cat.png?x=1"),
            ],
        )],
        ..Default::default()
    };
    let err = gemini::encode_request(&req, &opts()).unwrap_err();
    assert_eq!(
        err,
        Error::unsupported("remote image URL (enable image fetching)", Dialect::Gemini)
    );
    let enabled = EncodeOptions {
        gemini_image_urls: true,
        ..opts()
    };
    let out = value(&gemini::encode_request(&req, &enabled).unwrap());
    assert_eq!(
        out["contents"][0]["parts"][1],
        json!({"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.png?x=1"}})
    );
    let req = ir::Request {
        messages: vec![Message::new(
            Role::User,
            vec![url_image("https://example.com/photo")],
        )],
        ..Default::default()
    };
    let out = value(&gemini::encode_request(&req, &enabled).unwrap());
    assert_eq!(
        out["contents"][0]["parts"][0]["fileData"]["mimeType"],
        "image/jpeg"
    );
}

#[test]
fn refuses_other_dialects_provider_tools_and_custom_tools() {
    let mut fields = serde_json::Map::new();
    fields.insert("type".into(), json!("web_search_20250305"));
    let req = ir::Request {
        messages: vec![user("x")],
        tools: vec![ir::Tool {
            name: "web_search".into(),
            description: None,
            kind: ToolKind::Provider {
                kind: "web_search_20250305".into(),
            },
            cache_control: None,
            extras: Extras::new(Dialect::Anthropic, fields),
        }],
        ..Default::default()
    };
    let err = gemini::encode_request(&req, &opts()).unwrap_err();
    assert!(
        matches!(err, Error::Unsupported { ref feature, .. } if feature == "web_search_20250305 tool")
    );
    let req = ir::Request {
        messages: vec![user("x")],
        tools: vec![ir::Tool {
            name: "apply_patch".into(),
            description: None,
            kind: ToolKind::Custom { format: None },
            cache_control: None,
            extras: Extras::default(),
        }],
        ..Default::default()
    };
    assert!(matches!(
        gemini::encode_request(&req, &opts()),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn refuses_other_dialects_other_blocks_and_server_tool_calls() {
    let mut fields = serde_json::Map::new();
    fields.insert("type".into(), json!("input_audio"));
    let audio = Block::Other(ir::Other {
        kind: "input_audio".into(),
        extras: Extras::new(Dialect::OpenAiChat, fields),
    });
    let req = ir::Request {
        messages: vec![Message::new(Role::User, vec![audio])],
        ..Default::default()
    };
    assert_eq!(
        gemini::encode_request(&req, &opts()).unwrap_err(),
        Error::unsupported("input_audio content", Dialect::Gemini)
    );
    let mut call = tool_use("srv_1", "web_search", None);
    if let Block::ToolUse(t) = &mut call {
        t.kind = ToolCallKind::Server;
    }
    let req = ir::Request {
        messages: vec![user("x"), Message::new(Role::Assistant, vec![call])],
        ..Default::default()
    };
    assert!(matches!(
        gemini::encode_request(&req, &opts()),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn refuses_non_text_system_content() {
    let req = ir::Request {
        messages: vec![Message::new(Role::System, vec![base64_image()]), user("x")],
        ..Default::default()
    };
    assert!(matches!(
        gemini::encode_request(&req, &opts()),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn thinking_text_is_dropped_and_its_gemini_signature_moves_to_the_next_part() {
    let foreign = Signature {
        family: Family::Anthropic,
        value: "EqQBCkYIARgC".into(),
    };
    let req = ir::Request {
        messages: vec![
            user("go"),
            Message::new(
                Role::Assistant,
                vec![
                    Block::Thinking(ir::Thinking {
                        text: "let me think".into(),
                        signature: Some(gemini_sig("GEMSIG")),
                        extras: Extras::default(),
                    }),
                    tool_use("c1", "f", None),
                    Block::Thinking(ir::Thinking {
                        text: "anthropic thought".into(),
                        signature: Some(foreign.clone()),
                        extras: Extras::default(),
                    }),
                    Block::RedactedThinking(ir::RedactedThinking { data: "xyz".into() }),
                    Block::Text(ir::Text {
                        signature: Some(foreign),
                        ..ir::Text::new("done")
                    }),
                    Block::Thinking(ir::Thinking {
                        text: "trailing".into(),
                        signature: Some(gemini_sig("LAST")),
                        extras: Extras::default(),
                    }),
                ],
            ),
        ],
        ..Default::default()
    };
    let out = encode_req(&req);
    assert_eq!(
        out["contents"][1]["parts"],
        json!([
            {"functionCall": {"name": "f", "args": {"q": 1}}, "thoughtSignature": "GEMSIG"},
            {"text": "done"},
            {"text": "", "thoughtSignature": "LAST"}
        ])
    );
}

/// Two signed thoughts in a row (thought text, then the empty block that carried a call's
/// signature to an Anthropic client): each signature keeps its own part, the call's on the call.
#[test]
fn consecutive_gemini_signed_thoughts_keep_both_signatures() {
    let thought = |text: &str, sig: &str| {
        Block::Thinking(ir::Thinking {
            text: text.into(),
            signature: Some(gemini_sig(sig)),
            extras: Extras::default(),
        })
    };
    let req = ir::Request {
        messages: vec![
            user("go"),
            Message::new(
                Role::Assistant,
                vec![
                    thought("planning", "THOUGHT"),
                    thought("", "CALL"),
                    tool_use("c1", "f", None),
                ],
            ),
        ],
        ..Default::default()
    };
    assert_eq!(
        encode_req(&req)["contents"][1]["parts"],
        json!([
            {"text": "", "thoughtSignature": "THOUGHT"},
            {"functionCall": {"name": "f", "args": {"q": 1}}, "thoughtSignature": "CALL"}
        ])
    );
}

/// Gemini 3 rejects a model turn whose first call has no signature; for calls that never had
/// one, Google documents `skip_thought_signature_validator`. Only the first call of each turn
/// gets it, only for Gemini 3, and a signature from Gemini is never replaced.
#[test]
fn gemini_3_unsigned_first_calls_get_the_documented_placeholder() {
    let anthropic_sig = Signature {
        family: Family::Anthropic,
        value: "EqQBCkYIARgC".into(),
    };
    let turn = |calls: Vec<Block>| Message::new(Role::Assistant, calls);
    let results = |ids: &[&str]| {
        let blocks = ids
            .iter()
            .map(|id| tool_result(id, Some("f"), vec![Block::text("ok")], false))
            .collect();
        Message::new(Role::User, blocks)
    };
    let req = |model: &str| ir::Request {
        model: model.into(),
        messages: vec![
            user("go"),
            turn(vec![
                Block::text("Calling both."),
                tool_use("c1", "f", None),
                tool_use("c2", "f", None),
            ]),
            results(&["c1", "c2"]),
            turn(vec![tool_use("c3", "f", Some(gemini_sig("REAL")))]),
            results(&["c3"]),
            turn(vec![tool_use("c4", "f", Some(anthropic_sig.clone()))]),
            results(&["c4"]),
            turn(vec![Block::text("Done.")]),
        ],
        ..Default::default()
    };
    let signatures = |out: &Value| -> Vec<Value> {
        let mut sigs = Vec::new();
        for c in out["contents"].as_array().unwrap() {
            for p in c["parts"].as_array().unwrap() {
                if c["role"] == "model" {
                    sigs.push(p.get("thoughtSignature").cloned().unwrap_or(Value::Null));
                }
            }
        }
        sigs
    };
    let skip = json!("skip_thought_signature_validator");
    for model in ["gemini-3-pro-preview", "models/gemini-3-flash-preview"] {
        assert_eq!(
            signatures(&encode_req(&req(model))),
            [
                Value::Null,
                skip.clone(),
                Value::Null,
                json!("REAL"),
                skip.clone(),
                Value::Null
            ],
            "{model}"
        );
    }
    for model in ["gemini-2.5-pro", "gemini-2.0-flash", ""] {
        let out = encode_req(&req(model));
        assert!(
            !out.to_string().contains("skip_thought"),
            "{model}: {out:#}"
        );
        assert_eq!(signatures(&out)[3], json!("REAL"));
    }
}

#[test]
fn sampling_choice_format_and_reasoning_mapping() {
    let req = ir::Request {
        messages: vec![user("x")],
        tools: vec![
            function_tool(
                "f",
                json!({"type": "object", "properties": {"a": {"type": ["string", "null"]}}, "additionalProperties": false}),
            ),
            function_tool("noargs", json!({"type": "object", "properties": {}})),
        ],
        tool_choice: Some(ToolChoice::Tool("f".into())),
        parallel_tool_calls: Some(false),
        sampling: ir::Sampling {
            max_tokens: Some(100),
            n: Some(2),
            stop: vec!["END".into()],
            ..Default::default()
        },
        response_format: Some(ResponseFormat::JsonSchema {
            name: Some("answer".into()),
            schema: json!({"type": "object", "additionalProperties": false}).into(),
            strict: Some(true),
        }),
        reasoning: Some(ir::Reasoning {
            effort: Some(ir::Effort::High),
            ..Default::default()
        }),
        metadata: ir::Metadata {
            user_id: Some("user-123".into()),
            session_id: None,
        },
        ..Default::default()
    };
    let out = encode_req(&req);
    assert_eq!(
        out["tools"],
        json!([{"functionDeclarations": [
            {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"a": {"type": "string", "nullable": true}}}},
            {"name": "noargs", "description": "d"}
        ]}])
    );
    assert_eq!(
        out["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}})
    );
    assert_eq!(
        out["generationConfig"],
        json!({
            "candidateCount": 2, "maxOutputTokens": 100, "stopSequences": ["END"],
            "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object", "additionalProperties": false},
            "thinkingConfig": {"thinkingBudget": 16384}
        })
    );
    // parallel_tool_calls, metadata.user_id, the schema's name and strictness: dropped.
    let text = out.to_string();
    assert!(!text.contains("user-123") && !text.contains("parallel") && !text.contains("answer"));
}

#[test]
fn tool_choice_and_reasoning_modes() {
    for (choice, expected) in [
        (ToolChoice::Any, json!({"mode": "ANY"})),
        (ToolChoice::None, json!({"mode": "NONE"})),
        (ToolChoice::Auto, json!({"mode": "AUTO"})),
    ] {
        let req = ir::Request {
            messages: vec![user("x")],
            tool_choice: Some(choice),
            ..Default::default()
        };
        assert_eq!(
            encode_req(&req)["toolConfig"]["functionCallingConfig"],
            expected
        );
    }
    for (mode, budget) in [(ReasoningMode::Disabled, 0), (ReasoningMode::Adaptive, -1)] {
        let req = ir::Request {
            messages: vec![user("x")],
            reasoning: Some(ir::Reasoning {
                mode,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            encode_req(&req)["generationConfig"]["thinkingConfig"]["thinkingBudget"],
            budget
        );
    }
    let body = json!({"contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"thinkingConfig": {"thinkingLevel": "HIGH"}},
        "toolConfig": {"functionCallingConfig": {"mode": "VALIDATED"}}});
    let req = gemini::decode_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        req.reasoning.as_ref().unwrap().effort,
        Some(ir::Effort::High)
    );
    assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(encode_req(&req), body);
}

// ---------------------------------------------------------------- responses

#[test]
fn response_fixtures_round_trip() {
    for (name, body) in fixtures("responses", "json") {
        let resp = gemini::decode_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = value(&gemini::encode_response(&resp, &opts()).unwrap());
        assert_eq!(out, value(&body), "{name}");
    }
}

fn decode_resp(name: &str) -> ir::Response {
    gemini::decode_response(&fixture("responses", &format!("{name}.json"))).unwrap()
}

#[test]
fn stop_after_function_call_is_tool_use() {
    let resp = decode_resp("tool_use");
    assert_eq!(resp.stop_reason, Some(StopReason::ToolUse));
    let ids: Vec<&str> = resp
        .content
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse(t) => Some(t.id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0].starts_with("call_") && ids[0] != ids[1]);
    assert_eq!(decode_resp("text").stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn usage_is_normalised() {
    let u = decode_resp("usage_cache").usage;
    assert_eq!(
        u,
        Usage {
            input_tokens: 412,
            output_tokens: 19,
            cache_read_tokens: 20000,
            cache_write_tokens: 0,
            reasoning_tokens: 0
        }
    );
    let u = decode_resp("thinking").usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.reasoning_tokens),
        (25, 306, 288)
    );
    let body = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "x"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 100, "toolUsePromptTokenCount": 30, "candidatesTokenCount": 5, "totalTokenCount": 135}});
    let resp = gemini::decode_response(body.to_string().as_bytes()).unwrap();
    assert_eq!(resp.usage.input_tokens, 130);
    assert_eq!(
        value(&gemini::encode_response(&resp, &opts()).unwrap()),
        body
    );
}

#[test]
fn content_filter_keeps_the_exact_reason_and_blocked_prompts() {
    let resp = decode_resp("recitation");
    assert_eq!(resp.stop_reason, Some(StopReason::ContentFilter));
    let resp = decode_resp("blocked");
    assert_eq!(resp.stop_reason, Some(StopReason::ContentFilter));
    assert!(resp.content.is_empty());
}

/// Proto-JSON spells the feedback `prompt_feedback.block_reason`; the wire types take both
/// spellings, so a blocked prompt must read as one in both.
#[test]
fn a_blocked_prompt_in_snake_case_is_a_content_filter_stop() {
    let body = br#"{"prompt_feedback":{"block_reason":"SAFETY"},"usage_metadata":{"prompt_token_count":9,"total_token_count":9}}"#;
    let resp = gemini::decode_response(body).unwrap();
    assert_eq!(resp.stop_reason, Some(StopReason::ContentFilter));
    assert!(resp.content.is_empty());

    let mut stream = b"data: ".to_vec();
    stream.extend_from_slice(body);
    stream.extend_from_slice(b"\r\n\r\n");
    let events = decode_stream(&stream);
    assert!(
        events.iter().any(|e| matches!(
            e,
            StreamEvent::MessageDelta {
                stop_reason: Some(StopReason::ContentFilter),
                ..
            }
        )),
        "{events:?}"
    );
}

#[test]
fn stop_reason_table() {
    let cases = [
        (StopReason::EndTurn, "STOP"),
        (StopReason::StopSequence, "STOP"),
        (StopReason::ToolUse, "STOP"),
        (StopReason::PauseTurn, "STOP"),
        (StopReason::MaxTokens, "MAX_TOKENS"),
        (StopReason::ContextWindowExceeded, "MAX_TOKENS"),
        (StopReason::ContentFilter, "SAFETY"),
        (StopReason::Refusal, "SAFETY"),
        (StopReason::Error, "MALFORMED_FUNCTION_CALL"),
        (StopReason::Other("LANGUAGE".into()), "LANGUAGE"),
    ];
    for (stop, wire) in cases {
        let resp = ir::Response {
            id: "r".into(),
            content: vec![Block::text("x")],
            stop_reason: Some(stop.clone()),
            ..Default::default()
        };
        let out = value(&gemini::encode_response(&resp, &opts()).unwrap());
        assert_eq!(out["candidates"][0]["finishReason"], wire, "{stop:?}");
    }
    for (wire, stop) in [
        ("STOP", StopReason::EndTurn),
        ("MAX_TOKENS", StopReason::MaxTokens),
        ("SAFETY", StopReason::ContentFilter),
        ("RECITATION", StopReason::ContentFilter),
        ("BLOCKLIST", StopReason::ContentFilter),
        ("PROHIBITED_CONTENT", StopReason::ContentFilter),
        ("SPII", StopReason::ContentFilter),
        ("IMAGE_SAFETY", StopReason::ContentFilter),
        ("MALFORMED_FUNCTION_CALL", StopReason::Error),
        ("LANGUAGE", StopReason::Other("LANGUAGE".into())),
        ("OTHER", StopReason::Other("OTHER".into())),
        (
            "FINISH_REASON_UNSPECIFIED",
            StopReason::Other("FINISH_REASON_UNSPECIFIED".into()),
        ),
    ] {
        let body = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "x"}]}, "finishReason": wire}]});
        let resp = gemini::decode_response(body.to_string().as_bytes()).unwrap();
        assert_eq!(resp.stop_reason, Some(stop), "{wire}");
    }
}

#[test]
fn foreign_response_encodes_with_wrapped_signatures_and_ids() {
    let sig = Signature {
        family: Family::Anthropic,
        value: "EqQBCkYI".into(),
    };
    let resp = ir::Response {
        id: "msg_01".into(),
        model: "claude-sonnet-4-5".into(),
        content: vec![
            Block::Thinking(ir::Thinking {
                text: "hmm".into(),
                signature: Some(sig.clone()),
                extras: Extras::default(),
            }),
            Block::RedactedThinking(ir::RedactedThinking { data: "zz".into() }),
            tool_use("toolu_01", "f", None),
        ],
        stop_reason: Some(StopReason::ToolUse),
        usage: Usage {
            input_tokens: 10,
            output_tokens: 20,
            cache_read_tokens: 5,
            cache_write_tokens: 3,
            reasoning_tokens: 0,
        },
        ..Default::default()
    };
    let out = value(&gemini::encode_response(&resp, &opts()).unwrap());
    let parts = &out["candidates"][0]["content"]["parts"];
    assert_eq!(
        parts.as_array().unwrap().len(),
        2,
        "redacted thinking dropped"
    );
    let wire_sig = parts[0]["thoughtSignature"].as_str().unwrap();
    assert_eq!(
        switchyard_protocol::signature::from_wire(wire_sig, Family::Gemini),
        sig
    );
    assert_eq!(parts[1]["functionCall"]["id"], "toolu_01");
    assert_eq!(
        out["usageMetadata"],
        json!({"promptTokenCount": 18, "candidatesTokenCount": 20, "totalTokenCount": 38, "cachedContentTokenCount": 5})
    );
}

// ---------------------------------------------------------------- streams

fn decode_stream(body: &[u8]) -> Vec<StreamEvent> {
    switchyard_protocol::translate::stream_events(Dialect::Gemini, body).unwrap()
}

fn decode_in_pieces(body: &[u8], cuts: &[usize]) -> Vec<StreamEvent> {
    let mut parser = sse::Parser::new();
    let mut decoder = gemini::StreamDecoder::new();
    let mut items = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        parser.feed(&body[start..cut], &mut items);
        start = cut;
    }
    parser.finish(&mut items);
    let mut events = Vec::new();
    for item in items {
        if let sse::Item::Frame(f) = item {
            decoder.decode(&f, &mut events).unwrap();
        }
    }
    decoder.finish(&mut events);
    events
}

fn encode_stream(events: &[StreamEvent]) -> Vec<u8> {
    let mut enc = gemini::StreamEncoder::new(&opts());
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

#[test]
fn stream_fixtures_are_well_formed_rechunkable_and_reencodable() {
    for (name, body) in fixtures("streams", "sse") {
        let events = decode_stream(&body);
        ir::check_well_formed(&events).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Re-chunk at pseudo-random boundaries.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20 {
            let mut cuts = Vec::new();
            let mut pos = 0;
            loop {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                pos += 1 + (seed >> 33) as usize % 40;
                if pos >= body.len() {
                    break;
                }
                cuts.push(pos);
            }
            assert_eq!(
                decode_in_pieces(&body, &cuts),
                events,
                "{name} cut at {cuts:?}"
            );
        }
        let again = decode_stream(&encode_stream(&events));
        assert_eq!(again, events, "{name}: encode then decode");
    }
}

#[test]
fn streams_agree_with_buffered_responses() {
    for (stream, response) in [
        ("text", "text"),
        ("tools", "tool_use"),
        ("usage_cache", "usage_cache"),
    ] {
        let streamed = collect(&decode_stream(&fixture(
            "streams",
            &format!("{stream}.sse"),
        )));
        let buffered = decode_resp(response);
        assert_eq!(streamed.id, buffered.id, "{stream}");
        assert_eq!(streamed.stop_reason, buffered.stop_reason, "{stream}");
        assert_eq!(streamed.usage, buffered.usage, "{stream}");
        let texts = |r: &ir::Response| -> Vec<String> {
            r.content
                .iter()
                .filter_map(|b| match b {
                    Block::Text(t) => Some(t.text.clone()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            texts(&streamed).concat(),
            texts(&buffered).concat(),
            "{stream}"
        );
        let calls = |r: &ir::Response| -> Vec<(String, String, Value)> {
            r.content
                .iter()
                .filter_map(|b| match b {
                    Block::ToolUse(t) => Some((t.id.clone(), t.name.clone(), t.input.clone())),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            calls(&streamed),
            calls(&buffered),
            "{stream}: same minted ids"
        );
    }
}

#[test]
fn stream_thinking_then_signed_call() {
    let events = decode_stream(&fixture("streams", "thinking_tools.sse"));
    let resp = collect(&events);
    let Block::Thinking(t) = &resp.content[0] else {
        panic!()
    };
    assert!(t.text.ends_with("Then compare prices."));
    let Block::ToolUse(call) = &resp.content[1] else {
        panic!()
    };
    assert_eq!(call.signature.as_ref().unwrap().family, Family::Gemini);
    assert_eq!(resp.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(resp.usage.reasoning_tokens, 236);
    assert_eq!(resp.usage.output_tokens, 260);
}

#[test]
fn stream_error_midstream_ends_with_error() {
    let events = decode_stream(&fixture("streams", "error_midstream.sse"));
    let Some(StreamEvent::Error(e)) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(e.kind, ErrorKind::Overloaded);
    assert_eq!(e.status, Some(503));
    let out = String::from_utf8(encode_stream(&events)).unwrap();
    assert!(out.ends_with(
        "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",\"status\":\"UNAVAILABLE\"}}\n\n"
    ));
}

#[test]
fn stream_without_finish_reason_is_truncated() {
    let body = b"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]}}],\"responseId\":\"x\"}\r\n\r\n";
    let events = decode_stream(body);
    ir::check_well_formed(&events).unwrap();
    assert_eq!(
        events[events.len() - 2],
        StreamEvent::BlockStop { index: 0 }
    );
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ErrorBody::new(
            ErrorKind::Api,
            "upstream stream ended before completion"
        )))
    );
}

#[test]
fn stream_encoder_buffers_tool_arguments_into_one_call_and_sends_no_pings() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "msg_1".into(),
            model: "gpt-4.1".into(),
            usage: Usage::default(),
        },
        StreamEvent::Ping,
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::ToolUse {
                id: "call_abc".into(),
                name: "get_weather".into(),
                kind: ToolCallKind::Function,
                signature: None,
            },
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::ToolInput("{\"location\":".into()),
        },
        StreamEvent::BlockDelta {
            index: 0,
            delta: Delta::ToolInput("\"Oslo\"}".into()),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage {
                input_tokens: 9,
                output_tokens: 7,
                ..Default::default()
            },
        },
        StreamEvent::MessageStop,
    ];
    let out = encode_stream(&events);
    let text = String::from_utf8(out.clone()).unwrap();
    // google-genai parses every non-`data:` line as JSON: pings are never written.
    assert!(!text.contains("ping"), "{text}");
    let frames: Vec<Value> = sse::parse_all(&out)
        .into_iter()
        .filter_map(|i| match i {
            sse::Item::Frame(f) => Some(serde_json::from_str(&f.data).unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len(), 2);
    assert_eq!(
        frames[0]["candidates"][0]["content"]["parts"][0]["functionCall"],
        json!({"id": "call_abc", "name": "get_weather", "args": {"location": "Oslo"}})
    );
    assert_eq!(frames[1]["candidates"][0]["finishReason"], "STOP");
    assert_eq!(frames[1]["usageMetadata"]["totalTokenCount"], 16);
    let again = decode_stream(&out);
    ir::check_well_formed(&again).unwrap();
    assert_eq!(collect(&again).content, collect(&events).content);
}

// ---------------------------------------------------------------- errors

#[test]
fn error_fixtures_decode() {
    let e = gemini::decode_error(429, &fixture("errors", "rate_limit.json"));
    assert_eq!(
        (e.kind, e.status, e.retry_after, e.code.as_deref()),
        (
            ErrorKind::RateLimited,
            Some(429),
            Some(37),
            Some("RESOURCE_EXHAUSTED")
        )
    );
    let e = gemini::decode_error(503, &fixture("errors", "overloaded.json"));
    assert_eq!((e.kind, e.status), (ErrorKind::Overloaded, Some(503)));
    let e = gemini::decode_error(400, &fixture("errors", "invalid.json"));
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("contents is not specified"));
    let e = gemini::decode_error(502, b"<html>Bad Gateway</html>");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Api, "<html>Bad Gateway</html>")
    );
}

#[test]
fn error_fixtures_round_trip() {
    for (name, body) in fixtures("errors", "json") {
        let status = value(&body)["error"]["code"].as_u64().unwrap() as u16;
        let e = gemini::decode_error(status, &body);
        let (s, out) = gemini::encode_error(&e);
        assert_eq!(s, status, "{name}");
        assert_eq!(value(&out), value(&body), "{name}");
    }
}

#[test]
fn every_error_kind_encodes_with_its_status() {
    for (kind, status, code) in [
        (ErrorKind::InvalidRequest, 400, "INVALID_ARGUMENT"),
        (ErrorKind::Authentication, 401, "UNAUTHENTICATED"),
        (ErrorKind::PermissionDenied, 403, "PERMISSION_DENIED"),
        (ErrorKind::NotFound, 404, "NOT_FOUND"),
        (ErrorKind::RequestTooLarge, 413, "INVALID_ARGUMENT"),
        (ErrorKind::RateLimited, 429, "RESOURCE_EXHAUSTED"),
        (ErrorKind::Api, 500, "INTERNAL"),
        (ErrorKind::Overloaded, 503, "UNAVAILABLE"),
        (ErrorKind::Timeout, 504, "DEADLINE_EXCEEDED"),
    ] {
        let mut err = ErrorBody::new(kind, "boom");
        // An Anthropic 529 or an OpenAI code must not leak into Gemini's shape.
        err.status = Some(if kind == ErrorKind::Overloaded {
            529
        } else {
            status
        });
        err.code = Some("rate_limit_exceeded".into());
        err.retry_after = (kind == ErrorKind::RateLimited).then_some(20);
        let (s, body) = gemini::encode_error(&err);
        assert_eq!(s, status, "{kind:?}");
        let mut expected = json!({"error": {"code": status, "message": "boom", "status": code}});
        if kind == ErrorKind::RateLimited {
            expected["error"]["details"] =
                json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "20s"}]);
        }
        assert_eq!(value(&body), expected, "{kind:?}");
        let back = gemini::decode_error(s, &body);
        assert_eq!(back.kind, kind, "{kind:?}");
    }
}

// ---------------------------------------------------------------- properties

/// IR → Gemini → IR is the identity for what Gemini carries. Generated values stay inside
/// that: alternating user/model turns (the encoder merges same-role turns), call ids as the
/// decoder mints them (Gemini requests carry none), tool results as one text block, thinking
/// only in responses and streams, and no adjacent text (or thinking) blocks in streams (Gemini
/// chunks cannot separate them). Private decoder notes in `Extras` are ignored.
mod props {
    use super::*;
    use proptest::prelude::*;
    use switchyard_protocol::ids::mint_gemini_call_id;

    fn strip_block(b: &mut Block) {
        match b {
            Block::Text(t) => t.extras = Extras::default(),
            Block::Image(i) => i.extras = Extras::default(),
            Block::Document(d) => d.extras = Extras::default(),
            Block::ToolUse(t) => t.extras = Extras::default(),
            Block::ToolResult(r) => {
                r.extras = Extras::default();
                r.content.iter_mut().for_each(strip_block);
            }
            Block::Thinking(t) => t.extras = Extras::default(),
            Block::RedactedThinking(_) | Block::Other(_) => {}
        }
    }

    fn strip_request(mut r: ir::Request) -> ir::Request {
        r.extras = Extras::default();
        for m in &mut r.messages {
            m.extras = Extras::default();
            m.content.iter_mut().for_each(strip_block);
        }
        for t in &mut r.tools {
            t.extras = Extras::default();
        }
        r
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 ,.!?é]{1,24}"
    }

    fn sig() -> impl Strategy<Value = Option<Signature>> {
        proptest::option::of("[A-Za-z0-9+/]{8,20}".prop_map(|v| gemini_sig(&v)))
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("get_weather".to_string()),
            Just("search".to_string()),
            Just("f".to_string())
        ]
    }

    /// A generated model turn: texts with signatures, then calls (name, argument, signature).
    type ModelTurn = (
        Vec<(String, Option<Signature>)>,
        Vec<(String, i64, Option<Signature>)>,
    );

    /// A model turn: some text, then some calls (ids filled in later).
    fn model_turn() -> impl Strategy<Value = ModelTurn> {
        (
            proptest::collection::vec((text(), sig()), 0..2),
            proptest::collection::vec((name(), any::<i64>(), sig()), 0..3),
        )
            .prop_filter("non-empty turn", |(t, c)| !t.is_empty() || !c.is_empty())
    }

    fn tool(name: &str) -> ir::Tool {
        ir::Tool {
            name: name.into(),
            description: Some(format!("The {name} tool.")),
            kind: ToolKind::Function {
                parameters: json!({"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]})
                    .into(),
                strict: None,
            },
            cache_control: None,
            extras: Extras::default(),
        }
    }

    prop_compose! {
        fn request()(
            system in proptest::collection::vec(text(), 0..3),
            first in proptest::collection::vec(text(), 1..3),
            image in any::<bool>(),
            turns in proptest::collection::vec((model_turn(), text(), any::<bool>()), 0..3),
            choice in proptest::option::of(prop_oneof![
                Just(ToolChoice::Auto), Just(ToolChoice::Any), Just(ToolChoice::None),
                Just(ToolChoice::Tool("search".into()))]),
            temperature in proptest::option::of(prop_oneof![Just(0.2), Just(0.7), Just(1.5)]),
            top_k in proptest::option::of(1u64..100),
            max_tokens in proptest::option::of(1u64..100_000),
            stop in proptest::collection::vec(text(), 0..2),
            seed in proptest::option::of(any::<i64>()),
            n in proptest::option::of(1u64..4),
            format in 0u8..4,
            reasoning in proptest::option::of((0u8..3, 1u64..30_000, proptest::option::of(any::<bool>()))),
        ) -> ir::Request {
            let mut first: Vec<Block> = first.into_iter().map(Block::text).collect();
            if image {
                first.push(base64_image());
            }
            let mut messages = vec![Message::new(Role::User, first)];
            for ((texts, calls), follow_up, is_error) in turns {
                let i = messages.len();
                let mut content: Vec<Block> = texts
                    .into_iter()
                    .map(|(t, s)| Block::Text(ir::Text { signature: s, ..ir::Text::new(t) }))
                    .collect();
                let mut results = Vec::new();
                for (name, arg, s) in calls {
                    let id = mint_gemini_call_id(i, content.len(), &name);
                    content.push(Block::ToolUse(ir::ToolUse {
                        id: id.clone(),
                        name: name.clone(),
                        input: json!({"q": arg.to_string(), "n": arg}),
                        kind: ToolCallKind::Function,
                        signature: s,
                        cache_control: None,
                        extras: Extras::default(),
                    }));
                    results.push(tool_result(&id, Some(&name), vec![Block::text(format!("{name} says {arg}"))], is_error));
                }
                messages.push(Message::new(Role::Assistant, content));
                if results.is_empty() {
                    results.push(Block::text(follow_up));
                }
                messages.push(Message::new(Role::User, results));
            }
            ir::Request {
                system: system.into_iter().map(ir::SystemBlock::new).collect(),
                messages,
                tools: vec![tool("get_weather"), tool("search"), tool("f")],
                tool_choice: choice,
                sampling: ir::Sampling { temperature, top_k, max_tokens, stop, seed, n, ..Default::default() },
                response_format: match format {
                    0 => None,
                    1 => Some(ResponseFormat::Text),
                    2 => Some(ResponseFormat::JsonObject),
                    _ => Some(ResponseFormat::JsonSchema { name: None, schema: json!({"type": "object"}).into(), strict: None }),
                },
                reasoning: reasoning.map(|(mode, budget, include)| ir::Reasoning {
                    mode: [ReasoningMode::Enabled, ReasoningMode::Adaptive, ReasoningMode::Disabled][mode as usize],
                    budget_tokens: (mode == 0).then_some(budget),
                    include_thoughts: include,
                    ..Default::default()
                }),
                include_usage: true,
                ..Default::default()
            }
        }
    }

    fn response_block() -> impl Strategy<Value = Block> {
        prop_oneof![
            (text(), sig()).prop_map(|(t, s)| Block::Text(ir::Text {
                signature: s,
                ..ir::Text::new(t)
            })),
            (text(), sig()).prop_map(|(t, s)| Block::Thinking(ir::Thinking {
                text: t,
                signature: s,
                extras: Extras::default()
            })),
            ("[a-z_0-9]{3,12}", name(), any::<u32>(), sig()).prop_map(|(id, n, a, s)| {
                let mut b = tool_use(&id, &n, s);
                if let Block::ToolUse(t) = &mut b {
                    t.input = json!({"a": a});
                }
                b
            }),
            Just(base64_image()),
        ]
    }

    fn usage() -> impl Strategy<Value = Usage> {
        (0u64..10_000, 0u64..10_000, 0u64..5_000, 0u64..5_000).prop_map(
            |(input, cached, out, reasoning)| Usage {
                input_tokens: input,
                cache_read_tokens: cached,
                output_tokens: out + reasoning,
                reasoning_tokens: reasoning,
                cache_write_tokens: 0,
            },
        )
    }

    fn stop(has_call: bool) -> impl Strategy<Value = StopReason> {
        prop_oneof![
            Just(if has_call {
                StopReason::ToolUse
            } else {
                StopReason::EndTurn
            }),
            Just(StopReason::MaxTokens),
            Just(StopReason::ContentFilter),
            Just(StopReason::Error),
            Just(StopReason::Other("LANGUAGE".into())),
        ]
    }

    prop_compose! {
        fn response()(content in proptest::collection::vec(response_block(), 0..5), usage in usage(), id in "[A-Za-z0-9]{0,22}")
            (stop in stop(content.iter().any(|b| matches!(b, Block::ToolUse(_)))), content in Just(content), usage in Just(usage), id in Just(id))
            -> ir::Response {
            ir::Response { id, model: "gemini-2.5-flash".into(), content, stop_reason: Some(stop), usage, ..Default::default() }
        }
    }

    #[derive(Debug, Clone)]
    enum Gen {
        Text(Vec<String>, Option<Signature>),
        Thinking(Vec<String>, Option<Signature>),
        Tool(String, String, u32, Option<Signature>),
    }

    fn gen_block() -> impl Strategy<Value = Gen> {
        prop_oneof![
            (proptest::collection::vec(text(), 1..4), sig()).prop_map(|(d, s)| Gen::Text(d, s)),
            (proptest::collection::vec(text(), 1..4), sig()).prop_map(|(d, s)| Gen::Thinking(d, s)),
            ("[a-z_0-9]{3,12}", name(), any::<u32>(), sig())
                .prop_map(|(id, n, a, s)| Gen::Tool(id, n, a, s)),
        ]
    }

    fn same_kind(a: &Gen, b: &Gen) -> bool {
        matches!(
            (a, b),
            (Gen::Text(..), Gen::Text(..)) | (Gen::Thinking(..), Gen::Thinking(..))
        )
    }

    prop_compose! {
        // At least one block: a Gemini stream with no content is one chunk, whose usage the
        // decoder can only read as the message start's, so it cannot round-trip exactly.
        fn stream()(
            blocks in proptest::collection::vec(gen_block(), 1..6)
                .prop_filter("no adjacent text/thinking", |v| v.windows(2).all(|w| !same_kind(&w[0], &w[1]))),
            start in 0u64..1000,
            end in usage(),
            id in "[A-Za-z0-9]{1,22}",
            other_stop in any::<bool>(),
        ) -> Vec<StreamEvent> {
            let mut ev = vec![StreamEvent::MessageStart {
                id,
                model: "gemini-2.5-pro".into(),
                usage: Usage { input_tokens: start, ..Default::default() },
            }];
            let mut has_call = false;
            for (index, b) in blocks.into_iter().enumerate() {
                let (start, deltas): (BlockStart, Vec<Delta>) = match b {
                    Gen::Text(d, s) => (BlockStart::Text, d.into_iter().map(Delta::Text).chain(s.map(Delta::Signature)).collect()),
                    Gen::Thinking(d, s) => (BlockStart::Thinking, d.into_iter().map(Delta::Thinking).chain(s.map(Delta::Signature)).collect()),
                    Gen::Tool(id, name, a, s) => {
                        has_call = true;
                        (BlockStart::ToolUse { id, name, kind: ToolCallKind::Function, signature: s },
                         vec![Delta::ToolInput(json!({"a": a, "b": [1, "x"]}).to_string())])
                    }
                };
                ev.push(StreamEvent::BlockStart { index, block: start });
                ev.extend(deltas.into_iter().map(|delta| StreamEvent::BlockDelta { index, delta }));
                ev.push(StreamEvent::BlockStop { index });
            }
            let stop = match (other_stop, has_call) {
                (true, _) => StopReason::MaxTokens,
                (false, true) => StopReason::ToolUse,
                (false, false) => StopReason::EndTurn,
            };
            let usage = Usage { input_tokens: start.max(end.input_tokens), ..end };
            ev.push(StreamEvent::MessageDelta { stop_reason: Some(stop), stop_sequence: None, usage });
            ev.push(StreamEvent::MessageStop);
            ev
        }
    }

    fn strip_response(mut r: ir::Response) -> ir::Response {
        r.extras = Extras::default();
        r.content.iter_mut().for_each(strip_block);
        r
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn request_ir_round_trips_through_gemini(req in request()) {
            let body = gemini::encode_request(&req, &opts()).unwrap();
            let back = gemini::decode_request(&body).unwrap();
            prop_assert_eq!(strip_request(back), req);
        }

        #[test]
        fn response_ir_round_trips_through_gemini(resp in response()) {
            let body = gemini::encode_response(&resp, &opts()).unwrap();
            let back = gemini::decode_response(&body).unwrap();
            prop_assert_eq!(strip_response(back), resp);
        }

        #[test]
        fn stream_ir_round_trips_through_gemini(events in stream()) {
            ir::check_well_formed(&events).unwrap();
            let back = decode_stream(&encode_stream(&events));
            prop_assert_eq!(back, events);
        }
    }
}

// ------------------------------------------------- remaining drops and refusals

#[test]
fn drops_cache_control_document_metadata_and_citations() {
    let doc = Block::Document(ir::Document {
        source: MediaSource::Text {
            media_type: "text/plain".into(),
            data: "hello".into(),
        },
        title: Some("Notes".into()),
        context: Some("ctx".into()),
        filename: Some("notes.txt".into()),
        citations_enabled: Some(true),
        cache_control: Some(ir::CacheControl::ephemeral()),
        extras: Extras::default(),
    });
    let req = ir::Request {
        system: vec![ir::SystemBlock {
            cache_control: Some(ir::CacheControl::ephemeral()),
            ..ir::SystemBlock::new("sys")
        }],
        messages: vec![Message::new(Role::User, vec![doc])],
        ..Default::default()
    };
    let out = encode_req(&req);
    assert_eq!(
        out["contents"][0]["parts"][0],
        json!({"inlineData": {"mimeType": "text/plain", "data": "aGVsbG8="}})
    );
    assert_eq!(
        out["systemInstruction"],
        json!({"parts": [{"text": "sys"}]})
    );
    let resp = ir::Response {
        id: "r1".into(),
        content: vec![Block::Text(ir::Text {
            citations: vec![ir::Citation {
                url: Some("https://example.com".into()),
                ..Default::default()
            }],
            ..ir::Text::new("cited")
        })],
        stop_reason: Some(StopReason::EndTurn),
        ..Default::default()
    };
    let out = value(&gemini::encode_response(&resp, &opts()).unwrap());
    assert_eq!(
        out["candidates"][0]["content"]["parts"],
        json!([{"text": "cited"}])
    );
}

#[test]
fn refuses_non_media_blocks_in_tool_results_and_tool_results_in_responses() {
    let req = ir::Request {
        messages: vec![
            user("go"),
            Message::new(Role::Assistant, vec![tool_use("c1", "f", None)]),
            Message::new(
                Role::User,
                vec![tool_result(
                    "c1",
                    Some("f"),
                    vec![tool_use("x", "y", None)],
                    false,
                )],
            ),
        ],
        ..Default::default()
    };
    assert_eq!(
        gemini::encode_request(&req, &opts()).unwrap_err(),
        Error::unsupported("tool call in a tool result", Dialect::Gemini)
    );
    let resp = ir::Response {
        content: vec![tool_result("c1", Some("f"), vec![], false)],
        ..Default::default()
    };
    assert!(matches!(
        gemini::encode_response(&resp, &opts()),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn stream_skips_parts_the_ir_stream_cannot_carry() {
    let chunk = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Here is the chart:"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    ]}, "finishReason": "STOP"}], "responseId": "img1"});
    let body = format!("data: {chunk}\r\n\r\n");
    let events = decode_stream(body.as_bytes());
    ir::check_well_formed(&events).unwrap();
    let resp = collect(&events);
    assert_eq!(resp.content.len(), 1);
    assert_eq!(resp.stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn stream_encoder_writes_nothing_for_redacted_thinking_and_server_calls() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "m".into(),
            model: "claude".into(),
            usage: Usage::default(),
        },
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::RedactedThinking { data: "x".into() },
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStart {
            index: 1,
            block: BlockStart::ToolUse {
                id: "srvtoolu_1".into(),
                name: "web_search".into(),
                kind: ToolCallKind::Server,
                signature: None,
            },
        },
        StreamEvent::BlockDelta {
            index: 1,
            delta: Delta::ToolInput("{}".into()),
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::EndTurn),
            stop_sequence: None,
            usage: Usage::default(),
        },
        StreamEvent::MessageStop,
    ];
    let out = encode_stream(&events);
    let frames = sse::parse_all(&out);
    assert_eq!(frames.len(), 1, "only the finish chunk");
}

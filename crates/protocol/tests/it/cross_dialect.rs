//! Hard cases that span dialects, each its own test: what real clients do across turns when
//! the gateway sits between two different APIs. Per-dialect cases live in each dialect's own
//! test file; these pin the behaviour of pairs.

use serde_json::{json, Value};
use switchyard_protocol::ir::{
    check_well_formed, Block, Collector, ErrorBody, ErrorKind, Family, Role,
};
use switchyard_protocol::{sse, translate, Dialect, EncodeOptions, Error};

fn opts() -> EncodeOptions {
    EncodeOptions::default()
}

fn to_value(bytes: Vec<u8>) -> Value {
    serde_json::from_slice(&bytes).expect("encoder emits JSON")
}

fn req(from: Dialect, to: Dialect, body: Value) -> Result<Value, Error> {
    let bytes = serde_json::to_vec(&body).expect("json");
    let mut ir = from.decode_request(&bytes)?;
    if ir.model.is_empty() {
        ir.model = "gemini-2.5-pro".into();
    }
    to.encode_request(&ir, &opts()).map(to_value)
}

fn resp(from: Dialect, to: Dialect, body: Value) -> Value {
    let bytes = serde_json::to_vec(&body).expect("json");
    to_value(translate::response(from, to, &bytes, &opts()).expect("translates"))
}

/// An OpenAI conversation with parallel tool calls.
fn openai_parallel_history() -> Value {
    json!({
        "model": "gpt-4.1",
        "messages": [
            {"role": "user", "content": "Weather in Paris and Tokyo?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_paris", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_tokyo", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_tokyo", "content": "24C"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    })
}

#[test]
fn parallel_calls_stay_in_one_turn_and_results_in_the_next() {
    let a = req(
        Dialect::OpenAiChat,
        Dialect::Anthropic,
        openai_parallel_history(),
    )
    .unwrap();
    let msgs = a["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{a:#}");
    let calls: Vec<&Value> = msgs[1]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .collect();
    assert_eq!(calls.len(), 2);
    let results: Vec<&Value> = msgs[2]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_result")
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["tool_use_id"], calls[0]["id"]);
    assert_eq!(results[1]["tool_use_id"], calls[1]["id"]);

    // And back: one assistant message with both calls, then one tool message each.
    let o = req(Dialect::Anthropic, Dialect::OpenAiChat, a).unwrap();
    let msgs = o["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["tool_calls"].as_array().unwrap().len(), 2);
    assert_eq!(msgs[2]["role"], "tool");
    assert_eq!(msgs[2]["tool_call_id"], "call_paris");
    assert_eq!(msgs[3]["tool_call_id"], "call_tokyo");
}

#[test]
fn tool_ids_round_trip_through_gemini_deterministically() {
    // Gemini answers with calls that have no ids.
    let gemini_resp = json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_weather", "args": {"city": "Tokyo"}}}
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 10, "totalTokenCount": 30},
        "modelVersion": "gemini-2.5-pro",
        "responseId": "resp-1"
    });
    let o1 = resp(Dialect::Gemini, Dialect::OpenAiChat, gemini_resp.clone());
    let o2 = resp(Dialect::Gemini, Dialect::OpenAiChat, gemini_resp);
    assert_eq!(o1, o2, "minted ids must be deterministic");
    let calls = o1["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(o1["choices"][0]["finish_reason"], "tool_calls");
    let (id0, id1) = (
        calls[0]["id"].as_str().unwrap(),
        calls[1]["id"].as_str().unwrap(),
    );
    assert!(!id0.is_empty() && id0 != id1);

    // The client sends the history back with those ids; Gemini gets the results paired by
    // order and name.
    let history = json!({
        "model": "gemini-2.5-pro",
        "messages": [
            {"role": "user", "content": "Weather in Paris and Tokyo?"},
            {"role": "assistant", "content": null, "tool_calls": calls},
            {"role": "tool", "tool_call_id": id0, "content": "18C"},
            {"role": "tool", "tool_call_id": id1, "content": "24C"}
        ]
    });
    let g = req(Dialect::OpenAiChat, Dialect::Gemini, history.clone()).unwrap();
    assert_eq!(
        g,
        req(Dialect::OpenAiChat, Dialect::Gemini, history).unwrap()
    );
    let contents = g["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3, "{g:#}");
    assert_eq!(contents[1]["role"], "model");
    let responses: Vec<&Value> = contents[2]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["functionResponse"])
        .collect();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0]["name"], "get_weather");
    assert_eq!(responses[1]["name"], "get_weather");
}

#[test]
fn gemini_stop_after_a_function_call_is_tool_use_everywhere() {
    let gemini_resp = json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "lookup", "args": {}}}
        ]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8}
    });
    let a = resp(Dialect::Gemini, Dialect::Anthropic, gemini_resp.clone());
    assert_eq!(a["stop_reason"], "tool_use");
    let o = resp(Dialect::Gemini, Dialect::OpenAiChat, gemini_resp);
    assert_eq!(o["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn invalid_tool_ids_are_made_valid_for_anthropic_and_stay_paired() {
    let mut body = openai_parallel_history();
    body["messages"][1]["tool_calls"][0]["id"] = json!("call:paris/1");
    body["messages"][2]["tool_call_id"] = json!("call:paris/1");
    let a = req(Dialect::OpenAiChat, Dialect::Anthropic, body.clone()).unwrap();
    let id = a["messages"][1]["content"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "{id}"
    );
    assert_eq!(a["messages"][2]["content"][0]["tool_use_id"], id.as_str());
    // Same history, same id, every time.
    let again = req(Dialect::OpenAiChat, Dialect::Anthropic, body).unwrap();
    assert_eq!(again["messages"][1]["content"][0]["id"], id.as_str());
}

#[test]
fn long_call_ids_are_shortened_for_responses_and_stay_paired() {
    let long = format!("toolu_{}", "x".repeat(90));
    let mut body = openai_parallel_history();
    body["messages"][1]["tool_calls"][0]["id"] = json!(long);
    body["messages"][2]["tool_call_id"] = json!(long);
    let r = req(Dialect::OpenAiChat, Dialect::Responses, body).unwrap();
    let items = r["input"].as_array().unwrap();
    let call = items.iter().find(|i| i["type"] == "function_call").unwrap();
    let out = items
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .unwrap();
    let id = call["call_id"].as_str().unwrap();
    assert!(id.len() <= 64);
    assert_eq!(out["call_id"], id);
}

#[test]
fn consecutive_same_role_messages_merge_where_alternation_is_required() {
    let body = json!({
        "model": "gpt-4.1",
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "user", "content": "second"},
            {"role": "assistant", "content": "ok"},
            {"role": "assistant", "content": "and more"},
            {"role": "user", "content": "third"}
        ]
    });
    let a = req(Dialect::OpenAiChat, Dialect::Anthropic, body.clone()).unwrap();
    let roles: Vec<&str> = a["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    let g = req(Dialect::OpenAiChat, Dialect::Gemini, body).unwrap();
    let roles: Vec<&str> = g["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "model", "user"]);
}

#[test]
fn empty_text_blocks_never_reach_anthropic() {
    let body = json!({
        "model": "gpt-4.1",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "again"}
        ]
    });
    let a = req(Dialect::OpenAiChat, Dialect::Anthropic, body).unwrap();
    let text = a.to_string();
    assert!(!text.contains(r#""text":"""#), "{a:#}");
}

#[test]
fn every_form_of_system_prompt_reaches_every_target() {
    let forms = [
        (
            Dialect::Anthropic,
            json!({"model": "m", "max_tokens": 10, "system": "Be terse.", "messages": [{"role": "user", "content": "hi"}]}),
        ),
        (
            Dialect::Anthropic,
            json!({"model": "m", "max_tokens": 10, "system": [{"type": "text", "text": "Be terse.", "cache_control": {"type": "ephemeral"}}], "messages": [{"role": "user", "content": "hi"}]}),
        ),
        (
            Dialect::Anthropic,
            json!({"model": "m", "max_tokens": 10, "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]}),
        ),
        (
            Dialect::OpenAiChat,
            json!({"model": "m", "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]}),
        ),
        (
            Dialect::OpenAiChat,
            json!({"model": "m", "messages": [{"role": "developer", "content": [{"type": "text", "text": "Be terse."}]}, {"role": "user", "content": "hi"}]}),
        ),
        (
            Dialect::OpenAiChat,
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "Be terse."}]}),
        ),
        (
            Dialect::Responses,
            json!({"model": "m", "instructions": "Be terse.", "input": "hi"}),
        ),
        (
            Dialect::Responses,
            json!({"model": "m", "input": [{"role": "developer", "content": "Be terse."}, {"role": "user", "content": "hi"}]}),
        ),
        (
            Dialect::Gemini,
            json!({"systemInstruction": {"parts": [{"text": "Be terse."}]}, "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
        ),
        (
            Dialect::Gemini,
            json!({"system_instruction": {"parts": [{"text": "Be terse."}]}, "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
        ),
    ];
    for (from, body) in forms {
        for to in Dialect::ALL {
            let out = req(from, to, body.clone())
                .unwrap_or_else(|e| panic!("{from:?} -> {to:?}: {e}\n{body}"));
            assert!(
                out.to_string().contains("Be terse."),
                "{from:?} -> {to:?} lost the system prompt: {out}"
            );
            assert!(out.to_string().contains("hi"), "{from:?} -> {to:?}: {out}");
        }
    }
}

/// An Anthropic response with thinking; its signature must come home to Anthropic through a
/// Responses client, and must not be sent to Gemini.
#[test]
fn thinking_signatures_go_home_and_nowhere_else() {
    let anthropic_resp = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Let me check.", "signature": "EqQBCkYIBRgCKkB"},
            {"type": "tool_use", "id": "toolu_01", "name": "lookup", "input": {"q": "x"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5}
    });
    // Shown to a Responses client: the signature travels wrapped in encrypted_content.
    let r = resp(Dialect::Anthropic, Dialect::Responses, anthropic_resp);
    let output = r["output"].as_array().unwrap().clone();
    let reasoning = output.iter().find(|i| i["type"] == "reasoning").unwrap();
    let wrapped = reasoning["encrypted_content"].as_str().unwrap();
    assert_ne!(
        wrapped, "EqQBCkYIBRgCKkB",
        "a foreign signature is marked as such"
    );

    // The client sends its history back (output items + the tool result).
    let mut input = output.clone();
    input.insert(0, json!({"role": "user", "content": "look up x"}));
    input.push(json!({"type": "function_call_output", "call_id": "toolu_01", "output": "found"}));
    let history = json!({"model": "m", "input": input, "store": false});

    let a = req(Dialect::Responses, Dialect::Anthropic, history.clone()).unwrap();
    let assistant = &a["messages"][1]["content"];
    assert_eq!(assistant[0]["type"], "thinking", "{a:#}");
    assert_eq!(assistant[0]["signature"], "EqQBCkYIBRgCKkB");

    let g = req(Dialect::Responses, Dialect::Gemini, history.clone()).unwrap();
    assert!(!g.to_string().contains("EqQBCkYIBRgCKkB"), "{g:#}");

    let o = req(Dialect::Responses, Dialect::Responses, history).unwrap();
    assert!(
        !o.to_string().contains("EqQBCkYIBRgCKkB") || o.to_string().contains(wrapped),
        "never handed to OpenAI as its own"
    );

    // Decoding the wrapped form tells the family.
    let ir = Dialect::Responses
        .decode_request(&serde_json::to_vec(&json!({"model": "m", "input": output})).unwrap())
        .unwrap();
    let thinking = ir
        .messages
        .iter()
        .flat_map(|m| &m.content)
        .find_map(|b| match b {
            Block::Thinking(t) => t.signature.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(thinking.family, Family::Anthropic);
}

#[test]
fn base64_and_url_images_reach_each_target_or_are_refused() {
    let body = json!({
        "model": "m", "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "text", "text": "what is this?"}
        ]}]
    });
    let o = req(Dialect::Anthropic, Dialect::OpenAiChat, body.clone()).unwrap();
    assert_eq!(
        o["messages"][0]["content"][0]["image_url"]["url"],
        "data:image/png;base64,iVBORw0KGgo="
    );
    let g = req(Dialect::Anthropic, Dialect::Gemini, body.clone()).unwrap();
    assert_eq!(
        g["contents"][0]["parts"][0]["inlineData"]["mimeType"],
        "image/png"
    );
    let r = req(Dialect::Anthropic, Dialect::Responses, body).unwrap();
    assert!(r.to_string().contains("data:image/png;base64,iVBORw0KGgo="));

    let url = json!({
        "model": "m", "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "what is this?"}
        ]}]
    });
    let o = req(Dialect::Anthropic, Dialect::OpenAiChat, url.clone()).unwrap();
    assert_eq!(
        o["messages"][0]["content"][0]["image_url"]["url"],
        "https://example.com/cat.jpg"
    );
    // Gemini cannot take a remote URL unless the operator allows it: refused, never fetched.
    match req(Dialect::Anthropic, Dialect::Gemini, url.clone()) {
        Err(Error::Unsupported { target, .. }) => assert_eq!(target, Dialect::Gemini),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let bytes = serde_json::to_vec(&url).unwrap();
    let ir = Dialect::Anthropic.decode_request(&bytes).unwrap();
    let allowed = EncodeOptions {
        gemini_image_urls: true,
        ..opts()
    };
    let g = to_value(Dialect::Gemini.encode_request(&ir, &allowed).unwrap());
    assert_eq!(
        g["contents"][0]["parts"][0]["fileData"]["fileUri"],
        "https://example.com/cat.jpg"
    );
}

#[test]
fn max_tokens_default_where_the_target_requires_one() {
    let body = json!({"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]});
    let a = req(Dialect::OpenAiChat, Dialect::Anthropic, body.clone()).unwrap();
    assert_eq!(a["max_tokens"], opts().default_max_tokens);
    // Targets that do not require it get none.
    let o = req(Dialect::OpenAiChat, Dialect::Gemini, body).unwrap();
    assert!(
        o["generationConfig"].get("maxOutputTokens").is_none(),
        "{o:#}"
    );
}

#[test]
fn error_bodies_and_statuses_per_dialect() {
    let mut rate = ErrorBody::new(ErrorKind::RateLimited, "slow down. Please try again in 7s.");
    rate.retry_after = Some(7);
    let (s, body) = Dialect::Anthropic.encode_error(&rate);
    assert_eq!(s, 429);
    assert_eq!(to_value(body)["error"]["type"], "rate_limit_error");
    let (s, body) = Dialect::OpenAiChat.encode_error(&rate);
    assert_eq!(s, 429);
    assert_eq!(
        to_value(body)["error"]["message"],
        "slow down. Please try again in 7s."
    );
    let (s, body) = Dialect::Gemini.encode_error(&rate);
    assert_eq!(s, 429);
    assert_eq!(to_value(body)["error"]["status"], "RESOURCE_EXHAUSTED");

    let overloaded = ErrorBody::new(ErrorKind::Overloaded, "busy");
    let (s, body) = Dialect::Anthropic.encode_error(&overloaded);
    assert_eq!(s, 529);
    assert_eq!(to_value(body)["error"]["type"], "overloaded_error");

    // Decoding an upstream's error keeps its class across dialects.
    let gemini =
        json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}});
    let e = Dialect::Gemini.decode_error(429, &serde_json::to_vec(&gemini).unwrap());
    assert_eq!(e.kind, ErrorKind::RateLimited);
    let (s, body) = Dialect::Anthropic.encode_error(&e);
    assert_eq!(s, 429);
    assert_eq!(to_value(body)["error"]["type"], "rate_limit_error");
    let anthropic =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    let e = Dialect::Anthropic.decode_error(529, &serde_json::to_vec(&anthropic).unwrap());
    assert_eq!(e.kind, ErrorKind::Overloaded);
    let (s, _) = Dialect::Gemini.encode_error(&e);
    assert_eq!(s, 503);
}

#[test]
fn system_messages_inside_anthropic_messages_decode_in_place() {
    let body = json!({"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "Now answer in French."},
        {"role": "user", "content": "again"}
    ]});
    let ir = Dialect::Anthropic
        .decode_request(&serde_json::to_vec(&body).unwrap())
        .unwrap();
    assert_eq!(ir.messages[1].role, Role::System);
    let o = req(Dialect::Anthropic, Dialect::OpenAiChat, body).unwrap();
    let roles: Vec<&str> = o["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "system", "user"]);
}

#[test]
fn previous_response_id_is_refused_by_every_stateless_target() {
    let body = json!({"model": "gpt-5", "previous_response_id": "resp_abc", "input": "and then?"});
    for to in [Dialect::Anthropic, Dialect::OpenAiChat, Dialect::Gemini] {
        match req(Dialect::Responses, to, body.clone()) {
            Err(Error::Unsupported { feature, .. }) => assert_eq!(feature, "previous_response_id"),
            other => panic!("{to:?}: expected a refusal, got {other:?}"),
        }
    }
    let r = req(Dialect::Responses, Dialect::Responses, body).unwrap();
    assert_eq!(r["previous_response_id"], "resp_abc");
}

/// The signature Gemini put on the first call of the turns below (base64 bytes).
const CALL_SIG: &str = "CiQB0e2Kb7xVJ1r9Vh0yGm3QfWw8r2q+E1nKk3v0Zc5pXn1Uq4Yk=";

/// A Gemini 3 turn: a thought summary, then two parallel calls, the first one signed.
fn gemini_signed_calls() -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "**Planning**\n\nBoth cities at once.", "thought": true},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
             "thoughtSignature": CALL_SIG},
            {"functionCall": {"name": "get_weather", "args": {"city": "Tokyo"}}}
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 10, "totalTokenCount": 30},
        "modelVersion": "gemini-3-pro-preview",
        "responseId": "resp-sig"
    })
}

/// The same turn as a Gemini stream: one chunk per part, the last with the finish reason.
fn gemini_signed_calls_stream() -> Vec<u8> {
    let body = gemini_signed_calls();
    let parts = body["candidates"][0]["content"]["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let mut chunk = body.clone();
        chunk["candidates"][0]["content"]["parts"] = json!([part]);
        if i + 1 < parts.len() {
            chunk["candidates"][0]["finishReason"] = Value::Null;
        }
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
    out
}

/// What a client's SDK accumulates from a stream in its dialect, as that dialect's response.
fn accumulate(client: Dialect, sse: &[u8]) -> Value {
    let events = translate::stream_events(client, sse).expect("client stream decodes");
    check_well_formed(&events).expect("client stream is well formed");
    let mut c = Collector::new();
    for ev in &events {
        c.push(ev);
    }
    let body = client.encode_response(&c.finish(), &opts());
    to_value(body.expect("encodes"))
}

/// The model turns Gemini receives, as a list of parts.
fn model_parts(g: &Value) -> Vec<Value> {
    let contents = g["contents"].as_array().cloned().unwrap_or_default();
    contents
        .iter()
        .filter(|c| c["role"] == "model")
        .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The calls' signatures as Gemini receives them, in order.
fn call_signatures(g: &Value) -> Vec<Value> {
    model_parts(g)
        .into_iter()
        .filter(|p| p.get("functionCall").is_some())
        .map(|p| p.get("thoughtSignature").cloned().unwrap_or(Value::Null))
        .collect()
}

/// A Gemini call's signature reaches an Anthropic client as an empty thinking block before the
/// call, comes back in the client's history, and is sent to Gemini on that call again (Gemini
/// 3 rejects the turn without it). An Anthropic upstream never sees it.
#[test]
fn gemini_call_signatures_come_home_through_anthropic_clients() {
    let buffered = resp(Dialect::Gemini, Dialect::Anthropic, gemini_signed_calls());
    let sse = translate::stream(
        Dialect::Gemini,
        Dialect::Anthropic,
        &gemini_signed_calls_stream(),
        &opts(),
    )
    .unwrap();
    let indices: Vec<u64> = sse_frames(&sse)
        .iter()
        .filter(|d| d["type"] == "content_block_start")
        .map(|d| d["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2, 3], "wire indices stay contiguous");
    let streamed = accumulate(Dialect::Anthropic, &sse);
    for (how, answer) in [("buffered", buffered), ("streamed", streamed)] {
        let content = answer["content"].as_array().unwrap().clone();
        let kinds: Vec<&str> = content
            .iter()
            .map(|b| b["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["thinking", "thinking", "tool_use", "tool_use"],
            "{how}"
        );
        assert_eq!(content[1]["thinking"], "", "{how}");
        assert_eq!(
            content[1]["signature"],
            format!("sy1.gemini.{CALL_SIG}"),
            "{how}"
        );
        let (id0, id1) = (&content[2]["id"], &content[3]["id"]);
        let history = json!({
            "model": "gemini-3-pro-preview", "max_tokens": 1024,
            "messages": [
                {"role": "user", "content": "Weather in Paris and Tokyo?"},
                {"role": "assistant", "content": content},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": id0, "content": "18C"},
                    {"type": "tool_result", "tool_use_id": id1, "content": "24C"}
                ]}
            ]
        });
        let g = req(Dialect::Anthropic, Dialect::Gemini, history.clone()).unwrap();
        assert_eq!(
            call_signatures(&g),
            [json!(CALL_SIG), Value::Null],
            "{how}: {g:#}"
        );
        assert_eq!(model_parts(&g).len(), 2, "nothing else carries it: {g:#}");

        let a = req(Dialect::Anthropic, Dialect::Anthropic, history).unwrap();
        let kinds: Vec<&Value> = a["messages"][1]["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["type"])
            .collect();
        assert_eq!(kinds, ["tool_use", "tool_use"], "{how}: {a:#}");
    }
}

/// The same through a Responses client: a reasoning item with an empty summary before the
/// call carries the signature, and an OpenAI upstream never sees it.
#[test]
fn gemini_call_signatures_come_home_through_responses_clients() {
    let buffered = resp(Dialect::Gemini, Dialect::Responses, gemini_signed_calls());
    let sse = translate::stream(
        Dialect::Gemini,
        Dialect::Responses,
        &gemini_signed_calls_stream(),
        &opts(),
    )
    .unwrap();
    let indices: Vec<u64> = sse_frames(&sse)
        .iter()
        .filter(|d| d["type"] == "response.output_item.added")
        .map(|d| d["output_index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2, 3], "output indices stay contiguous");
    let streamed = accumulate(Dialect::Responses, &sse);
    for (how, answer) in [("buffered", buffered), ("streamed", streamed)] {
        let output = answer["output"].as_array().unwrap().clone();
        let kinds: Vec<&str> = output.iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["reasoning", "reasoning", "function_call", "function_call"],
            "{how}"
        );
        assert_eq!(output[1]["summary"], json!([]), "{how}");
        assert_eq!(
            output[1]["encrypted_content"],
            format!("sy1.gemini.{CALL_SIG}"),
            "{how}"
        );
        let mut input = vec![json!({"role": "user", "content": "Weather in Paris and Tokyo?"})];
        input.extend(output.iter().cloned());
        for call in &output[2..] {
            input.push(
                json!({"type": "function_call_output", "call_id": call["call_id"], "output": "ok"}),
            );
        }
        let history = json!({"model": "gemini-3-pro-preview", "input": input, "store": false});
        let g = req(Dialect::Responses, Dialect::Gemini, history.clone()).unwrap();
        assert_eq!(
            call_signatures(&g),
            [json!(CALL_SIG), Value::Null],
            "{how}: {g:#}"
        );
        assert_eq!(model_parts(&g).len(), 2, "nothing else carries it: {g:#}");

        let o = req(Dialect::Responses, Dialect::Responses, history).unwrap();
        assert!(
            !o.to_string().contains(CALL_SIG),
            "{how}: never handed to OpenAI: {o:#}"
        );
    }
}

/// OpenAI Chat clients have no place for a call's signature: for Gemini 3 the history gets the
/// placeholder Google documents for calls without one, on the first call of the turn.
#[test]
fn gemini_3_history_from_chat_clients_gets_the_documented_placeholder() {
    let o = resp(Dialect::Gemini, Dialect::OpenAiChat, gemini_signed_calls());
    let calls = o["choices"][0]["message"]["tool_calls"].clone();
    let history = |model: &str| {
        json!({
            "model": model,
            "messages": [
                {"role": "user", "content": "Weather in Paris and Tokyo?"},
                {"role": "assistant", "content": null, "tool_calls": calls},
                {"role": "tool", "tool_call_id": calls[0]["id"], "content": "18C"},
                {"role": "tool", "tool_call_id": calls[1]["id"], "content": "24C"}
            ]
        })
    };
    let g3 = req(
        Dialect::OpenAiChat,
        Dialect::Gemini,
        history("gemini-3-pro-preview"),
    )
    .unwrap();
    assert_eq!(
        call_signatures(&g3),
        [json!("skip_thought_signature_validator"), Value::Null]
    );
    let g25 = req(
        Dialect::OpenAiChat,
        Dialect::Gemini,
        history("gemini-2.5-pro"),
    )
    .unwrap();
    assert_eq!(call_signatures(&g25), [Value::Null, Value::Null]);
}

/// Each SSE frame's data as JSON.
fn sse_frames(body: &[u8]) -> Vec<Value> {
    sse::parse_all(body)
        .into_iter()
        .filter_map(|item| match item {
            sse::Item::Frame(f) => serde_json::from_str(&f.data).ok(),
            _ => None,
        })
        .collect()
}

/// A tool schema as its client wrote it: numbers a `serde_json::Value` would respell (`1e2`
/// becomes `100.0`, an integer past `u64` a float) and escapes reach the other dialects as
/// they came.
const SCHEMA: &str = r#"{"type":"object","properties":{"n":{"type":"number","maximum":1e2,"multipleOf":0.10,"default":123456789012345678901234},"s":{"type":"string","pattern":"^\u00e9$"}}}"#;

/// Valid JSON nested past serde_json's 128 levels: text can carry it, a `Value` cannot.
fn too_deep_for_a_value() -> String {
    format!("{}{}", "[".repeat(200), "]".repeat(200))
}

#[test]
fn tool_schemas_cross_dialects_as_written() {
    let anthropic = format!(
        r#"{{"model":"m","max_tokens":5,"messages":[{{"role":"user","content":"hi"}}],"tools":[{{"name":"f","input_schema":{SCHEMA}}}]}}"#
    );
    let openai = format!(
        r#"{{"model":"m","messages":[{{"role":"user","content":"hi"}}],"tools":[{{"type":"function","function":{{"name":"f","parameters":{SCHEMA}}}}}]}}"#
    );
    let responses = format!(
        r#"{{"model":"m","input":"hi","tools":[{{"type":"function","name":"f","parameters":{SCHEMA},"strict":false}}]}}"#
    );
    for (from, body, to) in [
        (Dialect::Anthropic, &anthropic, Dialect::OpenAiChat),
        (Dialect::OpenAiChat, &openai, Dialect::Anthropic),
        (Dialect::Anthropic, &anthropic, Dialect::Anthropic),
        (Dialect::Responses, &responses, Dialect::Anthropic),
        (Dialect::Responses, &responses, Dialect::OpenAiChat),
    ] {
        let ir = from.decode_request(body.as_bytes()).unwrap();
        let out = to.encode_request(&ir, &opts()).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(SCHEMA), "{from:?} -> {to:?}: {out}");
    }
}

#[test]
fn a_schema_no_value_can_hold_is_refused_where_it_must_be_read() {
    // Passed on as text it is the upstream's to judge; Gemini and Responses build their tools
    // as values, so there it is an invalid request naming the tool, never a dropped schema.
    let deep = too_deep_for_a_value();
    for schema in [deep.as_str(), r#"{"type":"string","default":"\ud800"}"#] {
        let body = format!(
            r#"{{"model":"m","max_tokens":5,"messages":[{{"role":"user","content":"hi"}}],"tools":[{{"name":"f","input_schema":{schema}}}]}}"#
        );
        let ir = Dialect::Anthropic.decode_request(body.as_bytes()).unwrap();
        let out = Dialect::OpenAiChat.encode_request(&ir, &opts()).unwrap();
        assert!(String::from_utf8(out).unwrap().contains(schema));
        for to in [Dialect::Gemini, Dialect::Responses] {
            match to.encode_request(&ir, &opts()) {
                Err(Error::Invalid { path, .. }) => assert_eq!(path, "tools.f.parameters"),
                other => panic!("{to:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_provider_tool_with_a_schema_no_value_can_hold_is_a_decode_error() {
    // Provider tools are kept whole as values, so such a schema cannot be carried.
    let deep = too_deep_for_a_value();
    let anthropic = format!(
        r#"{{"model":"m","max_tokens":5,"messages":[{{"role":"user","content":"hi"}}],"tools":[{{"type":"bash_20250124","name":"bash","input_schema":{deep}}}]}}"#
    );
    let openai = format!(
        r#"{{"model":"m","messages":[{{"role":"user","content":"hi"}}],"tools":[{{"type":"web_search","function":{{"name":"f","parameters":{deep}}}}}]}}"#
    );
    let responses = format!(
        r#"{{"model":"m","input":"hi","tools":[{{"type":"namespace","name":"n","parameters":{deep}}}]}}"#
    );
    for (dialect, body, at) in [
        (Dialect::Anthropic, anthropic, "tools[0]"),
        (Dialect::OpenAiChat, openai, "tools[0]"),
        (Dialect::Responses, responses, "tools[0].parameters"),
    ] {
        match dialect.decode_request(body.as_bytes()) {
            Err(Error::Decode { path, .. }) => assert_eq!(path, at, "{dialect:?}"),
            other => panic!("{dialect:?}: {other:?}"),
        }
    }
}

#[test]
fn a_responses_tool_kept_whole_keeps_its_parameters_in_place() {
    // Only a function's schema goes to the IR as text; any other tool's object comes back
    // whole, `parameters` where it was.
    let body = br#"{"model":"m","input":"hi","tools":[{"type":"namespace","name":"n","parameters":{"a":1},"tools":[]},{"type":"function","name":"f","parameters":{"type":"object"},"strict":true}]}"#;
    let ir = Dialect::Responses.decode_request(body).unwrap();
    let out = to_value(Dialect::Responses.encode_request(&ir, &opts()).unwrap());
    assert_eq!(
        out["tools"],
        json!([
            {"type": "namespace", "name": "n", "parameters": {"a": 1}, "tools": []},
            {"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": true}
        ])
    );
    let keys: Vec<&String> = out["tools"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["type", "name", "parameters", "tools"]);
}

#[test]
fn output_schemas_cross_dialects_as_written() {
    let anthropic = format!(
        r#"{{"model":"m","max_tokens":5,"messages":[{{"role":"user","content":"hi"}}],"output_config":{{"format":{{"type":"json_schema","schema":{SCHEMA}}}}}}}"#
    );
    let openai = format!(
        r#"{{"model":"m","messages":[{{"role":"user","content":"hi"}}],"response_format":{{"type":"json_schema","json_schema":{{"name":"n","schema":{SCHEMA}}}}}}}"#
    );
    for to in [Dialect::OpenAiChat, Dialect::Anthropic] {
        let ir = Dialect::Anthropic
            .decode_request(anthropic.as_bytes())
            .unwrap();
        let out = String::from_utf8(to.encode_request(&ir, &opts()).unwrap()).unwrap();
        assert!(out.contains(SCHEMA), "{to:?}: {out}");
    }
    // OpenAI's `response_format` is read among its flattened parameters, so as a value: the
    // schema crosses as serde_json spells it (`100.0`, the big integer rounded to a float).
    let out = req(
        Dialect::OpenAiChat,
        Dialect::Anthropic,
        serde_json::from_str(&openai).unwrap(),
    )
    .unwrap();
    let schema = &out["output_config"]["format"]["schema"];
    assert_eq!(schema["properties"]["n"]["maximum"], 100.0);
    assert_eq!(schema["properties"]["s"]["pattern"], "^é$");
    // Where the schema is built into values, one no value can hold is an invalid request.
    let deep = too_deep_for_a_value();
    let body = anthropic.replace(SCHEMA, &deep);
    let ir = Dialect::Anthropic.decode_request(body.as_bytes()).unwrap();
    for (to, at) in [
        (Dialect::Gemini, "response_format.schema"),
        (Dialect::Responses, "text.format.schema"),
    ] {
        match to.encode_request(&ir, &opts()) {
            Err(Error::Invalid { path, .. }) => assert_eq!(path, at),
            other => panic!("{to:?}: {other:?}"),
        }
    }
}

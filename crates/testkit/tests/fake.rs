//! The fake upstream through real sockets: each dialect's JSON and stream answers have the
//! documented shape (SSE frames parsed by hand), tool calls, scripted failures per credential,
//! sequences, hangs, drops, malformed frames, delays, call records, shutdown, and the
//! `switchyard-mock` binary. No assertion depends on how long anything took.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_testkit::{CredentialSource, FakeUpstream, Plan, RateLimit, Reply, Script};

/// JSON in and out without reqwest's `json` feature (the fake's own tests need no more).
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        let bytes = self.bytes().await.expect("body");
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// POSTs `body` to the fake with one credential header.
async fn post(
    fake: &FakeUpstream,
    path: &str,
    auth: (&str, &str),
    body: Value,
) -> reqwest::Response {
    client()
        .post(format!("{}{path}", fake.url()))
        .header(auth.0, auth.1)
        .json_body(&body)
        .send()
        .await
        .expect("request")
}

async fn post_json(
    fake: &FakeUpstream,
    path: &str,
    auth: (&str, &str),
    body: Value,
) -> (u16, Value) {
    let response = post(fake, path, auth, body).await;
    let status = response.status().as_u16();
    (status, response.json_value().await)
}

const OPENAI: (&str, &str) = ("authorization", "Bearer sk-test");
const ANTHROPIC: (&str, &str) = ("x-api-key", "sk-ant-test");
const GEMINI: (&str, &str) = ("x-goog-api-key", "AIza-test");

/// One SSE event as parsed by hand.
#[derive(Debug)]
struct Event {
    name: Option<String>,
    data: String,
}

impl Event {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

/// Splits an SSE body into events and counts comment-only blocks; accepts LF or CRLF.
fn parse_sse(text: &str) -> (Vec<Event>, usize) {
    let text = text.replace("\r\n", "\n");
    let mut events = Vec::new();
    let mut comments = 0;
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut name = None;
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("event:") {
                name = Some(value.trim().to_owned());
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push(value.trim_start().to_owned());
            } else if line.starts_with(':') && data.is_empty() {
                comments += 1;
            }
        }
        if !data.is_empty() {
            events.push(Event {
                name,
                data: data.join("\n"),
            });
        }
    }
    (events, comments)
}

async fn sse(
    fake: &FakeUpstream,
    path: &str,
    auth: (&str, &str),
    body: Value,
) -> (Vec<Event>, usize) {
    let response = post(fake, path, auth, body).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    parse_sse(&response.text().await.expect("stream body"))
}

fn chat_body(stream: bool) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": [{"type": "text", "text": "hello there, fake"}]}
        ]
    })
}

fn tools_openai() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}])
}

#[tokio::test]
async fn openai_chat_json_echoes_the_last_user_text_and_the_model() {
    let fake = FakeUpstream::start(Script::new()).await;
    let body = chat_body(false);
    let body_len = serde_json::to_vec(&body).unwrap().len() as u64;
    let (status, answer) = post_json(&fake, "/v1/chat/completions", OPENAI, body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(answer["model"], "gpt-4o-mini");
    assert_eq!(answer["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "hello there, fake"
    );
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    assert_eq!(answer["usage"]["prompt_tokens"], body_len / 4);
    assert_eq!(answer["usage"]["completion_tokens"], 5);
    assert_eq!(answer["usage"]["total_tokens"], body_len / 4 + 5);
    fake.shutdown().await;
}

#[tokio::test]
async fn openai_chat_stream_sends_role_deltas_finish_usage_and_done() {
    let fake = FakeUpstream::start(Script::new()).await;
    let mut body = chat_body(true);
    body["stream_options"] = json!({"include_usage": true});
    let (events, _) = sse(&fake, "/v1/chat/completions", OPENAI, body).await;
    // role, 5 content deltas, finish, usage, [DONE]
    assert_eq!(events.len(), 9, "{events:?}");
    assert!(events.iter().all(|e| e.name.is_none()));
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = events[..8].iter().map(Event::json).collect();
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == "gpt-4o-mini"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks[1..6]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "hello there, fake");
    assert_eq!(chunks[6]["choices"][0]["finish_reason"], "stop");
    assert!(chunks[..7].iter().all(|c| c["usage"].is_null()));
    assert_eq!(chunks[7]["choices"], json!([]));
    assert_eq!(chunks[7]["usage"]["completion_tokens"], 5);

    // Without include_usage: no usage chunk and no usage key.
    let (events, _) = sse(&fake, "/v1/chat/completions", OPENAI, chat_body(true)).await;
    assert_eq!(events.len(), 8);
    assert!(events[..7].iter().all(|e| e.json().get("usage").is_none()));
    fake.shutdown().await;
}

#[tokio::test]
async fn openai_chat_tool_calls_stream_their_arguments_in_fragments() {
    let args = r#"{"city":"Paris","unit":"celsius"}"#;
    let fake =
        FakeUpstream::start(Script::new().reply(Reply::ok().tool_call("get_weather", args))).await;

    let mut body = chat_body(false);
    body["tools"] = tools_openai();
    let (_, answer) = post_json(&fake, "/v1/chat/completions", OPENAI, body.clone()).await;
    let call = &answer["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(answer["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], args);

    body["stream"] = json!(true);
    let (events, _) = sse(&fake, "/v1/chat/completions", OPENAI, body).await;
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(Event::json).collect();
    let first = &chunks[0]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(first["function"]["name"], "get_weather");
    assert!(first["id"].as_str().unwrap().starts_with("call_"));
    let fragments: Vec<&str> = chunks[1..chunks.len() - 1]
        .iter()
        .map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fragments.len(), 5);
    assert_eq!(fragments.concat(), args);
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );

    // A request without tools still gets text.
    let (_, answer) = post_json(&fake, "/v1/chat/completions", OPENAI, chat_body(false)).await;
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "hello there, fake"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn responses_json_and_typed_events_end_with_response_completed() {
    let fake =
        FakeUpstream::start(Script::new().reply(Reply::ok().text("streamed answer").chunks(3)))
            .await;
    let body = json!({"model": "gpt-4.1", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]});
    let (status, answer) = post_json(&fake, "/v1/responses", OPENAI, body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(answer["object"], "response");
    assert_eq!(answer["status"], "completed");
    assert_eq!(answer["model"], "gpt-4.1");
    assert_eq!(answer["output"][0]["type"], "message");
    assert_eq!(answer["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(answer["output"][0]["content"][0]["text"], "streamed answer");
    assert_eq!(answer["usage"]["output_tokens"], 3);

    let mut streaming = body;
    streaming["stream"] = json!(true);
    let (events, _) = sse(&fake, "/v1/responses", OPENAI, streaming).await;
    let names: Vec<&str> = events.iter().map(|e| e.name.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (n, event) in events.iter().enumerate() {
        let data = event.json();
        assert_eq!(data["type"], *event.name.as_ref().unwrap());
        assert_eq!(data["sequence_number"], n);
    }
    let completed = events.last().unwrap().json();
    assert_eq!(completed["response"]["status"], "completed");
    assert_eq!(completed["response"]["usage"]["output_tokens"], 3);
    assert_eq!(events[7].json()["text"], "streamed answer");
    fake.shutdown().await;
}

#[tokio::test]
async fn responses_tool_calls_stream_argument_deltas() {
    let args = r#"{"query":"rust"}"#;
    let fake =
        FakeUpstream::start(Script::new().reply(Reply::ok().tool_call("search", args).chunks(4)))
            .await;
    let body = json!({
        "model": "gpt-4.1", "input": "find it", "stream": true,
        "tools": [{"type": "function", "name": "search", "parameters": {"type": "object"}}]
    });
    let (events, _) = sse(&fake, "/v1/responses", OPENAI, body).await;
    let deltas: Vec<String> = events
        .iter()
        .filter(|e| e.name.as_deref() == Some("response.function_call_arguments.delta"))
        .map(|e| e.json()["delta"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(deltas.len(), 4);
    assert_eq!(deltas.concat(), args);
    let done = events.last().unwrap().json();
    assert_eq!(done["type"], "response.completed");
    let item = &done["response"]["output"][0];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["name"], "search");
    assert_eq!(item["arguments"], args);
    assert!(item["call_id"].as_str().unwrap().starts_with("call_"));
    fake.shutdown().await;
}

fn anthropic_body(stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": "Hello, Claude"}]
    })
}

#[tokio::test]
async fn anthropic_messages_json_and_the_full_event_sequence() {
    let fake = FakeUpstream::start(Script::new()).await;
    let (status, message) =
        post_json(&fake, "/v1/messages", ANTHROPIC, anthropic_body(false)).await;
    assert_eq!(status, 200);
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["model"], "claude-sonnet-4-20250514");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Hello, Claude"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["usage"]["output_tokens"], 5);

    let stream_len = serde_json::to_vec(&anthropic_body(true)).unwrap().len() as u64;
    let (events, _) = sse(&fake, "/v1/messages", ANTHROPIC, anthropic_body(true)).await;
    let names: Vec<&str> = events.iter().map(|e| e.name.as_deref().unwrap()).collect();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(["content_block_delta"; 5]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    for event in &events {
        assert_eq!(event.json()["type"], *event.name.as_ref().unwrap());
    }
    let start = events[0].json();
    assert_eq!(start["message"]["usage"]["input_tokens"], stream_len / 4);
    assert_eq!(start["message"]["usage"]["output_tokens"], 1);
    let text: String = events[3..8]
        .iter()
        .map(|e| e.json()["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "Hello, Claude");
    let delta = events[9].json();
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 5);
    fake.shutdown().await;
}

#[tokio::test]
async fn anthropic_tool_use_streams_input_json_deltas() {
    let args = r#"{"path":"/tmp/x","lines":[1,2]}"#;
    let fake =
        FakeUpstream::start(Script::new().reply(Reply::ok().tool_call("read_file", args))).await;
    let mut body = anthropic_body(false);
    body["tools"] = json!([{"name": "read_file", "input_schema": {"type": "object"}}]);
    let (_, message) = post_json(&fake, "/v1/messages", ANTHROPIC, body.clone()).await;
    assert_eq!(message["stop_reason"], "tool_use");
    assert_eq!(message["content"][0]["type"], "tool_use");
    assert_eq!(message["content"][0]["name"], "read_file");
    assert_eq!(
        message["content"][0]["input"],
        json!({"path": "/tmp/x", "lines": [1, 2]})
    );

    body["stream"] = json!(true);
    let (events, _) = sse(&fake, "/v1/messages", ANTHROPIC, body).await;
    let block = events[1].json();
    assert_eq!(block["content_block"]["type"], "tool_use");
    assert_eq!(block["content_block"]["input"], json!({}));
    let partial: String = events
        .iter()
        .filter(|e| e.name.as_deref() == Some("content_block_delta"))
        .map(|e| {
            let delta = e.json()["delta"].clone();
            assert_eq!(delta["type"], "input_json_delta");
            delta["partial_json"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(partial, args);
    assert_eq!(
        events[events.len() - 2].json()["delta"]["stop_reason"],
        "tool_use"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn anthropic_count_tokens_and_required_fields() {
    let fake = FakeUpstream::start(Script::new()).await;
    let body = json!({"model": "claude-sonnet-4-20250514", "messages": [{"role": "user", "content": "count me"}]});
    let len = serde_json::to_vec(&body).unwrap().len() as u64;
    let (status, counted) =
        post_json(&fake, "/v1/messages/count_tokens", ANTHROPIC, body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(counted, json!({"input_tokens": len / 4}));

    // The real API refuses a message request without max_tokens; so does the fake.
    let (status, error) = post_json(&fake, "/v1/messages", ANTHROPIC, body).await;
    assert_eq!(status, 400);
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    fake.shutdown().await;
}

fn gemini_body() -> Value {
    json!({"contents": [
        {"role": "user", "parts": [{"text": "Why is the sky "}, {"text": "blue?"}]}
    ]})
}

#[tokio::test]
async fn gemini_generate_stream_and_count_tokens() {
    let fake = FakeUpstream::start(Script::new()).await;
    let path = "/v1beta/models/gemini-2.5-flash";
    let (status, answer) = post_json(
        &fake,
        &format!("{path}:generateContent"),
        GEMINI,
        gemini_body(),
    )
    .await;
    assert_eq!(status, 200);
    let candidate = &answer["candidates"][0];
    assert_eq!(candidate["content"]["role"], "model");
    assert_eq!(
        candidate["content"]["parts"][0]["text"],
        "Why is the sky blue?"
    );
    assert_eq!(candidate["finishReason"], "STOP");
    assert_eq!(answer["modelVersion"], "gemini-2.5-flash");
    assert_eq!(answer["usageMetadata"]["candidatesTokenCount"], 5);

    let response = post(
        &fake,
        &format!("{path}:streamGenerateContent?alt=sse"),
        GEMINI,
        gemini_body(),
    )
    .await;
    let raw = response.text().await.unwrap();
    assert!(raw.contains("\r\n\r\n"), "Gemini frames end with CRLF");
    let (events, _) = parse_sse(&raw);
    assert_eq!(events.len(), 5);
    let chunks: Vec<Value> = events.iter().map(Event::json).collect();
    let text: String = chunks
        .iter()
        .map(|c| {
            c["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(text, "Why is the sky blue?");
    assert!(chunks[..4]
        .iter()
        .all(|c| c["candidates"][0].get("finishReason").is_none()));
    assert_eq!(chunks[4]["candidates"][0]["finishReason"], "STOP");
    assert_eq!(chunks[4]["usageMetadata"]["candidatesTokenCount"], 5);

    // Without alt=sse the stream is one JSON array.
    let response = post(
        &fake,
        &format!("{path}:streamGenerateContent"),
        GEMINI,
        gemini_body(),
    )
    .await;
    let array: Value = response.json_value().await;
    assert_eq!(array.as_array().unwrap().len(), 5);

    let (_, counted) =
        post_json(&fake, &format!("{path}:countTokens"), GEMINI, gemini_body()).await;
    assert!(counted["totalTokens"].as_u64().unwrap() > 0);
    fake.shutdown().await;
}

#[tokio::test]
async fn gemini_function_call_is_one_whole_part() {
    let args = r#"{"location":"Boston"}"#;
    let fake =
        FakeUpstream::start(Script::new().reply(Reply::ok().tool_call("get_weather", args))).await;
    let mut body = gemini_body();
    body["tools"] = json!([{"functionDeclarations": [{"name": "get_weather"}]}]);
    let path = "/v1beta/models/gemini-2.5-pro";
    let (_, answer) = post_json(
        &fake,
        &format!("{path}:generateContent"),
        GEMINI,
        body.clone(),
    )
    .await;
    let call = &answer["candidates"][0]["content"]["parts"][0]["functionCall"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["args"], json!({"location": "Boston"}));

    let (events, _) = sse(
        &fake,
        &format!("{path}:streamGenerateContent?alt=sse"),
        GEMINI,
        body,
    )
    .await;
    assert_eq!(events.len(), 1);
    let chunk = events[0].json();
    assert_eq!(
        chunk["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]["location"],
        "Boston"
    );
    assert_eq!(chunk["candidates"][0]["finishReason"], "STOP");
    fake.shutdown().await;
}

#[tokio::test]
async fn embeddings_and_model_lists() {
    let fake = FakeUpstream::start(Script::new()).await;
    let body = json!({"model": "text-embedding-3-small", "input": ["one", "two"], "dimensions": 8});
    let (status, list) = post_json(&fake, "/v1/embeddings", OPENAI, body).await;
    assert_eq!(status, 200);
    assert_eq!(list["object"], "list");
    assert_eq!(list["model"], "text-embedding-3-small");
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let vector: Vec<f64> = serde_json::from_value(list["data"][1]["embedding"].clone()).unwrap();
    assert_eq!(vector.len(), 8);
    assert!((vector.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-3);
    let body =
        json!({"model": "text-embedding-3-small", "input": "one", "encoding_format": "base64"});
    let (_, list) = post_json(&fake, "/v1/embeddings", OPENAI, body).await;
    let encoded = list["data"][0]["embedding"].as_str().unwrap();
    assert_eq!(encoded.len(), 88, "16 f32 values in base64");

    let get = |path: &str, header: (&'static str, &'static str)| {
        client()
            .get(format!("{}{path}", fake.url()))
            .header(header.0, header.1)
            .send()
    };
    let openai: Value = get("/v1/models", OPENAI).await.unwrap().json_value().await;
    assert_eq!(openai["object"], "list");
    assert_eq!(openai["data"][0]["object"], "model");
    let anthropic: Value = get("/v1/models", ANTHROPIC)
        .await
        .unwrap()
        .json_value()
        .await;
    assert_eq!(anthropic["data"][0]["type"], "model");
    assert_eq!(anthropic["has_more"], false);
    let gemini: Value = get("/v1beta/models", GEMINI)
        .await
        .unwrap()
        .json_value()
        .await;
    assert!(gemini["models"][0]["name"]
        .as_str()
        .unwrap()
        .starts_with("models/"));

    fake.set_script(Script::new().models(["only-one"]));
    let openai: Value = get("/v1/models", OPENAI).await.unwrap().json_value().await;
    assert_eq!(
        openai["data"],
        json!([{"id": "only-one", "object": "model", "created": 1_735_689_600, "owned_by": "switchyard-fake"}])
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn base_url_prefixes_and_unknown_paths() {
    let fake = FakeUpstream::start(Script::new()).await;
    for path in [
        "/openai/v1/chat/completions",
        "/api/v1/chat/completions",
        "/v1/chat/completions/",
    ] {
        let (status, answer) = post_json(&fake, path, OPENAI, chat_body(false)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(answer["object"], "chat.completion");
    }
    // Azure-style: the deployment names the model and the key comes in `api-key`.
    let mut body = chat_body(false);
    body.as_object_mut().unwrap().remove("model");
    let azure = "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21";
    let (status, answer) = post_json(&fake, azure, ("api-key", "azure-key"), body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["model"], "my-gpt");
    assert_eq!(
        fake.calls()
            .last()
            .unwrap()
            .credential
            .as_ref()
            .unwrap()
            .source,
        CredentialSource::ApiKey
    );

    let (status, error) = post_json(&fake, "/v1/nothing", OPENAI, json!({})).await;
    assert_eq!(status, 404);
    assert!(error["error"]["message"].is_string());
    fake.shutdown().await;
}

#[tokio::test]
async fn per_credential_failures_render_each_dialects_error() {
    let limits = RateLimit {
        requests_limit: 50,
        requests_remaining: 0,
        tokens_limit: 40_000,
        tokens_remaining: 1_200,
        reset_seconds: 7,
    };
    let script = Script::new()
        .credential("sk-limited", Reply::rate_limited(7).rate_limit(limits))
        .credential("sk-ant-busy", Reply::overloaded())
        .credential("AIza-limited", Reply::rate_limited(3));
    let fake = FakeUpstream::start(script).await;

    let response = post(
        &fake,
        "/v1/chat/completions",
        ("authorization", "Bearer sk-limited"),
        chat_body(false),
    )
    .await;
    assert_eq!(response.status(), 429);
    let headers = response.headers().clone();
    assert_eq!(headers["retry-after"], "7");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "0");
    assert_eq!(headers["x-ratelimit-remaining-tokens"], "1200");
    let error: Value = response.json_value().await;
    assert_eq!(error["error"]["code"], "rate_limit_exceeded");

    // The same credential as an Anthropic key gets Anthropic's headers and body.
    let response = post(
        &fake,
        "/v1/messages",
        ("x-api-key", "sk-limited"),
        anthropic_body(false),
    )
    .await;
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.headers()["anthropic-ratelimit-requests-remaining"],
        "0"
    );
    assert!(response.headers()["anthropic-ratelimit-requests-reset"]
        .to_str()
        .unwrap()
        .ends_with('Z'));
    let error: Value = response.json_value().await;
    assert_eq!(error["error"]["type"], "rate_limit_error");

    let (status, error) = post_json(
        &fake,
        "/v1/messages",
        ("x-api-key", "sk-ant-busy"),
        anthropic_body(true),
    )
    .await;
    assert_eq!(status, 529);
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "overloaded_error");

    let path = "/v1beta/models/gemini-2.5-flash:generateContent?key=AIza-limited";
    let response = client()
        .post(format!("{}{path}", fake.url()))
        .json_body(&gemini_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    let error: Value = response.json_value().await;
    assert_eq!(error["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(error["error"]["details"][0]["retryDelay"], "3s");

    // Other credentials are not affected.
    let (status, _) = post_json(&fake, "/v1/chat/completions", OPENAI, chat_body(false)).await;
    assert_eq!(status, 200);
    for (status, kind) in [
        (401, "invalid_request_error"),
        (500, "server_error"),
        (503, "server_error"),
        (400, "invalid_request_error"),
    ] {
        fake.set_script(Script::new().reply(Reply::error(status)));
        let (got, error) = post_json(&fake, "/v1/chat/completions", OPENAI, chat_body(true)).await;
        assert_eq!(got, status);
        assert_eq!(error["error"]["type"], kind, "{status}");
    }
    fake.shutdown().await;
}

#[tokio::test]
async fn a_failure_sequence_then_success_counted_per_credential() {
    let script = Script::new().credential(
        "sk-flaky",
        Plan::first(2, Reply::error(500)).then_always(Reply::ok()),
    );
    let fake = FakeUpstream::start(script).await;
    let flaky = ("authorization", "Bearer sk-flaky");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            post(&fake, "/v1/chat/completions", flaky, chat_body(false))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [500, 500, 200, 200]);
    // The default plan keeps its own count.
    assert_eq!(
        post(&fake, "/v1/chat/completions", OPENAI, chat_body(false))
            .await
            .status(),
        200
    );
    assert_eq!(fake.count_for("sk-flaky"), 4);
    assert_eq!(fake.count_for("sk-test"), 1);
    assert_eq!(fake.count("/chat/completions"), 5);

    // A new script starts the sequence again.
    fake.set_script(Script::new().credential("sk-flaky", Plan::first(1, Reply::error(503))));
    assert_eq!(
        post(&fake, "/v1/chat/completions", flaky, chat_body(false))
            .await
            .status(),
        503
    );
    assert_eq!(
        post(&fake, "/v1/chat/completions", flaky, chat_body(false))
            .await
            .status(),
        200
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_hang_never_answers_and_shutdown_still_ends_cleanly() {
    let fake = FakeUpstream::start(Script::new().credential("sk-hang", Reply::hang())).await;
    let request = client()
        .post(format!("{}/v1/chat/completions", fake.url()))
        .bearer_auth("sk-hang")
        .timeout(Duration::from_millis(200))
        .json_body(&chat_body(false))
        .send();
    let error = request.await.expect_err("a hung upstream never answers");
    assert!(error.is_timeout(), "{error}");
    // A second hung call is still open while the fake shuts down.
    let pending = tokio::spawn(
        client()
            .post(format!("{}/v1/chat/completions", fake.url()))
            .bearer_auth("sk-hang")
            .json_body(&chat_body(false))
            .send(),
    );
    fake.wait_for_calls(2).await;
    // (The first call may already count as ended: hyper notices a client that hung up.)
    assert!(
        fake.calls()[1].ended.is_none(),
        "the second call is still open"
    );
    tokio::time::timeout(Duration::from_secs(5), fake.shutdown())
        .await
        .expect("shutdown ends");
    assert!(
        fake.calls().iter().all(|c| c.ended.is_some()),
        "shutdown ended both calls"
    );
    let outcome = pending.await.unwrap();
    assert!(
        outcome.is_err(),
        "the hung call is cut, never answered: {outcome:?}"
    );
}

#[tokio::test]
async fn a_mid_stream_drop_truncates_the_body() {
    let fake =
        FakeUpstream::start(Script::new().credential("sk-drop", Reply::ok().drop_after(3))).await;
    let response = post(
        &fake,
        "/v1/messages",
        ("x-api-key", "sk-drop"),
        anthropic_body(true),
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "the status went out before the drop"
    );
    let mut received = Vec::new();
    let mut response = response;
    let outcome = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(
        outcome.is_err(),
        "the client sees a cut body, not a clean end"
    );
    let (events, _) = parse_sse(&String::from_utf8(received).unwrap());
    let names: Vec<&str> = events.iter().map(|e| e.name.as_deref().unwrap()).collect();
    assert_eq!(names, ["message_start", "content_block_start", "ping"]);

    // A dropped JSON answer announces its whole length and sends half.
    let response = post(
        &fake,
        "/v1/chat/completions",
        ("authorization", "Bearer sk-drop"),
        chat_body(false),
    )
    .await;
    assert!(response.bytes().await.is_err());
    fake.shutdown().await;
}

#[tokio::test]
async fn a_malformed_frame_and_a_heartbeat() {
    let script = Script::new()
        .credential("sk-bad", Reply::ok().malformed_after(2))
        .credential("sk-beat", Reply::ok().heartbeat());
    let fake = FakeUpstream::start(script).await;
    let (events, _) = sse(
        &fake,
        "/v1/chat/completions",
        ("authorization", "Bearer sk-bad"),
        chat_body(true),
    )
    .await;
    assert_eq!(events.len(), 9, "eight answer frames and the malformed one");
    assert!(
        serde_json::from_str::<Value>(&events[2].data).is_err(),
        "{}",
        events[2].data
    );
    assert!(events
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .all(|(_, e)| e.data == "[DONE]" || serde_json::from_str::<Value>(&e.data).is_ok()));

    let response = post(
        &fake,
        "/v1/messages",
        ("x-api-key", "sk-beat"),
        anthropic_body(true),
    )
    .await;
    let text = response.text().await.unwrap();
    assert!(text.starts_with(": keep-alive\n\n"));
    let (events, comments) = parse_sse(&text);
    assert_eq!(comments, 1);
    assert_eq!(events[0].name.as_deref(), Some("message_start"));

    // A malformed JSON answer is a 200 with half a body.
    let response = post(
        &fake,
        "/v1/chat/completions",
        ("authorization", "Bearer sk-bad"),
        chat_body(false),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(serde_json::from_slice::<Value>(&response.bytes().await.unwrap()).is_err());
    fake.shutdown().await;
}

#[tokio::test]
async fn delayed_frames_arrive_as_separate_reads_before_the_answer_ends() {
    let slow = Reply::ok().chunk_delay(Duration::from_millis(40)).chunks(3);
    let fake = FakeUpstream::start(Script::new().reply(slow)).await;
    let mut response = post(&fake, "/v1/messages", ANTHROPIC, anthropic_body(true)).await;
    let first = response.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"event: message_start"));
    // The first frame is in hand while the fake is still writing the rest.
    assert!(fake.calls()[0].ended.is_none());
    let mut reads = 1;
    while let Some(chunk) = response.chunk().await.unwrap() {
        assert!(chunk.ends_with(b"\n\n"), "one whole frame per read");
        reads += 1;
    }
    // message_start, block start, ping, 3 deltas, block stop, message_delta, message_stop
    assert_eq!(reads, 9);
    fake.shutdown().await;
}

#[tokio::test]
async fn calls_record_credentials_headers_and_bodies() {
    let fake = FakeUpstream::start(Script::new()).await;
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    post(
        &fake,
        "/v1/chat/completions",
        ("authorization", "Bearer k1"),
        chat_body(false),
    )
    .await;
    post(
        &fake,
        "/v1/messages",
        ("x-api-key", "k2"),
        anthropic_body(false),
    )
    .await;
    post(&fake, path, ("x-goog-api-key", "k3"), gemini_body()).await;
    client()
        .post(format!("{}{path}?key=k3", fake.url()))
        .header("X-Custom", "Yes")
        .json_body(&gemini_body())
        .send()
        .await
        .unwrap();

    let calls = fake.calls();
    assert_eq!(calls.len(), 4);
    let sources: Vec<CredentialSource> = calls
        .iter()
        .map(|c| c.credential.as_ref().unwrap().source)
        .collect();
    use CredentialSource::*;
    assert_eq!(sources, [Bearer, XApiKey, XGoogApiKey, QueryKey]);
    assert_eq!(calls[3].query, "key=k3");
    assert_eq!(calls[3].header("x-custom"), Some("Yes"));
    assert_eq!(calls[1].method, "POST");
    assert_eq!(
        calls[1].json().unwrap()["model"],
        "claude-sonnet-4-20250514"
    );
    assert!(calls
        .iter()
        .all(|c| c.ended.is_some_and(|end| end >= c.started)));
    assert_eq!(
        (
            fake.count_for("k1"),
            fake.count_for("k2"),
            fake.count_for("k3")
        ),
        (1, 1, 2)
    );
    assert_eq!(fake.count(":generateContent"), 2);
    fake.shutdown().await;
}

#[tokio::test]
async fn request_headers_override_the_script() {
    let fake = FakeUpstream::start(Script::new()).await;
    let request = |headers: &[(&str, &str)]| {
        let mut builder = client()
            .post(format!("{}/v1/messages", fake.url()))
            .header(ANTHROPIC.0, ANTHROPIC.1);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.json_body(&anthropic_body(true)).send()
    };
    let response = request(&[("x-fake-status", "503")]).await.unwrap();
    assert_eq!(response.status(), 503);
    let error: Value = response.json_value().await;
    assert_eq!(error["error"]["type"], "api_error");
    let response = request(&[("x-fake-chunks", "2"), ("x-fake-delay-ms", "1")])
        .await
        .unwrap();
    let (events, _) = parse_sse(&response.text().await.unwrap());
    assert_eq!(
        events
            .iter()
            .filter(|e| e.name.as_deref() == Some("content_block_delta"))
            .count(),
        2
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn http2_with_prior_knowledge() {
    let fake =
        FakeUpstream::start(Script::new().reply(Reply::ok().chunk_delay(Duration::from_millis(1))))
            .await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/v1/chat/completions", fake.url()))
        .bearer_auth("sk-h2")
        .json_body(&chat_body(true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let (events, _) = parse_sse(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().data, "[DONE]");
    fake.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let fake = FakeUpstream::start(Script::new()).await;
    let addr = fake.addr();
    // A kept-alive connection is open when the fake shuts down.
    let client = client();
    let first = client
        .post(format!("{}/v1/chat/completions", fake.url()))
        .bearer_auth("k")
        .json_body(&chat_body(false))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    tokio::time::timeout(Duration::from_secs(5), fake.shutdown())
        .await
        .expect("shutdown ends");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
    let again = client
        .post(format!("http://{addr}/v1/chat/completions"))
        .json_body(&chat_body(false))
        .send()
        .await;
    assert!(again.is_err());
}

/// Starts the `switchyard-mock` binary with `args` and reads the URL it prints.
async fn spawn_mock(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard-mock"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the mock starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the mock prints its URL");
        line.trim().to_owned()
    })
    .await
    .expect("the reader ends");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

/// Sends SIGTERM to the mock and asserts it exits with status 0.
async fn stop_mock(mut child: std::process::Child) {
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("the waiter ends")
        .expect("the mock is waited for");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_mock_binary_prints_its_url_serves_and_exits_on_sigterm() {
    let (child, url) = spawn_mock(&[
        "--listen",
        "127.0.0.1:0",
        "--chunks",
        "2",
        "--text",
        "bench",
    ])
    .await;
    let (events, _) = {
        let response = client()
            .post(format!("{url}/v1/chat/completions"))
            .bearer_auth("bench")
            .json_body(&chat_body(true))
            .send()
            .await
            .unwrap();
        parse_sse(&response.text().await.unwrap())
    };
    let text: String = events[1..3]
        .iter()
        .map(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "bench");
    stop_mock(child).await;
}

#[tokio::test]
async fn the_mock_binary_answers_requests_with_tools_with_the_tool_call_it_was_given() {
    let (child, url) = spawn_mock(&["--tool-call", r#"get_weather:{"city":"Paris"}"#]).await;
    let mut body = anthropic_body(false);
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
    let message = client()
        .post(format!("{url}/v1/messages"))
        .header(ANTHROPIC.0, ANTHROPIC.1)
        .json_body(&body)
        .send()
        .await
        .unwrap()
        .json_value()
        .await;
    assert_eq!(message["stop_reason"], "tool_use");
    assert_eq!(message["content"][0]["name"], "get_weather");
    assert_eq!(message["content"][0]["input"], json!({"city": "Paris"}));
    // Without tools on offer the answer is the echo.
    let message = client()
        .post(format!("{url}/v1/messages"))
        .header(ANTHROPIC.0, ANTHROPIC.1)
        .json_body(&anthropic_body(false))
        .send()
        .await
        .unwrap()
        .json_value()
        .await;
    assert_eq!(message["content"][0]["text"], "Hello, Claude");
    stop_mock(child).await;
}

#[tokio::test]
async fn the_mock_binary_refuses_a_tool_call_without_object_arguments() {
    for spec in ["get_weather", "get_weather:[1]", ":{}", "get_weather:{oops"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard-mock"))
            .args(["--tool-call", spec])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        // A refused flag exits at once; an accepted one would serve until killed.
        let waiter = tokio::task::spawn_blocking(move || child.wait());
        let Ok(status) = tokio::time::timeout(Duration::from_secs(10), waiter).await else {
            std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap();
            panic!("{spec} was accepted: the mock kept running");
        };
        assert_eq!(
            status.unwrap().unwrap().code(),
            Some(2),
            "{spec}: a usage error"
        );
    }
}

//! The gateway in front of the testkit's fake upstream, over real HTTP: every client dialect
//! against every upstream kind, JSON and streams, with tools; failures before the first byte
//! invisible to the client (counted at the fake); failures after it ending in an error event;
//! sticky sessions.

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{client, Gateway};
use switchyard_protocol::ir::{Block, Collector, Response, StreamEvent};
use switchyard_protocol::{translate, Dialect};
use switchyard_testkit::{FakeUpstream, Plan, Reply, Script};

const KINDS: [&str; 4] = ["openai", "anthropic", "gemini", "openai-responses"];

fn base_url(kind: &str, fake: &FakeUpstream) -> String {
    match kind {
        "openai" | "openai-responses" => format!("{}/v1", fake.url()),
        _ => fake.url(),
    }
}

/// One provider of `kind` with the given credentials, serving every model.
fn config(kind: &str, fake: &FakeUpstream, creds: &[&str], extra: &str) -> String {
    let creds: Vec<String> = creds
        .iter()
        .map(|c| format!("{{ name = \"{c}\", secret = \"{c}\" }}"))
        .collect();
    format!(
        r#"
[[providers]]
name = "up"
kind = "{kind}"
base_url = "{}"
credentials = [{}]
{extra}

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"#,
        base_url(kind, fake),
        creds.join(", ")
    )
}

fn ask(dialect: Dialect, stream: bool, tools: bool) -> (String, Value) {
    let mut body = match dialect {
        Dialect::Anthropic => json!({"model": "model-x", "max_tokens": 64, "stream": stream,
            "messages": [{"role": "user", "content": "hello upstream"}]}),
        Dialect::OpenAiChat => json!({"model": "model-x", "stream": stream,
            "messages": [{"role": "user", "content": "hello upstream"}]}),
        Dialect::Responses => {
            json!({"model": "model-x", "stream": stream, "input": "hello upstream"})
        }
        Dialect::Gemini => {
            json!({"contents": [{"role": "user", "parts": [{"text": "hello upstream"}]}]})
        }
    };
    if stream && dialect == Dialect::OpenAiChat {
        body["stream_options"] = json!({"include_usage": true});
    }
    if tools {
        let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
        match dialect {
            Dialect::Anthropic => {
                body["tools"] = json!([{"name": "get_weather", "description": "Weather", "input_schema": schema}])
            }
            Dialect::OpenAiChat => {
                body["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": schema}}])
            }
            Dialect::Responses => {
                body["tools"] = json!([{"type": "function", "name": "get_weather", "description": "Weather", "parameters": schema}])
            }
            Dialect::Gemini => {
                body["tools"] = json!([{"functionDeclarations": [{"name": "get_weather", "description": "Weather", "parameters": schema}]}])
            }
        }
    }
    let path = match (dialect, stream) {
        (Dialect::Anthropic, _) => "/v1/messages".to_string(),
        (Dialect::OpenAiChat, _) => "/v1/chat/completions".to_string(),
        (Dialect::Responses, _) => "/v1/responses".to_string(),
        (Dialect::Gemini, false) => "/v1beta/models/model-x:generateContent".to_string(),
        (Dialect::Gemini, true) => {
            "/v1beta/models/model-x:streamGenerateContent?alt=sse".to_string()
        }
    };
    (path, body)
}

/// Sends and reads the answer back into the IR (streams collected).
async fn call(
    gw: &Gateway,
    dialect: Dialect,
    stream: bool,
    tools: bool,
    session: Option<&str>,
) -> (u16, Result<Response, String>, Vec<u8>) {
    let (path, body) = ask(dialect, stream, tools);
    let mut req = client().post(format!("{}{path}", gw.url)).json(&body);
    if let Some(s) = session {
        req = req.header("x-session-id", s);
    }
    let resp = req.send().await.expect("test request");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("test request").to_vec();
    if status != 200 {
        return (
            status,
            Err(String::from_utf8_lossy(&bytes).into_owned()),
            bytes,
        );
    }
    let answer = if stream {
        match translate::stream_events(dialect, &bytes) {
            Ok(events) => {
                if let Some(StreamEvent::Error(e)) =
                    events.iter().find(|e| matches!(e, StreamEvent::Error(_)))
                {
                    Err(e.message.clone())
                } else {
                    switchyard_protocol::ir::check_well_formed(&events).expect("test request");
                    let mut c = Collector::new();
                    events.iter().for_each(|e| c.push(e));
                    Ok(c.finish())
                }
            }
            Err(e) => Err(e.to_string()),
        }
    } else {
        dialect.decode_response(&bytes).map_err(|e| e.to_string())
    };
    (status, answer, bytes)
}

fn text(r: &Response) -> String {
    r.content
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn every_client_dialect_reaches_every_upstream_kind() {
    let fake = FakeUpstream::start(Script::new()).await;
    for kind in KINDS {
        let gw = Gateway::start(&config(kind, &fake, &["k1"], "")).await;
        for dialect in Dialect::ALL {
            for stream in [false, true] {
                let label = format!("{dialect:?} -> {kind} stream={stream}");
                let (status, answer, raw) = call(&gw, dialect, stream, false, None).await;
                assert_eq!(status, 200, "{label}: {}", String::from_utf8_lossy(&raw));
                let answer = answer.unwrap_or_else(|e| panic!("{label}: {e}"));
                assert_eq!(text(&answer), "hello upstream", "{label}");
                assert!(
                    answer.usage.output_tokens > 0,
                    "{label}: {:?}",
                    answer.usage
                );
            }
        }
        let records = gw.stop().await;
        assert_eq!(records.len(), 8, "{kind}");
        for r in &records {
            assert_eq!(r.status, 200, "{kind}: {r:?}");
            assert_eq!(r.credential, "k1");
            assert!(r.input_tokens > 0 && r.output_tokens > 0, "{kind}: {r:?}");
            assert_eq!(r.retries, 0);
        }
    }
}

#[tokio::test]
async fn tool_calls_cross_every_pair() {
    let fake = FakeUpstream::start(
        Script::new().reply(Reply::ok().tool_call("get_weather", r#"{"city":"Paris"}"#)),
    )
    .await;
    for kind in KINDS {
        let gw = Gateway::start(&config(kind, &fake, &["k1"], "")).await;
        for dialect in Dialect::ALL {
            for stream in [false, true] {
                let label = format!("{dialect:?} -> {kind} stream={stream}");
                let (status, answer, raw) = call(&gw, dialect, stream, true, None).await;
                assert_eq!(status, 200, "{label}: {}", String::from_utf8_lossy(&raw));
                let answer = answer.unwrap_or_else(|e| panic!("{label}: {e}"));
                let call = answer
                    .content
                    .iter()
                    .find_map(|b| match b {
                        Block::ToolUse(t) => Some(t),
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("{label}: no tool call in {answer:?}"));
                assert_eq!(call.name, "get_weather", "{label}");
                assert_eq!(call.input, json!({"city": "Paris"}), "{label}");
                assert_eq!(
                    answer.stop_reason,
                    Some(switchyard_protocol::ir::StopReason::ToolUse),
                    "{label}"
                );
            }
        }
        gw.stop().await;
    }
}

#[tokio::test]
async fn a_429_before_the_first_byte_is_invisible_and_the_credential_cools_down() {
    let fake = FakeUpstream::start(Script::new().credential("k1", Reply::rate_limited(30))).await;
    let gw = Gateway::start(&config("openai", &fake, &["k1", "k2", "k3"], "")).await;
    for stream in [false, true] {
        let (status, answer, _) =
            call(&gw, Dialect::Anthropic, stream, false, Some("conv-1")).await;
        assert_eq!(status, 200);
        assert_eq!(text(&answer.unwrap()), "hello upstream");
    }
    // k1 was tried once, then cooled down for its retry-after: never asked again.
    assert_eq!(fake.count_for("k1"), 1);
    assert_eq!(fake.count_for("k2") + fake.count_for("k3"), 2);
    let records = gw.stop().await;
    assert_eq!(records[0].retries, 1);
    assert_ne!(records[0].credential, "k1");
}

#[tokio::test]
async fn server_errors_hangs_and_refused_connections_are_retried_invisibly() {
    // k1 answers 500, k2 hangs before its first byte, k3 works.
    let fake = FakeUpstream::start(
        Script::new()
            .credential("k1", Reply::error(500))
            .credential("k2", Reply::hang()),
    )
    .await;
    let extra = r#"timeouts = { first_byte = "300ms" }"#;
    let gw = Gateway::start(&config("anthropic", &fake, &["k1", "k2", "k3"], extra)).await;
    for stream in [false, true] {
        let (status, answer, raw) = call(&gw, Dialect::OpenAiChat, stream, false, None).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
        assert_eq!(text(&answer.unwrap()), "hello upstream");
    }
    assert!(fake.count_for("k3") >= 2);
    gw.stop().await;

    // A provider nobody listens on, then a working one: the refusal is invisible.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let two = format!(
        r#"
[[providers]]
name = "dead"
kind = "openai"
base_url = "{dead_url}/v1"
credentials = [{{ name = "d1", secret = "d1" }}]

[[providers]]
name = "up"
kind = "openai"
base_url = "{}/v1"
credentials = [{{ name = "k9", secret = "k9" }}]

[[routes]]
model = "*"
targets = [{{ provider = "dead" }}, {{ provider = "up" }}]
"#,
        fake.url()
    );
    let gw = Gateway::start(&two).await;
    let (status, answer, _) = call(&gw, Dialect::Gemini, false, false, None).await;
    assert_eq!(status, 200, "{answer:?}");
    assert_eq!(text(&answer.unwrap()), "hello upstream");
    let records = gw.stop().await;
    assert_eq!(records[0].provider, "up");
    assert_eq!(records[0].retries, 1);
}

#[tokio::test]
async fn when_every_credential_is_limited_the_client_gets_429_with_retry_after() {
    let fake = FakeUpstream::start(Script::new().reply(Reply::rate_limited(20))).await;
    let gw = Gateway::start(&config("openai", &fake, &["k1", "k2"], "")).await;
    let (path, body) = ask(Dialect::Anthropic, false, false);
    let resp = client()
        .post(format!("{}{path}", gw.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(fake.count(""), 2, "each credential tried once");
    gw.stop().await;
}

#[tokio::test]
async fn client_errors_are_returned_as_they_are_without_retry() {
    let fake = FakeUpstream::start(Script::new().reply(Reply::error(400))).await;
    let gw = Gateway::start(&config("openai", &fake, &["k1", "k2"], "")).await;
    let (status, answer, _) = call(&gw, Dialect::OpenAiChat, false, false, None).await;
    assert_eq!(status, 400);
    assert!(answer.is_err());
    assert_eq!(fake.count(""), 1, "a client error is not retried");
    // Cross-dialect: the upstream's 400 comes back in the caller's dialect.
    let (status, answer, raw) = call(&gw, Dialect::Anthropic, false, false, None).await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error", "{answer:?}");
    gw.stop().await;
}

#[tokio::test]
async fn a_failure_after_the_first_byte_ends_the_stream_with_an_error_event() {
    let fake = FakeUpstream::start(
        Script::new().reply(
            Reply::ok()
                .text("one two three four five six")
                .chunks(6)
                .drop_after(3),
        ),
    )
    .await;
    for kind in ["openai", "anthropic"] {
        let gw = Gateway::start(&config(kind, &fake, &["k1", "k2"], "")).await;
        for dialect in Dialect::ALL {
            let (status, answer, raw) = call(&gw, dialect, true, false, None).await;
            assert_eq!(status, 200, "{dialect:?} <- {kind}");
            let message = answer.expect_err("the stream must end in an error event");
            assert!(!message.is_empty(), "{}", String::from_utf8_lossy(&raw));
        }
        let records = gw.stop().await;
        assert!(
            records
                .iter()
                .all(|r| r.error_class.as_deref() == Some("stream_error")),
            "{records:?}"
        );
        // No retry after commit: one call per request.
    }
    assert_eq!(fake.count(""), 8);
}

#[tokio::test]
async fn a_conversation_sticks_to_its_credential_and_rebinds_after_a_429() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = Gateway::start(&config("openai", &fake, &["k1", "k2", "k3"], "")).await;
    for _ in 0..4 {
        let (status, _, _) = call(&gw, Dialect::OpenAiChat, false, false, Some("conv-a")).await;
        assert_eq!(status, 200);
    }
    let records = gw.records().await;
    let creds: Vec<&str> = records.iter().map(|r| r.credential.as_str()).collect();
    assert!(creds.windows(2).all(|w| w[0] == w[1]), "sticky: {creds:?}");
    let bound = creds[0].to_string();
    // The bound credential starts answering 429: the conversation moves and stays moved.
    fake.set_script(
        Script::new().credential(bound.clone(), Plan::first(1, Reply::rate_limited(1))),
    );
    for _ in 0..3 {
        let (status, _, _) = call(&gw, Dialect::OpenAiChat, false, false, Some("conv-a")).await;
        assert_eq!(status, 200);
    }
    // After the cooldown, the old credential is usable again; the conversation stays put.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, _) = call(&gw, Dialect::OpenAiChat, false, false, Some("conv-a")).await;
    assert_eq!(status, 200);
    let records = gw.stop().await;
    let after: Vec<&str> = records[4..].iter().map(|r| r.credential.as_str()).collect();
    assert!(
        after.iter().all(|c| *c != bound),
        "rebound away from {bound}: {after:?}"
    );
    assert!(
        after.windows(2).all(|w| w[0] == w[1]),
        "no snapping back: {after:?}"
    );
}

#[tokio::test]
async fn embeddings_pass_through_to_openai_compatible_upstreams() {
    let fake = FakeUpstream::start(Script::new().credential("k1", Reply::error(503))).await;
    let toml = format!(
        r#"
[[providers]]
name = "emb"
kind = "openai"
base_url = "{}/v1"
credentials = [{{ name = "k1", secret = "k1" }}, {{ name = "k2", secret = "k2" }}]

[[routes]]
model = "embed-*"
targets = [{{ provider = "emb", model = "text-embedding-3-small" }}]
"#,
        fake.url()
    );
    let gw = Gateway::start(&toml).await;
    let resp = client()
        .post(format!("{}/v1/embeddings", gw.url))
        .json(&json!({"model": "embed-small", "input": ["hello", "world"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["data"].as_array().expect("data").len(), 2, "{v}");
    // The 503 on k1 was invisible; the model was rewritten for the upstream.
    let calls = fake.calls();
    let last = calls.last().expect("a call");
    let sent: Value = serde_json::from_slice(&last.body).expect("json body");
    assert_eq!(sent["model"], "text-embedding-3-small");
    assert_eq!(fake.count("/embeddings"), 2);
    let records = gw.stop().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].retries, 1);
}

/// A stream re-encoded for its upstream (here because its `max_tokens` is clamped) still asks
/// the upstream for usage when the client did not, so the request is recorded with its tokens,
/// and the client still gets no usage chunk it did not ask for.
#[tokio::test]
async fn a_re_encoded_stream_asks_for_the_usage_its_client_did_not() {
    let fake = FakeUpstream::start(Script::new()).await;
    let models = "[[models]]\nname = \"model-*\"\nmax_output_tokens = 1000\n";
    let gw = Gateway::start(&config("openai", &fake, &["k1"], models)).await;
    let text = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(
            &json!({"model": "model-x", "max_tokens": 5000, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(!text.contains("\"usage\":{"), "{text}");
    let calls = fake.calls();
    let sent: Value = serde_json::from_slice(&calls[0].body).expect("json");
    assert_eq!(sent["max_tokens"], 1000, "{sent}");
    assert_eq!(sent["stream_options"]["include_usage"], true, "{sent}");
    let records = gw.stop().await;
    assert_eq!(records.len(), 1);
    assert!(records[0].output_tokens > 0, "{:?}", records[0]);
}

#[tokio::test]
async fn max_tokens_is_clamped_to_the_models_limit_and_the_cost_is_recorded() {
    let fake = FakeUpstream::start(Script::new()).await;
    let models = r#"
[[models]]
name = "model-*"
max_output_tokens = 1000
price = { input = 1.5, output = 2.0 }
"#;
    for kind in KINDS {
        let up = match kind {
            "openai" => Dialect::OpenAiChat,
            "anthropic" => Dialect::Anthropic,
            "gemini" => Dialect::Gemini,
            _ => Dialect::Responses,
        };
        let gw = Gateway::start(&config(kind, &fake, &["k1"], models)).await;
        // Over the limit, from a same-dialect client and from another dialect.
        for (path, body) in [
            (
                "/v1/messages",
                json!({"model": "model-x", "max_tokens": 5000,
                    "messages": [{"role": "user", "content": "hi"}]}),
            ),
            (
                "/v1/chat/completions",
                json!({"model": "model-x", "max_tokens": 5000,
                    "messages": [{"role": "user", "content": "hi"}]}),
            ),
            (
                "/v1/responses",
                json!({"model": "model-x", "max_output_tokens": 5000, "input": "hi"}),
            ),
            (
                "/v1beta/models/model-x:generateContent",
                json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                    "generationConfig": {"maxOutputTokens": 5000}}),
            ),
        ] {
            let before = fake.calls().len();
            let resp = client()
                .post(format!("{}{path}", gw.url))
                .json(&body)
                .send()
                .await
                .expect("request");
            assert_eq!(resp.status(), 200, "{kind} {path}");
            let calls = fake.calls();
            assert_eq!(calls.len(), before + 1, "{kind} {path}");
            let sent = up
                .decode_request(&calls[before].body)
                .unwrap_or_else(|e| panic!("{kind} {path}: {e}"));
            assert_eq!(sent.sampling.max_tokens, Some(1000), "{kind} {path}");
        }
        let records = gw.stop().await;
        assert_eq!(records.len(), 4);
        for r in &records {
            let expect = (r.input_tokens as f64 * 1.5 + r.output_tokens as f64 * 2.0).round();
            assert!(r.output_tokens > 0, "{r:?}");
            assert_eq!(r.cost_micros, expect as i64, "{kind}: {r:?}");
        }
    }

    // A client that names no limit gets the usual default within the model's limit
    // (Anthropic needs one).
    let gw = Gateway::start(&config("anthropic", &fake, &["k1"], models)).await;
    let before = fake.calls().len();
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "model-x", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let sent = Dialect::Anthropic
        .decode_request(&fake.calls()[before].body)
        .expect("anthropic body");
    assert_eq!(sent.sampling.max_tokens, Some(1000));
    gw.stop().await;
}

#[tokio::test]
async fn token_counts_are_forwarded_to_upstreams_that_count_and_estimated_elsewhere() {
    let fake = FakeUpstream::start(Script::new().credential("broken", Reply::error(500))).await;
    let anthropic_body = json!({"model": "model-x", "max_tokens": 64, "system": "be brief",
        "messages": [{"role": "user", "content": "how many tokens is this?"}]});
    let gemini_body = json!({"contents": [{"role": "user", "parts": [{"text": "how many?"}]}]});
    let count = |gw: &Gateway, dialect: Dialect| {
        let (path, body, field) = match dialect {
            Dialect::Anthropic => ("/v1/messages/count_tokens", &anthropic_body, "input_tokens"),
            _ => (
                "/v1beta/models/model-x:countTokens",
                &gemini_body,
                "totalTokens",
            ),
        };
        let req = client().post(format!("{}{path}", gw.url)).json(body);
        async move {
            let resp = req.send().await.expect("request");
            assert_eq!(resp.status(), 200);
            let v: Value = resp.json().await.expect("json");
            v[field].as_u64().unwrap_or_else(|| panic!("{v}"))
        }
    };
    for kind in ["anthropic", "gemini"] {
        let gw = Gateway::start(&config(kind, &fake, &["k1"], "")).await;
        for dialect in [Dialect::Anthropic, Dialect::Gemini] {
            let label = format!("{dialect:?} client -> {kind}");
            let before = fake.calls().len();
            let got = count(&gw, dialect).await;
            let calls = fake.calls();
            assert_eq!(calls.len(), before + 1, "{label}: one upstream count");
            let sent = &calls[before];
            assert!(sent.path.contains("ount"), "{label}: {}", sent.path);
            // The fake counts a quarter of the body it received.
            assert_eq!(got, sent.body.len() as u64 / 4, "{label}");
            let body: Value = serde_json::from_slice(&sent.body).expect("json body");
            if kind == "anthropic" {
                assert!(body.get("max_tokens").is_none(), "{label}: {body}");
                assert_eq!(body["model"], "model-x", "{label}");
            } else {
                assert_eq!(
                    body["generateContentRequest"]["model"], "models/model-x",
                    "{label}"
                );
            }
        }
        gw.stop().await;
    }
    // No counting endpoint (OpenAI) or a failing upstream: the estimate answers.
    for (kind, creds) in [("openai", ["k1"]), ("anthropic", ["broken"])] {
        let gw = Gateway::start(&config(kind, &fake, &creds, "")).await;
        let before = fake.count("count_tokens");
        assert!(count(&gw, Dialect::Anthropic).await > 0, "{kind}");
        let expected_calls = usize::from(kind == "anthropic");
        assert_eq!(fake.count("count_tokens"), before + expected_calls);
        gw.stop().await;
    }
}

#[tokio::test]
async fn gemini_streams_without_alt_sse_come_as_a_json_array() {
    let fake = FakeUpstream::start(Script::new()).await;
    for kind in ["gemini", "openai"] {
        let gw = Gateway::start(&config(kind, &fake, &["k1"], "")).await;
        let body = json!({"contents": [{"role": "user", "parts": [{"text": "hello upstream"}]}]});
        for path in [
            "/v1beta/models/model-x:streamGenerateContent",
            "/v1beta/models/model-x:streamGenerateContent?alt=json",
        ] {
            let resp = client()
                .post(format!("{}{path}", gw.url))
                .json(&body)
                .send()
                .await
                .expect("request");
            assert_eq!(resp.status(), 200, "{kind} {path}");
            assert_eq!(
                resp.headers()["content-type"],
                "application/json",
                "{kind} {path}"
            );
            let raw = resp.bytes().await.expect("body");
            let items: Vec<Value> = serde_json::from_slice(&raw).unwrap_or_else(|e| {
                panic!("{kind} {path}: {e}: {}", String::from_utf8_lossy(&raw))
            });
            assert!(items.len() > 1, "{kind}: streamed in pieces: {items:?}");
            let text: String = items
                .iter()
                .filter_map(|i| i.pointer("/candidates/0/content/parts/0/text"))
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(text, "hello upstream", "{kind} {path}");
            assert!(
                items.iter().any(|i| i.get("usageMetadata").is_some()),
                "{kind}: usage arrives in the array"
            );
        }
        let records = gw.stop().await;
        assert!(
            records.iter().all(|r| r.stream && r.output_tokens > 0),
            "{records:?}"
        );
    }
}

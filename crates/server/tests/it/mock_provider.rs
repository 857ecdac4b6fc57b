//! The gateway on its built-in mock provider, over real HTTP: every client dialect, JSON and
//! streams, the headers every answer carries, and one usage record per request.

use crate::support;

use serde_json::{json, Value};
use support::{client, Gateway, MOCK_ONLY};
use switchyard_protocol::ir::{Block, Collector};
use switchyard_protocol::{translate, Dialect};

/// (dialect, path, body) asking "hello gateway" of model `m`.
fn ask(dialect: Dialect, stream: bool) -> (String, Value) {
    match dialect {
        Dialect::Anthropic => (
            "/v1/messages".into(),
            json!({"model": "m", "max_tokens": 50, "stream": stream,
                   "messages": [{"role": "user", "content": "hello gateway"}]}),
        ),
        Dialect::OpenAiChat if stream => (
            "/v1/chat/completions".into(),
            json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
                   "messages": [{"role": "user", "content": "hello gateway"}]}),
        ),
        Dialect::OpenAiChat => (
            "/v1/chat/completions".into(),
            json!({"model": "m", "messages": [{"role": "user", "content": "hello gateway"}]}),
        ),
        Dialect::Responses => (
            "/v1/responses".into(),
            json!({"model": "m", "stream": stream, "input": "hello gateway"}),
        ),
        Dialect::Gemini => (
            if stream {
                "/v1beta/models/m:streamGenerateContent?alt=sse".into()
            } else {
                "/v1beta/models/m:generateContent".into()
            },
            json!({"contents": [{"role": "user", "parts": [{"text": "hello gateway"}]}]}),
        ),
    }
}

fn text_of(resp: &switchyard_protocol::ir::Response) -> String {
    resp.content
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn every_dialect_gets_json_and_streams_from_the_mock() {
    let gw = Gateway::start(MOCK_ONLY).await;
    let http = client();
    for dialect in Dialect::ALL {
        for stream in [false, true] {
            let (path, body) = ask(dialect, stream);
            let resp = http
                .post(format!("{}{path}", gw.url))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{dialect:?} stream={stream}");
            assert!(resp.headers().contains_key("x-request-id"));
            let overhead: f64 = resp.headers()["x-switchyard-overhead-ms"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(overhead >= 0.0);
            let bytes = resp.bytes().await.unwrap();
            let answer = if stream {
                let events = translate::stream_events(dialect, &bytes).unwrap();
                switchyard_protocol::ir::check_well_formed(&events).unwrap();
                let mut c = Collector::new();
                events.iter().for_each(|e| c.push(e));
                c.finish()
            } else {
                dialect.decode_response(&bytes).unwrap()
            };
            assert_eq!(
                text_of(&answer),
                "hello gateway",
                "{dialect:?} stream={stream}"
            );
            assert!(
                answer.usage.output_tokens > 0,
                "{dialect:?} stream={stream}"
            );
        }
    }
    let records = gw.stop().await;
    assert_eq!(records.len(), 8, "one usage record per request");
    for r in &records {
        assert_eq!(r.status, 200);
        assert_eq!(r.provider, "mock");
        assert!(r.input_tokens > 0 && r.output_tokens > 0, "{r:?}");
        assert!(r.error_class.is_none());
    }
}

#[tokio::test]
async fn reachability_probes_and_health() {
    let gw = Gateway::start(MOCK_ONLY).await;
    let http = client();
    let head = http.head(format!("{}/", gw.url)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let health: Value = http
        .get(format!("{}/health", gw.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    let ready = http.get(format!("{}/ready", gw.url)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    gw.stop().await;
}

#[tokio::test]
async fn anthropic_beta_query_and_gemini_path_prefixes_are_accepted() {
    let gw = Gateway::start(MOCK_ONLY).await;
    let http = client();
    let (_, body) = ask(Dialect::Anthropic, false);
    let r = http
        .post(format!("{}/v1/messages?beta=true", gw.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, body) = ask(Dialect::Gemini, false);
    for prefix in ["/v1beta", "/v1", ""] {
        let r = http
            .post(format!(
                "{}{prefix}/models/gemini-2.5-flash:generateContent",
                gw.url
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "prefix {prefix:?}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn count_tokens_endpoints_estimate() {
    let gw = Gateway::start(MOCK_ONLY).await;
    let http = client();
    let (_, body) = ask(Dialect::Anthropic, false);
    let v: Value = http
        .post(format!("{}/v1/messages/count_tokens", gw.url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["input_tokens"].as_u64().unwrap() > 0, "{v}");
    let (_, body) = ask(Dialect::Gemini, false);
    let v: Value = http
        .post(format!(
            "{}/v1beta/models/gemini-2.5-pro:countTokens",
            gw.url
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["totalTokens"].as_u64().unwrap() > 0, "{v}");
    gw.stop().await;
}

#[tokio::test]
async fn a_stream_without_include_usage_gets_no_usage_chunk_but_is_recorded() {
    let gw = Gateway::start(MOCK_ONLY).await;
    let body = json!({"model": "m", "stream": true,
                      "messages": [{"role": "user", "content": "hello gateway"}]});
    let text = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("\"usage\""), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let records = gw.stop().await;
    assert_eq!(records.len(), 1);
    assert!(records[0].output_tokens > 0, "{:?}", records[0]);
}

//! The bad-input table of `docs/errors.md`, one test per row: each bad request gets the right
//! status and an error body in the caller's dialect, and the gateway keeps serving.

use crate::support;

use serde_json::{json, Value};
use support::{client, Gateway};
use switchyard_core::keys::{format_key, hash_secret, ApiKey};
use switchyard_protocol::Dialect;
use switchyard_server::state::Limits;

const CONFIG: &str = r#"
[[providers]]
name = "mock"
kind = "mock"

[[providers]]
name = "gem"
kind = "gemini"
base_url = "http://127.0.0.1:9"
credentials = [{ name = "g", secret = "g" }]

[[routes]]
model = "claude-*"
targets = [{ provider = "mock" }]

[[routes]]
model = "gpt-*"
targets = [{ provider = "mock" }]

[[routes]]
model = "gemini-*"
targets = [{ provider = "gem" }]
"#;

fn path(dialect: Dialect, model: &str) -> String {
    match dialect {
        Dialect::Anthropic => "/v1/messages".into(),
        Dialect::OpenAiChat => "/v1/chat/completions".into(),
        Dialect::Responses => "/v1/responses".into(),
        Dialect::Gemini => format!("/v1beta/models/{model}:generateContent"),
    }
}

fn good_body(dialect: Dialect, model: &str) -> Value {
    match dialect {
        Dialect::Anthropic => {
            json!({"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
        }
        Dialect::OpenAiChat => {
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        }
        Dialect::Responses => json!({"model": model, "input": "hi"}),
        Dialect::Gemini => json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    }
}

/// Checks the error body has the caller's dialect's shape.
fn assert_dialect_error(dialect: Dialect, status: u16, body: &Value, label: &str) {
    match dialect {
        Dialect::Anthropic => {
            assert_eq!(body["type"], "error", "{label}: {body}");
            assert!(body["error"]["type"].is_string(), "{label}: {body}");
            assert!(body["error"]["message"].is_string(), "{label}: {body}");
        }
        Dialect::OpenAiChat | Dialect::Responses => {
            assert!(body["error"]["message"].is_string(), "{label}: {body}");
            assert!(body["error"]["type"].is_string(), "{label}: {body}");
        }
        Dialect::Gemini => {
            assert_eq!(body["error"]["code"], status, "{label}: {body}");
            assert!(body["error"]["status"].is_string(), "{label}: {body}");
        }
    }
}

/// Sends raw bytes as `dialect`, expects `status`, then proves the gateway still serves.
async fn expect(
    gw: &Gateway,
    dialect: Dialect,
    model: &str,
    body: Vec<u8>,
    key: Option<&str>,
    status: u16,
    mention: &str,
) {
    let label = format!("{dialect:?} expecting {status}");
    let mut req = client()
        .post(format!("{}{}", gw.url, path(dialect, model)))
        .header("content-type", "application/json")
        .body(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.expect("test request");
    assert_eq!(resp.status().as_u16(), status, "{label}");
    let v: Value = resp.json().await.expect("test request");
    assert_dialect_error(dialect, status, &v, &label);
    let text = v.to_string();
    assert!(
        text.contains(mention),
        "{label}: {text} should mention {mention:?}"
    );
    assert!(!text.contains("sy-"), "{label}: no key material in errors");
}

async fn still_serving(gw: &Gateway, key: Option<&str>) {
    for dialect in Dialect::ALL {
        let model = "claude-x";
        let mut req = client()
            .post(format!("{}{}", gw.url, path(dialect, model)))
            .json(&good_body(dialect, model));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        assert_eq!(
            req.send().await.expect("test request").status(),
            200,
            "{dialect:?} after bad input"
        );
    }
}

#[tokio::test]
async fn malformed_json() {
    let gw = Gateway::start(CONFIG).await;
    let trailing = |d| {
        let mut body = serde_json::to_vec(&good_body(d, "claude-x")).expect("a body");
        body.extend_from_slice(b" {}");
        body
    };
    for d in Dialect::ALL {
        let cut = b"{\"model\": \"claude-x\", ".to_vec();
        expect(&gw, d, "claude-x", cut, None, 400, "EOF").await;
        expect(
            &gw,
            d,
            "claude-x",
            trailing(d),
            None,
            400,
            "trailing characters",
        )
        .await;
    }
    // A body to be forwarded to its own dialect's upstream is read only at the door, which
    // must refuse it before any upstream is tried (this one is unreachable).
    let forwarded = trailing(Dialect::Gemini);
    let mention = "trailing characters";
    expect(
        &gw,
        Dialect::Gemini,
        "gemini-x",
        forwarded,
        None,
        400,
        mention,
    )
    .await;
    still_serving(&gw, None).await;
    gw.stop().await;
}

#[tokio::test]
async fn wrong_types_name_the_field() {
    let gw = Gateway::start(CONFIG).await;
    let cases = [
        (
            Dialect::Anthropic,
            json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": 7}]}),
            "messages[0].content",
        ),
        (
            Dialect::OpenAiChat,
            json!({"model": "gpt-x", "messages": "hi"}),
            "messages",
        ),
        (
            Dialect::Responses,
            json!({"model": "gpt-x", "input": 5}),
            "input",
        ),
        (
            Dialect::Gemini,
            json!({"contents": [{"role": "user", "parts": 3}]}),
            "contents[0].parts",
        ),
    ];
    // Every model here is served through the IR (the mock), which reads the whole body. A
    // body forwarded as bytes to an upstream of its own dialect is checked at the door for
    // UTF-8, JSON and its model only: its shape is the upstream's to judge (docs/errors.md).
    for (d, body, field) in cases {
        expect(
            &gw,
            d,
            "claude-x",
            serde_json::to_vec(&body).unwrap(),
            None,
            400,
            field,
        )
        .await;
    }
    still_serving(&gw, None).await;
    gw.stop().await;
}

#[tokio::test]
async fn unknown_model() {
    let gw = Gateway::start(CONFIG).await;
    for d in Dialect::ALL {
        let body = serde_json::to_vec(&good_body(d, "llama-9000")).unwrap();
        expect(&gw, d, "llama-9000", body, None, 404, "llama-9000").await;
    }
    still_serving(&gw, None).await;
    gw.stop().await;
}

#[tokio::test]
async fn body_over_the_limit() {
    let limits = Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    };
    let gw = Gateway::start_with(CONFIG, Vec::new(), limits).await;
    for d in Dialect::ALL {
        let mut body = good_body(d, "claude-x");
        body["padding"] = json!("x".repeat(4096));
        expect(
            &gw,
            d,
            "claude-x",
            serde_json::to_vec(&body).unwrap(),
            None,
            413,
            "1024",
        )
        .await;
    }
    still_serving(&gw, None).await;
    gw.stop().await;
}

#[tokio::test]
async fn invalid_utf8() {
    let gw = Gateway::start(CONFIG).await;
    for d in Dialect::ALL {
        let mut body = serde_json::to_vec(&good_body(d, "claude-x")).unwrap();
        let at = body.iter().position(|&c| c == b'h').unwrap();
        body[at] = 0xff;
        expect(&gw, d, "claude-x", body.clone(), None, 400, "UTF-8").await;
        if d == Dialect::Gemini {
            // Forwarded as bytes to a Gemini upstream, yet refused at the door all the same.
            expect(&gw, d, "gemini-x", body, None, 400, "UTF-8").await;
        }
    }
    still_serving(&gw, None).await;
    gw.stop().await;
}

fn key(id: &str, secret: &str, expires: Option<i64>, revoked: Option<i64>) -> ApiKey {
    ApiKey {
        id: id.into(),
        name: id.into(),
        secret_hash: hash_secret(secret),
        models: vec![],
        created_at_ms: 0,
        expires_at_ms: expires,
        revoked_at_ms: revoked,
    }
}

#[tokio::test]
async fn missing_invalid_revoked_and_expired_keys() {
    let keys = vec![
        key("good", "s3cret", None, None),
        key("gone", "s3cret", None, Some(1)),
        key("old", "s3cret", Some(1), None),
    ];
    let gw = Gateway::start_with(CONFIG, keys, Limits::default()).await;
    let good = format_key("good", "s3cret");
    for d in Dialect::ALL {
        let body = || serde_json::to_vec(&good_body(d, "claude-x")).unwrap();
        expect(&gw, d, "claude-x", body(), None, 401, "missing API key").await;
        expect(
            &gw,
            d,
            "claude-x",
            body(),
            Some("sk-not-ours"),
            401,
            "invalid API key",
        )
        .await;
        expect(
            &gw,
            d,
            "claude-x",
            body(),
            Some(&format_key("good", "wrong")),
            401,
            "invalid API key",
        )
        .await;
        expect(
            &gw,
            d,
            "claude-x",
            body(),
            Some(&format_key("gone", "s3cret")),
            401,
            "revoked",
        )
        .await;
        expect(
            &gw,
            d,
            "claude-x",
            body(),
            Some(&format_key("old", "s3cret")),
            401,
            "expired",
        )
        .await;
    }
    still_serving(&gw, Some(&good)).await;
    // Each dialect's own header works too.
    let r = client()
        .post(format!("{}/v1/messages", gw.url))
        .header("x-api-key", &good)
        .json(&good_body(Dialect::Anthropic, "claude-x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .post(format!(
            "{}/v1beta/models/claude-x:generateContent?key={good}",
            gw.url
        ))
        .json(&good_body(Dialect::Gemini, "claude-x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .post(format!("{}/v1beta/models/claude-x:generateContent", gw.url))
        .header("x-goog-api-key", &good)
        .json(&good_body(Dialect::Gemini, "claude-x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    gw.stop().await;
}

#[tokio::test]
async fn content_the_target_cannot_take() {
    let gw = Gateway::start(CONFIG).await;
    // A remote image URL cannot go to Gemini unless the operator enables fetching.
    let body = json!({"model": "gemini-pro", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "text", "text": "what is it?"}
    ]}]});
    expect(
        &gw,
        Dialect::OpenAiChat,
        "gemini-pro",
        serde_json::to_vec(&body).unwrap(),
        None,
        400,
        "remote image URL",
    )
    .await;
    still_serving(&gw, None).await;
    gw.stop().await;
}

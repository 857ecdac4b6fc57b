//! Forwarded streams after commit are sniffed, not decoded: usage, failure and a proper end
//! must still be read right however the upstream's bytes are split, including a whole answer
//! in the first read (decoded before the sniffer takes over) and a stream cut short after it.

use crate::support;

use serde_json::json;
use support::{client, openai_chunk, Gateway, OPENAI_USAGE};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// An upstream that answers every request with `parts`, each written (and flushed) at once,
/// then closes the connection.
async fn raw_upstream(parts: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let parts = parts.clone();
            tokio::spawn(async move {
                support::open_event_stream(&mut sock).await;
                for p in parts {
                    let _ = sock.write_all(p.as_bytes()).await;
                    let _ = sock.flush().await;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

async fn run(parts: Vec<String>) -> (String, switchyard_core::usage::UsageRecord) {
    let url = raw_upstream(parts).await;
    let gw = Gateway::start(&format!(
        r#"
[[providers]]
name = "up"
kind = "openai"
base_url = "{url}/v1"
credentials = [{{ name = "k", secret = "k" }}]

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"#
    ))
    .await;
    let body = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(
            &json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let mut records = gw.stop().await;
    (body, records.pop().expect("a record"))
}

#[tokio::test]
async fn a_whole_answer_in_the_first_read_is_complete() {
    let all = [
        openai_chunk("Hello", None),
        openai_chunk(" there", Some("stop")),
        OPENAI_USAGE.to_string(),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat();
    let (body, record) = run(vec![all.clone()]).await;
    assert_eq!(body, all, "forwarded byte for byte");
    assert_eq!((record.input_tokens, record.output_tokens), (11, 7));
    assert_eq!(record.error_class, None, "{record:?}");
}

#[tokio::test]
async fn a_finish_reason_read_early_needs_no_done() {
    let first = [openai_chunk("Hello", None), openai_chunk("!", Some("stop"))].concat();
    let (body, record) = run(vec![first, OPENAI_USAGE.to_string()]).await;
    assert!(!body.contains("\"error\""), "{body}");
    assert_eq!(record.output_tokens, 7);
    assert_eq!(record.error_class, None, "{record:?}");
}

#[tokio::test]
async fn a_stream_cut_short_after_commit_ends_with_an_error() {
    let (body, record) = run(vec![
        openai_chunk("Hello", None),
        openai_chunk(" wor", None),
    ])
    .await;
    assert!(body.contains("Hello") && body.contains(" wor"), "{body}");
    assert!(body.contains("ended before completion"), "{body}");
    assert_eq!(record.error_class.as_deref(), Some("stream_error"));
}

#[tokio::test]
async fn usage_arriving_after_commit_is_recorded() {
    let (body, record) = run(vec![
        openai_chunk("Hello", None),
        openai_chunk(" there", Some("stop")),
        OPENAI_USAGE.to_string(),
        "data: [DONE]\n\n".to_string(),
    ])
    .await;
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    assert_eq!((record.input_tokens, record.output_tokens), (11, 7));
    assert_eq!(record.error_class, None);
}

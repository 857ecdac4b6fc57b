//! A committed stream whose upstream falls silent: the client gets pings in its dialect while
//! the upstream is quiet, an error event once the silence passes the provider's idle limit,
//! and a client that leaves mid-stream still leaves its usage record.

use std::time::Duration;

use crate::support;

use serde_json::json;
use support::{client, eventually, openai_chunk, Gateway, OPENAI_USAGE};
use switchyard_core::usage::UsageRecord;
use switchyard_server::state::Limits;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// An upstream that answers with `first`, waits `pause` (forever when `None`), then sends
/// `rest` and closes.
async fn pausing_upstream(first: String, pause: Option<Duration>, rest: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (first, rest) = (first.clone(), rest.clone());
            tokio::spawn(async move {
                support::open_event_stream(&mut sock).await;
                let _ = sock.write_all(first.as_bytes()).await;
                match pause {
                    Some(pause) => tokio::time::sleep(pause).await,
                    None => std::future::pending::<()>().await,
                }
                let _ = sock.write_all(rest.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

async fn gateway(url: &str, idle: &str) -> Gateway {
    let limits = Limits {
        ping_interval: Duration::from_millis(100),
        ..Limits::default()
    };
    Gateway::start_with(
        &format!(
            r#"
[[providers]]
name = "up"
kind = "openai"
base_url = "{url}/v1"
timeouts = {{ idle = "{idle}" }}
credentials = [{{ name = "k", secret = "k" }}]

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"#
        ),
        Vec::new(),
        limits,
    )
    .await
}

fn request(gw: &Gateway) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .timeout(Duration::from_secs(30))
        .json(
            &json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "hi"}]}),
        )
}

/// The whole streamed answer, and the request's usage record once the gateway has stopped.
async fn answer(gw: Gateway) -> (String, UsageRecord) {
    let body = request(&gw)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let record = gw.stop().await.pop().expect("a record");
    (body, record)
}

#[tokio::test]
async fn a_quiet_upstream_gets_the_client_pings_and_then_the_rest() {
    let rest = [
        openai_chunk(" there", Some("stop")),
        OPENAI_USAGE.to_string(),
        "data: [DONE]\n\n".into(),
    ]
    .concat();
    let url = pausing_upstream(
        openai_chunk("Hello", None),
        Some(Duration::from_millis(700)),
        rest,
    )
    .await;
    let (body, record) = answer(gateway(&url, "30s").await).await;
    let hello = body.find("Hello").expect("first chunk");
    let there = body.find(" there").expect("the rest");
    let pings = body[hello..there].matches("ping").count();
    assert!(pings >= 3, "pings while the upstream was quiet: {body}");
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    assert_eq!((record.input_tokens, record.output_tokens), (11, 7));
    assert_eq!(record.error_class, None, "{record:?}");
}

#[tokio::test]
async fn a_silence_past_the_idle_limit_ends_the_stream_with_an_error_event() {
    let url = pausing_upstream(openai_chunk("Hello", None), None, String::new()).await;
    let (body, record) = answer(gateway(&url, "600ms").await).await;
    assert!(body.contains("Hello"), "{body}");
    assert!(body.contains("ping"), "pinged before giving up: {body}");
    assert!(body.contains("went silent"), "{body}");
    assert_eq!(
        record.error_class.as_deref(),
        Some("stream_error"),
        "{record:?}"
    );
}

#[tokio::test]
async fn a_client_leaving_mid_stream_leaves_a_record() {
    let url = pausing_upstream(openai_chunk("Hello", None), None, String::new()).await;
    let gw = gateway(&url, "30s").await;
    let mut resp = request(&gw).send().await.expect("request");
    let first = resp.chunk().await.expect("read").expect("a first chunk");
    assert!(String::from_utf8_lossy(&first).contains("Hello"));
    drop(resp);
    let recorded = eventually(Duration::from_secs(5), || async {
        gw.records()
            .await
            .iter()
            .any(|r| r.error_class.as_deref() == Some("client_closed"))
    })
    .await;
    assert!(recorded, "{:?}", gw.records().await);
    let record = gw.stop().await.pop().expect("a record");
    assert_eq!(record.status, 200);
    assert_eq!(record.error_class.as_deref(), Some("client_closed"));
}

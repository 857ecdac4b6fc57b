//! No chunk is held back: the gateway forwards each upstream stream chunk before the next one
//! exists. The upstream here is gated by the client: it writes content chunk k only after the
//! test has seen chunk k-1 arrive at the client through the gateway. A gateway that buffered
//! even one chunk (waiting for more bytes, batching frames, holding a translated event back)
//! would wait for a chunk the upstream never sends, so the test would deadlock and fail at its
//! bound. Nothing here measures time; the bound only turns a deadlock into a failure.
//!
//! Cases: the same dialect (OpenAI client → OpenAI upstream, bytes forwarded as they are, and
//! re-framed without the usage chunk the client did not ask for) and every other client
//! dialect translated from the same OpenAI upstream.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use support::{client, Gateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Content chunks per stream.
const CHUNKS: usize = 8;

/// The text of content chunk `k`: unique, and no marker contains another.
fn marker(k: usize) -> String {
    format!("[k{k:02}]")
}

/// An OpenAI Chat Completions SSE frame.
fn frame(data: serde_json::Value) -> String {
    format!("data: {data}\n\n")
}

fn content_frame(k: usize) -> String {
    let mut delta = json!({"content": marker(k)});
    if k == 0 {
        // The first frame carries the role too, so the gateway's commit point (the first
        // meaningful event) is the first chunk and nothing before it needs the gate.
        delta["role"] = json!("assistant");
    }
    frame(json!({
        "id": "chatcmpl-gated", "object": "chat.completion.chunk", "created": 1,
        "model": "gated-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": null}],
    }))
}

/// What follows the last content chunk, sent without a gate: the finish reason, the usage
/// chunk and the end marker. (A translating encoder may rightly wait for the usage before
/// closing its message, so these are not gated.)
fn closing_frames() -> String {
    let finish = frame(json!({
        "id": "chatcmpl-gated", "object": "chat.completion.chunk", "created": 1,
        "model": "gated-model",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }));
    let usage = frame(json!({
        "id": "chatcmpl-gated", "object": "chat.completion.chunk", "created": 1,
        "model": "gated-model", "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": CHUNKS, "total_tokens": 5 + CHUNKS},
    }));
    format!("{finish}{usage}data: [DONE]\n\n")
}

/// Reads one HTTP/1.1 request (head and `content-length` body) and discards it.
async fn read_request(sock: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    Ok(())
}

/// One chunk of an HTTP/1.1 chunked body, written and flushed on its own.
async fn write_chunk(sock: &mut TcpStream, data: &str) -> std::io::Result<()> {
    sock.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
        .await?;
    sock.flush().await
}

/// A hand-written OpenAI upstream that answers one streamed request, writing content chunk k
/// only after `gate` has delivered k permits (one per chunk the client has seen).
async fn gated_upstream(listener: TcpListener, mut gate: mpsc::UnboundedReceiver<()>) {
    let Ok((mut sock, _)) = listener.accept().await else {
        return;
    };
    let _ = sock.set_nodelay(true);
    if read_request(&mut sock).await.is_err() {
        return;
    }
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for k in 0..CHUNKS {
        if k > 0 && gate.recv().await.is_none() {
            return;
        }
        if write_chunk(&mut sock, &content_frame(k)).await.is_err() {
            return;
        }
    }
    if gate.recv().await.is_none() {
        return;
    }
    let _ = write_chunk(&mut sock, &closing_frames()).await;
    let _ = write_chunk(&mut sock, "").await;
}

/// Streams one request of `dialect` through a gateway in front of the gated upstream; fails
/// (at the bound) if any content chunk is held back, or if the stream does not end well.
async fn no_chunk_held_back(label: &str, path: &str, body: serde_json::Value, done_mark: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("test setup");
    let upstream_url = format!("http://{}/v1", listener.local_addr().expect("test setup"));
    let (open_gate, gate) = mpsc::unbounded_channel();
    let upstream = tokio::spawn(gated_upstream(listener, gate));
    let gw = Gateway::start(&format!(
        r#"
[[providers]]
name = "gated"
kind = "openai"
base_url = "{upstream_url}"
credentials = [{{ name = "k", secret = "none" }}]

[[routes]]
model = "*"
targets = [{{ provider = "gated" }}]
"#
    ))
    .await;

    let seen = Arc::new(AtomicUsize::new(0));
    let seen_in = seen.clone();
    let url = format!("{}{path}", gw.url);
    let read = async move {
        let resp = client()
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(resp.status(), 200);
        let mut received = Vec::new();
        let mut chunks = resp.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            received.extend_from_slice(&chunk.expect("the stream reads"));
            let text = String::from_utf8_lossy(&received);
            // Open the gate once per newly seen chunk, in order.
            while seen_in.load(Ordering::SeqCst) < CHUNKS
                && text.contains(&marker(seen_in.load(Ordering::SeqCst)))
            {
                seen_in.fetch_add(1, Ordering::SeqCst);
                let _ = open_gate.send(());
            }
        }
        String::from_utf8_lossy(&received).into_owned()
    };
    let text = match tokio::time::timeout(Duration::from_secs(20), read).await {
        Ok(text) => text,
        Err(_) => panic!(
            "{label}: deadlock — the client saw {} of {CHUNKS} chunks; the gateway is holding \
             chunk {} back until the upstream sends more",
            seen.load(Ordering::SeqCst),
            seen.load(Ordering::SeqCst)
        ),
    };
    assert_eq!(seen.load(Ordering::SeqCst), CHUNKS, "{label}: {text}");
    assert!(
        text.contains(done_mark),
        "{label}: the stream did not end with {done_mark:?}: {text}"
    );
    upstream.await.expect("the upstream task ends");
    gw.stop().await;
}

#[tokio::test]
async fn same_dialect_stream_forwards_each_chunk_as_it_arrives() {
    let messages = json!([{"role": "user", "content": "count"}]);
    no_chunk_held_back(
        "openai → openai (passthrough)",
        "/v1/chat/completions",
        json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
               "messages": messages}),
        "[DONE]",
    )
    .await;
    no_chunk_held_back(
        "openai → openai (usage stripped)",
        "/v1/chat/completions",
        json!({"model": "m", "stream": true, "messages": messages}),
        "[DONE]",
    )
    .await;
}

#[tokio::test]
async fn cross_dialect_stream_forwards_each_chunk_as_it_arrives() {
    no_chunk_held_back(
        "anthropic → openai",
        "/v1/messages",
        json!({"model": "m", "max_tokens": 64, "stream": true,
               "messages": [{"role": "user", "content": "count"}]}),
        "message_stop",
    )
    .await;
    no_chunk_held_back(
        "responses → openai",
        "/v1/responses",
        json!({"model": "m", "stream": true, "input": "count"}),
        "response.completed",
    )
    .await;
    no_chunk_held_back(
        "gemini → openai",
        "/v1beta/models/m:streamGenerateContent?alt=sse",
        json!({"contents": [{"role": "user", "parts": [{"text": "count"}]}]}),
        "\"finishReason\"",
    )
    .await;
}

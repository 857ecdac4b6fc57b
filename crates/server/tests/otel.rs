//! Trace export (feature `otel`): every finished request becomes one OTLP span with the GenAI
//! semantic-convention attributes, received by a collector over real HTTP.
#![cfg(feature = "otel")]

#[path = "it/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use serde_json::json;
use support::{client, Gateway, MOCK_ONLY};
use switchyard_server::telemetry::Telemetry;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_a_span_with_gen_ai_attributes() {
    let bodies = Arc::new(Mutex::new(Vec::<String>::new()));
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            post(
                |State(b): State<Arc<Mutex<Vec<String>>>>, body: String| async move {
                    b.lock().expect("lock").push(body);
                    "{}"
                },
            ),
        )
        .with_state(Arc::clone(&bodies));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let gw = Gateway::start(MOCK_ONLY).await;
    let telemetry = Telemetry::start(&collector).expect("exporter");
    let _ = gw.state.telemetry.set(telemetry);
    let resp = client()
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "traced-model", "max_tokens": 16,
            "messages": [{"role": "user", "content": "trace me"}]}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    // Flush (the exporter sends from its own thread, with a blocking client).
    tokio::task::block_in_place(|| {
        if let Some(t) = gw.state.telemetry.get() {
            t.shutdown();
        }
    });
    gw.stop().await;

    let all = bodies.lock().expect("lock").join("\n");
    for needle in [
        "\"chat traced-model\"",
        "gen_ai.operation.name",
        "gen_ai.request.model",
        "traced-model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "switchyard.request_id",
        "\"switchyard\"",
    ] {
        assert!(
            all.contains(needle),
            "{needle} missing from the export:\n{all}"
        );
    }
    assert!(!all.contains("trace me"), "no prompt text in traces");
}

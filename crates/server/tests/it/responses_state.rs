//! Responses API state kept by the gateway: `previous_response_id` rebuilds the conversation
//! for upstreams without such state (and for those with it), `store: false` keeps nothing, and
//! an unknown id is a 400 in the Responses dialect. JSON and streams, over real HTTP.

use crate::support;

use serde_json::{json, Value};
use support::{client, Gateway};
use switchyard_store::{Engine, Store};
use switchyard_testkit::{FakeUpstream, Reply, Script};

fn config(kind: &str, fake: &FakeUpstream) -> String {
    let base = match kind {
        "openai-responses" => format!("{}/v1", fake.url()),
        _ => fake.url(),
    };
    format!(
        r#"
[[providers]]
name = "up"
kind = "{kind}"
base_url = "{base}"
credentials = [{{ name = "k1", secret = "k1" }}]

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"#
    )
}

async fn gateway(kind: &str, fake: &FakeUpstream) -> Gateway {
    let gw = Gateway::start(&config(kind, fake)).await;
    let store = Store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    gw.state.clone().with_store(store);
    gw
}

/// Posts to `/v1/responses`; the status and the body (JSON, or the SSE text as a string).
async fn post(gw: &Gateway, body: Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/v1/responses", gw.url))
        .json(&body)
        .send()
        .await
        .expect("gateway answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// The response id of an answer: the JSON `id`, or the first `"id":"resp_..."` of a stream.
fn response_id(answer: &Value) -> String {
    if let Some(id) = answer["id"].as_str() {
        return id.to_string();
    }
    let text = answer.as_str().expect("stream text");
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find_map(|v| v["response"]["id"].as_str().map(str::to_string))
        .expect("a response id in the stream")
}

/// Waits until the save spawned after the answer has landed (it runs off the client's path).
async fn stored(gw: &Gateway, id: &str) {
    let store = gw.state.store().expect("a response store");
    for _ in 0..200 {
        if store.get_response(id, 0).await.expect("store").is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("response {id} was never stored");
}

#[tokio::test]
async fn previous_response_id_rebuilds_the_conversation_for_any_upstream() {
    for kind in ["anthropic", "openai-responses"] {
        for stream in [false, true] {
            let fake =
                FakeUpstream::start(Script::new().reply(Reply::ok().text("ANSWER-ONE"))).await;
            let gw = gateway(kind, &fake).await;
            let (status, first) = post(
                &gw,
                json!({"model": "m", "stream": stream, "input": "FIRST-QUESTION"}),
            )
            .await;
            assert_eq!(status, 200, "{kind} stream={stream}: {first}");
            let id = response_id(&first);
            stored(&gw, &id).await;

            let (status, second) = post(
                &gw,
                json!({"model": "m", "stream": stream, "input": "SECOND-QUESTION",
                       "previous_response_id": id}),
            )
            .await;
            assert_eq!(status, 200, "{kind} stream={stream}: {second}");
            let calls = fake.calls();
            assert_eq!(calls.len(), 2);
            let sent = String::from_utf8_lossy(&calls[1].body).into_owned();
            for needle in ["FIRST-QUESTION", "ANSWER-ONE", "SECOND-QUESTION"] {
                assert!(sent.contains(needle), "{kind} stream={stream}: {sent}");
            }
            assert!(
                !sent.contains("previous_response_id"),
                "{kind} stream={stream}: the id is resolved here, not forwarded: {sent}"
            );

            // The second answer continues the chain in turn.
            let id2 = response_id(&second);
            stored(&gw, &id2).await;
            let (status, _) = post(
                &gw,
                json!({"model": "m", "input": "THIRD", "previous_response_id": id2}),
            )
            .await;
            assert_eq!(status, 200);
            let third = String::from_utf8_lossy(&fake.calls()[2].body).into_owned();
            assert!(third.contains("FIRST-QUESTION") && third.contains("SECOND-QUESTION"));
            gw.stop().await;
        }
    }
}

#[tokio::test]
async fn an_unknown_previous_response_is_a_400_in_the_responses_dialect() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway("anthropic", &fake).await;
    let (status, body) = post(
        &gw,
        json!({"model": "m", "input": "hi", "previous_response_id": "resp_nope"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("resp_nope"), "{message}");
    assert_eq!(fake.calls().len(), 0, "nothing reaches the upstream");
    gw.stop().await;
}

#[tokio::test]
async fn store_false_keeps_nothing() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway("openai-responses", &fake).await;
    let (status, first) = post(&gw, json!({"model": "m", "input": "hi", "store": false})).await;
    assert_eq!(status, 200, "{first}");
    let id = response_id(&first);
    // A later stored answer shows saving works; the unstored one must still be unknown.
    let (_, later) = post(&gw, json!({"model": "m", "input": "later"})).await;
    stored(&gw, &response_id(&later)).await;
    let (status, body) = post(
        &gw,
        json!({"model": "m", "input": "again", "previous_response_id": id}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    gw.stop().await;
}

/// The quick-start mock keeps Responses state too: a second turn names the first.
#[tokio::test]
async fn the_mock_provider_keeps_responses_state() {
    let gw = Gateway::start(support::MOCK_ONLY).await;
    let store = Store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    gw.state.clone().with_store(store);
    for stream in [false, true] {
        let (status, first) = post(
            &gw,
            json!({"model": "m", "stream": stream, "input": "first turn"}),
        )
        .await;
        assert_eq!(status, 200, "{first}");
        let id = response_id(&first);
        stored(&gw, &id).await;
        let (status, second) = post(
            &gw,
            json!({"model": "m", "previous_response_id": id, "input": "second turn"}),
        )
        .await;
        assert_eq!(status, 200, "{second}");
        // The mock echoes the last user message: the rebuilt history ends with the new turn.
        assert_eq!(
            second["output"][0]["content"][0]["text"], "second turn",
            "{second}"
        );
    }
    gw.stop().await;
}

//! Fault injection: the gateway in front of the testkit's fake upstream over real HTTP, one test
//! per failure the resilience mechanisms exist for. Each asserts what clients saw (status, body,
//! nothing duplicated or missing, a generous latency bound), what the upstream saw (calls per
//! credential) and the usage recorded. Waits for states the gateway reaches by itself use
//! `eventually` with generous bounds; no assertion depends on how fast a machine is.

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{client, eventually, Gateway};
use switchyard_server::state::Limits;
use switchyard_testkit::{FakeUpstream, Plan, Reply, Script};
use tokio::time::Instant;

/// Every answer here arrives well within this, on any machine; it only catches hangs.
const LATENCY_BOUND: Duration = Duration::from_secs(10);

/// One OpenAI-style provider with credentials `creds` behind one `*` route.
fn config(fake: &FakeUpstream, creds: &[&str], route: &str, extra: &str) -> String {
    let creds: Vec<String> = creds
        .iter()
        .map(|c| format!("{{ name = \"{c}\", secret = \"{c}\" }}"))
        .collect();
    format!(
        r#"
{extra}

[[providers]]
name = "up"
kind = "openai"
base_url = "{}/v1"
credentials = [{}]
{}

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
{route}
"#,
        fake.url(),
        creds.join(", "),
        "timeouts = { first_byte = \"400ms\" }",
    )
}

/// What one chat request came to, as the client saw it.
#[derive(Debug)]
struct Seen {
    status: u16,
    body: String,
    retry_after: Option<u64>,
    elapsed: Duration,
}

impl Seen {
    /// The answer's text (JSON or collected from the stream's deltas), checked whole.
    fn text(&self) -> String {
        if self.body.starts_with("data:") || self.body.contains("\ndata:") {
            let mut out = String::new();
            for line in self.body.lines() {
                let Some(data) = line.strip_prefix("data: ") else {
                    continue;
                };
                if data == "[DONE]" {
                    continue;
                }
                let v: Value = serde_json::from_str(data).expect("stream chunk is JSON");
                if let Some(t) = v
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                {
                    out.push_str(t);
                }
            }
            out
        } else {
            let v: Value = serde_json::from_str(&self.body).expect("JSON answer");
            v.pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        }
    }
}

async fn chat(gw: &Gateway, model: &str, text: &str, stream: bool) -> Seen {
    let body = json!({"model": model, "stream": stream,
        "messages": [{"role": "user", "content": text}]});
    let started = Instant::now();
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&body)
        .send()
        .await
        .expect("gateway answers");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = resp.text().await.expect("body arrives whole");
    let seen = Seen {
        status,
        body,
        retry_after,
        elapsed: started.elapsed(),
    };
    assert!(seen.elapsed < LATENCY_BOUND, "{seen:?}");
    seen
}

/// Asserts a successful answer carries exactly the echoed text, once.
fn assert_served(seen: &Seen, text: &str) {
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.text(), text, "{seen:?}");
}

fn credential_of(gw: &Gateway, name: &str) -> Value {
    let _ = gw;
    Value::String(name.to_string())
}

async fn circuit_state(gw: &Gateway, credential: &str) -> String {
    let v = gw.admin("resilience/circuits").await;
    v["circuits"]
        .as_array()
        .expect("circuits")
        .iter()
        .find(|c| c["credential"] == credential_of(gw, credential))
        .and_then(|c| c["state"].as_str())
        .unwrap_or_default()
        .to_string()
}

async fn health_status(gw: &Gateway, credential: &str) -> (String, String) {
    let v = gw.admin("resilience/health").await;
    let m = v["providers"][0]["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["credential"] == credential)
        .cloned()
        .unwrap_or_default();
    (
        m["status"].as_str().unwrap_or_default().to_string(),
        m["reason"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn one_of_three_credentials_answering_429_with_retry_after_is_skipped_until_it_cools() {
    let fake = FakeUpstream::start(Script::new().credential("k1", Reply::rate_limited(30))).await;
    let gw = Gateway::start(&config(
        &fake,
        &["k1", "k2", "k3"],
        "strategy = \"round-robin\"",
        "",
    ))
    .await;
    for i in 0..12 {
        let text = format!("request {i}");
        let seen = chat(&gw, "m", &text, i % 2 == 1).await;
        assert_served(&seen, &text);
    }
    // k1 was asked once; its 30 s cooldown kept it out afterwards.
    assert_eq!(fake.count_for("k1"), 1);
    assert_eq!(fake.count_for("k2") + fake.count_for("k3"), 12);
    let quota = gw.admin("resilience/quota").await;
    let k1 = &quota["quota"][0];
    assert_eq!(k1["credential"], "k1");
    assert!(
        k1["cooldown_in_ms"].as_u64().is_some_and(|ms| ms > 20_000),
        "{k1}"
    );
    assert_eq!(k1["last_retry_after_ms"], 30_000);

    let records = gw.stop().await;
    assert_eq!(records.len(), 12);
    assert!(records
        .iter()
        .all(|r| r.status == 200 && r.credential != "k1"));
    assert_eq!(records.iter().map(|r| r.retries).sum::<u32>(), 1);
    fake.shutdown().await;
}

#[tokio::test]
async fn a_credential_answering_500s_is_ejected_probed_and_returned() {
    let fake = FakeUpstream::start(Script::new().credential(
        "k1",
        Plan::first(3, Reply::error(500)).then_always(Reply::ok()),
    ))
    .await;
    let extra = "[resilience]\nbreaker = { consecutive_failures = 3, base_ejection = \"500ms\" }";
    let gw = Gateway::start(&config(
        &fake,
        &["k1", "k2", "k3"],
        "strategy = \"round-robin\"",
        extra,
    ))
    .await;
    let mut n = 0;
    // Until k1 has failed three times (each failure retried invisibly elsewhere).
    while fake.count_for("k1") < 3 {
        let text = format!("warm {n}");
        assert_served(&chat(&gw, "m", &text, n % 2 == 0).await, &text);
        n += 1;
        assert!(n < 30, "k1 should have been tried by now");
    }
    assert_eq!(circuit_state(&gw, "k1").await, "open");
    // Ejected: traffic goes elsewhere, k1 sees nothing.
    for i in 0..4 {
        let text = format!("while ejected {i}");
        assert_served(&chat(&gw, "m", &text, false).await, &text);
    }
    assert_eq!(fake.count_for("k1"), 3);
    // Once the ejection runs out, a probe goes to k1, succeeds, and k1 is back.
    let back = eventually(LATENCY_BOUND, || async {
        let text = "probe time";
        assert_served(&chat(&gw, "m", text, false).await, text);
        circuit_state(&gw, "k1").await == "closed"
    })
    .await;
    assert!(back, "k1 should be probed and closed again");
    assert!(fake.count_for("k1") >= 4);

    let records = gw.stop().await;
    assert!(records.iter().all(|r| r.status == 200), "{records:?}");
    assert!(
        records.iter().any(|r| r.credential == "k1"),
        "k1 served after returning"
    );
    let retried: u32 = records.iter().map(|r| r.retries).sum();
    assert_eq!(retried, 3, "one retry per failure of k1");
    fake.shutdown().await;
}

#[tokio::test]
async fn a_credential_hanging_before_the_first_byte_is_skipped_within_the_first_byte_timeout() {
    let fake = FakeUpstream::start(Script::new().credential("k1", Reply::hang())).await;
    let gw = Gateway::start(&config(
        &fake,
        &["k1", "k2", "k3"],
        "strategy = \"round-robin\"",
        "",
    ))
    .await;
    for i in 0..6 {
        let text = format!("request {i}");
        let seen = chat(&gw, "m", &text, i % 2 == 0).await;
        assert_served(&seen, &text);
    }
    // Each hang cost one first-byte timeout, then another credential answered.
    let hung = fake.count_for("k1");
    assert!((1..=3).contains(&hung), "k1 asked {hung} times");
    let circuits = gw.admin("resilience/circuits").await;
    assert_eq!(circuits["circuits"][0]["consecutive_failures"], hung);
    let aimd = gw.admin("resilience/aimd").await;
    assert!(
        aimd["aimd"][0]["limit"].as_u64().is_some_and(|l| l < 16),
        "a timeout is overload: {aimd}"
    );

    let records = gw.stop().await;
    assert_eq!(records.len(), 6);
    assert!(records
        .iter()
        .all(|r| r.status == 200 && r.credential != "k1"));
    assert_eq!(
        records.iter().map(|r| r.retries as usize).sum::<usize>(),
        hung
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn every_credential_exhausted_with_the_queue_off_is_a_429_with_retry_after() {
    let fake = FakeUpstream::start(Script::new().reply(Reply::rate_limited(20))).await;
    let gw = Gateway::start(&config(&fake, &["k1", "k2", "k3"], "", "")).await;
    let seen = chat(&gw, "m", "hello", false).await;
    assert_eq!(seen.status, 429, "{seen:?}");
    assert!(
        seen.retry_after.is_some_and(|s| (1..=20).contains(&s)),
        "{seen:?}"
    );
    let body: Value = serde_json::from_str(&seen.body).expect("OpenAI error body");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert_eq!(fake.count("/chat/completions"), 3);

    // In the caller's dialect, at once, without asking the upstream again.
    let resp = client()
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "m", "max_tokens": 16,
            "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.expect("Anthropic error body");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(fake.count("/chat/completions"), 3);

    let records = gw.stop().await;
    assert_eq!(records.len(), 2);
    assert!(records
        .iter()
        .all(|r| r.status == 429 && r.error_class.as_deref() == Some("rate_limited")));
    fake.shutdown().await;
}

#[tokio::test]
async fn every_credential_exhausted_with_the_queue_on_is_served_once_a_cooldown_ends() {
    let limited_once = || Plan::first(1, Reply::rate_limited(1)).then_always(Reply::ok());
    let script = || {
        Script::new()
            .credential("k1", limited_once())
            .credential("k2", limited_once())
            .credential("k3", limited_once())
    };
    let fake = FakeUpstream::start(script()).await;
    let extra = "[resilience]\nqueue = { mode = \"wait\", max_wait = \"8s\" }";
    let gw = Gateway::start(&config(&fake, &["k1", "k2", "k3"], "", extra)).await;
    for (i, stream) in [true, false].into_iter().enumerate() {
        fake.set_script(script());
        let text = format!("patient {i}");
        let seen = chat(&gw, "m", &text, stream).await;
        assert_served(&seen, &text);
        // It waited for a cooldown of about a second instead of failing.
        assert!(seen.elapsed >= Duration::from_millis(900), "{seen:?}");
    }
    // Each credential: its 429 per round, then one of them served.
    assert_eq!(fake.count("/chat/completions"), 8);
    let queue = gw.admin("resilience/queue").await;
    let pool = &queue["pools"][0];
    assert_eq!(pool["mode"], "wait");
    assert_eq!(pool["depth"], 0);
    assert_eq!(pool["served_after_wait"], 2);
    assert!(
        pool["longest_wait_ms"].as_u64().is_some_and(|ms| ms >= 500),
        "{pool}"
    );

    let records = gw.stop().await;
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r.status == 200 && r.retries == 3),
        "{records:?}"
    );
    fake.shutdown().await;
}

/// The limits of a gateway whose pings come every 100 ms, so that a wait of a second or two
/// spans many.
fn pinging() -> Limits {
    Limits {
        ping_interval: Duration::from_millis(100),
        ..Limits::default()
    }
}

/// Reads a streamed answer chunk by chunk, as the client receives it.
async fn read_stream(resp: reqwest::Response) -> String {
    let mut resp = resp;
    let mut out = String::new();
    while let Some(chunk) = resp.chunk().await.expect("the stream reads to its end") {
        out.push_str(std::str::from_utf8(&chunk).expect("UTF-8 stream"));
    }
    out
}

#[tokio::test]
async fn a_stream_waiting_in_the_queue_gets_its_head_and_pings_then_its_answer() {
    let script = Script::new().credential(
        "k1",
        Plan::first(1, Reply::rate_limited(2)).then_always(Reply::ok()),
    );
    let fake = FakeUpstream::start(script).await;
    let extra = "[resilience]\nqueue = { mode = \"wait\", max_wait = \"8s\" }";
    let gw = Gateway::start_with(&config(&fake, &["k1"], "", extra), Vec::new(), pinging()).await;

    // OpenAI clients: pings are SSE comments, which every SSE parser skips.
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "m", "stream": true,
            "messages": [{"role": "user", "content": "queued"}]}))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert!(resp.headers().contains_key("x-request-id"));
    let body = read_stream(resp).await;
    let first_data = body.find("data:").expect("content arrives");
    let pings_before = body[..first_data].matches(": ping").count();
    assert!(pings_before >= 2, "pings before the answer: {body}");
    let seen = Seen {
        status: 200,
        body: body[first_data..].to_string(),
        retry_after: None,
        elapsed: Duration::ZERO,
    };
    assert_served(&seen, "queued");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");

    // Anthropic clients: `ping` events, the SDKs skip them.
    fake.set_script(Script::new().credential(
        "k1",
        Plan::first(1, Reply::rate_limited(2)).then_always(Reply::ok()),
    ));
    let resp = client()
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "m", "max_tokens": 16, "stream": true,
            "messages": [{"role": "user", "content": "queued"}]}))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(resp.status(), 200);
    let body = read_stream(resp).await;
    let start = body
        .find("event: message_start")
        .expect("the message starts");
    assert!(
        body[..start].matches("event: ping").count() >= 2,
        "pings before the message: {body}"
    );
    let text: String = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v.pointer("/delta/text")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect();
    assert_eq!(text, "queued", "{body}");
    assert!(body.contains("event: message_stop"), "{body}");

    let records = gw.stop().await;
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.status == 200 && r.error_class.is_none() && r.retries == 1),
        "{records:?}"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn a_stream_whose_wait_runs_out_after_its_head_left_ends_with_an_error_event() {
    let fake = FakeUpstream::start(Script::new().reply(Reply::rate_limited(30))).await;
    let extra = "[resilience]\nqueue = { mode = \"wait\", max_wait = \"1s\" }";
    let gw = Gateway::start_with(&config(&fake, &["k1"], "", extra), Vec::new(), pinging()).await;
    let resp = client()
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "m", "max_tokens": 16, "stream": true,
            "messages": [{"role": "user", "content": "never"}]}))
        .send()
        .await
        .expect("gateway answers");
    // The head left while the request waited: the refusal comes as the dialect's error event.
    assert_eq!(resp.status(), 200);
    let body = read_stream(resp).await;
    assert!(body.starts_with("event: ping"), "{body}");
    let error = body
        .split("\n\n")
        .find(|frame| frame.starts_with("event: error"))
        .unwrap_or_else(|| panic!("an error event: {body}"));
    let data: Value = serde_json::from_str(
        error
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("error data"),
    )
    .expect("error event is JSON");
    assert_eq!(data["type"], "error");
    assert_eq!(data["error"]["type"], "rate_limit_error", "{data}");
    assert!(!body.contains("message_start"), "{body}");
    // One attempt, then waiting: the upstream was not asked again.
    assert_eq!(fake.count("/chat/completions"), 1);

    let records = gw.stop().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, 429, "{records:?}");
    assert_eq!(records[0].error_class.as_deref(), Some("rate_limited"));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_stream_answered_before_a_ping_interval_keeps_peek_then_commit() {
    // The queue is on but nothing waits: errors keep their status, as without a queue.
    let fake = FakeUpstream::start(Script::new().reply(Reply::error(400))).await;
    let extra = "[resilience]\nqueue = { mode = \"wait\", max_wait = \"8s\" }";
    let gw = Gateway::start_with(&config(&fake, &["k1"], "", extra), Vec::new(), pinging()).await;
    let seen = chat(&gw, "m", "bad", true).await;
    assert_eq!(seen.status, 400, "{seen:?}");
    assert!(!seen.body.contains("ping"), "{seen:?}");
    gw.stop().await;
    fake.shutdown().await;
}

#[tokio::test]
async fn a_client_that_leaves_before_its_answer_still_leaves_a_usage_record() {
    // A slow upstream (within the first-byte timeout) and a client that gives up first; then
    // a queued stream whose client gives up while it waits.
    let fake = FakeUpstream::start(
        Script::new().reply(Reply::ok().first_byte(Duration::from_millis(300))),
    )
    .await;
    let extra = "[resilience]\nqueue = { mode = \"wait\", max_wait = \"8s\" }";
    let gw = Gateway::start_with(&config(&fake, &["k1"], "", extra), Vec::new(), pinging()).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let gone = impatient
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up first: {gone:?}");
    assert!(
        eventually(Duration::from_secs(5), || async {
            gw.records().await.iter().any(|r| r.status == 499)
        })
        .await,
        "a record for the request whose client left"
    );

    fake.set_script(Script::new().reply(Reply::rate_limited(30)));
    let mut resp = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "m", "stream": true,
            "messages": [{"role": "user", "content": "waiting"}]}))
        .send()
        .await
        .expect("the head comes while the request waits");
    let ping = resp.chunk().await.expect("a ping").expect("a ping");
    assert_eq!(&ping[..], b": ping\n\n");
    drop(resp);
    assert!(
        eventually(Duration::from_secs(5), || async {
            gw.records().await.len() == 2
                && gw.admin("resilience/queue").await["pools"][0]["depth"] == 0
        })
        .await,
        "the waiting request left the queue and was recorded"
    );

    let records = gw.stop().await;
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        records
            .iter()
            .all(|r| r.error_class.as_deref() == Some("client_closed") && r.requested_model == "m"),
        "{records:?}"
    );
    assert_eq!(
        (records[0].status, records[0].credential.as_str()),
        (499, "k1")
    );
    // The waiting stream's head (a 200) had left before its client did.
    assert_eq!(records[1].status, 200, "{records:?}");
    fake.shutdown().await;
}

/// Anthropic's opus and sonnet share exhausted credentials; an OpenAI-compatible model serves.
fn fallback_config(fake: &FakeUpstream, enable: &str, global: &str) -> String {
    format!(
        r#"
{global}

[[providers]]
name = "anthropic"
kind = "anthropic"
base_url = "{url}"
credentials = [{{ name = "a1", secret = "a1" }}, {{ name = "a2", secret = "a2" }}]

[[providers]]
name = "compat"
kind = "openai"
base_url = "{url}/v1"
credentials = [{{ name = "o1", secret = "o1" }}]

[[routes]]
model = "claude-opus-*"
targets = [{{ provider = "anthropic" }}]
fallback = ["claude-sonnet-4", "backup"]
{enable}

[[routes]]
model = "claude-sonnet-*"
targets = [{{ provider = "anthropic" }}]

[[routes]]
model = "backup"
targets = [{{ provider = "compat", model = "gpt-backup" }}]
"#,
        url = fake.url()
    )
}

#[tokio::test]
async fn the_primary_model_exhausted_falls_back_and_the_served_model_is_returned() {
    let fake = FakeUpstream::start(
        Script::new()
            .credential("a1", Reply::rate_limited(30))
            .credential("a2", Reply::rate_limited(30)),
    )
    .await;
    let ask = |gw: &Gateway, stream: bool| {
        let url = format!("{}/v1/messages", gw.url);
        async move {
            let resp = client()
                .post(url)
                .json(
                    &json!({"model": "claude-opus-4", "max_tokens": 64, "stream": stream,
                    "messages": [{"role": "user", "content": "fall back please"}]}),
                )
                .send()
                .await
                .expect("gateway answers");
            (resp.status().as_u16(), resp.text().await.expect("body"))
        }
    };

    // Not enabled: the client learns the primary is exhausted.
    let gw = Gateway::start(&fallback_config(&fake, "", "")).await;
    let (status, _) = ask(&gw, false).await;
    assert_eq!(status, 429);
    assert_eq!(fake.count_for("o1"), 0);
    gw.stop().await;

    for (enable, global) in [
        ("fallback_enabled = true", ""),
        ("", "[resilience]\nfallback = true"),
    ] {
        let gw = Gateway::start(&fallback_config(&fake, enable, global)).await;
        let (status, body) = ask(&gw, false).await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("Anthropic answer");
        assert_eq!(v["model"], "gpt-backup", "{v}");
        assert_eq!(v["content"][0]["text"], "fall back please");
        let (status, body) = ask(&gw, true).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"model\":\"gpt-backup\""), "{body}");
        assert_eq!(
            body.matches("fall back please").count(),
            0,
            "text arrives in pieces"
        );
        let records = gw.stop().await;
        assert_eq!(records.len(), 2);
        for r in &records {
            assert_eq!(r.status, 200);
            assert_eq!(r.requested_model, "claude-opus-4");
            assert_eq!(r.served_model, "gpt-backup");
            assert_eq!(
                (r.provider.as_str(), r.credential.as_str()),
                ("compat", "o1")
            );
        }
    }
    // The anthropic credentials were asked once each, in the first gateway; later gateways
    // have fresh pools, so each asked again once per credential.
    assert_eq!(fake.count_for("a1") + fake.count_for("a2"), 6);
    fake.shutdown().await;
}

#[tokio::test]
async fn an_upstream_whose_capacity_halves_mid_run_converges_without_a_429_storm() {
    let answer = |capacity| {
        Reply::ok()
            .first_byte(Duration::from_millis(150))
            .capacity(capacity)
    };
    let fake = FakeUpstream::start(Script::new().reply(answer(12))).await;
    let extra = "[resilience]\naimd = { decrease_interval = \"100ms\" }\nqueue = { mode = \"wait\", max_wait = \"9s\" }";
    let gw = Gateway::start(&config(
        &fake,
        &["k1", "k2"],
        "strategy = \"balance\"",
        extra,
    ))
    .await;
    let gw = std::sync::Arc::new(gw);
    let round = |label: &'static str, per_client: usize| {
        let gw = std::sync::Arc::clone(&gw);
        async move {
            let workers: Vec<_> = (0..16)
                .map(|w| {
                    let gw = std::sync::Arc::clone(&gw);
                    tokio::spawn(async move {
                        for i in 0..per_client {
                            let text = format!("{label} {w} {i}");
                            assert_served(&chat(&gw, "m", &text, i % 2 == 0).await, &text);
                        }
                    })
                })
                .collect();
            for w in workers {
                w.await.expect("client task");
            }
        }
    };
    // 16 clients on two credentials of capacity 12: never over.
    round("before", 4).await;
    assert_eq!(fake.over_capacity(), 0);
    // Capacity halves to 6 per credential: the limits are cut to fit.
    fake.set_script(Script::new().reply(answer(6)));
    round("during", 6).await;
    let converging = fake.over_capacity();
    round("after", 6).await;
    let settled = fake.over_capacity() - converging;
    eprintln!("upstream refusals: {converging} while converging, {settled} once converged");
    // 96 requests each: a storm would refuse a quarter of them (8 in flight per credential
    // against 6); probing upward costs about one refusal per credential per cycle.
    assert!(converging <= 40, "{converging} refusals while converging");
    assert!(settled <= 16, "{settled} refusals once converged");
    let aimd = gw.admin("resilience/aimd").await;
    for c in aimd["aimd"].as_array().expect("aimd") {
        let limit = c["limit"].as_u64().expect("limit");
        assert!((1..=8).contains(&limit), "{c}");
    }
    let gw = std::sync::Arc::into_inner(gw).expect("clients are done");
    let records = gw.stop().await;
    assert_eq!(records.len(), 16 * 16);
    assert!(records.iter().all(|r| r.status == 200));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_retry_storm_is_contained_by_the_route_budget() {
    let fake = FakeUpstream::start(Script::new().reply(Reply::error(500))).await;
    // No floor beyond 10 retries per 20 s window and no share of requests: 10 retries in all.
    let extra = "[resilience]\nbreaker = { enabled = false }\nbudget = { ratio = 0.0, min_per_sec = 0.5, window = \"20s\" }";
    let gw = Gateway::start(&config(&fake, &["k1", "k2", "k3"], "", extra)).await;
    for i in 0..30 {
        let seen = chat(&gw, "m", &format!("storm {i}"), false).await;
        assert!(seen.status >= 500, "{seen:?}");
    }
    // Unchecked, each request would try all three credentials: 90 calls.
    assert_eq!(fake.count("/chat/completions"), 30 + 10);
    let queue = gw.admin("resilience/queue").await;
    let route = &queue["routes"][0];
    assert_eq!(
        (route["requests"].as_u64(), route["retries"].as_u64()),
        (Some(30), Some(10))
    );
    assert_eq!(route["remaining"], 0);

    let records = gw.stop().await;
    assert_eq!(records.len(), 30);
    assert_eq!(records.iter().map(|r| r.retries).sum::<u32>(), 10);
    assert!(records
        .iter()
        .all(|r| r.status >= 500 && r.error_class.is_some()));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_credential_turning_invalid_is_quarantined_and_the_health_loop_brings_it_back() {
    let fake = FakeUpstream::start(Script::new()).await;
    let extra = "[resilience]\nhealth = { interval = \"200ms\" }";
    let gw = Gateway::start(&config(
        &fake,
        &["k1", "k2"],
        "strategy = \"round-robin\"",
        extra,
    ))
    .await;
    for i in 0..4 {
        let text = format!("before {i}");
        assert_served(&chat(&gw, "m", &text, false).await, &text);
    }
    assert!(fake.count_for("k1") >= 2);

    // k1's key is revoked upstream: traffic moves to k2, k1 is marked invalid with the reason.
    fake.set_script(Script::new().credential("k1", Reply::error(401)));
    for i in 0..6 {
        let text = format!("revoked {i}");
        assert_served(&chat(&gw, "m", &text, i % 2 == 0).await, &text);
    }
    let (status, reason) = health_status(&gw, "k1").await;
    assert_eq!(status, "invalid");
    assert!(reason.contains("401"), "{reason}");
    let k1_calls = fake.count_for("k1");

    // Fixed upstream: the health loop's next check (GET /v1/models) brings k1 back.
    fake.set_script(Script::new());
    let back = eventually(LATENCY_BOUND, || async {
        health_status(&gw, "k1").await.0 == "ok"
    })
    .await;
    assert!(back, "the health loop should return k1 to service");
    assert!(fake.calls().iter().any(|c| c.method == "GET"
        && c.path == "/v1/models"
        && c.credential.as_ref().is_some_and(|k| k.value == "k1")));
    let before = fake.count_for("k1");
    for i in 0..4 {
        let text = format!("after {i}");
        assert_served(&chat(&gw, "m", &text, false).await, &text);
    }
    assert!(fake.count_for("k1") > before, "k1 serves again");
    assert!(before >= k1_calls);

    // An operator's quarantine holds against passing health checks, until activated.
    let (status, v) = gw
        .admin_post("providers/up/credentials/k2/quarantine")
        .await;
    assert_eq!((status, v["state"].as_str()), (200, Some("quarantined")));
    let checked = eventually(LATENCY_BOUND, || async {
        let h = gw.admin("resilience/health").await;
        h["providers"][0]["members"][1]["last_check"]["ago_ms"]
            .as_u64()
            .is_some_and(|ms| ms < 150)
    })
    .await;
    assert!(checked);
    assert_eq!(health_status(&gw, "k2").await.0, "quarantined");
    let k2_calls = fake.count("/chat/completions");
    for i in 0..3 {
        let text = format!("held {i}");
        assert_served(&chat(&gw, "m", &text, false).await, &text);
    }
    let records_k2 = gw.records().await;
    assert!(records_k2
        .iter()
        .rev()
        .take(3)
        .all(|r| r.credential == "k1"));
    assert!(fake.count("/chat/completions") == k2_calls + 3);
    let (status, _) = gw.admin_post("providers/up/credentials/k2/activate").await;
    assert_eq!(status, 200);
    assert_eq!(health_status(&gw, "k2").await.0, "ok");
    let (status, _) = gw
        .admin_post("providers/up/credentials/nobody/activate")
        .await;
    assert_eq!(status, 404);

    let records = gw.stop().await;
    assert_eq!(records.len(), 4 + 6 + 4 + 3);
    assert!(records.iter().all(|r| r.status == 200));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_pinned_credential_takes_all_traffic_until_it_is_limited() {
    let fake = FakeUpstream::start(Script::new().credential(
        "k2",
        Plan::first(3, Reply::ok()).then_always(Reply::rate_limited(30)),
    ))
    .await;
    let gw = Gateway::start(&config(
        &fake,
        &["k1", "k2", "k3"],
        "strategy = \"fixed\"\ncredential = \"k2\"",
        "",
    ))
    .await;
    for i in 0..6 {
        let text = format!("pinned {i}");
        assert_served(&chat(&gw, "m", &text, false).await, &text);
    }
    // Three answers from k2, its 429, then the pool.
    assert_eq!(fake.count_for("k2"), 4);
    let records = gw.stop().await;
    let by_k2 = records.iter().filter(|r| r.credential == "k2").count();
    assert_eq!(by_k2, 3);
    assert!(records[3..].iter().all(|r| r.credential != "k2"));
    fake.shutdown().await;
}

//! `/metrics`: known traffic in, exact counters out — requests by dialect, route, model,
//! provider and status, errors by class, tokens and cost agreeing with the usage records, and
//! the scrape-time gauges present.

use crate::support;

use serde_json::json;
use support::{client, Gateway};
use switchyard_testkit::{FakeUpstream, Script};

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn known_traffic_gives_exact_counters() {
    let fake = FakeUpstream::start(Script::new()).await;
    let config = format!(
        r#"
[[providers]]
name = "up"
kind = "openai"
base_url = "{}/v1"
credentials = [{{ name = "k1", secret = "k1" }}]

[[routes]]
model = "model-*"
targets = [{{ provider = "up" }}]

[[models]]
name = "model-x"
price = {{ input = 2.0, output = 3.0 }}
"#,
        fake.url()
    );
    let gw = Gateway::start(&config).await;
    let http = client();
    let chat = |body: serde_json::Value| {
        http.post(format!("{}/v1/chat/completions", gw.url))
            .json(&body)
            .send()
    };
    for _ in 0..3 {
        let r = chat(json!({"model": "model-x", "messages": [{"role": "user", "content": "hi"}]}))
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
    }
    let r = http
        .post(format!("{}/v1/messages", gw.url))
        .json(
            &json!({"model": "model-x", "max_tokens": 32, "stream": true,
            "messages": [{"role": "user", "content": "stream please"}]}),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    r.bytes().await.expect("stream body");
    let r = chat(json!({"model": "nope", "messages": [{"role": "user", "content": "hi"}]}))
        .await
        .expect("request");
    assert_eq!(r.status(), 404);

    let records = gw.records().await;
    assert_eq!(records.len(), 5, "{records:?}");
    let resp = http
        .get(format!("{}/metrics", gw.url))
        .send()
        .await
        .expect("scrape");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/openmetrics-text"));
    let text = resp.text().await.expect("text");

    let ok = |dialect: &str| {
        format!(
            r#"switchyard_requests_total{{dialect="{dialect}",route="model-*",model="model-x",provider="up",status="200"}}"#
        )
    };
    assert_eq!(value(&text, &ok("openai")), Some(3.0), "{text}");
    assert_eq!(value(&text, &ok("anthropic")), Some(1.0), "{text}");
    assert_eq!(
        value(
            &text,
            r#"switchyard_requests_total{dialect="openai",route="",model="",provider="",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    let not_found = records
        .iter()
        .find(|r| r.status == 404)
        .and_then(|r| r.error_class.clone())
        .expect("the 404 has a class");
    assert_eq!(
        value(
            &text,
            &format!(r#"switchyard_request_errors_total{{dialect="openai",class="{not_found}"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    let served: Vec<_> = records.iter().filter(|r| r.status == 200).collect();
    let input: u64 = served.iter().map(|r| r.input_tokens).sum();
    let output: u64 = served.iter().map(|r| r.output_tokens).sum();
    let cost: i64 = served.iter().map(|r| r.cost_micros).sum();
    assert!(input > 0 && output > 0 && cost > 0, "{served:?}");
    assert_eq!(cost as u64, input * 2 + output * 3);
    let tokens = |kind: &str| {
        value(
            &text,
            &format!(r#"switchyard_tokens_total{{provider="up",model="model-x",type="{kind}"}}"#),
        )
    };
    assert_eq!(tokens("input"), Some(input as f64), "{text}");
    assert_eq!(tokens("output"), Some(output as f64), "{text}");
    assert_eq!(
        value(
            &text,
            r#"switchyard_cost_microdollars_total{provider="up",model="model-x"}"#
        ),
        Some(cost as f64),
        "{text}"
    );
    assert_eq!(value(&text, "switchyard_overhead_seconds_count"), Some(5.0));
    assert_eq!(
        value(
            &text,
            r#"switchyard_request_duration_seconds_count{dialect="anthropic",stream="true"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            r#"switchyard_credentials{provider="up",state="usable"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "switchyard_usage_writer_written_total"),
        Some(5.0)
    );
    assert!(value(&text, "switchyard_process_resident_memory_bytes").is_some_and(|v| v > 0.0));
    assert!(text.trim_end().ends_with("# EOF"));
    gw.stop().await;
}

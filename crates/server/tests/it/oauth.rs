//! OAuth credentials: requests carry an access token traded for the refresh token, refreshed
//! single-flight (a burst refreshes once, never twice at once), rotated refresh tokens used
//! for the next refresh, and a refused refresh token takes the credential out of service while
//! others serve.

use crate::support;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use serde_json::{json, Value};
use support::{client, Gateway};
use switchyard_testkit::{FakeUpstream, Script};

/// A token endpoint: answers the refresh token it issued last (or the first one) with the
/// next access token, slowly enough that concurrent callers would overlap.
#[derive(Default)]
struct Endpoint {
    calls: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// 0 = tokens that are stale at once; otherwise seconds.
    expires_in: AtomicU64,
    refuse: std::sync::atomic::AtomicBool,
    current_refresh: std::sync::Mutex<String>,
}

async fn token(
    State(ep): State<Arc<Endpoint>>,
    body: String,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    let now = ep.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    ep.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    ep.in_flight.fetch_sub(1, Ordering::SeqCst);
    let expected = format!("refresh_token={}", ep.current_refresh.lock().expect("lock"));
    if ep.refuse.load(Ordering::SeqCst)
        || !body.contains("grant_type=refresh_token")
        || !body.contains(&expected)
    {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant"})),
        );
    }
    let n = ep.calls.fetch_add(1, Ordering::SeqCst) + 1;
    *ep.current_refresh.lock().expect("lock") = format!("rt-{n}");
    (
        axum::http::StatusCode::OK,
        axum::Json(json!({
            "access_token": format!("at-{n}"),
            "expires_in": ep.expires_in.load(Ordering::SeqCst),
            "refresh_token": format!("rt-{n}"),
            "token_type": "Bearer",
        })),
    )
}

async fn endpoint(expires_in: u64) -> (Arc<Endpoint>, String) {
    let ep = Arc::new(Endpoint::default());
    ep.expires_in.store(expires_in, Ordering::SeqCst);
    *ep.current_refresh.lock().expect("lock") = "rt-0".into();
    let app = axum::Router::new()
        .route("/token", post(token))
        .with_state(Arc::clone(&ep));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/token", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (ep, url)
}

fn config(fake: &FakeUpstream, token_url: &str, extra: &str) -> String {
    format!(
        r#"
[[providers]]
name = "up"
kind = "openai"
base_url = "{}/v1"
credentials = [{{ name = "oauth", oauth = {{ token_url = "{token_url}", refresh_token = "rt-0", client_id = "switchyard" }} }}{extra}]

[[routes]]
model = "*"
strategy = "fixed"
targets = [{{ provider = "up" }}]
"#,
        fake.url()
    )
}

async fn chat(gw: &Gateway) -> u16 {
    client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("chat")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_refreshes_once_and_every_request_carries_the_token() {
    let fake = FakeUpstream::start(Script::new()).await;
    let (ep, url) = endpoint(3600).await;
    let gw = Gateway::start(&config(&fake, &url, "")).await;
    let burst: Vec<_> = (0..12).map(|_| chat(&gw)).collect();
    let statuses = futures_util::future::join_all(burst).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        ep.calls.load(Ordering::SeqCst),
        1,
        "one refresh for the burst"
    );
    assert_eq!(ep.max_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(
        fake.count_for("at-1"),
        12,
        "every request carried the access token"
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_tokens_refresh_one_at_a_time_with_rotated_refresh_tokens() {
    let fake = FakeUpstream::start(Script::new()).await;
    // Tokens stale at once: every request refreshes, so refreshes queue up.
    let (ep, url) = endpoint(0).await;
    let gw = Gateway::start(&config(&fake, &url, "")).await;
    let burst: Vec<_> = (0..8).map(|_| chat(&gw)).collect();
    let statuses = futures_util::future::join_all(burst).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(ep.calls.load(Ordering::SeqCst), 8);
    assert_eq!(
        ep.max_in_flight.load(Ordering::SeqCst),
        1,
        "never two refreshes at once"
    );
    // Each refresh used the refresh token the previous one returned (the endpoint refuses any
    // other), and the upstream saw each new access token once.
    for n in 1..=8 {
        assert_eq!(fake.count_for(&format!("at-{n}")), 1, "at-{n}");
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_takes_the_credential_out_and_others_serve() {
    let fake = FakeUpstream::start(Script::new()).await;
    let (ep, url) = endpoint(3600).await;
    ep.refuse.store(true, Ordering::SeqCst);
    let gw = Gateway::start(&config(
        &fake,
        &url,
        r#", { name = "key", secret = "sk-static" }"#,
    ))
    .await;
    for _ in 0..3 {
        assert_eq!(chat(&gw).await, 200);
    }
    assert_eq!(fake.count_for("sk-static"), 3);
    let (status, providers) = {
        let resp = client()
            .get(format!("{}/api/providers", gw.url))
            .bearer_auth(support::ADMIN_TOKEN)
            .send()
            .await
            .expect("providers");
        (
            resp.status().as_u16(),
            resp.json::<Value>().await.expect("json"),
        )
    };
    assert_eq!(status, 200);
    let oauth = &providers["providers"][0]["credentials"][0];
    assert_eq!(oauth["state"], "invalid", "{oauth}");
    assert!(
        oauth["invalid_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid_grant"),
        "{oauth}"
    );
    let records = gw.stop().await;
    assert!(
        records
            .iter()
            .all(|r| r.status == 200 && r.credential == "key"),
        "{records:?}"
    );
    assert!(
        !providers.to_string().contains("rt-0"),
        "the refresh token is never shown"
    );
}

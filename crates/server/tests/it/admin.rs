//! The admin API's door: only the admin token opens `/api`, a client key never does, and the
//! admin token never serves inference, with or without client keys.

use crate::support;

use serde_json::json;
use support::{client, Gateway, ADMIN_TOKEN, MOCK_ONLY};
use switchyard_core::keys::{self, ApiKey};
use switchyard_server::state::Limits;

fn key() -> (ApiKey, String) {
    let (id, secret) = keys::generate(&[7u8; 33]);
    let key = ApiKey {
        id: id.clone(),
        name: "test".into(),
        secret_hash: keys::hash_secret(&secret),
        models: Vec::new(),
        created_at_ms: 0,
        expires_at_ms: None,
        revoked_at_ms: None,
    };
    (key, keys::format_key(&id, &secret))
}

#[tokio::test]
async fn only_the_admin_token_opens_the_admin_api_and_it_serves_no_inference() {
    let (key, client_key) = key();
    let gw = Gateway::start_with(MOCK_ONLY, vec![key], Limits::default()).await;
    let get = |token: Option<&str>| {
        let mut req = client().get(format!("{}/api/resilience/health", gw.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.expect("answer").status().as_u16() }
    };
    assert_eq!(get(None).await, 401);
    assert_eq!(get(Some(&client_key)).await, 401);
    assert_eq!(get(Some("sya-wrong")).await, 401);
    assert_eq!(get(Some(ADMIN_TOKEN)).await, 200);
    for view in ["health", "circuits", "aimd", "queue", "quota"] {
        let v = gw.admin(&format!("resilience/{view}")).await;
        assert!(v.is_object(), "{view}: {v}");
    }

    let chat = |token: &str| {
        let req = client()
            .post(format!("{}/v1/chat/completions", gw.url))
            .bearer_auth(token)
            .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
        async move { req.send().await.expect("answer").status().as_u16() }
    };
    assert_eq!(chat(&client_key).await, 200);
    assert_eq!(chat(ADMIN_TOKEN).await, 401);
    gw.stop().await;

    // Without client keys every caller is served, except one presenting the admin token.
    let gw = Gateway::start(MOCK_ONLY).await;
    let resp = client()
        .post(format!("{}/v1/messages", gw.url))
        .header("x-api-key", ADMIN_TOKEN)
        .json(&json!({"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 401);
    gw.stop().await;
}

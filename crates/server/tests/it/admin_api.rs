//! The admin API over real HTTP: every endpoint, its auth failures (no token, a client key, a
//! wrong token, a rotated-away token), and that its changes are live at once.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{client, Gateway};
use switchyard_store::Store;
use switchyard_testkit::{FakeUpstream, Reply, Script};

const TOKEN: &str = "sya-test-admin-token";

async fn gateway(fake: &FakeUpstream) -> Gateway {
    let config = format!(
        r#"
[[providers]]
name = "up"
kind = "openai"
base_url = "{}/v1"
credentials = [{{ name = "file", secret = "k-file" }}, {{ name = "bad", secret = "k-bad" }}]

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"#,
        fake.url()
    );
    let gw = Gateway::start(&config).await;
    let store = Store::open("sqlite::memory:").await.expect("store");
    gw.state.clone().with_store(store);
    switchyard_server::api::install_admin_token(&gw.state, TOKEN);
    gw
}

async fn call(
    gw: &Gateway,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client().request(method, format!("{}{path}", gw.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn admin(
    gw: &Gateway,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(gw, method, path, Some(TOKEN), body).await
}

async fn chat(gw: &Gateway, key: Option<&str>) -> StatusCode {
    let mut req = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.expect("request").status()
}

/// Every guarded endpoint, with a method and a harmless body.
fn endpoints() -> Vec<(Method, &'static str)> {
    vec![
        (Method::GET, "/api/health"),
        (Method::GET, "/api/providers"),
        (Method::POST, "/api/providers/up/credentials"),
        (Method::DELETE, "/api/providers/up/credentials/x"),
        (Method::POST, "/api/providers/up/credentials/file/verify"),
        (Method::POST, "/api/providers/up/credentials/file/activate"),
        (
            Method::POST,
            "/api/providers/up/credentials/file/quarantine",
        ),
        (Method::POST, "/api/credentials/verify"),
        (Method::GET, "/api/credentials/export"),
        (Method::POST, "/api/credentials/import"),
        (Method::GET, "/api/keys"),
        (Method::POST, "/api/keys"),
        (Method::DELETE, "/api/keys/abc"),
        (Method::POST, "/api/keys/abc/rotate"),
        (Method::GET, "/api/logs"),
        (Method::GET, "/api/logs/stream"),
        (Method::GET, "/api/stats"),
        (Method::GET, "/api/audit"),
        (Method::GET, "/api/routes"),
        (Method::PUT, "/api/routes"),
        (Method::DELETE, "/api/routes"),
        (Method::GET, "/api/models"),
        (Method::PUT, "/api/models"),
        (Method::DELETE, "/api/models"),
        (Method::GET, "/api/settings"),
        (Method::PATCH, "/api/settings"),
        (Method::GET, "/api/resilience/health"),
        (Method::GET, "/api/resilience/circuits"),
        (Method::GET, "/api/resilience/aimd"),
        (Method::GET, "/api/resilience/queue"),
        (Method::GET, "/api/resilience/quota"),
        (Method::POST, "/api/admin-token/rotate"),
    ]
}

#[tokio::test]
async fn every_endpoint_refuses_missing_wrong_client_and_rotated_tokens() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway(&fake).await;
    let (_, created) = admin(
        &gw,
        Method::POST,
        "/api/keys",
        Some(json!({"name": "client"})),
    )
    .await;
    let client_key = created["key"].as_str().expect("key").to_string();
    let (status, rotated) = admin(&gw, Method::POST, "/api/admin-token/rotate", None).await;
    assert_eq!(status, 200);
    let new_token = rotated["token"].as_str().expect("token").to_string();
    for (method, path) in endpoints() {
        for (token, why) in [
            (None, "missing"),
            (Some(client_key.as_str()), "client key"),
            (Some("sya-wrong"), "wrong"),
            (Some(TOKEN), "rotated away"),
        ] {
            let (status, body) = call(&gw, method.clone(), path, token, None).await;
            assert_eq!(status, 401, "{method} {path} with a {why} token: {body}");
            assert!(body["error"]["message"].is_string(), "{body}");
        }
    }
    let (status, body) = call(
        &gw,
        Method::POST,
        "/api/admin-token/rotate",
        Some(&client_key),
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("client key"));
    // The new token works; the document is open.
    assert_eq!(
        call(&gw, Method::GET, "/api/providers", Some(&new_token), None)
            .await
            .0,
        200
    );
    let (status, doc) = call(&gw, Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    for (method, path) in endpoints() {
        let method = method.as_str().to_ascii_lowercase();
        let templated = path
            .replace("/up/credentials/file/", "/{provider}/credentials/{name}/")
            .replace("/up/credentials/x", "/{provider}/credentials/{name}")
            .replace("/up/credentials", "/{provider}/credentials")
            .replace("/keys/abc", "/keys/{id}");
        let templated = templated.as_str();
        if path == "/api/logs/stream" {
            continue; // SSE: described in the docs, not as JSON
        }
        assert!(
            doc["paths"][&templated][&method].is_object(),
            "{method} {templated} is in the OpenAPI document"
        );
    }
    gw.stop().await;
}

#[tokio::test]
async fn an_admin_token_never_serves_inference() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway(&fake).await;
    assert_eq!(chat(&gw, None).await, 200, "open mode without keys");
    assert_eq!(chat(&gw, Some(TOKEN)).await, 401);
    admin(&gw, Method::POST, "/api/keys", Some(json!({"name": "c"}))).await;
    assert_eq!(chat(&gw, Some(TOKEN)).await, 401, "with keys too");
    gw.stop().await;
}

#[tokio::test]
async fn credentials_are_managed_live() {
    let fake = FakeUpstream::start(
        Script::new()
            .credential("k-bad", Reply::error(401))
            .credential("k-file", Reply::error(500)),
    )
    .await;
    let gw = gateway(&fake).await;
    let (status, body) = admin(&gw, Method::GET, "/api/providers", None).await;
    assert_eq!(status, 200);
    let creds = &body["providers"][0]["credentials"];
    assert_eq!(creds[0]["name"], "file");
    assert_eq!(creds[0]["origin"], "config");
    assert_eq!(creds[0]["state"], "usable");

    // Verify: the refused credential is quarantined with the reason; the other stays.
    let (status, v) = admin(
        &gw,
        Method::POST,
        "/api/providers/up/credentials/bad/verify",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (v["ok"].as_bool(), v["status"].as_u64()),
        (Some(false), Some(401))
    );
    let (_, body) = admin(&gw, Method::GET, "/api/providers", None).await;
    assert_eq!(body["providers"][0]["credentials"][1]["state"], "invalid");
    assert!(body["providers"][0]["credentials"][1]["invalid_reason"]
        .as_str()
        .unwrap_or_default()
        .contains("401"));
    let (status, all) = admin(
        &gw,
        Method::POST,
        "/api/credentials/verify?provider=up",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(all["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        admin(
            &gw,
            Method::POST,
            "/api/credentials/verify?provider=nope",
            None
        )
        .await
        .0,
        404
    );

    // Activate and quarantine by hand.
    let (status, _) = admin(
        &gw,
        Method::POST,
        "/api/providers/up/credentials/bad/activate",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, q) = admin(
        &gw,
        Method::POST,
        "/api/providers/up/credentials/bad/quarantine",
        Some(json!({"reason": "rotating"})),
    )
    .await;
    assert_eq!(
        (status.as_u16(), q["reason"].as_str()),
        (200, Some("rotating"))
    );
    assert_eq!(
        admin(
            &gw,
            Method::POST,
            "/api/providers/up/credentials/ghost/activate",
            None
        )
        .await
        .0,
        404
    );

    // Nothing usable serves yet (file answers 500, bad is quarantined); an added one does, at once.
    assert_ne!(chat(&gw, None).await, 200);
    let (status, added) = admin(
        &gw,
        Method::POST,
        "/api/providers/up/credentials",
        Some(json!({"name": "api", "secret": "k-api", "labels": ["x"]})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["secret"], "***");
    assert_eq!(chat(&gw, None).await, 200);
    assert!(fake.count_for("k-api") >= 1);
    for (body, want) in [
        (json!({"name": "api", "secret": "s"}), 409),
        (json!({"name": "file", "secret": "s"}), 409),
        (json!({"name": "", "secret": "s"}), 400),
        (json!({"name": "n", "secret": "s", "weight": 0}), 400),
        (json!({"name": "n"}), 400),
    ] {
        let (status, b) = admin(
            &gw,
            Method::POST,
            "/api/providers/up/credentials",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status.as_u16(), want, "{body}: {b}");
    }
    assert_eq!(
        admin(
            &gw,
            Method::POST,
            "/api/providers/nope/credentials",
            Some(json!({"name": "n", "secret": "s"}))
        )
        .await
        .0,
        404
    );

    // Export masks unless asked; import reports each item.
    let (_, masked) = admin(&gw, Method::GET, "/api/credentials/export", None).await;
    assert_eq!(masked["credentials"][0]["secret"], "***");
    let (_, clear) = admin(
        &gw,
        Method::GET,
        "/api/credentials/export?secrets=true",
        None,
    )
    .await;
    assert_eq!(clear["credentials"][0]["secret"], "k-api");
    let (status, imported) = admin(
        &gw,
        Method::POST,
        "/api/credentials/import",
        Some(json!({"credentials": [
            {"provider": "up", "name": "imp", "secret": "k-imp"},
            {"provider": "nope", "name": "x", "secret": "s"},
        ]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(imported["added"], 1);
    assert_eq!(imported["results"][1]["ok"], false);

    // Remove: stored ones go, file ones are refused, unknown ones are 404.
    assert_eq!(
        admin(
            &gw,
            Method::DELETE,
            "/api/providers/up/credentials/api",
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        admin(
            &gw,
            Method::DELETE,
            "/api/providers/up/credentials/file",
            None
        )
        .await
        .0,
        409
    );
    assert_eq!(
        admin(
            &gw,
            Method::DELETE,
            "/api/providers/up/credentials/api",
            None
        )
        .await
        .0,
        404
    );
    let (_, body) = admin(&gw, Method::GET, "/api/providers", None).await;
    let names: Vec<&str> = body["providers"][0]["credentials"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["file", "bad", "imp"]);
    gw.stop().await;
}

#[tokio::test]
async fn keys_are_created_rotated_and_revoked_live() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway(&fake).await;
    let (status, created) = admin(
        &gw,
        Method::POST,
        "/api/keys",
        Some(json!({"name": "ci", "models": ["m*"], "expires": "30d"})),
    )
    .await;
    assert_eq!(status, 201);
    let key = created["key"].as_str().expect("key").to_string();
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(chat(&gw, Some(&key)).await, 200);
    assert_eq!(chat(&gw, None).await, 401, "keys exist now");
    let (_, list) = admin(&gw, Method::GET, "/api/keys", None).await;
    assert_eq!(list["keys"][0]["status"], "active");
    assert!(list["keys"][0].get("key").is_none(), "never the secret");
    assert_eq!(
        admin(
            &gw,
            Method::POST,
            "/api/keys",
            Some(json!({"name": "x", "expires": "soon"}))
        )
        .await
        .0,
        400
    );

    let (status, rotated) = admin(&gw, Method::POST, &format!("/api/keys/{id}/rotate"), None).await;
    assert_eq!(status, 201);
    let new_key = rotated["key"].as_str().expect("key").to_string();
    assert_eq!(rotated["models"], json!(["m*"]));
    assert_eq!(
        chat(&gw, Some(&key)).await,
        401,
        "the old key stops at once"
    );
    assert_eq!(chat(&gw, Some(&new_key)).await, 200);
    let new_id = rotated["id"].as_str().expect("id").to_string();
    assert_eq!(
        admin(&gw, Method::DELETE, &format!("/api/keys/{new_id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(chat(&gw, Some(&new_key)).await, 401);
    assert_eq!(
        admin(&gw, Method::DELETE, "/api/keys/unknown", None)
            .await
            .0,
        404
    );
    assert_eq!(
        admin(&gw, Method::DELETE, &format!("/api/keys/{new_id}"), None)
            .await
            .0,
        204,
        "revoking is idempotent"
    );
    assert_eq!(
        admin(
            &gw,
            Method::POST,
            &format!("/api/keys/{new_id}/rotate"),
            None
        )
        .await
        .0,
        409,
        "a revoked key cannot be rotated"
    );
    gw.stop().await;
}

#[tokio::test]
async fn the_request_log_lists_and_streams() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway(&fake).await;
    let mut live = client()
        .get(format!("{}/api/logs/stream", gw.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("stream");
    assert_eq!(live.status(), 200);
    assert_eq!(chat(&gw, None).await, 200);
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), live.chunk())
            .await
            .expect("an event within 5 s")
            .expect("chunk")
            .expect("open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = seen
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("a data line");
    let event: Value = serde_json::from_str(data).expect("json");
    assert_eq!(event["status"], 200);
    assert_eq!(event["provider"], "up");
    drop(live);

    let records = gw.records().await;
    assert_eq!(records.len(), 1);
    gw.stop().await;
}

#[tokio::test]
async fn health_names_its_components_and_fails_when_the_store_is_down() {
    let fake = FakeUpstream::start(Script::new().credential("k-bad", Reply::error(401))).await;
    let gw = gateway(&fake).await;
    let health = || async {
        let resp = client()
            .get(format!("{}/health", gw.url))
            .send()
            .await
            .expect("health");
        let status = resp.status();
        (status, resp.json::<Value>().await.expect("json"))
    };
    let (status, body) = health().await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let names: Vec<&str> = body["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["store", "shared_state", "provider:up"]);
    assert_eq!(body["components"][2]["usable_credentials"], 2);

    // Both credentials out: degraded, still 200 (other routes may serve).
    for name in ["file", "bad"] {
        admin(
            &gw,
            Method::POST,
            &format!("/api/providers/up/credentials/{name}/quarantine"),
            None,
        )
        .await;
    }
    let (status, body) = health().await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (200, Some("degraded"))
    );

    // The store stops answering: 503.
    gw.state.store().expect("store").close().await;
    let (status, body) = health().await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (503, Some("down"))
    );
    assert_eq!(body["components"][0]["status"], "down");
    gw.stop().await;
}

#[tokio::test]
async fn routes_models_and_settings_change_live_and_are_audited() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway(&fake).await;
    let (status, routes) = admin(&gw, Method::GET, "/api/routes", None).await;
    assert_eq!(status, 200);
    assert_eq!(routes["routes"][0]["model"], "*");
    assert_eq!(routes["routes"][0]["origin"], "config");

    // A route through the API: live at once (unknown models were served by `*`; a
    // more specific route for `special-*` now sends them to another upstream model).
    let (status, put) = admin(
        &gw,
        Method::PUT,
        "/api/routes",
        Some(json!({
            "model": "special-*", "targets": [{"provider": "up", "model": "upstream-special"}],
        })),
    )
    .await;
    assert_eq!(status, 200, "{put}");
    let resp: Value = client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "special-1", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("chat")
        .json()
        .await
        .expect("json");
    assert_eq!(resp["model"], "upstream-special", "{resp}");
    let (_, routes) = admin(&gw, Method::GET, "/api/routes", None).await;
    assert_eq!(routes["routes"][0]["model"], "special-*");
    assert_eq!(routes["routes"][0]["origin"], "api");

    // An invalid route is refused with the reason and changes nothing.
    let (status, bad) = admin(
        &gw,
        Method::PUT,
        "/api/routes",
        Some(json!({
            "model": "x-*", "targets": [{"provider": "nowhere"}],
        })),
    )
    .await;
    assert_eq!(status, 404, "an unknown provider");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nowhere"),
        "{bad}"
    );
    assert_eq!(
        admin(&gw, Method::DELETE, "/api/routes?model=*", None)
            .await
            .0,
        409,
        "file routes stay"
    );
    assert_eq!(
        admin(&gw, Method::DELETE, "/api/routes?model=nope-*", None)
            .await
            .0,
        404
    );

    // Prices through the API give costs at once.
    let (status, _) = admin(&gw, Method::PUT, "/api/models", Some(json!({
        "name": "upstream-special", "max_output_tokens": 100, "price": {"input": 1.0, "output": 1.0},
    }))).await;
    assert_eq!(status, 200);
    let (_, models) = admin(&gw, Method::GET, "/api/models", None).await;
    assert_eq!(models["models"][0]["price"]["input"], 1.0);
    assert_eq!(models["models"][0]["origin"], "api");
    client()
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "special-2", "max_tokens": 5000, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("chat");
    let sent = fake.calls().last().map(|c| c.body.clone()).expect("a call");
    let sent: Value = serde_json::from_slice(&sent).expect("json");
    assert_eq!(sent["max_tokens"], 100, "clamped by the API's limit");

    // Settings: the overlay as a merge patch; routes replaced wholesale.
    let (_, settings) = admin(&gw, Method::GET, "/api/settings", None).await;
    assert_eq!(settings["overlay"]["routes"][0]["model"], "special-*");
    assert!(settings["effective"]["providers"].is_array());
    assert!(
        !settings.to_string().contains("k-file"),
        "secrets masked: {settings}"
    );
    let (status, patched) = admin(
        &gw,
        Method::PATCH,
        "/api/settings",
        Some(json!({"routes": null})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert!(patched["overlay"].get("routes").is_none());
    let (_, routes) = admin(&gw, Method::GET, "/api/routes", None).await;
    assert_eq!(routes["routes"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        admin(
            &gw,
            Method::PATCH,
            "/api/settings",
            Some(json!({"bogus": 1}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        admin(
            &gw,
            Method::DELETE,
            "/api/models?name=upstream-special",
            None
        )
        .await
        .0,
        200
    );

    // Every change is in the audit log, newest first, secrets masked.
    admin(
        &gw,
        Method::POST,
        "/api/providers/up/credentials",
        Some(json!({"name": "n", "secret": "k-secret-audit"})),
    )
    .await;
    let (status, audit) = admin(&gw, Method::GET, "/api/audit?limit=50", None).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "credential.add",
            "model.delete",
            "settings.patch",
            "model.put",
            "route.put"
        ]
    );
    assert!(!audit.to_string().contains("k-secret-audit"), "{audit}");
    let (_, only) = admin(&gw, Method::GET, "/api/audit?action=route.", None).await;
    assert_eq!(only["entries"].as_array().map(Vec::len), Some(1));
    gw.stop().await;
}

#[tokio::test]
async fn stats_and_filtered_logs_read_the_store() {
    let fake = FakeUpstream::start(Script::new()).await;
    let gw = gateway(&fake).await;
    let store = gw.state.store().expect("store").clone();
    // Records reach the store through the writer; here they are written as the writer would.
    for model in ["a", "a", "b"] {
        assert_eq!(
            client()
                .post(format!("{}/v1/chat/completions", gw.url))
                .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .expect("chat")
                .status(),
            200
        );
    }
    let records = gw.records().await;
    {
        use switchyard_store::Engine;
        store.insert_usage(&records).await.expect("insert");
    }
    let (status, stats) = admin(&gw, Method::GET, "/api/stats?window=1h&group=model", None).await;
    assert_eq!(status, 200, "{stats}");
    let rows = stats["rows"].as_array().expect("rows");
    let by_model: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap_or(""),
                r["requests"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(by_model, [("a", 2), ("b", 1)]);
    assert!(rows[0]["latency_ms"]["p50"].is_u64());
    let (status, hourly) = admin(&gw, Method::GET, "/api/stats?window=2h&bucket=hour", None).await;
    assert_eq!(status, 200);
    let total: u64 = hourly["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["requests"].as_u64())
        .sum();
    assert_eq!(total, 3);
    assert_eq!(
        admin(&gw, Method::GET, "/api/stats?group=colour", None)
            .await
            .0,
        400
    );
    assert_eq!(
        admin(&gw, Method::GET, "/api/stats?window=soon", None)
            .await
            .0,
        400
    );

    let (_, page) = admin(&gw, Method::GET, "/api/logs?model=a&limit=1", None).await;
    assert_eq!(page["records"].as_array().map(Vec::len), Some(1));
    let next = page["next"].as_str().expect("a next page").to_string();
    let (_, page2) = admin(
        &gw,
        Method::GET,
        &format!("/api/logs?model=a&limit=1&before={next}"),
        None,
    )
    .await;
    assert_eq!(page2["records"].as_array().map(Vec::len), Some(1));
    assert_ne!(
        page["records"][0]["request_id"],
        page2["records"][0]["request_id"]
    );
    let (_, none) = admin(&gw, Method::GET, "/api/logs?status=500", None).await;
    assert_eq!(none["records"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        admin(&gw, Method::GET, "/api/logs?before=garbage", None)
            .await
            .0,
        400
    );
    gw.stop().await;
}

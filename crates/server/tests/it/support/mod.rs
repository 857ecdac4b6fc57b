//! A real gateway on 127.0.0.1:0 for integration tests: built from a TOML config, serving over
//! a real socket, with usage records collected in memory so tests can count them.

#![allow(dead_code)] // reason: also compiled into tests/otel.rs, which uses only a few helpers

use std::sync::{Arc, Mutex};

use switchyard_core::config::{raw::RawConfig, validate, SystemSecrets};
use switchyard_core::keys::ApiKey;
use switchyard_core::usage::UsageRecord;
use switchyard_core::writer::{self, UsageSink, WriterConfig};
use switchyard_server::state::{AppState, Limits, Snapshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct MemorySink(pub Arc<Mutex<Vec<UsageRecord>>>);

impl UsageSink for MemorySink {
    async fn write(&self, batch: &[UsageRecord]) -> Result<(), String> {
        self.0
            .lock()
            .expect("test harness")
            .extend_from_slice(batch);
        Ok(())
    }
}

/// The admin token every test gateway accepts on `/api`.
pub const ADMIN_TOKEN: &str = "sya-test-admin-token";

pub struct Gateway {
    pub url: String,
    pub state: AppState,
    pub usage: MemorySink,
    stop: CancellationToken,
    server: Option<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
    /// Holds the config file the harness reloads from.
    _dir: tempfile::TempDir,
    checks: Option<JoinHandle<()>>,
}

impl Gateway {
    pub async fn start(toml_text: &str) -> Gateway {
        Self::start_with(toml_text, Vec::new(), Limits::default()).await
    }

    pub async fn start_with(toml_text: &str, keys: Vec<ApiKey>, limits: Limits) -> Gateway {
        let raw: RawConfig = toml::from_str(toml_text).expect("test config parses");
        let config = validate(&raw, &SystemSecrets).expect("test config is valid");
        let usage = MemorySink::default();
        let (handle, writer) = writer::spawn(
            usage.clone(),
            WriterConfig {
                flush_interval: std::time::Duration::from_millis(10),
                ..WriterConfig::default()
            },
        );
        let state = AppState::new(Snapshot::new(config, keys), handle, limits, 0);
        switchyard_server::api::install_admin_token(&state, ADMIN_TOKEN);
        // A file to reload from, so admin API config edits work as under `serve`.
        let dir = tempfile::tempdir().expect("test harness");
        let file = dir.path().join("switchyard.toml");
        std::fs::write(&file, toml_text).expect("test harness");
        let _ = state
            .config_source
            .set(switchyard_server::reload::ConfigSource {
                named: Some(file),
                flags: Default::default(),
                port: None,
                fallback: false,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("test harness");
        let url = format!("http://{}", listener.local_addr().expect("test harness"));
        let stop = CancellationToken::new();
        let app = switchyard_server::app::app(state.clone());
        let s = stop.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { s.cancelled().await })
                .await
                .expect("test harness");
        });
        // As `serve` does; its first round comes one interval after start (5 min by default),
        // so only tests that shorten the interval see health checks.
        let checks = tokio::spawn(switchyard_server::checks::run(state.clone(), stop.clone()));
        Gateway {
            url,
            state,
            usage,
            stop,
            server: Some(server),
            writer: Some(writer),
            _dir: dir,
            checks: Some(checks),
        }
    }

    /// Stops serving, waits for streams, flushes usage; returns every record written.
    pub async fn stop(mut self) -> Vec<UsageRecord> {
        self.stop.cancel();
        if let Some(s) = self.server.take() {
            s.await.expect("test harness");
        }
        if let Some(c) = self.checks.take() {
            c.await.expect("test harness");
        }
        self.state.tasks.close();
        self.state.tasks.wait().await;
        let records = self.usage.clone();
        let writer = self.writer.take();
        drop(self);
        if let Some(w) = writer {
            w.await.expect("test harness");
        }
        let out = records.0.lock().expect("test harness").clone();
        out
    }

    /// Records written so far (after waiting for the writer's flush interval).
    pub async fn records(&self) -> Vec<UsageRecord> {
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        self.usage.0.lock().expect("test harness").clone()
    }
}

impl Gateway {
    /// `GET /api/{path}` with the admin token, as JSON.
    pub async fn admin(&self, path: &str) -> serde_json::Value {
        let resp = client()
            .get(format!("{}/api/{path}", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("admin request");
        assert_eq!(resp.status(), 200, "GET /api/{path}");
        resp.json().await.expect("admin JSON")
    }

    /// `POST /api/{path}` with the admin token; the status and the JSON answer.
    pub async fn admin_post(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = client()
            .post(format!("{}/api/{path}", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("admin request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("admin JSON"))
    }
}

/// Polls `check` every 20 ms until it holds, for at most `within`; whether it came to hold.
/// For waiting on a state the gateway reaches by itself (an ejection running out, a health
/// check), never to assert how long that took.
pub async fn eventually<F, Fut>(within: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("test harness")
}

pub const MOCK_ONLY: &str = r#"
[[providers]]
name = "mock"
kind = "mock"
mock = { chunks = 3 }

[[routes]]
model = "*"
targets = [{ provider = "mock" }]
"#;

/// A hand-written upstream's side of one exchange, up to its body: reads the request (head and
/// a small body, until a quiet moment) and writes a `200` event-stream head for an answer that
/// ends when the connection closes.
pub async fn open_event_stream(sock: &mut tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 65536];
    let mut seen = Vec::new();
    loop {
        let n = sock.read(&mut buf).await.unwrap_or(0);
        seen.extend_from_slice(&buf[..n]);
        if n == 0 || seen.windows(4).any(|w| w == b"\r\n\r\n") && n < buf.len() {
            break;
        }
    }
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    let _ = sock.write_all(head.as_bytes()).await;
}

/// An OpenAI chat stream frame carrying `content`, with `finish` as its finish reason.
pub fn openai_chunk(content: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_string(), |f| format!("\"{f}\""));
    format!(
        "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":{finish}}}]}}\n\n"
    )
}

/// The usage-only OpenAI chat frame that ends a stream asked for usage: 11 in, 7 out.
pub const OPENAI_USAGE: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"up-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18}}\n\n";

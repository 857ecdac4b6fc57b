//! Talking to a running gateway's admin API from the command line: where it is (`--url`, else
//! the configured listen address), the admin token (`--admin-token` or
//! `SWITCHYARD_ADMIN_TOKEN`), and requests whose API errors become plain messages. Commands
//! use this by default and the store directly only with `--offline`, for when the gateway is
//! down. Nothing here decides what a command means.

use std::path::PathBuf;

use anyhow::Context;
use reqwest::Method;
use serde_json::Value;
use switchyard_core::config::{SystemSecrets, DEFAULT_LISTEN};

use crate::settings::{self, FlagOverrides};

#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// The running gateway, e.g. http://127.0.0.1:8672 (default: the configured listen address).
    #[arg(long, global = true, env = "SWITCHYARD_URL")]
    pub url: Option<String>,
    /// The admin token (shown by `serve` on first start, or set by SWITCHYARD_ADMIN_TOKEN).
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Work on the store directly instead, for when the gateway is down.
    #[arg(long, global = true)]
    pub offline: bool,
}

/// A connection to one gateway's admin API.
pub struct Remote {
    base: String,
    token: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Remote").field("base", &self.base).finish()
    }
}

impl Remote {
    /// Finds the gateway: `--url`, else the listen address of the config that `serve` would
    /// read.
    pub fn connect(args: &RemoteArgs, config: Option<&PathBuf>) -> anyhow::Result<Remote> {
        let base = match &args.url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let listen = settings::load(
                    config.map(PathBuf::as_path),
                    &FlagOverrides::default(),
                    &SystemSecrets,
                )
                .map(|l| l.config.listen)
                .unwrap_or_else(|_| DEFAULT_LISTEN.parse().expect("the default address parses"));
                let host = if listen.ip().is_unspecified() {
                    "127.0.0.1".to_string()
                } else {
                    listen.ip().to_string()
                };
                format!("http://{host}:{}", listen.port())
            }
        };
        let token = args.admin_token.clone().context(
            "no admin token: pass --admin-token or set SWITCHYARD_ADMIN_TOKEN \
             (or use --offline when the gateway is down)",
        )?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok(Remote {
            base,
            token,
            http: reqwest::Client::new(),
            runtime,
        })
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None)
    }

    pub fn post(&self, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        self.call(Method::POST, path, body)
    }

    pub fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::DELETE, path, None)
    }

    /// One request; a non-2xx answer is an error carrying the API's message.
    pub fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        self.runtime.block_on(async {
            let resp = req
                .send()
                .await
                .with_context(|| format!("cannot reach the gateway at {} (is it running? --offline works on the store directly)", self.base))?;
            let status = resp.status();
            let text = resp.text().await.context("reading the answer")?;
            let value: Value = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            if !status.is_success() {
                let message = value["error"]["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| value.to_string());
                anyhow::bail!("{} ({status})", message);
            }
            Ok(value)
        })
    }

    /// Streams an SSE endpoint, calling `each` with every `data:` payload until it ends.
    pub fn follow(&self, path: &str, mut each: impl FnMut(&str)) -> anyhow::Result<()> {
        let url = format!("{}{path}", self.base);
        let req = self.http.get(&url).bearer_auth(&self.token);
        self.runtime.block_on(async {
            let mut resp = req
                .send()
                .await
                .with_context(|| format!("cannot reach the gateway at {}", self.base))?;
            if !resp.status().is_success() {
                anyhow::bail!("the gateway answered {}", resp.status());
            }
            let mut parser = switchyard_protocol::sse::Parser::new();
            let mut items = Vec::new();
            while let Some(chunk) = resp.chunk().await.context("reading the stream")? {
                parser.feed(&chunk, &mut items);
                for item in items.drain(..) {
                    if let switchyard_protocol::sse::Item::Frame(f) = item {
                        if f.event.is_none() {
                            each(&f.data);
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

/// Prints JSON for scripts.
pub fn print_json(value: &Value) {
    #[allow(clippy::print_stdout)] // reason: JSON is the command's output
    {
        println!("{value}");
    }
}

/// Prints one line for people.
pub fn say(line: impl std::fmt::Display) {
    #[allow(clippy::print_stdout)] // reason: a confirmation is the command's output
    {
        println!("{line}");
    }
}

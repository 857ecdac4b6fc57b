//! `switchyard status`: asks a running gateway's admin API for its resilience views
//! (`/api/resilience/{health,circuits,aimd,queue,quota}`) and prints them as tables, or as the
//! raw JSON with `--json`. It only reads; the numbers are the gateway's.

use std::fmt::Write as _;

use anyhow::Context;
use serde_json::{json, Value};

use crate::api::ADMIN_TOKEN_ENV as TOKEN_ENV;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The gateway's base URL (default: $SWITCHYARD_URL, else http://127.0.0.1:8672).
    #[arg(long)]
    pub url: Option<String>,
    /// The admin token (default: $SWITCHYARD_ADMIN_TOKEN).
    #[arg(long)]
    pub admin_token: Option<String>,
    /// Print the endpoints' JSON as one object instead of tables.
    #[arg(long)]
    pub json: bool,
}

const VIEWS: [&str; 5] = ["health", "circuits", "aimd", "queue", "quota"];

pub fn run(args: Args) -> anyhow::Result<()> {
    let url = args
        .url
        .or_else(|| std::env::var("SWITCHYARD_URL").ok())
        .unwrap_or_else(|| "http://127.0.0.1:8672".to_string());
    let url = url.trim_end_matches('/').to_string();
    let token = args
        .admin_token
        .or_else(|| std::env::var(TOKEN_ENV).ok())
        .with_context(|| {
            format!("the admin token is needed: pass --admin-token or set {TOKEN_ENV}")
        })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let views = runtime.block_on(fetch_all(&url, &token))?;
    let out = if args.json {
        serde_json::to_string_pretty(&views)? + "\n"
    } else {
        render(&views)
    };
    #[allow(clippy::print_stdout)] // reason: the command's output
    {
        print!("{out}");
    }
    Ok(())
}

async fn fetch_all(url: &str, token: &str) -> anyhow::Result<Value> {
    let http = reqwest::Client::new();
    let mut all = serde_json::Map::new();
    for view in VIEWS {
        let endpoint = format!("{url}/api/resilience/{view}");
        let resp = http
            .get(&endpoint)
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| format!("reaching {endpoint}"))?;
        let status = resp.status();
        let body = resp.bytes().await.context("reading the answer")?;
        let value: Value = serde_json::from_slice(&body).with_context(|| {
            format!("{endpoint} answered {status} with something other than JSON")
        })?;
        if !status.is_success() {
            let message = value
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            anyhow::bail!("{endpoint} answered {status}: {message}");
        }
        all.insert(view.to_string(), value);
    }
    Ok(Value::Object(all))
}

/// The views as three tables: credentials, wait queues, routes.
fn render(v: &Value) -> String {
    let list = |pointer: &str| {
        v.pointer(pointer)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let find = |pointer: &str, provider: &Value, credential: &Value| {
        list(pointer)
            .into_iter()
            .find(|e| &e["provider"] == provider && &e["credential"] == credential)
            .unwrap_or(json!({}))
    };
    let mut rows = vec![row(&[
        "PROVIDER",
        "CREDENTIAL",
        "STATUS",
        "BREAKER",
        "LIMIT",
        "IN FLIGHT",
        "QUOTA",
        "REASON",
    ])];
    for provider in list("/health/providers") {
        for m in provider["members"].as_array().cloned().unwrap_or_default() {
            let (p, c) = (&provider["provider"], &m["credential"]);
            let circuit = find("/circuits/circuits", p, c);
            let aimd = find("/aimd/aimd", p, c);
            let quota = find("/quota/quota", p, c);
            let breaker = match circuit["state"].as_str() {
                Some("open") => format!("open {}ms", circuit["open_for_ms"]),
                Some(s) => s.to_string(),
                None => "-".into(),
            };
            let reason = m["reason"]
                .as_str()
                .or_else(|| m.pointer("/last_error/message").and_then(Value::as_str))
                .unwrap_or("");
            rows.push(row(&[
                &text(p),
                &text(c),
                &text(&m["status"]),
                &breaker,
                &text(&aimd["limit"]),
                &text(&aimd["in_flight"]),
                &percent(&quota["remaining"]),
                reason,
            ]));
        }
    }
    let mut out = String::from("credentials\n");
    out += &table(&rows);
    let mut queues = vec![row(&[
        "PROVIDER", "MODE", "DEPTH", "OLDEST", "SERVED", "REFUSED", "LONGEST",
    ])];
    for q in list("/queue/pools") {
        queues.push(row(&[
            &text(&q["provider"]),
            &text(&q["mode"]),
            &text(&q["depth"]),
            &millis(&q["oldest_wait_ms"]),
            &text(&q["served_after_wait"]),
            &text(&q["refused_after_wait"]),
            &millis(&q["longest_wait_ms"]),
        ]));
    }
    out += "\nwait queues\n";
    out += &table(&queues);
    let mut routes = vec![row(&[
        "ROUTE",
        "REQUESTS",
        "RETRIES",
        "RETRIES LEFT",
        "FALLBACK",
    ])];
    for r in list("/queue/routes") {
        let fallback: Vec<String> = r["fallback"]
            .as_array()
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_default();
        routes.push(row(&[
            &text(&r["route"]),
            &text(&r["requests"]),
            &text(&r["retries"]),
            &text(&r["remaining"]),
            &fallback.join(" → "),
        ]));
    }
    out += "\nroutes (retry budget over the window)\n";
    out += &table(&routes);
    out
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn percent(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |f| format!("{:.0}%", f * 100.0))
}

fn millis(v: &Value) -> String {
    v.as_u64().map_or("-".into(), |ms| format!("{ms}ms"))
}

/// Left-aligned columns two spaces apart.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

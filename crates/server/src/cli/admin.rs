//! `switchyard admin reset-token | audit`, and `switchyard stats`: the admin token (rotated
//! through the running gateway, or reset in the store with `--offline` when it is lost or the
//! gateway is down), the audit log, and usage statistics.

use switchyard_core::audit::AuditFilter;
use switchyard_core::keys;
use switchyard_store::Engine;

use super::remote::{print_json, say, Remote, RemoteArgs};
use super::store_cmd::{print_table, with_store, StoreArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Make a new admin token and print it once; the old one stops working.
    ResetToken,
    /// Admin actions, newest first.
    Audit {
        /// Only actions starting with this, e.g. `credential.`.
        #[arg(long)]
        action: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let json = args.store.json;
    match (args.command, args.remote.offline) {
        (Command::ResetToken, true) => with_store(&args.store, async move |store| {
            let token = crate::api::new_admin_token().map_err(anyhow::Error::msg)?;
            store
                .put_setting(crate::api::ADMIN_TOKEN_SETTING, &keys::hash_secret(&token))
                .await?;
            show_token(&token, json);
            Ok(())
        }),
        (Command::ResetToken, false) => {
            let remote = Remote::connect(&args.remote, args.store.config.as_ref())?;
            let rotated = remote.post("/api/admin-token/rotate", None)?;
            show_token(rotated["token"].as_str().unwrap_or_default(), json);
            Ok(())
        }
        (Command::Audit { action, limit }, true) => with_store(&args.store, async move |store| {
            let filter = AuditFilter {
                action_prefix: action,
                limit,
                ..AuditFilter::default()
            };
            let entries = store.list_audit(&filter).await?;
            let values: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or_default())
                .collect();
            show_audit(&values, json);
            Ok(())
        }),
        (Command::Audit { action, limit }, false) => {
            let remote = Remote::connect(&args.remote, args.store.config.as_ref())?;
            let mut path = format!("/api/audit?limit={limit}");
            if let Some(a) = action {
                path.push_str(&format!("&action={a}"));
            }
            let listed = remote.get(&path)?;
            show_audit(
                listed["entries"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                json,
            );
            Ok(())
        }
    }
}

fn show_token(token: &str, json: bool) {
    if json {
        print_json(&serde_json::json!({ "token": token }));
    } else {
        say(token);
        say("(shown once: the previous admin token no longer works)");
    }
}

fn show_audit(entries: &[serde_json::Value], json: bool) {
    if json {
        print_json(&serde_json::Value::Array(entries.to_vec()));
        return;
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            vec![
                e["id"].to_string(),
                e["at_ms"].to_string(),
                text("actor"),
                text("address"),
                text("action"),
                text("target"),
            ]
        })
        .collect();
    print_table(
        &["ID", "AT_MS", "ACTOR", "ADDRESS", "ACTION", "TARGET"],
        &rows,
    );
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The window ending now: 5h, 7d, 90m.
    #[arg(long, default_value = "24h")]
    window: String,
    /// Group by key, model, credential, provider, route or dialect.
    #[arg(long)]
    by: Option<String>,
    /// One row per hour or day.
    #[arg(long)]
    bucket: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// `switchyard stats`: through the running gateway (the store's own statistics either way).
pub fn stats(args: StatsArgs) -> anyhow::Result<()> {
    let mut path = format!("/api/stats?window={}", args.window);
    if let Some(by) = &args.by {
        path.push_str(&format!("&group={by}"));
    }
    if let Some(bucket) = &args.bucket {
        path.push_str(&format!("&bucket={bucket}"));
    }
    if args.remote.offline {
        anyhow::bail!("stats need the running gateway; `switchyard usage --offline` reads totals from the store");
    }
    let remote = Remote::connect(&args.remote, args.store.config.as_ref())?;
    let answer = remote.get(&path)?;
    if args.store.json {
        print_json(&answer["rows"]);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = answer["rows"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            vec![
                r["group"].as_str().unwrap_or_default().to_string(),
                r["bucket_start_ms"]
                    .as_i64()
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
                r["requests"].to_string(),
                r["errors"].to_string(),
                r["tokens"]["input"].to_string(),
                r["tokens"]["output"].to_string(),
                format!("{:.4}", r["cost_micros"].as_f64().unwrap_or(0.0) / 1e6),
                r["latency_ms"]["p50"].to_string(),
                r["latency_ms"]["p99"].to_string(),
            ]
        })
        .collect();
    print_table(
        &[
            "GROUP", "BUCKET", "REQUESTS", "ERRORS", "INPUT", "OUTPUT", "COST_USD", "P50_MS",
            "P99_MS",
        ],
        &rows,
    );
    Ok(())
}

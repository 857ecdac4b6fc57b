//! `switchyard usage [--since 24h] [--by key|model|credential|provider]`: requests, tokens and
//! cost from the store, as a table or JSON.

use switchyard_core::usage::UsageGroup;

use super::store_cmd::{print_table, with_store, StoreArgs};
use crate::pipeline::unix_ms;
use switchyard_store::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Window: 24h, 7d, 90m.
    #[arg(long, default_value = "24h")]
    since: String,
    /// Group rows by key, model, credential or provider (default: one total row).
    #[arg(long)]
    by: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let group = match args.by.as_deref() {
        None | Some("all") => UsageGroup::All,
        Some("key") => UsageGroup::Key,
        Some("model") => UsageGroup::Model,
        Some("credential") => UsageGroup::Credential,
        Some("provider") => UsageGroup::Provider,
        Some(other) => anyhow::bail!("--by {other:?}: expected key, model, credential or provider"),
    };
    let window = super::keys_lifetime(&args.since)?;
    let json = args.store.json;
    with_store(&args.store, async move |store| {
        let rows = store.usage_summary(unix_ms() - window, group).await?;
        if json {
            let out: Vec<_> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "group": r.group, "requests": r.requests, "errors": r.errors,
                        "input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
                        "cache_read_tokens": r.cache_read_tokens,
                        "cache_write_tokens": r.cache_write_tokens,
                        "cost_usd": r.cost_micros as f64 / 1e6,
                    })
                })
                .collect();
            #[allow(clippy::print_stdout)] // reason: JSON is this command's output
            {
                println!("{}", serde_json::Value::Array(out));
            }
            return Ok(());
        }
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.group.clone(),
                    r.requests.to_string(),
                    r.errors.to_string(),
                    r.input_tokens.to_string(),
                    r.output_tokens.to_string(),
                    r.cache_read_tokens.to_string(),
                    r.cache_write_tokens.to_string(),
                    format!("{:.4}", r.cost_micros as f64 / 1e6),
                ]
            })
            .collect();
        print_table(
            &[
                "GROUP",
                "REQUESTS",
                "ERRORS",
                "INPUT",
                "OUTPUT",
                "CACHE_READ",
                "CACHE_WRITE",
                "COST_USD",
            ],
            &table,
        );
        Ok(())
    })
}

//! `switchyard logs [--limit N] [--follow]`: the request log of a running gateway, newest
//! first, or as it happens with `--follow`; `--offline` reads the store directly.

use switchyard_store::Engine;

use super::remote::{print_json, say, Remote, RemoteArgs};
use super::store_cmd::{print_table, with_store, StoreArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many recent requests.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Keep printing requests as they finish (not --offline).
    #[arg(long, short)]
    follow: bool,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

const HEADER: [&str; 8] = [
    "REQUEST",
    "STATUS",
    "MODEL",
    "PROVIDER",
    "CREDENTIAL",
    "TOKENS",
    "MS",
    "ERROR",
];

fn row(r: &serde_json::Value) -> Vec<String> {
    let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
    vec![
        text("request_id"),
        r["status"].to_string(),
        text("served_model"),
        text("provider"),
        text("credential"),
        format!(
            "{}/{}",
            r["input_tokens"].as_u64().unwrap_or(0),
            r["output_tokens"].as_u64().unwrap_or(0)
        ),
        r["latency_ms"].to_string(),
        text("error_class"),
    ]
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let json = args.store.json;
    if args.remote.offline {
        if args.follow {
            anyhow::bail!("--follow needs the running gateway (drop --offline)");
        }
        let limit = args.limit;
        return with_store(&args.store, async move |store| {
            let records = store.recent_usage(limit).await?;
            let values: Vec<serde_json::Value> = records
                .iter()
                .map(|r| serde_json::to_value(r).unwrap_or_default())
                .collect();
            if json {
                print_json(&serde_json::Value::Array(values));
            } else {
                print_table(&HEADER, &values.iter().map(row).collect::<Vec<_>>());
            }
            Ok(())
        });
    }
    let remote = Remote::connect(&args.remote, args.store.config.as_ref())?;
    if args.follow {
        return remote.follow("/api/logs/stream", |data| {
            if json {
                say(data);
            } else if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
                say(row(&v).join("  "));
            }
        });
    }
    let listed = remote.get(&format!("/api/logs?limit={}", args.limit))?;
    if json {
        print_json(&listed["records"]);
    } else {
        let rows: Vec<Vec<String>> = listed["records"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(row)
            .collect();
        print_table(&HEADER, &rows);
    }
    Ok(())
}

//! `switchyard routes | models | settings`: routes, model limits and prices, and the settings
//! overlay of a running gateway, through its admin API. Changes are validated with the
//! config file and applied live; entries from the file are listed but changed in the file.

use serde_json::{json, Value};

use super::remote::{print_json, say, Remote, RemoteArgs};
use super::store_cmd::{print_table, StoreArgs};

#[derive(Debug, clap::Args)]
pub struct RoutesArgs {
    #[command(subcommand)]
    command: RoutesCommand,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Debug, clap::Subcommand)]
enum RoutesCommand {
    /// Routes in the order they are matched.
    List,
    /// Add or replace a route: `--model 'claude-*' --target anthropic-main --target local:qwen`.
    Set {
        /// Glob over the model names clients ask for.
        #[arg(long)]
        model: String,
        /// `provider` or `provider:upstream-model`, in order (repeatable).
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        #[arg(long)]
        strategy: Option<String>,
    },
    /// Remove a route set through the API.
    Delete {
        #[arg(long)]
        model: String,
    },
}

fn remote(remote: &RemoteArgs, store: &StoreArgs) -> anyhow::Result<Remote> {
    if remote.offline {
        anyhow::bail!("this needs the running gateway (drop --offline)");
    }
    Remote::connect(remote, store.config.as_ref())
}

/// Query values are encoded so globs and names pass as they are.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn routes(args: RoutesArgs) -> anyhow::Result<()> {
    let r = remote(&args.remote, &args.store)?;
    let json_out = args.store.json;
    match args.command {
        RoutesCommand::List => {
            let listed = r.get("/api/routes")?;
            if json_out {
                print_json(&listed["routes"]);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = items(&listed["routes"])
                .iter()
                .map(|route| {
                    let targets: Vec<String> = items(&route["targets"])
                        .iter()
                        .map(|t| match t["model"].as_str() {
                            Some(m) => format!("{}:{m}", text(&t["provider"])),
                            None => text(&t["provider"]),
                        })
                        .collect();
                    vec![
                        text(&route["model"]),
                        text(&route["strategy"]),
                        targets.join(", "),
                        text(&route["origin"]),
                    ]
                })
                .collect();
            print_table(&["MODEL", "STRATEGY", "TARGETS", "ORIGIN"], &rows);
        }
        RoutesCommand::Set {
            model,
            targets,
            strategy,
        } => {
            let targets: Vec<Value> = targets
                .iter()
                .map(|t| match t.split_once(':') {
                    Some((p, m)) => json!({"provider": p, "model": m}),
                    None => json!({"provider": t}),
                })
                .collect();
            let mut body = json!({"model": model, "targets": targets});
            if let Some(s) = strategy {
                body["strategy"] = Value::String(s);
            }
            r.call(reqwest::Method::PUT, "/api/routes", Some(body))?;
            say(format!("route {model} set; it is in use now"));
        }
        RoutesCommand::Delete { model } => {
            r.delete(&format!("/api/routes?model={}", encode(&model)))?;
            say(format!("route {model} removed"));
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    command: ModelsCommand,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Debug, clap::Subcommand)]
enum ModelsCommand {
    /// Output limits and prices, most specific first.
    List,
    /// Add or replace a model entry (prices in dollars per million tokens).
    Set {
        /// Glob over upstream model names.
        #[arg(long)]
        name: String,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        max_output_tokens: Option<u64>,
        #[arg(long)]
        input: Option<f64>,
        #[arg(long)]
        output: Option<f64>,
        #[arg(long)]
        cache_read: Option<f64>,
        #[arg(long)]
        cache_write: Option<f64>,
    },
    /// Remove an entry set through the API.
    Delete {
        #[arg(long)]
        name: String,
        #[arg(long)]
        provider: Option<String>,
    },
}

pub fn models(args: ModelsArgs) -> anyhow::Result<()> {
    let r = remote(&args.remote, &args.store)?;
    match args.command {
        ModelsCommand::List => {
            let listed = r.get("/api/models")?;
            if args.store.json {
                print_json(&listed["models"]);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = items(&listed["models"])
                .iter()
                .map(|m| {
                    let price = &m["price"];
                    vec![
                        text(&m["name"]),
                        text(&m["provider"]),
                        m["max_output_tokens"]
                            .as_u64()
                            .map(|n| n.to_string())
                            .unwrap_or_default(),
                        if price.is_null() {
                            String::new()
                        } else {
                            format!(
                                "{} / {} / {} / {}",
                                price["input"],
                                price["output"],
                                price["cache_read"],
                                price["cache_write"]
                            )
                        },
                        text(&m["origin"]),
                    ]
                })
                .collect();
            print_table(
                &[
                    "NAME",
                    "PROVIDER",
                    "MAX_OUTPUT",
                    "PRICE IN/OUT/CACHE_R/CACHE_W",
                    "ORIGIN",
                ],
                &rows,
            );
        }
        ModelsCommand::Set {
            name,
            provider,
            max_output_tokens,
            input,
            output,
            cache_read,
            cache_write,
        } => {
            let mut body = json!({"name": name});
            if let Some(p) = provider {
                body["provider"] = Value::String(p);
            }
            if let Some(m) = max_output_tokens {
                body["max_output_tokens"] = json!(m);
            }
            match (input, output) {
                (Some(i), Some(o)) => {
                    let mut price = json!({"input": i, "output": o});
                    if let Some(c) = cache_read {
                        price["cache_read"] = json!(c);
                    }
                    if let Some(c) = cache_write {
                        price["cache_write"] = json!(c);
                    }
                    body["price"] = price;
                }
                (None, None) if cache_read.is_none() && cache_write.is_none() => {}
                _ => anyhow::bail!("a price needs both --input and --output"),
            }
            r.call(reqwest::Method::PUT, "/api/models", Some(body))?;
            say(format!("model entry {name} set; it is in use now"));
        }
        ModelsCommand::Delete { name, provider } => {
            let mut path = format!("/api/models?name={}", encode(&name));
            if let Some(p) = provider {
                path.push_str(&format!("&provider={}", encode(&p)));
            }
            r.delete(&path)?;
            say(format!("model entry {name} removed"));
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    #[command(subcommand)]
    command: SettingsCommand,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Debug, clap::Subcommand)]
enum SettingsCommand {
    /// The effective config (secrets masked), the API's overlay and the reload status.
    Get,
    /// Apply a JSON merge patch to the overlay (`-` reads it from stdin).
    Patch { patch: String },
}

pub fn settings(args: SettingsArgs) -> anyhow::Result<()> {
    let r = remote(&args.remote, &args.store)?;
    match args.command {
        SettingsCommand::Get => print_json(&r.get("/api/settings")?),
        SettingsCommand::Patch { patch } => {
            let text = if patch == "-" {
                let mut t = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)?;
                t
            } else {
                patch
            };
            let body: Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("the patch is not JSON: {e}"))?;
            print_json(&r.call(reqwest::Method::PATCH, "/api/settings", Some(body))?);
        }
    }
    Ok(())
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

//! `switchyard keys create | list | revoke | rotate`: client API keys, through the running
//! gateway's admin API, or with `--offline` in the store directly (a running gateway notices
//! within a second). A new key is printed once; only its hash is kept.

use anyhow::Context;
use switchyard_core::keys;

use super::remote::{print_json, say, Remote, RemoteArgs};
use super::store_cmd::{print_table, with_store, StoreArgs};
use crate::pipeline::unix_ms;
use switchyard_store::Engine;

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
    /// Create a key and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// Model globs the key may use (repeatable); default: every model.
        #[arg(long = "models", num_args = 1..)]
        models: Vec<String>,
        /// Lifetime such as 30d, 12h, 90m; default: no expiry.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id (the part after `sy-`).
    Revoke { id: String },
    /// Replace a key with a new one of the same name, models and expiry (not --offline).
    Rotate { id: String },
}

/// The id part of what the operator typed: a bare id, or a whole key.
fn key_id(given: &str) -> &str {
    let id = given.strip_prefix(keys::PREFIX).unwrap_or(given);
    id.split('-').next().unwrap_or(id)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.remote.offline {
        return offline(args);
    }
    let remote = Remote::connect(&args.remote, args.store.config.as_ref())?;
    let json = args.store.json;
    match args.command {
        Command::Create {
            name,
            models,
            expires,
        } => {
            let created = remote.post(
                "/api/keys",
                Some(serde_json::json!({"name": name, "models": models, "expires": expires})),
            )?;
            show_new_key(&created, json);
        }
        Command::List => {
            let listed = remote.get("/api/keys")?;
            if json {
                print_json(&listed["keys"]);
            } else {
                let rows: Vec<Vec<String>> = listed["keys"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|k| {
                        let models: Vec<&str> = k["models"]
                            .as_array()
                            .map(|m| m.iter().filter_map(|v| v.as_str()).collect())
                            .unwrap_or_default();
                        vec![
                            k["id"].as_str().unwrap_or_default().to_string(),
                            k["name"].as_str().unwrap_or_default().to_string(),
                            k["status"].as_str().unwrap_or_default().to_string(),
                            if models.is_empty() {
                                "*".into()
                            } else {
                                models.join(",")
                            },
                        ]
                    })
                    .collect();
                print_table(&["ID", "NAME", "STATUS", "MODELS"], &rows);
            }
        }
        Command::Revoke { id } => {
            let id = key_id(&id);
            remote.delete(&format!("/api/keys/{id}"))?;
            say(format!("revoked {id}"));
        }
        Command::Rotate { id } => {
            let rotated = remote.post(&format!("/api/keys/{}/rotate", key_id(&id)), None)?;
            show_new_key(&rotated, json);
        }
    }
    Ok(())
}

fn show_new_key(created: &serde_json::Value, json: bool) {
    let id = created["id"].as_str().unwrap_or_default();
    let key = created["key"].as_str().unwrap_or_default();
    if json {
        print_json(&serde_json::json!({"id": id, "key": key}));
    } else {
        say(key);
        say(format!(
            "(shown once: store it now; `switchyard keys revoke {id}` disables it)"
        ));
    }
}

/// The store directly: for when the gateway is down.
fn offline(args: Args) -> anyhow::Result<()> {
    let json = args.store.json;
    with_store(&args.store, async move |store| match args.command {
        Command::Create {
            name,
            models,
            expires,
        } => {
            let now = unix_ms();
            let expires_at_ms = match expires {
                Some(e) => Some(now + parse_lifetime(&e)?),
                None => None,
            };
            let mut random = [0u8; 33];
            getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let (key, full) = keys::issue(&random, name, models, now, expires_at_ms);
            let id = key.id.clone();
            store.insert_key(&key).await.context("saving the key")?;
            #[allow(clippy::print_stdout)] // reason: the key is this command's output
            if json {
                println!("{}", serde_json::json!({"id": id, "key": full}));
            } else {
                println!("{full}");
                println!("(shown once: store it now; `switchyard keys revoke {id}` disables it)");
            }
            Ok(())
        }
        Command::List => {
            let keys = store.list_keys().await?;
            let now = unix_ms();
            if json {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "id": k.id, "name": k.name, "models": k.models,
                            "created_at_ms": k.created_at_ms, "expires_at_ms": k.expires_at_ms,
                            "revoked_at_ms": k.revoked_at_ms, "active": k.is_active(now),
                        })
                    })
                    .collect();
                #[allow(clippy::print_stdout)] // reason: JSON is this command's output
                {
                    println!("{}", serde_json::Value::Array(rows));
                }
                return Ok(());
            }
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|k| {
                    let status = if k.revoked_at_ms.is_some() {
                        "revoked"
                    } else if !k.is_active(now) {
                        "expired"
                    } else {
                        "active"
                    };
                    vec![
                        k.id.clone(),
                        k.name.clone(),
                        status.to_string(),
                        if k.models.is_empty() {
                            "*".into()
                        } else {
                            k.models.join(",")
                        },
                    ]
                })
                .collect();
            print_table(&["ID", "NAME", "STATUS", "MODELS"], &rows);
            Ok(())
        }
        Command::Rotate { .. } => {
            anyhow::bail!("rotate needs the running gateway (drop --offline)")
        }
        Command::Revoke { id } => {
            let id = key_id(&id);
            if !store.revoke_key(id, unix_ms()).await? {
                anyhow::bail!("no active key with id {id}");
            }
            #[allow(clippy::print_stdout)] // reason: confirmation is this command's output
            {
                println!("revoked {id}");
            }
            Ok(())
        }
    })
}

/// `30d`, `12h`, `90m`, `45s` in milliseconds.
pub(crate) fn parse_lifetime(text: &str) -> anyhow::Result<i64> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: i64 = num
        .parse()
        .with_context(|| format!("{text:?} is not a lifetime such as 30d or 12h"))?;
    let ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" | "" => 1_000,
        _ => anyhow::bail!("{text:?} is not a lifetime such as 30d or 12h"),
    };
    Ok(n * ms)
}

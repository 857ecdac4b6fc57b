//! `switchyard accounts ...`: upstream credentials. Through the running gateway's admin API by
//! default (list with live status, add, remove, verify, activate, quarantine, export, import);
//! with `--offline`, `add`, `list` and `remove` work on the store directly, and a running
//! gateway (or any instance on the same database) merges the change within a second. A secret
//! given as `env:NAME`, `file:PATH` or `-` (stdin) is read here, once, so the gateway needs
//! neither that variable nor that file. Secrets are never printed.

use std::io::Read;

use anyhow::Context;
use switchyard_core::config::{Config, ProviderKind, Secret, SecretSource, SystemSecrets};
use switchyard_core::credential::StoredCredential;
use switchyard_store::Engine;

use super::remote::{print_json, say, Remote, RemoteArgs};
use super::store_cmd::{print_table, with_config_and_store, StoreArgs};
use crate::pipeline::unix_ms;

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
    /// Add a credential to a provider of the config.
    Add {
        /// The provider (its `name` in the config).
        #[arg(long)]
        provider: String,
        /// A name for the credential, unique within its provider.
        #[arg(long)]
        name: String,
        /// The secret: the value itself, `env:NAME`, `file:PATH`, or `-` to read stdin
        /// (keeps it out of shell history).
        #[arg(long)]
        secret: String,
        /// Share of traffic under the weighted strategy.
        #[arg(long, default_value_t = 1)]
        weight: u32,
        /// Free-form labels (repeatable).
        #[arg(long = "label")]
        labels: Vec<String>,
    },
    /// List every credential: the config file's and the stored ones (never their secrets).
    List,
    /// Remove a stored credential (credentials in the config file are removed by editing it).
    Remove {
        #[arg(long)]
        provider: String,
        name: String,
    },
    /// Check credentials with each provider's cheapest call: one, a provider's, or all.
    Verify {
        #[arg(long)]
        provider: Option<String>,
        /// One credential (needs --provider).
        name: Option<String>,
    },
    /// Return a credential to service.
    Activate {
        #[arg(long)]
        provider: String,
        name: String,
    },
    /// Take a credential out of service until activated.
    Quarantine {
        #[arg(long)]
        provider: String,
        name: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Print the stored credentials as JSON (secrets masked unless --secrets).
    Export {
        #[arg(long)]
        secrets: bool,
    },
    /// Add the credentials of an `export` file (`-` for stdin), reporting each.
    Import { file: String },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.remote.offline {
        return offline(args);
    }
    let remote = Remote::connect(&args.remote, args.store.config.as_ref())?;
    let json = args.store.json;
    match args.command {
        Command::Add {
            provider,
            name,
            secret,
            weight,
            labels,
        } => {
            let secret = read_secret(&secret)?;
            let body = serde_json::json!({
                "name": name, "secret": secret.expose(), "weight": weight, "labels": labels,
            });
            remote.post(
                &format!("/api/providers/{provider}/credentials"),
                Some(body),
            )?;
            if json {
                print_json(&serde_json::json!({"provider": provider, "name": name}));
            } else {
                say(format!("added {provider}/{name}; it is in use now"));
            }
        }
        Command::List => {
            let listed = remote.get("/api/providers")?;
            if json {
                print_json(&listed["providers"]);
                return Ok(());
            }
            let mut rows = Vec::new();
            for p in listed["providers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                for c in p["credentials"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    let text = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                    let detail = c["invalid_reason"]
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| {
                            c["cooldown_ms"]
                                .as_u64()
                                .map(|ms| format!("cooling down {}s", ms.div_ceil(1000)))
                        })
                        .or_else(|| {
                            c["last_error"]["message"]
                                .as_str()
                                .map(|m| format!("last error: {m}"))
                        })
                        .unwrap_or_default();
                    rows.push(vec![
                        p["name"].as_str().unwrap_or_default().to_string(),
                        text("name"),
                        text("origin"),
                        text("state"),
                        c["in_flight"].to_string(),
                        c["weight"].to_string(),
                        detail,
                    ]);
                }
            }
            print_table(
                &[
                    "PROVIDER",
                    "NAME",
                    "ORIGIN",
                    "STATE",
                    "IN_FLIGHT",
                    "WEIGHT",
                    "DETAIL",
                ],
                &rows,
            );
        }
        Command::Remove { provider, name } => {
            remote.delete(&format!("/api/providers/{provider}/credentials/{name}"))?;
            say(format!("removed {provider}/{name}"));
        }
        Command::Verify { provider, name } => verify(&remote, provider, name, json)?,
        Command::Activate { provider, name } => {
            remote.post(
                &format!("/api/providers/{provider}/credentials/{name}/activate"),
                None,
            )?;
            say(format!("{provider}/{name} is back in service"));
        }
        Command::Quarantine {
            provider,
            name,
            reason,
        } => {
            let body = reason.map(|r| serde_json::json!({ "reason": r }));
            remote.post(
                &format!("/api/providers/{provider}/credentials/{name}/quarantine"),
                body,
            )?;
            say(format!(
                "{provider}/{name} is out of service until activated"
            ));
        }
        Command::Export { secrets } => {
            let exported = remote.get(&format!("/api/credentials/export?secrets={secrets}"))?;
            print_json(&exported);
        }
        Command::Import { file } => import(&remote, &file, json)?,
    }
    Ok(())
}

/// Verifies one credential at a time with a progress bar, so a long list shows where it is.
fn verify(
    remote: &Remote,
    provider: Option<String>,
    name: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let targets: Vec<(String, String)> = match (&provider, name) {
        (Some(p), Some(n)) => vec![(p.clone(), n)],
        (None, Some(_)) => anyhow::bail!("naming a credential needs --provider"),
        (_, None) => {
            let listed = remote.get("/api/providers")?;
            listed["providers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|p| {
                    provider
                        .as_ref()
                        .is_none_or(|want| p["name"] == want.as_str())
                })
                .flat_map(|p| {
                    let pname = p["name"].as_str().unwrap_or_default().to_string();
                    p["credentials"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |c| {
                            (
                                pname.clone(),
                                c["name"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                })
                .collect()
        }
    };
    let bar = progress(targets.len(), json);
    let mut results = Vec::new();
    for (p, n) in targets {
        bar.set_message(format!("{p}/{n}"));
        let r = remote.post(&format!("/api/providers/{p}/credentials/{n}/verify"), None)?;
        results.push(r);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if json {
        print_json(&serde_json::Value::Array(results));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r["provider"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
                if r["ok"] == true { "ok" } else { "failed" }.to_string(),
                r["message"].as_str().unwrap_or_default().to_string(),
            ]
        })
        .collect();
    print_table(&["PROVIDER", "NAME", "RESULT", "MESSAGE"], &rows);
    Ok(())
}

/// Adds an export's credentials one by one with a progress bar; each is reported.
fn import(remote: &Remote, file: &str, json: bool) -> anyhow::Result<()> {
    let text = if file == "-" {
        let mut t = String::new();
        std::io::stdin()
            .read_to_string(&mut t)
            .context("reading stdin")?;
        t
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?
    };
    let doc: serde_json::Value = serde_json::from_str(&text).context("the file is not JSON")?;
    let items = doc["credentials"]
        .as_array()
        .context("expected {\"credentials\": [...]} as `accounts export --secrets` prints")?;
    let bar = progress(items.len(), json);
    let mut rows = Vec::new();
    let mut added = 0;
    for item in items {
        let provider = item["provider"].as_str().unwrap_or_default().to_string();
        let name = item["name"].as_str().unwrap_or_default().to_string();
        bar.set_message(format!("{provider}/{name}"));
        let body = serde_json::json!({
            "name": name, "secret": item["secret"], "weight": item.get("weight").cloned().unwrap_or(1.into()),
            "labels": item.get("labels").cloned().unwrap_or_else(|| serde_json::json!([])),
        });
        let result = if item["secret"] == "***" {
            Err(anyhow::anyhow!(
                "the secret is masked (export with --secrets)"
            ))
        } else {
            remote.post(
                &format!("/api/providers/{provider}/credentials"),
                Some(body),
            )
        };
        match result {
            Ok(_) => {
                added += 1;
                rows.push(vec![provider, name, "added".into()]);
            }
            Err(e) => rows.push(vec![provider, name, format!("{e}")]),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if json {
        print_json(&serde_json::json!({"added": added, "of": items.len()}));
    } else {
        print_table(&["PROVIDER", "NAME", "RESULT"], &rows);
    }
    Ok(())
}

/// A progress bar on stderr, hidden for scripts (`--json`) and when stderr is not a terminal.
fn progress(len: usize, json: bool) -> indicatif::ProgressBar {
    if json {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// The store directly: for when the gateway is down.
fn offline(args: Args) -> anyhow::Result<()> {
    let json = args.store.json;
    with_config_and_store(&args.store, async move |config, store| match args.command {
        Command::Add {
            provider,
            name,
            secret,
            weight,
            labels,
        } => {
            check_target(&config, &provider, &name)?;
            if weight == 0 {
                anyhow::bail!("--weight must be at least 1");
            }
            let secret = read_secret(&secret)?;
            let credential = StoredCredential {
                provider: provider.clone(),
                name: name.clone(),
                secret,
                weight,
                labels,
                created_at_ms: unix_ms(),
            };
            store
                .insert_credential(&credential)
                .await
                .with_context(|| format!("adding {provider}/{name}"))?;
            #[allow(clippy::print_stdout)] // reason: confirmation is this command's output
            if json {
                println!(
                    "{}",
                    serde_json::json!({"provider": provider, "name": name})
                );
            } else {
                println!("added {provider}/{name}; a running gateway uses it within a second");
            }
            Ok(())
        }
        Command::List => {
            let stored = store.list_credentials().await?;
            let rows = listing(&config, &stored);
            #[allow(clippy::print_stdout)] // reason: JSON is this command's output
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "provider": r.provider, "name": r.name, "origin": r.origin,
                            "weight": r.weight, "labels": r.labels,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
                return Ok(());
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.provider.to_owned(),
                        r.name.to_owned(),
                        r.origin.to_owned(),
                        r.weight.to_string(),
                        r.labels.join(","),
                    ]
                })
                .collect();
            print_table(&["PROVIDER", "NAME", "ORIGIN", "WEIGHT", "LABELS"], &table);
            Ok(())
        }
        Command::Verify { .. }
        | Command::Activate { .. }
        | Command::Quarantine { .. }
        | Command::Export { .. }
        | Command::Import { .. } => {
            anyhow::bail!("this needs the running gateway (drop --offline)")
        }
        Command::Remove { provider, name } => {
            if !store.remove_credential(&provider, &name).await? {
                let in_file = config
                    .providers
                    .iter()
                    .any(|p| p.name == provider && p.credentials.iter().any(|c| c.name == name));
                if in_file {
                    anyhow::bail!(
                        "{provider}/{name} is defined in the config file; remove it there"
                    );
                }
                anyhow::bail!("no stored credential {provider}/{name}");
            }
            #[allow(clippy::print_stdout)] // reason: confirmation is this command's output
            {
                println!("removed {provider}/{name}");
            }
            Ok(())
        }
    })
}

/// Refuses a credential the gateway could never use, before anything is written.
fn check_target(config: &Config, provider: &str, name: &str) -> anyhow::Result<()> {
    let Some(p) = config.providers.iter().find(|p| p.name == provider) else {
        let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
        anyhow::bail!(
            "no provider {provider:?} in the config (providers: {})",
            names.join(", ")
        );
    };
    if p.kind == ProviderKind::Mock {
        anyhow::bail!("provider {provider:?} is a mock and takes no credentials");
    }
    if name.trim().is_empty() {
        anyhow::bail!("--name must not be empty");
    }
    if p.credentials.iter().any(|c| c.name == name) {
        anyhow::bail!("{provider}/{name} is already defined in the config file");
    }
    Ok(())
}

fn read_secret(given: &str) -> anyhow::Result<Secret> {
    let secret = if given == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the secret from stdin")?;
        Secret::new(text.trim_end_matches(['\r', '\n']))
    } else {
        SecretSource::parse(given)
            .resolve(&SystemSecrets)
            .map_err(|problem| anyhow::anyhow!("--secret: {problem}"))?
    };
    if secret.expose().is_empty() {
        anyhow::bail!("--secret is empty");
    }
    Ok(secret)
}

/// One credential as listed, wherever it is defined.
struct Row<'a> {
    provider: &'a str,
    name: &'a str,
    /// `config` (the file) or `store` (added at run time).
    origin: &'static str,
    weight: u32,
    labels: &'a [String],
}

/// The config file's credentials, then the stored ones.
fn listing<'a>(config: &'a Config, stored: &'a [StoredCredential]) -> Vec<Row<'a>> {
    let in_file = config.providers.iter().flat_map(|p| {
        p.credentials.iter().map(|c| Row {
            provider: &p.name,
            name: &c.name,
            origin: "config",
            weight: c.weight,
            labels: &c.labels,
        })
    });
    let in_store = stored.iter().map(|c| Row {
        provider: &c.provider,
        name: &c.name,
        origin: "store",
        weight: c.weight,
        labels: &c.labels,
    });
    in_file.chain(in_store).collect()
}

//! `switchyard accounts add | list | remove`: upstream credentials kept in the store beside the
//! ones in the config file. Written to the store directly; a running gateway (this one or any
//! instance on the same database) merges them into its pools within a second, without a
//! restart. A secret given as `env:NAME`, `file:PATH` or `-` (stdin) is read here, once, so the
//! gateway needs neither that variable nor that file. Secrets are never printed.

use std::io::Read;

use anyhow::Context;
use switchyard_core::config::{Config, ProviderKind, Secret, SecretSource, SystemSecrets};
use switchyard_core::credential::StoredCredential;
use switchyard_store::Engine;

use super::store_cmd::{print_table, with_config_and_store, StoreArgs};
use crate::pipeline::unix_ms;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    store: StoreArgs,
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
}

pub fn run(args: Args) -> anyhow::Result<()> {
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

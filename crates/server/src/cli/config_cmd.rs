//! `switchyard config check`: loads the config through every layer, validates it, and prints
//! the effective config with secrets masked (only where each secret comes from is shown).
//! Exits non-zero, naming each problem's key and source, when the config is invalid.

use std::path::PathBuf;

use serde_json::json;
use switchyard_core::config::{Config, SystemSecrets};

use crate::settings::{self, FlagOverrides};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Validate the config and print the effective result (secrets masked).
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        listen: Option<String>,
        #[arg(long)]
        data_dir: Option<String>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let Command::Check {
        config,
        listen,
        data_dir,
    } = args.command;
    let flags = FlagOverrides { listen, data_dir };
    let loaded = settings::load(config.as_deref(), &flags, &SystemSecrets)?;
    let source = loaded
        .file
        .as_ref()
        .map_or("built-in defaults".to_string(), |p| p.display().to_string());
    let text = serde_json::to_string_pretty(&effective(&loaded.config)).unwrap_or_default();
    #[allow(clippy::print_stdout)] // reason: the effective config is this command's output
    {
        println!("# config ok (from {source})");
        println!("{text}");
    }
    Ok(())
}

/// The validated config as JSON, secrets replaced by where they come from.
pub fn effective(c: &Config) -> serde_json::Value {
    let providers: Vec<_> = c
        .providers
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "kind": format!("{:?}", p.kind),
                "base_url": p.base_url,
                "headers": p.headers.keys().collect::<Vec<_>>(),
                "timeouts": {
                    "connect_ms": p.timeouts.connect.as_millis() as u64,
                    "first_byte_ms": p.timeouts.first_byte.as_millis() as u64,
                    "idle_ms": p.timeouts.idle.as_millis() as u64,
                    "total_ms": p.timeouts.total.as_millis() as u64,
                },
                "credentials": p.credentials.iter().map(|cr| json!({
                    "name": cr.name,
                    "secret": cr.source.describe(),
                    "weight": cr.weight,
                    "max_concurrency": cr.max_concurrency,
                    "labels": cr.labels,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let routes: Vec<_> = c
        .routes
        .iter()
        .map(|r| {
            json!({
                "model": r.pattern.as_str(),
                "strategy": format!("{:?}", r.strategy),
                "targets": r.targets.iter().map(|t| json!({
                    "provider": c.providers[t.provider].name,
                    "model": t.model,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "listen": c.listen.to_string(),
        "data_dir": c.data_dir.display().to_string(),
        "providers": providers,
        "routes": routes,
    })
}

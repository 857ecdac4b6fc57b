//! What the store-backed commands (`keys`, `usage`) share: finding the data folder the same
//! way `serve` does, and opening the store on a small runtime.

use std::path::PathBuf;

use anyhow::Context;
use switchyard_core::config::{Config, SystemSecrets};
use switchyard_store::Store;

use crate::settings::{self, FlagOverrides};

#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Config file (default: ./switchyard.toml, else the user config folder).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data folder (default from the config, else ./.data).
    #[arg(long, global = true)]
    pub data_dir: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Runs `f` with the store the gateway uses.
pub fn with_store<T>(
    args: &StoreArgs,
    f: impl AsyncFnOnce(Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_config_and_store(args, async move |_, store| f(store).await)
}

/// Runs `f` with the effective config and the store the gateway uses.
pub fn with_config_and_store<T>(
    args: &StoreArgs,
    f: impl AsyncFnOnce(Config, Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let flags = FlagOverrides {
        listen: None,
        data_dir: args.data_dir.clone(),
    };
    let loaded = settings::load(args.config.as_deref(), &flags, &SystemSecrets)?;
    let url = super::serve::database_url(&loaded.config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let store = Store::open(&url).await.context("opening the store")?;
        f(loaded.config, store).await
    })
}

/// Prints rows as an aligned table.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    #[allow(clippy::print_stdout)] // reason: tables are this command's output
    {
        println!("{}", line(header.iter().map(|h| h.to_string()).collect()));
        for row in rows {
            println!("{}", line(row.clone()));
        }
    }
}

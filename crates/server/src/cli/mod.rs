//! Command-line definitions (clap) and dispatch to one module per subcommand. Each subcommand
//! module owns its arguments' meaning and its output; none holds business rules.

mod accounts;
mod admin;
mod config_cmd;
mod keys;
mod logs;
mod remote;
mod routing;
mod serve;
mod status;
mod store_cmd;
mod translate;
mod usage;

pub(crate) use config_cmd::effective as effective_config;
pub(crate) use keys::parse_lifetime as keys_lifetime;
pub use serve::database_url;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "A self-hosted LLM gateway: four API dialects, pooled credentials, recorded usage."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway.
    Serve(serve::Args),
    /// Check the configuration.
    Config(config_cmd::Args),
    /// Manage client API keys.
    Keys(keys::Args),
    /// Manage upstream credentials kept in the store (added at run time, no restart).
    Accounts(accounts::Args),
    /// Requests, tokens and cost recorded in the store.
    Usage(usage::Args),
    /// The request log of a running gateway (`--follow` for live).
    Logs(logs::Args),
    /// Usage statistics: requests, tokens, cost, latency percentiles by group and time.
    Stats(admin::StatsArgs),
    /// The admin token and the audit log.
    Admin(admin::Args),
    /// Routes of a running gateway (list, set, delete; live).
    Routes(routing::RoutesArgs),
    /// Model output limits and prices of a running gateway (live).
    Models(routing::ModelsArgs),
    /// The effective config and the API's settings overlay (get, patch; live).
    Settings(routing::SettingsArgs),
    /// Resilience state of a running gateway: credentials, breakers, limits, queues, quota.
    Status(status::Args),
    /// Translate a request, response or stream from one API dialect to another (reads stdin,
    /// writes stdout); for debugging what a client sends and what an upstream would receive.
    Translate(translate::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Translate(args) => translate::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Config(args) => config_cmd::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Accounts(args) => accounts::run(args),
        Command::Usage(args) => usage::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Stats(args) => admin::stats(args),
        Command::Admin(args) => admin::run(args),
        Command::Routes(args) => routing::routes(args),
        Command::Models(args) => routing::models(args),
        Command::Settings(args) => routing::settings(args),
        Command::Status(args) => status::run(args),
    }
}

//! Command-line definitions (clap) and dispatch to one module per subcommand. Each subcommand
//! module owns its arguments' meaning and its output; none holds business rules.

mod translate;

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
    /// Translate a request, response or stream from one API dialect to another (reads stdin,
    /// writes stdout); for debugging what a client sends and what an upstream would receive.
    Translate(translate::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Translate(args) => translate::run(args),
    }
}

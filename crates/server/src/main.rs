//! The `switchyard` binary: parses the command line and runs the chosen subcommand.

use std::process::ExitCode;

use clap::Parser;
use switchyard_server::cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[allow(clippy::print_stderr)] // reason: the CLI's one place that reports failure
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

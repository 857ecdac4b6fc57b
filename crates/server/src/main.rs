//! The `switchyard` binary: parses the command line and runs the chosen subcommand.
//!
//! Codemap: `cli` (clap definitions and one module per subcommand). The HTTP gateway, admin
//! API and dashboard arrive as their own modules; business rules live in `switchyard-core`,
//! translation in `switchyard-protocol`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The CLI's one place that reports a failed command to the user.
            #[allow(clippy::print_stderr)] // reason: this is the CLI's error output
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

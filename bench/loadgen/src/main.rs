//! `switchyard-loadgen`: the benchmark kit's load generator and report writer. `run` drives
//! HTTP/1.1 load at one URL and prints one JSON result; `report` turns the JSON lines that
//! `bench/run` collected into the Markdown table and the JSON artifact. It is a measuring
//! instrument, not part of the gateway: it must not depend on any switchyard crate, so what
//! it measures cannot bend to what it measures.
//!
//! Codemap: `load` (connections, the timetable, histograms), `report` (aggregation across
//! rounds, the budgets, Markdown).

mod load;
mod report;

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "switchyard-loadgen", version)]
enum Command {
    /// Drive load at one URL and print the result as JSON on stdout.
    Run(load::Args),
    /// Aggregate `bench/run`'s JSON lines into a Markdown report and a JSON artifact.
    Report {
        /// The JSON lines file `bench/run` wrote (one line per measurement).
        #[arg(long)]
        input: PathBuf,
        /// Where to write the JSON artifact.
        #[arg(long)]
        json: PathBuf,
        /// Where to write the Markdown report (also printed on stdout).
        #[arg(long)]
        md: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Command::parse() {
        Command::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let result = runtime.block_on(load::run(args))?;
            #[allow(clippy::print_stdout)] // reason: the result is this command's output
            {
                println!("{}", serde_json::to_string(&result)?);
            }
        }
        Command::Report { input, json, md } => {
            let text = report::write(&input, &json, &md)?;
            #[allow(clippy::print_stdout)] // reason: the report is this command's output
            {
                print!("{text}");
            }
        }
    }
    Ok(())
}

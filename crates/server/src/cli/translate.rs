//! `switchyard translate`: reads a request, response or SSE stream in one dialect from stdin
//! and prints it in another, exactly as the gateway would translate it, or as the internal
//! representation with `--to ir`.

use std::io::{Read, Write};

use anyhow::Context;
use switchyard_protocol::{translate, Dialect, EncodeOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dialect of the input: anthropic, openai, responses or gemini.
    #[arg(long)]
    from: Dialect,
    /// Dialect of the output (anthropic, openai, responses, gemini), or `ir` to print the
    /// internal representation.
    #[arg(long)]
    to: Target,
    /// The input is a response body (default: a request body).
    #[arg(long)]
    response: bool,
    /// The input is a streamed response (SSE); implies --response.
    #[arg(long)]
    stream: bool,
    /// `max_tokens` to send when the target requires one and the request has none.
    #[arg(long, default_value_t = EncodeOptions::default().default_max_tokens)]
    default_max_tokens: u64,
    /// For OpenAI chat streams: leave out the usage chunk (as for a client that did not ask
    /// for `stream_options.include_usage`).
    #[arg(long)]
    no_stream_usage: bool,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Dialect(Dialect),
    Ir,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "ir" {
            Ok(Target::Ir)
        } else {
            s.parse().map(Target::Dialect)
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("reading stdin")?;
    let out = translate_bytes(&args, &input)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    if !out.ends_with(b"\n") {
        stdout.write_all(b"\n")?;
    }
    Ok(())
}

fn translate_bytes(args: &Args, input: &[u8]) -> anyhow::Result<Vec<u8>> {
    let opts = EncodeOptions {
        default_max_tokens: args.default_max_tokens,
        include_usage: !args.no_stream_usage,
        ..EncodeOptions::default()
    };
    let from = args.from;
    let out = match (args.to, args.stream, args.response) {
        (Target::Ir, true, _) => {
            let events = translate::stream_events(from, input)?;
            let mut out = String::new();
            for ev in events {
                out.push_str(&format!("{ev:?}\n"));
            }
            out.into_bytes()
        }
        (Target::Ir, false, true) => format!("{:#?}", from.decode_response(input)?).into_bytes(),
        (Target::Ir, false, false) => format!("{:#?}", from.decode_request(input)?).into_bytes(),
        (Target::Dialect(to), true, _) => translate::stream(from, to, input, &opts)?,
        (Target::Dialect(to), false, true) => pretty(translate::response(from, to, input, &opts)?),
        (Target::Dialect(to), false, false) => pretty(translate::request(from, to, input, &opts)?),
    };
    Ok(out)
}

/// Indents JSON for people reading it on a terminal.
fn pretty(json: Vec<u8>) -> Vec<u8> {
    serde_json::from_slice::<serde_json::Value>(&json)
        .and_then(|v| serde_json::to_vec_pretty(&v))
        .unwrap_or(json)
}

//! `switchyard-mock`: the fake upstream as a process, for benchmarks and the Python client
//! tests. It answers every dialect with the default echo (or `--text`, or `--tool-call` when the
//! request offers tools), with no added latency unless asked, keeps no call
//! records (a long run must not grow), prints its base URL on stdout once listening, and exits
//! cleanly on SIGINT or SIGTERM. It must not grow features the library lacks: scripting beyond
//! these flags belongs in tests that use `FakeUpstream` directly.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use switchyard_testkit::{FakeUpstream, Reply, Script, DEFAULT_CHUNKS};

/// A fake LLM upstream speaking the OpenAI, Responses, Anthropic and Gemini APIs.
#[derive(Debug, Parser)]
#[command(name = "switchyard-mock", version)]
struct Args {
    /// Address to listen on (port 0 picks a free one; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Pieces per streamed answer (also the output token count).
    #[arg(long, default_value_t = DEFAULT_CHUNKS)]
    chunks: usize,
    /// Wait between stream frames, in milliseconds.
    #[arg(long, default_value_t = 0)]
    chunk_delay_ms: u64,
    /// Wait before the first byte of each answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    first_byte_ms: u64,
    /// Answer text instead of echoing the last user message.
    #[arg(long)]
    text: Option<String>,
    /// `NAME:ARGS_JSON`: answer every request that offers tools with a call of tool NAME with
    /// these arguments (a JSON object); requests without tools still get text.
    #[arg(long, value_name = "NAME:ARGS_JSON", value_parser = parse_tool_call)]
    tool_call: Option<(String, String)>,
}

/// Splits `NAME:ARGS_JSON` at the first colon and checks the arguments are a JSON object, so
/// a typo fails at start rather than as a malformed answer.
fn parse_tool_call(spec: &str) -> Result<(String, String), String> {
    let (name, args) = spec
        .split_once(':')
        .ok_or_else(|| format!("expected NAME:ARGS_JSON, got {spec:?}"))?;
    if name.is_empty() {
        return Err("the tool name is empty".to_owned());
    }
    match serde_json::from_str::<serde_json::Value>(args) {
        Ok(serde_json::Value::Object(_)) => Ok((name.to_owned(), args.to_owned())),
        Ok(_) => Err(format!("the arguments must be a JSON object, got {args}")),
        Err(e) => Err(format!("the arguments are not JSON: {e}")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut reply = Reply::ok()
        .chunks(args.chunks)
        .chunk_delay(Duration::from_millis(args.chunk_delay_ms))
        .first_byte(Duration::from_millis(args.first_byte_ms));
    if let Some(text) = args.text {
        reply = reply.text(text);
    }
    if let Some((name, arguments)) = args.tool_call {
        reply = reply.tool_call(name, arguments);
    }
    let script = Script::new().reply(reply).without_records();
    let fake = FakeUpstream::bind(args.listen, script)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    // The one line a benchmark script reads to find the mock.
    println!("{}", fake.url());
    wait_for_signal().await?;
    fake.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("cannot listen for SIGINT")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

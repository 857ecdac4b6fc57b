//! `switchyard serve`: loads the config, opens the store, sets the admin token, starts the
//! usage writer, the health loop and the HTTP server, and on SIGTERM / SIGINT drains in a fixed order: stop accepting (and report
//! not ready), let in-flight requests and streams finish up to the drain timeout, flush the
//! usage writer, exit 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use switchyard_core::config::{Config, SystemSecrets};
use switchyard_core::usage::UsageRecord;
use switchyard_core::writer::{self, UsageSink, WriterConfig};
use switchyard_store::{Engine, Store};
use tokio_util::sync::CancellationToken;

use crate::pipeline::unix_ms;
use crate::settings::{self, FlagOverrides};
use crate::state::{AppState, Limits, Snapshot};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file (default: ./switchyard.toml, else the user config folder).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8672.
    #[arg(long)]
    pub listen: Option<String>,
    /// Port to listen on (keeps the configured host).
    #[arg(long)]
    pub port: Option<u16>,
    /// Data folder (database, artifacts).
    #[arg(long)]
    pub data_dir: Option<String>,
    /// Log at debug level.
    #[arg(long)]
    pub debug: bool,
    /// `pretty` for people, `json` for log collectors.
    #[arg(long, default_value = "pretty")]
    pub log_format: String,
    /// Listen on a non-loopback address even though no client key exists.
    #[arg(long)]
    pub insecure_open: bool,
    /// How long in-flight requests may take to finish after a shutdown signal.
    #[arg(long, default_value = "30", value_name = "SECONDS")]
    pub drain_timeout: u64,
    /// Follow every route's `fallback` chain when its credentials are exhausted (routes may
    /// still opt out with `fallback_enabled = false`).
    #[arg(long)]
    pub fallback: bool,
}

/// The store as the usage writer's sink.
struct StoreSink(Store);

impl UsageSink for StoreSink {
    async fn write(&self, batch: &[UsageRecord]) -> Result<(), String> {
        self.0.insert_usage(batch).await.map_err(|e| e.to_string())
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    init_logging(args.debug, &args.log_format);
    let flags = FlagOverrides {
        listen: args.listen.clone(),
        data_dir: args.data_dir.clone(),
    };
    let mut loaded = settings::load(args.config.as_deref(), &flags, &SystemSecrets)?;
    if let Some(port) = args.port {
        loaded.config.listen.set_port(port);
    }
    if args.fallback {
        loaded.config.fallback = true;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(loaded.config, &args))
}

pub fn database_url(config: &Config) -> String {
    format!(
        "sqlite://{}",
        config.data_dir.join("switchyard.db").display()
    )
}

async fn serve(config: Config, args: &Args) -> anyhow::Result<()> {
    let store = Store::open(&database_url(&config))
        .await
        .context("opening the store")?;
    let keys = store.list_keys().await.context("reading client keys")?;
    let stored = store
        .list_credentials()
        .await
        .context("reading stored credentials")?;
    let listen = config.listen;
    check_exposure(listen, keys.is_empty(), args.insecure_open)?;

    let (admin_token, generated) = crate::admin::auth::token_from_env_or_new()?;
    let (usage, writer) = writer::spawn(StoreSink(store.clone()), WriterConfig::default());
    let state = AppState::new(
        Snapshot::new(config, keys).with_credentials(&stored),
        usage,
        Limits::default(),
        unix_ms(),
    )
    .with_response_store(store.clone())
    .with_admin_token(&admin_token);
    if generated {
        #[allow(clippy::print_stderr)] // reason: the one time a generated admin token is shown
        {
            eprintln!(
                "admin token for /api and `switchyard status` (set {} to choose your own): {admin_token}",
                crate::admin::auth::TOKEN_ENV
            );
        }
    }
    drop(admin_token);

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let bound = listener.local_addr()?;
    tracing::info!(address = %bound, "switchyard listening");
    #[allow(clippy::print_stdout)] // reason: the one line scripts and people wait for
    {
        println!("switchyard listening on http://{bound}");
    }

    let shutdown = CancellationToken::new();
    let reload = tokio::spawn(watch_store(state.clone(), store.clone(), shutdown.clone()));
    let prune = tokio::spawn(prune_responses(store.clone(), shutdown.clone()));
    let checks = tokio::spawn(crate::checks::run(state.clone(), shutdown.clone()));
    let signal = shutdown.clone();
    let draining = state.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: draining in-flight requests");
        draining.draining.store(true, Ordering::Relaxed);
        signal.cancel();
    });

    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        // Nagle's algorithm costs small JSON answers tens of milliseconds.
        let _ = tcp.set_nodelay(true);
    });
    let app = crate::app::app(state.clone());
    let stop = shutdown.clone();
    let server =
        axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await });
    let drain = Duration::from_secs(args.drain_timeout);
    let mut server = std::pin::pin!(std::future::IntoFuture::into_future(server));
    tokio::select! {
        res = &mut server => res.context("serving")?,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(drain).await } => {
            tracing::warn!("drain timeout reached; closing remaining connections");
        }
    }
    shutdown.cancel();
    let _ = reload.await;
    let _ = prune.await;
    let _ = checks.await;
    state.tasks.close();
    if tokio::time::timeout(drain, state.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("some streams did not finish within the drain timeout");
    }
    drop(state);
    // Every usage handle is gone now: the writer flushes what is queued and ends.
    let _ = writer.await;
    tracing::info!("stopped");
    Ok(())
}

/// Refuses to expose an open gateway beyond this machine by accident.
fn check_exposure(listen: SocketAddr, no_keys: bool, insecure_open: bool) -> anyhow::Result<()> {
    if no_keys && !listen.ip().is_loopback() && !insecure_open {
        anyhow::bail!(
            "refusing to listen on {listen} without client keys: anyone who can reach it could \
             spend your upstream credentials. Create a key with `switchyard keys create --name NAME`, \
             listen on 127.0.0.1, or pass --insecure-open"
        );
    }
    if no_keys && !listen.ip().is_loopback() {
        tracing::warn!(%listen, "listening beyond loopback with no client keys (--insecure-open)");
    }
    Ok(())
}

/// Keys and credentials added or removed with the CLI (by this machine or another instance on
/// the same database) reach the running gateway within a second, without a restart: the
/// store's change version is polled, and on a change both lists are read and swapped in.
async fn watch_store(state: AppState, store: Store, stop: CancellationToken) {
    let mut seen = store.change_version().await.unwrap_or_default();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let Ok(version) = store.change_version().await else {
            continue;
        };
        if version == seen {
            continue;
        }
        let (keys, credentials) = match (store.list_keys().await, store.list_credentials().await) {
            (Ok(k), Ok(c)) => (k, c),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "reading keys and credentials from the store failed");
                continue;
            }
        };
        let old = state.snapshot.load_full();
        let next = old.with_keys(keys).with_credentials(&credentials);
        state.snapshot.store(std::sync::Arc::new(next));
        seen = version;
        tracing::info!(
            credentials = credentials.len(),
            "client keys and stored credentials reloaded"
        );
    }
}

/// Expired Responses state is never served; this only keeps the table from growing.
async fn prune_responses(store: Store, stop: CancellationToken) {
    loop {
        match store.prune_responses(unix_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "expired stored responses deleted"),
            Err(e) => tracing::warn!(error = %e, "pruning stored responses failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60 * 60)) => {}
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_logging(debug: bool, format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| EnvFilter::new(if debug { "debug" } else { "info" }));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

//! `switchyard serve`: loads the config, opens the store, sets the admin token, starts the
//! usage writer, the health loop and the HTTP server, and on SIGTERM / SIGINT drains in a fixed order: stop accepting (and report
//! not ready), let in-flight requests and streams finish up to the drain timeout, flush the
//! usage writer, exit 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use switchyard_core::config::Config;
use switchyard_core::usage::UsageRecord;
use switchyard_core::writer::{self, UsageSink, WriterConfig};
use switchyard_store::{Engine, Store};
use tokio_util::sync::CancellationToken;

use crate::pipeline::unix_ms;
use crate::reload::{self, ConfigSource};
use crate::settings::FlagOverrides;
use crate::state::{AppState, Limits, Snapshot};
use switchyard_core::config::overlay::RawOverlay;

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
    /// Export a trace span per request to this OTLP/HTTP collector (e.g.
    /// http://127.0.0.1:4318); needs a build with the `otel` feature.
    #[arg(long, env = "SWITCHYARD_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
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
    let source = ConfigSource {
        named: args.config.clone(),
        flags,
        port: args.port,
        fallback: args.fallback,
    };
    let config = source.load(&RawOverlay::default())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config, source, &args))
}

pub fn database_url(config: &Config) -> String {
    format!(
        "sqlite://{}",
        config.data_dir.join("switchyard.db").display()
    )
}

async fn serve(config: Config, source: ConfigSource, args: &Args) -> anyhow::Result<()> {
    let store = Store::open(&database_url(&config))
        .await
        .context("opening the store")?;
    let keys = store.list_keys().await.context("reading client keys")?;
    let stored = store
        .list_credentials()
        .await
        .context("reading stored credentials")?;
    // Routes and models set through the admin API lie over the file.
    let overlay = reload::read_overlay(&store)
        .await
        .context("reading the config overlay")?;
    let config = if overlay.is_empty() {
        config
    } else {
        source
            .load(&overlay)
            .context("the config with the admin API's routes and models")?
    };
    let listen = config.listen;
    check_exposure(listen, keys.is_empty(), args.insecure_open)?;

    let (usage, writer) = writer::spawn(StoreSink(store.clone()), WriterConfig::default());
    let state = AppState::new(
        Snapshot::new(config, keys).with_credentials(&stored),
        usage,
        Limits::default(),
        unix_ms(),
    )
    .with_store(store.clone());
    state.overlay.store(std::sync::Arc::new(overlay));
    let _ = state.config_source.set(source.clone());

    admin_token(&state, &store).await?;
    start_telemetry(&state, args.otlp_endpoint.as_deref())?;

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
    let watch = tokio::spawn(reload::watch(state.clone(), source, shutdown.clone()));
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
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
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
    let _ = watch.await;
    let _ = checks.await;
    state.tasks.close();
    if tokio::time::timeout(drain, state.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("some streams did not finish within the drain timeout");
    }
    #[cfg(feature = "otel")]
    if let Some(t) = state.telemetry.get() {
        // The exporter flushes with a blocking client on its own thread; wait for it here.
        tokio::task::block_in_place(|| t.shutdown());
    }
    drop(state);
    // Every usage handle is gone now: the writer flushes what is queued and ends.
    let _ = writer.await;
    tracing::info!("stopped");
    Ok(())
}

/// The admin token: `SWITCHYARD_ADMIN_TOKEN` when set; else the one whose hash the store
/// keeps; else a new one, kept hashed and printed this once.
async fn admin_token(state: &AppState, store: &Store) -> anyhow::Result<()> {
    if let Some(token) = crate::api::admin_token_from_env() {
        crate::api::install_admin_token(state, &token);
        return Ok(());
    }
    if let Some(hash) = store.get_setting(crate::api::ADMIN_TOKEN_SETTING).await? {
        crate::api::install_admin_hash(state, hash);
        return Ok(());
    }
    let token = crate::api::new_admin_token().map_err(anyhow::Error::msg)?;
    store
        .put_setting(
            crate::api::ADMIN_TOKEN_SETTING,
            &switchyard_core::keys::hash_secret(&token),
        )
        .await?;
    crate::api::install_admin_token(state, &token);
    #[allow(clippy::print_stderr)] // reason: the token is shown once, to the operator
    {
        eprintln!(
            "admin API token (shown once; `switchyard admin reset-token --offline` makes a new one): {token}"
        );
    }
    Ok(())
}

/// Starts trace export when asked; a build without the `otel` feature says so instead of
/// silently exporting nothing.
fn start_telemetry(state: &AppState, endpoint: Option<&str>) -> anyhow::Result<()> {
    let Some(endpoint) = endpoint else {
        return Ok(());
    };
    #[cfg(feature = "otel")]
    {
        let telemetry = crate::telemetry::Telemetry::start(endpoint)
            .with_context(|| format!("starting trace export to {endpoint}"))?;
        let _ = state.telemetry.set(telemetry);
        tracing::info!(%endpoint, "exporting request traces over OTLP");
        Ok(())
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = state;
        anyhow::bail!(
            "--otlp-endpoint {endpoint}: this build has no trace export; build with `--features otel`"
        )
    }
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
        match reload::refresh_from_store(&state, &store).await {
            Ok(()) => {
                seen = version;
                tracing::info!("client keys and stored credentials reloaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading keys and credentials from the store failed")
            }
        }
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
        // `--debug` opens the gateway's own crates only: libraries at debug level print
        // connection details nobody asked for.
        .unwrap_or_else(|_| {
            EnvFilter::new(if debug {
                "info,switchyard_server=debug,switchyard_core=debug,switchyard_store=debug"
            } else {
                "info"
            })
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

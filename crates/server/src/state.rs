//! What every handler shares, passed in as axum state: the current snapshot (config, one
//! credential pool per provider, client keys) behind one `ArcSwap` so a reload swaps it whole,
//! the upstream HTTP client, the usage writer's handle and the task tracker that owns every
//! stream task. Nothing here is global.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use switchyard_core::config::Config;
use switchyard_core::credential::{self, StoredCredential};
use switchyard_core::keys::ApiKey;
use switchyard_core::pool::{Member, Pool, SessionLimits};
use switchyard_core::resilience::RetryBudget;
use switchyard_core::usage::UsageRecord;
use switchyard_core::writer::UsageHandle;
use switchyard_store::Store;
use tokio_util::task::TaskTracker;

/// Everything that changes together when config, stored credentials or keys change.
#[derive(Debug)]
pub struct Snapshot {
    /// What requests run on: the file's config with the stored credentials merged in.
    pub config: Config,
    /// One pool per provider, same order as `config.providers`.
    pub pools: Vec<Arc<Pool>>,
    /// Client keys by public id. Empty: the gateway accepts any caller (loopback only).
    pub keys: HashMap<String, ApiKey>,
    /// One retry budget per route, same order as `config.routes`; shared with the snapshots
    /// that follow (routes change only with the config file).
    pub budgets: Arc<Vec<Mutex<RetryBudget>>>,
    /// The config as loaded, before stored credentials were merged in: a reload merges anew
    /// from here.
    base: Arc<Config>,
    /// The credentials from the store merged into `config`.
    stored: Arc<Vec<StoredCredential>>,
}

impl Snapshot {
    pub fn new(config: Config, keys: Vec<ApiKey>) -> Self {
        Self::build(Arc::new(config), Arc::new(Vec::new()), keys, None)
    }

    /// The config as loaded from its layers, without the stored credentials.
    pub fn base(&self) -> &Config {
        &self.base
    }

    /// The same snapshot with new client keys; pools (and their live state) are shared.
    pub fn with_keys(&self, keys: Vec<ApiKey>) -> Self {
        Self {
            config: self.config.clone(),
            pools: self.pools.clone(),
            keys: index_keys(keys),
            budgets: Arc::clone(&self.budgets),
            base: Arc::clone(&self.base),
            stored: Arc::clone(&self.stored),
        }
    }

    /// The same config with this set of credentials from the store merged in (every stored
    /// one, not a change list). Pools carry their live state over to the new member lists.
    pub fn with_credentials(&self, stored: &[StoredCredential]) -> Self {
        let keys = self.keys.values().cloned().collect();
        let stored = Arc::new(stored.to_vec());
        Self::build(Arc::clone(&self.base), stored, keys, Some(self))
    }

    /// A new config (a reload) with the same stored credentials and keys. Providers that keep
    /// their name keep their pool's live state.
    pub fn with_config(&self, config: Config) -> Self {
        let keys = self.keys.values().cloned().collect();
        Self::build(Arc::new(config), Arc::clone(&self.stored), keys, Some(self))
    }

    fn build(
        base: Arc<Config>,
        stored: Arc<Vec<StoredCredential>>,
        keys: Vec<ApiKey>,
        previous: Option<&Snapshot>,
    ) -> Self {
        let (config, skipped) = credential::merge(&base, &stored);
        for reason in skipped {
            tracing::warn!("stored credential left out: {reason}");
        }
        let pools = config
            .providers
            .iter()
            .map(|provider| {
                let members = provider.credentials.iter().map(Member::from).collect();
                let before = previous.and_then(|p| p.pool_named(&provider.name));
                Arc::new(match before {
                    Some(pool) => pool.successor(members),
                    None => Pool::configured(
                        members,
                        SessionLimits::default(),
                        config.resilience.clone(),
                    ),
                })
            })
            .collect();
        let budgets = match previous {
            Some(p) => Arc::clone(&p.budgets),
            None => Arc::new(
                config
                    .routes
                    .iter()
                    .map(|_| Mutex::new(RetryBudget::new(config.resilience.budget.clone())))
                    .collect(),
            ),
        };
        Self {
            config,
            pools,
            keys: index_keys(keys),
            budgets,
            base,
            stored,
        }
    }

    fn pool_named(&self, provider: &str) -> Option<&Pool> {
        let index = self
            .config
            .providers
            .iter()
            .position(|p| p.name == provider)?;
        self.pools.get(index).map(|p| p.as_ref())
    }
}

fn index_keys(keys: Vec<ApiKey>) -> HashMap<String, ApiKey> {
    keys.into_iter().map(|k| (k.id.clone(), k)).collect()
}

/// Tunables of the serving path that are not (yet) in the config file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Most upstream attempts for one request.
    pub max_attempts: usize,
    /// A stream silent this long gets a keep-alive ping in the client's dialect.
    pub ping_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 32 * 1024 * 1024,
            max_attempts: 6,
            ping_interval: Duration::from_secs(15),
        }
    }
}

#[derive(Debug)]
pub struct Shared {
    pub snapshot: ArcSwap<Snapshot>,
    /// Upstream requests: chat, embeddings, token counts, credential checks.
    pub egress: crate::egress::Egress,
    /// OAuth token endpoints (form posts and JSON answers, off the request path).
    pub http: reqwest::Client,
    pub usage: UsageHandle,
    pub metrics: crate::metrics::Metrics,
    /// What the last config reloads did.
    pub reload: crate::reload::ReloadState,
    /// Where the config is read from (file and layers), for reloads and admin API edits;
    /// unset when the gateway was built from a config in memory.
    pub config_source: OnceLock<crate::reload::ConfigSource>,
    /// Routes and models set through the admin API, laid over the file.
    pub overlay: ArcSwap<switchyard_core::config::overlay::RawOverlay>,
    /// Serialises admin API config edits, so two at once cannot lose one.
    pub config_edits: tokio::sync::Mutex<()>,
    /// Access tokens of OAuth credentials.
    pub tokens: crate::oauth::Tokens,
    /// Where request spans go, when traces are exported.
    #[cfg(feature = "otel")]
    pub telemetry: OnceLock<crate::telemetry::Telemetry>,
    /// Hex SHA-256 hashes of the admin tokens that open `/api`; empty: `/api` is closed.
    pub admin_tokens: ArcSwap<Vec<String>>,
    /// Every finished request's record, for the live log; a listener that falls behind
    /// misses records rather than slowing requests down.
    pub events: tokio::sync::broadcast::Sender<Arc<UsageRecord>>,
    pub tasks: TaskTracker,
    pub limits: Limits,
    /// Set when shutdown begins: `/ready` turns false.
    pub draining: AtomicBool,
    /// The database: Responses API state (`previous_response_id`, `store`), keys, stored
    /// credentials, audit, settings. Unset (tests of the pipeline alone): no Responses state is
    /// kept and the admin API answers 503 for what needs the store.
    store: OnceLock<Store>,
    /// Source of request ids (with the start time, unique per process).
    next_id: AtomicU64,
    id_prefix: String,
}

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(snapshot: Snapshot, usage: UsageHandle, limits: Limits, started_ms: i64) -> Self {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(Duration::from_secs(90))
            .connect_timeout(Duration::from_secs(10))
            // A token endpoint's redirect is not followed: it would carry the refresh token
            // elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self(Arc::new(Shared {
            snapshot: ArcSwap::from_pointee(snapshot),
            egress: crate::egress::Egress::new(),
            http,
            usage,
            metrics: crate::metrics::Metrics::new(),
            reload: crate::reload::ReloadState::default(),
            config_source: OnceLock::new(),
            overlay: ArcSwap::from_pointee(Default::default()),
            config_edits: tokio::sync::Mutex::new(()),
            tokens: crate::oauth::Tokens::default(),
            #[cfg(feature = "otel")]
            telemetry: OnceLock::new(),
            admin_tokens: ArcSwap::from_pointee(Vec::new()),
            events: tokio::sync::broadcast::channel(1024).0,
            tasks: TaskTracker::new(),
            limits,
            draining: AtomicBool::new(false),
            store: OnceLock::new(),
            next_id: AtomicU64::new(0),
            id_prefix: format!("{started_ms:x}"),
        }))
    }

    /// Uses `store` as the database. Set once, before serving; a second call is ignored.
    pub fn with_store(self, store: Store) -> Self {
        let _ = self.0.store.set(store);
        self
    }

    /// The database, when there is one.
    pub fn store(&self) -> Option<&Store> {
        self.0.store.get()
    }

    pub fn request_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("req_{}{n:06x}", self.id_prefix)
    }
}

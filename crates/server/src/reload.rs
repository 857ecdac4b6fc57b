//! Applying a new config to a running gateway without dropping a request: load it from the same
//! layers as at start, validate it, say what changed, and swap it in as one snapshot. Requests
//! already running keep the snapshot they started with; pools of providers that keep their
//! name keep their live state (cooldowns, sessions, in-flight counts). An invalid config
//! changes nothing: the last good one keeps serving and the reason is logged, counted and kept
//! for the admin API. `listen` and `data_dir` cannot change under a running process; a change
//! to them is reported as needing a restart and otherwise ignored.
//!
//! The watcher polls the file's contents once a second: boring, portable, and a second is
//! well inside what an operator editing a file notices.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use switchyard_core::config::overlay::RawOverlay;
use switchyard_core::config::{Config, SystemSecrets};
use tokio_util::sync::CancellationToken;

use crate::pipeline::unix_ms;
use crate::settings::{self, FlagOverrides};
use crate::state::AppState;

/// Where the config comes from: the same layers every time it is read.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// The file named with `--config`, if any (else the default places are searched).
    pub named: Option<PathBuf>,
    pub flags: FlagOverrides,
    /// `--port`, applied over whatever `listen` says.
    pub port: Option<u16>,
    /// `--fallback`: fallback chains on for every route.
    pub fallback: bool,
}

/// The store setting holding the admin API's overlay (JSON).
pub const OVERLAY_SETTING: &str = "config.overlay";

impl ConfigSource {
    /// Loads and validates every layer, with `overlay` over the file.
    pub fn load(&self, overlay: &RawOverlay) -> anyhow::Result<Config> {
        let mut loaded =
            settings::load_with(self.named.as_deref(), &self.flags, overlay, &SystemSecrets)?;
        if let Some(port) = self.port {
            loaded.config.listen.set_port(port);
        }
        if self.fallback {
            loaded.config.fallback = true;
        }
        Ok(loaded.config)
    }

    /// The file the config is read from now, if any.
    pub fn file(&self) -> Option<PathBuf> {
        settings::config_file(self.named.as_deref())
    }
}

/// What applying a config did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// One line per change applied; empty when the config was the same.
    pub applied: Vec<String>,
    /// Changes that only take effect after a restart.
    pub needs_restart: Vec<String>,
}

/// The last reload's result, for the admin API and logs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReloadStatus {
    /// Reloads applied since start (a config with no change is not counted).
    pub applied: u64,
    /// Reloads refused because the new config was invalid.
    pub refused: u64,
    pub last_applied_ms: Option<i64>,
    /// Why the last refused config was refused; cleared by the next good one.
    pub last_error: Option<String>,
}

/// Shared, small and rarely written.
#[derive(Debug, Default)]
pub struct ReloadState(Mutex<ReloadStatus>);

impl ReloadState {
    pub fn status(&self) -> ReloadStatus {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut ReloadStatus)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// What differs between two configs, as lines for people: changes applied, then changes that
/// need a restart.
pub fn diff(old: &Config, new: &Config) -> Outcome {
    let mut applied = Vec::new();
    let mut needs_restart = Vec::new();
    if old.listen != new.listen {
        needs_restart.push(format!("listen: {} -> {}", old.listen, new.listen));
    }
    if old.data_dir != new.data_dir {
        needs_restart.push(format!(
            "data_dir: {} -> {}",
            old.data_dir.display(),
            new.data_dir.display()
        ));
    }
    for p in &old.providers {
        match new.providers.iter().find(|n| n.name == p.name) {
            None => applied.push(format!("provider {} removed", p.name)),
            Some(n) if n != p => applied.push(format!("provider {} changed", p.name)),
            Some(_) => {}
        }
    }
    for n in &new.providers {
        if !old.providers.iter().any(|p| p.name == n.name) {
            applied.push(format!("provider {} added", n.name));
        }
    }
    // Routes refer to providers by index, so they are compared by what they name.
    let describe = |c: &Config| -> Vec<String> {
        c.routes
            .iter()
            .map(|r| {
                let targets: Vec<String> = r
                    .targets
                    .iter()
                    .map(|t| {
                        let provider = &c.providers[t.provider].name;
                        match &t.model {
                            Some(m) => format!("{provider}:{m}"),
                            None => provider.clone(),
                        }
                    })
                    .collect();
                format!(
                    "{} ({:?}) -> {}",
                    r.pattern.as_str(),
                    r.strategy,
                    targets.join(", ")
                )
            })
            .collect()
    };
    let (old_routes, new_routes) = (describe(old), describe(new));
    for r in &old_routes {
        if !new_routes.contains(r) {
            applied.push(format!("route removed: {r}"));
        }
    }
    for r in &new_routes {
        if !old_routes.contains(r) {
            applied.push(format!("route added: {r}"));
        }
    }
    if old.models != new.models {
        applied.push("models (limits and prices) changed".to_string());
    }
    Outcome {
        applied,
        needs_restart,
    }
}

/// Swaps `config` in (keeping what cannot change live), and records the result.
pub fn apply(state: &AppState, mut config: Config) -> Outcome {
    let current = state.snapshot.load_full();
    let outcome = diff(current.base(), &config);
    // What needs a restart stays as the process started.
    config.listen = current.base().listen;
    config.data_dir = current.base().data_dir.clone();
    if !outcome.applied.is_empty() {
        state
            .snapshot
            .store(std::sync::Arc::new(current.with_config(config)));
        state.reload.update(|s| {
            s.applied += 1;
            s.last_applied_ms = Some(unix_ms());
            s.last_error = None;
        });
        tracing::info!(changes = ?outcome.applied, "config applied");
    }
    if !outcome.needs_restart.is_empty() {
        tracing::warn!(changes = ?outcome.needs_restart, "config changes that need a restart were not applied");
    }
    outcome
}

/// Records a config that could not be applied; the running one stays.
pub fn refuse(state: &AppState, why: &str) {
    state.reload.update(|s| {
        s.refused += 1;
        s.last_error = Some(why.to_string());
    });
    tracing::error!(error = %why, "config change refused; the last good config keeps serving");
}

/// Reads client keys and stored credentials from the store and swaps them in (pools keep
/// their live state). Called when the store's change version moves, and right after the
/// admin API changes either, so the change is live when the call returns.
pub async fn refresh_from_store(
    state: &AppState,
    store: &switchyard_store::Store,
) -> switchyard_store::Result<()> {
    use switchyard_store::Engine;
    let keys = store.list_keys().await?;
    let credentials = store.list_credentials().await?;
    // A token rotated on another instance (or reset offline) applies here too.
    if crate::api::admin_token_from_env().is_none() {
        if let Some(hash) = store.get_setting(crate::api::ADMIN_TOKEN_SETTING).await? {
            crate::api::install_admin_hash(state, hash);
        }
    }
    let old = state.snapshot.load_full();
    let next = old.with_keys(keys).with_credentials(&credentials);
    state.snapshot.store(std::sync::Arc::new(next));
    // Routes and models changed through another instance's admin API.
    let overlay = read_overlay(store).await?;
    if overlay != **state.overlay.load() {
        if let Some(source) = state.config_source.get() {
            match source.load(&overlay) {
                Ok(config) => {
                    state.overlay.store(std::sync::Arc::new(overlay));
                    apply(state, config);
                }
                Err(e) => refuse(state, &format!("{e:#}")),
            }
        }
    }
    Ok(())
}

/// The overlay kept in the store (empty when none is); one that no longer parses is logged
/// and read as empty, so the file alone still serves.
pub async fn read_overlay(store: &switchyard_store::Store) -> switchyard_store::Result<RawOverlay> {
    use switchyard_store::Engine;
    let Some(text) = store.get_setting(OVERLAY_SETTING).await? else {
        return Ok(RawOverlay::default());
    };
    Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the stored config overlay does not parse; ignoring it");
        RawOverlay::default()
    }))
}

/// Reloads whenever the config file's contents change, until `stop`.
pub async fn watch(state: AppState, source: ConfigSource, stop: CancellationToken) {
    let read = |source: &ConfigSource| source.file().and_then(|f| std::fs::read(f).ok());
    let mut seen = read(&source);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let now = read(&source);
        if now == seen {
            continue;
        }
        seen = now;
        match source.load(&state.overlay.load()) {
            Ok(config) => {
                apply(&state, config);
            }
            Err(e) => refuse(&state, &format!("{e:#}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::config::raw::RawConfig;
    use switchyard_core::config::validate;

    fn config(text: &str) -> Config {
        let raw: RawConfig = toml::from_str(text).expect("toml");
        validate(&raw, &SystemSecrets).expect("valid")
    }

    const BASE: &str = r#"
[[providers]]
name = "a"
kind = "mock"

[[providers]]
name = "b"
kind = "mock"

[[routes]]
model = "*"
targets = [{ provider = "a" }]
"#;

    #[test]
    fn nothing_changed_is_an_empty_diff() {
        let d = diff(&config(BASE), &config(BASE));
        assert!(d.applied.is_empty() && d.needs_restart.is_empty(), "{d:?}");
    }

    #[test]
    fn route_provider_and_restart_changes_are_named() {
        let new = r#"
listen = "127.0.0.1:9999"

[[providers]]
name = "a"
kind = "mock"

[[providers]]
name = "b"
kind = "mock"
mock = { mode = "lorem" }

[[routes]]
model = "*"
targets = [{ provider = "b" }]
"#;
        let d = diff(&config(BASE), &config(new));
        assert_eq!(
            d.applied,
            [
                "provider b changed",
                "route removed: * (CacheFirst) -> a",
                "route added: * (CacheFirst) -> b",
            ]
        );
        assert_eq!(
            d.needs_restart,
            ["listen: 127.0.0.1:8672 -> 127.0.0.1:9999"]
        );
    }
}

//! Loading the config in layers — built-in defaults < file < environment (`SWITCHYARD_…`) <
//! command-line flags — and validating it with `switchyard_core::config::validate`.
//!
//! The file is `--config PATH`, else `./switchyard.toml`, else `switchyard/config.toml` in the
//! user's config folder, else none (defaults only). Environment variables use `__` between
//! nested keys (`SWITCHYARD_LISTEN`, `SWITCHYARD_DATA_DIR`). When validation fails, each
//! problem names its key and the layer its value came from.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use switchyard_core::config::overlay::RawOverlay;
use switchyard_core::config::raw::RawConfig;
use switchyard_core::config::{self, Config, SecretReader};

/// Values given as flags; each overrides every other layer.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
}

/// Where the config came from, for messages.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<PathBuf>,
}

/// The file to read: the one named, else the first that exists of the defaults.
pub fn config_file(named: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = named {
        return Some(path.to_path_buf());
    }
    let local = PathBuf::from("switchyard.toml");
    if local.exists() {
        return Some(local);
    }
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("switchyard/config.toml"))?;
    user.exists().then_some(user)
}

/// Loads and validates; on failure the error lists every problem with its source.
pub fn load(
    named: Option<&Path>,
    flags: &FlagOverrides,
    secrets: &dyn SecretReader,
) -> anyhow::Result<Loaded> {
    load_with(named, flags, &RawOverlay::default(), secrets)
}

/// [`load`] with the admin API's overlay (routes and models kept in the store) laid over the
/// file before validation.
pub fn load_with(
    named: Option<&Path>,
    flags: &FlagOverrides,
    overlay: &RawOverlay,
    secrets: &dyn SecretReader,
) -> anyhow::Result<Loaded> {
    let file = config_file(named);
    if let Some(path) = &file {
        if !path.exists() {
            anyhow::bail!("config file {} does not exist", path.display());
        }
    }
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = &file {
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment
        .merge(
            Env::prefixed("SWITCHYARD_")
                .split("__")
                .only(&["listen", "data_dir"]),
        )
        .merge(Serialized::defaults(flags));
    let mut raw: RawConfig = figment.extract().map_err(|e| {
        let mut lines = Vec::new();
        for err in e {
            let at = if err.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", err.path.join("."))
            };
            let source = err
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", describe_source(m)))
                .unwrap_or_default();
            lines.push(format!("{at}{}{source}", err.kind));
        }
        anyhow::anyhow!("invalid config:\n  {}", lines.join("\n  "))
    })?;
    let from_file = (raw.routes.len(), raw.models.len());
    overlay.apply(&mut raw);
    let config = config::validate(&raw, secrets).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| {
                if from_overlay(&e.path, from_file) {
                    return format!("{e} (from the admin API's overlay)");
                }
                let top = e.path.split(['.', '[']).next().unwrap_or_default();
                let source = figment
                    .find_metadata(top)
                    .map(|m| format!(" (from {})", describe_source(m)))
                    .unwrap_or_else(|| " (built-in default)".to_string());
                format!("{e}{source}")
            })
            .collect();
        anyhow::anyhow!("invalid config:\n  {}", lines.join("\n  "))
    })?;
    Ok(Loaded { config, file })
}

/// Whether a problem's path points past the file's routes or models, into the overlay's.
fn from_overlay(path: &str, (routes, models): (usize, usize)) -> bool {
    let index = |prefix: &str| {
        path.strip_prefix(prefix)?
            .split(']')
            .next()?
            .parse::<usize>()
            .ok()
    };
    index("routes[").is_some_and(|i| i >= routes) || index("models[").is_some_and(|i| i >= models)
}

fn describe_source(m: &figment::Metadata) -> String {
    match &m.source {
        Some(figment::Source::File(path)) => path.display().to_string(),
        Some(other) => format!("{} {other}", m.name),
        None => m.name.to_string(),
    }
}

//! Secrets in config: where they come from (inline, `env:NAME`, `file:PATH`) and a type that
//! never prints them.
//!
//! Resolution reads the environment and the file system through a [`SecretReader`] passed in,
//! so validation is testable without touching either.

use std::fmt;

/// A secret value. `Debug` and `Display` print `***`; only [`Secret::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it (an upstream's auth header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret is read from, as written in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Inline(Secret),
    Env(String),
    File(String),
}

impl SecretSource {
    /// Parses `env:NAME`, `file:PATH`, or anything else as the secret itself.
    pub fn parse(raw: &str) -> Self {
        if let Some(name) = raw.strip_prefix("env:") {
            SecretSource::Env(name.to_string())
        } else if let Some(path) = raw.strip_prefix("file:") {
            SecretSource::File(path.to_string())
        } else {
            SecretSource::Inline(Secret::new(raw))
        }
    }

    /// How the source is shown in `config check`: never the value.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Inline(_) => "***".to_string(),
            SecretSource::Env(name) => format!("env:{name}"),
            SecretSource::File(path) => format!("file:{path}"),
        }
    }

    /// Reads the secret; the error says what was missing, never a value.
    pub fn resolve(&self, reader: &dyn SecretReader) -> Result<Secret, String> {
        match self {
            SecretSource::Inline(s) => Ok(s.clone()),
            SecretSource::Env(name) => reader
                .env(name)
                .filter(|v| !v.is_empty())
                .map(Secret::new)
                .ok_or_else(|| format!("environment variable {name} is not set")),
            SecretSource::File(path) => reader
                .file(path)
                .map(|v| Secret::new(v.trim_end_matches(['\r', '\n'])))
                .map_err(|e| format!("cannot read {path}: {e}")),
        }
    }
}

/// Access to the environment and files, passed in so tests need neither.
pub trait SecretReader {
    fn env(&self, name: &str) -> Option<String>;
    fn file(&self, path: &str) -> Result<String, String>;
}

/// The process's real environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemSecrets;

impl SecretReader for SystemSecrets {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn file(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("sk-live-123");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(SecretSource::parse("sk-live-123").describe(), "***");
        assert_eq!(SecretSource::parse("env:KEY").describe(), "env:KEY");
    }
}

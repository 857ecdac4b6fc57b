//! Credentials added at run time (through the CLI or the admin API) rather than written in the
//! config file: the shape `store` persists and the pool loads beside the configured ones.
//!
//! It owns the record only; it must not decide scheduling (the pool does) or how the record is
//! stored (the `store` crate does).

use crate::config::{Config, CredentialConfig, ProviderKind, Secret, SecretSource};

/// One upstream credential as stored. Unique by `(provider, name)`.
///
/// The secret is kept as given for now: encryption at rest (chacha20poly1305, see DESIGN.md)
/// is a later issue, so until then the database file is as sensitive as the secrets in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// Name of the provider in the config this credential belongs to.
    pub provider: String,
    /// Name of the credential, unique within its provider.
    pub name: String,
    pub secret: Secret,
    /// Relative share under the weighted strategy.
    pub weight: u32,
    pub labels: Vec<String>,
    /// Unix milliseconds when it was added.
    pub created_at_ms: i64,
}

/// The config the gateway runs on: `config` (from the file) with each stored credential added
/// to its provider after the file's own. A stored credential whose provider is gone, is a
/// `mock`, or whose name the file already uses is left out, with the reason returned for
/// the log: the file wins, and a stale row must never stop the gateway.
pub fn merge(config: &Config, stored: &[StoredCredential]) -> (Config, Vec<String>) {
    let mut merged = config.clone();
    let mut skipped = Vec::new();
    for credential in stored {
        let Some(provider) = merged
            .providers
            .iter_mut()
            .find(|p| p.name == credential.provider)
        else {
            skipped.push(format!(
                "credential {}/{}: no provider {:?} in the config",
                credential.provider, credential.name, credential.provider
            ));
            continue;
        };
        if provider.kind == ProviderKind::Mock {
            skipped.push(format!(
                "credential {}/{}: the mock provider takes no credentials",
                credential.provider, credential.name
            ));
            continue;
        }
        if provider
            .credentials
            .iter()
            .any(|c| c.name == credential.name)
        {
            skipped.push(format!(
                "credential {}/{}: the config file already defines it",
                credential.provider, credential.name
            ));
            continue;
        }
        provider.credentials.push(CredentialConfig {
            name: credential.name.clone(),
            secret: credential.secret.clone(),
            source: SecretSource::Inline(credential.secret.clone()),
            weight: credential.weight.max(1),
            labels: credential.labels.clone(),
            max_concurrency: None,
            group: None,
            oauth: None,
        });
    }
    (merged, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::RawConfig;
    use crate::config::{validate, SystemSecrets};

    fn config() -> Config {
        let raw: RawConfig = toml::from_str(
            r#"
            [[providers]]
            name = "a"
            kind = "anthropic"
            credentials = [{ name = "file", secret = "s1" }]

            [[providers]]
            name = "m"
            kind = "mock"

            [[routes]]
            model = "*"
            targets = [{ provider = "a" }]
            "#,
        )
        .expect("toml");
        validate(&raw, &SystemSecrets).expect("valid")
    }

    fn stored(provider: &str, name: &str) -> StoredCredential {
        StoredCredential {
            provider: provider.into(),
            name: name.into(),
            secret: Secret::new("stored-secret"),
            weight: 3,
            labels: vec!["team".into()],
            created_at_ms: 1,
        }
    }

    #[test]
    fn stored_credentials_follow_the_files_own() {
        let (merged, skipped) = merge(&config(), &[stored("a", "runtime")]);
        assert!(skipped.is_empty());
        let names: Vec<&str> = merged.providers[0]
            .credentials
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["file", "runtime"]);
        let added = &merged.providers[0].credentials[1];
        assert_eq!(added.secret.expose(), "stored-secret");
        assert_eq!(added.weight, 3);
        assert_eq!(added.labels, ["team"]);
    }

    #[test]
    fn stale_or_clashing_rows_are_skipped_with_a_reason() {
        let base = config();
        let (merged, skipped) = merge(
            &base,
            &[stored("gone", "x"), stored("m", "x"), stored("a", "file")],
        );
        assert_eq!(merged, base);
        assert_eq!(skipped.len(), 3);
        assert!(skipped[0].contains("no provider"), "{skipped:?}");
        assert!(skipped[1].contains("mock"), "{skipped:?}");
        assert!(skipped[2].contains("already defines"), "{skipped:?}");
    }
}
